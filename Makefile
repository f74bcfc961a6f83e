# Provident: build, test and benchmark entry points. `make test` is what CI runs.
SHELL := /bin/bash
# The toolchain lives in /opt/swift on our machines; keep any swift already on PATH first.
export PATH := $(PATH):/opt/swift/usr/bin
SWIFT ?= swift

.PHONY: run test setup build demo bench bench-client bench-sync bench-sync-postgres bench-log bench-connections install fuzz power-cut clean

## Start the sync service on the embedded SQLite database (./var/provident.sqlite), building
## what is needed first; prints its address and what to do next.
run: setup
	$(SWIFT) build --product provident-server
	$(SWIFT) build --product provident
	$$($(SWIFT) build --show-bin-path)/provident-server serve

## Play a short story on a temporary server: a worker offline, a field laptop, both syncing.
demo: setup
	tools/demo

## Run every test: installs missing system packages, builds, runs the Swift suites on SQLite,
## the server suites again on a throwaway PostgreSQL cluster (one server, then two behind
## haproxy), and the independent check of the spec's golden vectors.
test: setup
	$(SWIFT) build --build-tests
	SWIFT=$(SWIFT) tools/test

## Install missing system packages (libsodium-dev, libsqlite3-dev, pkg-config, postgresql-15,
## haproxy) and Python's cryptography package for the independent vector check.
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

## The sync service: ingest over HTTP, initial sync of 100,000 records, delta sync.
bench-sync: setup
	tools/bench-sync

## The same on PostgreSQL: ingest with one and two servers beside SQLite, then the syncs.
bench-sync-postgres: setup
	tools/bench-sync --database postgres

## The feed log's cost on ingest (against the commit before it) and its proofs' sizes and times.
bench-log: setup
	tools/bench-log

## 10,000 idle connections held open: how fast /health still answers, and the per-address cap.
bench-connections: setup
	tools/bench-connections

## libFuzzer targets (canonical decoder, envelope, request signature, statement and employer
## list readers), 1,000,000 executions each; FUZZ_ARGS="--seconds 60" bounds them by time instead.
fuzz:
	SWIFT=$(SWIFT) tools/fuzz $(FUZZ_ARGS)

## 100 power cuts of the server under pushing devices (an LD_PRELOAD layer drops every write no
## fsync made durable); no acknowledged change-set may be lost.
power-cut: setup
	$(SWIFT) build --product provident-server
	tools/power-cut --cuts 100

## Install binaries, man pages, shell completions and systemd units under PREFIX (/usr/local);
## DESTDIR stages them elsewhere.
PREFIX ?= /usr/local
install: setup
	SWIFT=$(SWIFT) tools/install $(PREFIX)

clean:
	rm -rf .build
