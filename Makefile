# Provident: build, test and benchmark entry points. `make test` is what CI runs.
SHELL := /bin/bash
# The toolchain lives in /opt/swift on our machines; keep any swift already on PATH first.
export PATH := $(PATH):/opt/swift/usr/bin
SWIFT ?= swift

.PHONY: test setup build bench bench-client clean

## Run every test: installs missing system packages, builds, runs the Swift suites and the
## independent check of the spec's golden vectors.
test: setup
	$(SWIFT) build --build-tests
	$(SWIFT) test
	python3 tools/check-vectors.py

## Install missing system packages (libsodium-dev, libsqlite3-dev, pkg-config) and Python's
## cryptography package for the independent vector check.
setup:
	@tools/setup

## Build everything (debug).
build: setup
	$(SWIFT) build

## Print the foundation's throughput figures (release build).
bench: setup
	$(SWIFT) run -c release provident-bench

## Time the client as whole processes on a laptop replica of 10,000 accounts × 120 months.
bench-client: setup
	tools/bench-client

clean:
	rm -rf .build
