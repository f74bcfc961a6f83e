#!/usr/bin/env python3
"""Conformance suite: drives a live provident-server from sync-protocol.md alone and asserts,
for every error code the spec lists in §10 and §11.11, the status and code of a request that
causes it. Written without Provident code: canonical JSON as json.dumps with sorted keys,
BLAKE2b from hashlib, Ed25519 from the `cryptography` package, HTTP from urllib.

    tools/conformance.py [--bin DIR]     (default: the debug build's products)

Starts the server on 127.0.0.1 with a temporary SQLite database, stops it at the end; twice,
so that every message is asked for in English and in Chinese (§10). Fails when a request is
answered otherwise than the spec says, a message is not in the language asked for, or a code
of §10 or §11.11 is produced by no request (the few no client can cause are named below).
"""
import argparse
import base64
import datetime
import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

try:
    from cryptography.hazmat.primitives import serialization
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
except ImportError:
    sys.exit("conformance: the Python package 'cryptography' is missing; install it with: pip install cryptography")

ROOT = pathlib.Path(__file__).resolve().parent.parent
SPEC = ROOT / "sync-protocol.md"
POLICY = "name: conformance\ndeposits: {lumpAllowed: true}\n"
# Codes no request of a client can cause: the server's own failures.
NOT_CAUSED_BY_CLIENTS = {
    "server.internal": "an unexpected failure of the server itself",
    "storage.unavailable": "the server's database is down (tested by the Swift suites with a halted PostgreSQL)",
    "storage.busy": "the server's database is locked by another program",
    "storage.contention": "servers colliding more often than the server retries",
    "storage.read_only": "the server's database is read-only",
    "storage.full": "the server's disk is full",
    "enrol.invite_expired": "an invite older than its lifetime (days); the Swift suites move a clock",
    "log.unknown_checkpoint": "a checkpoint the server signed that is not its log: only after a restore or an edit of its database "
                              "(LogTests signs one with the server key)",
}
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def canonical(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


def b64(data):
    return base64.b64encode(data).decode()


def now_ms():
    return int(time.time() * 1000)


def hlc(millis, counter=0):
    return format(millis << 16 | counter, "016x")


def reference_code():
    symbols = [ALPHABET[b % 31] for b in os.urandom(12)]
    total = sum(ALPHABET.index(s) * (i + 2) for i, s in enumerate(symbols))
    return "PV" + "".join(symbols) + ALPHABET[(31 - total % 31) % 31]


def shanghai_today():
    return (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=8)).date().isoformat()


class Server:
    def __init__(self, bin_dir, folder):
        self.bin = bin_dir
        self.folder = folder
        (folder / "policy.yaml").write_text(POLICY)
        self.database = str(folder / "provident.sqlite")
        self.env = dict(os.environ, LOG_LEVEL="error", PROVIDENT_SERVER_KEY_PATH=str(folder / "server.key"),
                        PROVIDENT_ENROLMENT_SELF_PER_HOUR="25")
        self.out = open(folder / "server.out", "w")
        self.process = subprocess.Popen([bin_dir / "provident-server", "serve", "--database", self.database, "--port", "0",
                                         "--policy", str(folder / "policy.yaml")], stdout=self.out, stderr=subprocess.STDOUT, env=self.env)
        for _ in range(400):
            match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", (folder / "server.out").read_text())
            if match:
                self.url = match.group(1)
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        sys.exit("conformance: the server did not start:\n" + (folder / "server.out").read_text())

    def admin(self, *args):
        result = subprocess.run([self.bin / "provident-server", *args, "--database", self.database], capture_output=True, text=True,
                                env=self.env)
        if result.returncode != 0:
            sys.exit(f"conformance: provident-server {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout

    def invite(self, role, branch=None):
        out = self.admin("device", "invite", "--role", role, *(["--branch", branch] if branch else []))
        return re.search(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{5}", out).group(0)

    def stop(self):
        self.process.terminate()
        self.process.wait()


CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
LANGUAGES = ["en-US", "zh-CN"]


class Device:
    """A device as §5 and §11.2 describe it: a key, a chain, signed requests. Devices ask in
    English and Chinese by turns; the suite runs twice, the turns swapped, so every message it
    causes is checked in both."""

    count = 0
    shift = 0

    def __init__(self, server):
        Device.count += 1
        self.language = LANGUAGES[(Device.count + Device.shift) % 2]
        self.server = server
        self.key = Ed25519PrivateKey.generate()
        self.public = self.key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.id = hashlib.blake2b(self.public, digest_size=32).digest()[:16].hex()
        self.seq = 0
        self.prev = "0" * 64
        self.time = now_ms() - 60_000

    def change_set(self, action, ops, **override):
        self.time += 1
        body = {"v": 1, "device": self.id, "seq": self.seq + 1, "prev": self.prev, "hlc": hlc(self.time), "action": action, "ops": ops}
        body.update(override)
        return body

    def seal(self, body, raw=None, signer=None, signature=None):
        """The envelope of a change-set (§4), and its id; advances the chain when it is this device's next."""
        raw = canonical(body) if raw is None else raw
        signature = (signer or self.key).sign(raw) if signature is None else signature
        ident = hashlib.blake2b(raw, digest_size=32).hexdigest()
        return {"changeSet": b64(raw), "signature": b64(signature)}, ident

    def advance(self, body, ident):
        self.seq = body["seq"]
        self.prev = ident

    def request(self, method, path, query="", body=None, raw=None, date=None, nonce=None, digest=None, signer=None,
                headers=True, language=None, transport=None):
        """A signed request (§11.2): by the device key, or by `transport`, a transport key (§5.1)."""
        data = raw if raw is not None else (canonical(body) if body is not None else b"")
        date = now_ms() if date is None else date
        nonce = nonce or os.urandom(16).hex()
        content_digest = digest or "blake2b-256=:" + b64(hashlib.blake2b(data, digest_size=32).digest()) + ":"
        components = ["@method", "@path", "@query", "content-digest", "provident-date", "provident-device", "provident-nonce"]
        base = "\n".join([
            f'"@method": {method}', f'"@path": {path}', f'"@query": {query or "?"}', f'"content-digest": {content_digest}',
            f'"provident-date": {date}', f'"provident-device": {self.id}', f'"provident-nonce": {nonce}',
            '"@signature-params": (' + " ".join(f'"{c}"' for c in components)
            + f');alg="ed25519";keyid="{self.id}{"/transport" if transport else ""}"',
        ]).encode("utf-8")
        request = urllib.request.Request(self.server.url + path + query, data=data if method == "POST" else None, method=method)
        if headers:
            request.add_header("Provident-Device", self.id)
            request.add_header("Provident-Date", str(date))
            request.add_header("Provident-Nonce", nonce)
            request.add_header("Content-Digest", content_digest)
            if transport:
                request.add_header("Provident-Key", "transport")
            request.add_header("Provident-Signature", b64((signer or transport or self.key).sign(base)))
        if method == "POST":
            request.add_header("Content-Type", "application/json")
        language = language or self.language
        request.add_header("Accept-Language", language)
        return send(request) + (language,)

    def delegation(self, transport, device_key=None, device_id=None):
        """§5.1: the device key's certificate for a transport key, as sent."""
        public = transport.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        raw = canonical({"device": device_id or self.id, "issuedAt": now_ms(), "purpose": "provident-transport",
                         "transportKey": b64(public)})
        return {"delegation": b64(raw), "signature": b64((device_key or self.key).sign(raw))}

    def enrol(self, kind="self", code=None):
        body = {"enrolment": kind, "publicKey": b64(self.public)}
        if code:
            body["code"] = code
        return self.request("POST", "/v1/devices", body=body)

    def push(self, envelopes):
        return self.request("POST", "/v1/push", body={"changeSets": envelopes})

    def push_one(self, body):
        envelope, ident = self.seal(body)
        answer = self.push([envelope])
        if answer[0] in (200, 403):
            self.advance(body, ident)
        return answer

    def enroll_account(self, id_number, **extra):
        account = f"acc-{os.urandom(8).hex()}"
        fields = {"name": "测试", "idNumber": id_number, "phone": "13800138000", "category": "gig",
                  "agreement": {"mode": "baseAndRate", "monthlyFen": 60000, "baseFen": 500000, "rateBasisPoints": 1200},
                  "channel": "self", "enrolledOn": shanghai_today(), "verified": False, "paused": False}
        fields.update(extra)
        return account, self.change_set("account.enroll", [{"type": "account", "id": account, "kind": "create", "ctx": {}, "fields": fields}])

    def deposit(self, account):
        ident = f"dep-{os.urandom(8).hex()}"
        fields = {"account": account, "amountFen": 10000, "kind": "lump", "periods": [], "method": "bankTransfer",
                  "reference": reference_code(), "recordedAt": iso(now_ms())}
        return self.change_set("deposit.record", [{"type": "deposit", "id": ident, "kind": "fact", "ctx": {}, "fields": fields}])


def iso(millis):
    return datetime.datetime.fromtimestamp(millis / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis % 1000:03d}Z"


def send(request):
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null"), dict(response.headers)
    except urllib.error.HTTPError as error:
        text = error.read()
        try:
            value = json.loads(text)
        except ValueError:
            value = {"unreadable": text[:200].decode("utf-8", "replace")}
        return error.code, value, dict(error.headers)


class Suite:
    def __init__(self):
        self.seen = {}
        self.failures = []
        self.checks = 0

    def expect(self, what, answer, status, code=None, result_code=None):
        """The answer has `status` and, in the error shape, `code`; or, in a push's results, `result_code`."""
        self.checks += 1
        got_status, body = answer[0], answer[1]
        got_code = body.get("code") if isinstance(body, dict) else None
        if result_code is not None:
            results = (body.get("results") or body.get("details", {}).get("results") or []) if isinstance(body, dict) else []
            got_code = next((r.get("code") for r in results if r.get("code")), None)
            code = result_code
        if got_status != status or got_code != code:
            self.failures.append(f"{what}: expected {status} {code}, got {got_status} {got_code}: {json.dumps(body, ensure_ascii=False)[:300]}")
            return
        if isinstance(body, dict) and got_code and got_status >= 400 and result_code is None:
            if not isinstance(body.get("message"), str) or not isinstance(body.get("details"), dict):
                self.failures.append(f"{what}: the error is not in the §10 shape: {body}")
        # §10: the message is in Chinese when the request asked for it, in English otherwise.
        if len(answer) > 3 and isinstance(body, dict) and got_code:
            messages = [body.get("message")] if result_code is None else \
                [r.get("message") for r in (body.get("results") or body.get("details", {}).get("results") or []) if r.get("code")]
            for message in messages:
                chinese = bool(CJK.search(str(message)))
                if chinese != answer[3].startswith("zh"):
                    self.failures.append(f"{what}: asked in {answer[3]}, the message of {got_code} is not: {message}")
        if code:
            self.seen.setdefault(code, what)


def spec_codes():
    """The codes of §10's table and §11.11's table; a family (`enrol.*`) stands for its members."""
    text = SPEC.read_text(encoding="utf-8")
    section10 = text[text.index("## 10. Errors"):text.index("## 11. HTTP endpoints")]
    section1111 = text[text.index("### 11.11 Status codes"):text.index("### 11.12")]
    codes = set()
    for block in (section10, section1111):
        for line in block.splitlines():
            if line.startswith("|") and not line.startswith("|---"):
                cells = line.split("|")
                cell = cells[1] if block is section10 else (cells[2] if len(cells) > 2 else "")
                codes.update(re.findall(r"`([a-z_0-9]+(?:\.[a-z_0-9*]+)*)`", cell))
    return {code for code in codes if "." in code or code == "rate_limited"}


def run(server, suite):
    # ---- §11.1, §11.2: requests ----
    stranger = Device(server)
    suite.expect("an unknown endpoint", stranger.request("GET", "/v1/nothing"), 404, "request.not_found")
    suite.expect("a push without signature headers", stranger.request("POST", "/v1/push", body={"changeSets": []}, headers=False),
                 401, "auth.missing_header")
    suite.expect("a request by a device never enrolled", stranger.request("GET", "/v1/device"), 401, "device.unknown")

    worker = Device(server)
    suite.expect("a worker's own device enrols", worker.enrol(), 201)
    suite.expect("a body that does not match its digest", worker.request("POST", "/v1/push", body={"changeSets": []},
                                                                          digest="blake2b-256=:" + b64(bytes(32)) + ":"), 401, "auth.digest")
    skewed = worker.request("GET", "/v1/device", date=now_ms() - 600_000)
    suite.expect("a date ten minutes behind", skewed, 401, "auth.clock_skew")
    if skewed[0] == 401 and not (skewed[1].get("details", {}).get("skewMillis", 0) < 0):
        suite.failures.append("auth.clock_skew: skewMillis is not negative for a device clock behind the server's")
    suite.expect("a signature by another key", worker.request("GET", "/v1/device", signer=Ed25519PrivateKey.generate()),
                 401, "auth.signature")
    nonce = os.urandom(16).hex()
    suite.expect("a first request with a nonce", worker.request("GET", "/v1/device", nonce=nonce), 200)
    suite.expect("the same nonce again", worker.request("GET", "/v1/device", nonce=nonce), 401, "auth.replay")
    suite.expect("a pull without cursor", worker.request("GET", "/v1/pull"), 400, "request.query")
    suite.expect("a pull page over the maximum", worker.request("GET", "/v1/pull", query="?cursor=0&limit=2001"), 400, "request.query")
    suite.expect("a cursor beyond the head", worker.request("GET", "/v1/pull", query="?cursor=999999"), 409, "feed.cursor_ahead")
    suite.expect("a push that is not {changeSets}", worker.request("POST", "/v1/push", body={"changes": []}), 400, "request.malformed")
    suite.expect("a body that is not canonical", worker.request("POST", "/v1/push", raw=b'{ "changeSets": [] }'), 400,
                 "encoding.unexpected_byte")
    suite.expect("a body over 8 MiB", worker.request("POST", "/v1/push", raw=b"[" + b"0," * (4 * 1024 * 1024 + 10) + b"0]"), 413,
                 "request.too_large")

    # ---- §11.3 enrolment ----
    suite.expect("an invite code nobody issued", Device(server).enrol("invite", "ABCD-EFGH-JKLM0"), 403, "enrol.invite_unknown")
    code = server.invite("office")
    office = Device(server)
    suite.expect("an office laptop with its invite", office.enrol("invite", code), 201)
    suite.expect("the invite used twice", Device(server).enrol("invite", code), 403, "enrol.invite_used")
    suite.expect("a claim code whose check symbol is wrong", Device(server).enrol("claim", "ABCD-EFGH-JKLM1"), 400, "claim_code.invalid")
    claim = "ABCD-EFGH-JKLM"
    total = sum(ALPHABET.index(s) * (i + 2) for i, s in enumerate(claim.replace("-", "")))
    suite.expect("a valid claim code no account holds", Device(server).enrol("claim", claim + ALPHABET[(31 - total % 31) % 31]), 403,
                 "enrol.claim_unknown")

    # ---- §3, §4: envelopes and change-sets, refused whole with `index` ----
    account, enroll = worker.enroll_account("360426199101010071")
    suite.expect("the worker's enrolment", worker.push_one(enroll), 200)
    good = worker.change_set("account.update", [{"type": "account", "id": account, "kind": "update", "ctx": {worker.id: 1},
                                                  "fields": {"phone": "13900139000"}}])
    raw_good = canonical(good)
    defects = {
        "encoding.unexpected_end": raw_good[:-1],
        "encoding.unexpected_byte": raw_good[:-1] + b"x",
        "encoding.trailing_bytes": raw_good + b" ",
        "encoding.float": raw_good.replace(b'"v":1', b'"v":1.5'),
        "encoding.non_canonical_integer": raw_good.replace(b'"v":1', b'"v":01'),
        "encoding.integer_range": raw_good.replace(b'"v":1', b'"v":9007199254740992'),
        "encoding.invalid_utf8": raw_good.replace(b'"13900139000"', b'"\xff"'),
        "encoding.not_nfc": raw_good.replace(b'"13900139000"', '"e\u0301"'.encode()),
        "encoding.invalid_escape": raw_good.replace(b'"13900139000"', b'"\\u0041"'),
        "encoding.control_character": raw_good.replace(b'"13900139000"', b'"\x01"'),
        "encoding.invalid_key": raw_good.replace(b'"phone"', b'"ph one"'),
        "encoding.duplicate_key": raw_good.replace(b'{"action"', b'{"action":"x","action"'),
        "encoding.key_order": raw_good.replace(b'{"action"', b'{"zz":1,"action"'),
        "encoding.too_deep": raw_good.replace(b'"13900139000"', b"[" * 17 + b"1" + b"]" * 17),
    }
    for code, raw in defects.items():
        envelope, _ = worker.seal(good, raw=raw)
        suite.expect(f"a change-set with {code}", worker.push([envelope]), 400, code)
    envelope, _ = worker.seal(good)
    envelope["changeSet"] = "not base64!"
    suite.expect("an envelope whose change-set is not base64", worker.push([envelope]), 400, "encoding.base64")
    big = dict(good, ops=[dict(good["ops"][0], fields={"phone": "1" * 70_000})])
    envelope, _ = worker.seal(big)
    suite.expect("a change-set over 65,536 bytes", worker.push([envelope]), 400, "encoding.too_large")
    no_ops = {k: v for k, v in good.items() if k != "ops"}
    envelope, _ = worker.seal(no_ops)
    suite.expect("a change-set without ops", worker.push([envelope]), 400, "schema.invalid")
    envelope, _ = worker.seal(dict(good, v=2))
    suite.expect("a change-set of version 2", worker.push([envelope]), 400, "version.unsupported")
    envelope, _ = worker.seal(good, signature=bytes(63))
    suite.expect("a 63-byte signature", worker.push([envelope]), 400, "signature.length")
    envelope, _ = worker.seal(good, signer=Ed25519PrivateKey.generate())
    suite.expect("the worker's change-set signed by another key", worker.push([envelope]), 401, "signature.invalid")
    envelope, _ = worker.seal(dict(good, device=office.id))
    suite.expect("a change-set naming another device", worker.push([envelope]), 403, "scope.foreign_change_set")

    # ---- §6 chain ----
    envelope, _ = worker.seal(dict(good, seq=good["seq"] + 1))
    suite.expect("a change-set after a gap", worker.push([envelope]), 409, "chain.gap")
    envelope, _ = worker.seal(dict(good, hlc=hlc(worker.time - 10_000)))
    suite.expect("a change-set whose time is not after the previous one", worker.push([envelope]), 409, "chain.time")
    suite.expect("the phone update itself", worker.push_one(good), 200)
    forker = Device(server)
    forker.enrol()
    _, first = forker.enroll_account("440305199002020031")
    forker.push_one(first)
    fork = dict(first, action="account.update")
    envelope, _ = forker.seal(fork)
    suite.expect("a second change-set for one sequence number", forker.push([envelope]), 409, "chain.fork")
    suite.expect("the forked device's next request", forker.request("GET", "/v1/device"), 403, "device.quarantined")

    # ---- §7, §8, §11.10: refused change-sets, answered 200 in the results ----
    drifter = Device(server)
    drifter.enrol()
    _, own = drifter.enroll_account("510107198803030040")
    suite.expect("another worker's enrolment", drifter.push_one(own), 200)
    ahead = drifter.deposit(own["ops"][0]["id"])
    ahead["hlc"] = hlc(now_ms() + 3 * 86_400_000)
    suite.expect("a change-set three days ahead", drifter.push_one(ahead), 200, result_code="clock.drift")
    # The office writes the account having seen the worker's writes; the worker then writes
    # having seen the office's, at a time before it.
    office.time = now_ms()
    seen = office.change_set("account.update", [{"type": "account", "id": account, "kind": "update", "ctx": {worker.id: 2},
                                                  "fields": {"phone": "13600136000"}}])
    suite.expect("the office's update", office.push_one(seen), 200)
    late = worker.change_set("account.update", [{"type": "account", "id": account, "kind": "update",
                                                  "ctx": {worker.id: 2, office.id: 1}, "fields": {"phone": "13500135000"}}])
    suite.expect("a write earlier than a write it had seen", worker.push_one(late), 200, result_code="merge.integrity")
    wrong = worker.deposit(account)
    wrong["ops"][0]["fields"]["amountFen"] = -5
    suite.expect("a deposit the rules refuse", worker.push_one(wrong), 200, result_code="amount.negative")
    # A worker writing another worker's account: 403 with the results.
    intruder = Device(server)
    intruder.enrol()
    _, theirs = intruder.enroll_account("45010219900101001X")
    suite.expect("a third worker's enrolment", intruder.push_one(theirs), 200)
    suite.expect("a deposit on another worker's account", intruder.push_one(intruder.deposit(account)), 403, "scope.forbidden")
    # An agreement that disagrees with the policy's rule (§11.10).
    bad_agreement = Device(server)
    bad_agreement.enrol()
    _, disagreeing = bad_agreement.enroll_account("110102199101010078", agreement={
        "mode": "baseAndRate", "monthlyFen": 60100, "baseFen": 500000, "rateBasisPoints": 1200})
    suite.expect("an enrolment whose agreement disagrees with the policy", bad_agreement.push_one(disagreeing), 200,
                 result_code="policy.agreement_amount")

    backdater = Device(server)
    backdater.enrol()
    _, backdated = backdater.enroll_account("110102199101010078", enrolledOn="2020-01-01")
    suite.expect("an enrolment dated years back", backdater.push_one(backdated), 200, result_code="account.enrolled_on")
    # §15: an id the device chooses carries its type's prefix.
    _, unprefixed = backdater.enroll_account("110102199101010078")
    unprefixed["ops"][0]["id"] = "account-" + os.urandom(8).hex()
    suite.expect("an account whose id lacks the acc- prefix", backdater.push_one(unprefixed), 200, result_code="record.malformed")
    # A text holding U+0000 refuses its change-set alone (§11.10).
    _, nul = backdater.enroll_account("110102199101010078", name="测\u0000试")
    suite.expect("an account whose name holds U+0000", backdater.push_one(nul), 200, result_code="text.nul")

    # ---- §5.1 the transport key ----
    mover = Device(server)
    mover.enrol()
    transport = Ed25519PrivateKey.generate()
    suite.expect("a pull signed by a transport key never registered",
                 mover.request("GET", "/v1/pull", query="?cursor=0&limit=10", transport=transport), 401, "auth.transport_unknown")
    suite.expect("a transport key registering itself",
                 mover.request("POST", "/v1/device/transport", body=mover.delegation(transport), transport=transport), 403,
                 "auth.transport_forbidden")
    suite.expect("a delegation naming another device",
                 mover.request("POST", "/v1/device/transport", body=mover.delegation(transport, device_id=stranger.id)), 400,
                 "schema.invalid")
    suite.expect("a delegation signed by another key",
                 mover.request("POST", "/v1/device/transport", body=mover.delegation(transport, device_key=Ed25519PrivateKey.generate())),
                 401, "signature.invalid")
    suite.expect("a transport key registered by the device key",
                 mover.request("POST", "/v1/device/transport", body=mover.delegation(transport)), 200)
    _, moving = mover.enroll_account("110102199101010078")
    envelope, ident = mover.seal(moving)
    answer = mover.request("POST", "/v1/push", body={"changeSets": [envelope]}, transport=transport)
    suite.expect("a push signed by the transport key", answer, 200)
    if answer[0] == 200 and answer[1]["results"][0]["status"] != "accepted":
        suite.failures.append(f"a push signed by the transport key: the change-set was not accepted: {answer[1]}")
    mover.advance(moving, ident)
    pulled = mover.request("GET", "/v1/pull", query="?cursor=0&limit=10", transport=transport)
    suite.expect("a pull signed by the transport key", pulled, 200)
    # §11.6 marks: the answer's mark, sent back, is the feed's; any other is a rewound feed.
    if pulled[0] == 200:
        cursor, mark = pulled[1]["cursor"], pulled[1].get("mark")
        if not (isinstance(mark, str) and re.fullmatch("[0-9a-f]{64}", mark)):
            suite.failures.append(f"a pull answer's mark is not 64 hex digits: {mark!r}")
        elif pulled[1].get("chainHead") != 1:
            suite.failures.append(f"a pull answer's chainHead is not the device's one change-set: {pulled[1].get('chainHead')!r}")
        else:
            suite.expect("a pull with the mark the server gave",
                         mover.request("GET", "/v1/pull", query=f"?cursor={cursor}&limit=10&mark={mark}", transport=transport), 200)
            other = "0" * 63 + ("1" if mark[-1] == "0" else "0")
            suite.expect("a pull whose mark is not the feed's", mover.request("GET", "/v1/pull", query=f"?cursor={cursor}&limit=10&mark={other}",
                                                                             transport=transport), 409, "feed.rewound")
            suite.expect("a mark that is not 64 hex digits", mover.request("GET", "/v1/pull", query=f"?cursor={cursor}&mark=xyz",
                                                                          transport=transport), 400, "request.query")
    forged, _ = mover.seal(mover.deposit(moving["ops"][0]["id"]), signer=transport)
    suite.expect("a change-set signed by the transport key", mover.request("POST", "/v1/push", body={"changeSets": [forged]},
                                                                             transport=transport), 401, "signature.invalid")

    # ---- §11.14 receipts and checkpoints, §11.15 witnesses ----
    log_and_witnesses(server, suite)

    # ---- devices the office stopped ----
    revoked = Device(server)
    revoked.enrol()
    server.admin("device", "revoke", revoked.id, "--reason", "laptop lost")
    suite.expect("a revoked device's request", revoked.request("GET", "/v1/device"), 403, "device.revoked")

    # ---- §11.3 rate limit: self-enrolments per address ----
    for _ in range(40):
        answer = Device(server).enrol()
        if answer[0] != 201:
            break
    suite.expect("self-enrolments over the hourly limit", answer, 429, "rate_limited")
    if answer[0] == 429 and "Retry-After" not in answer[2] and "retry-after" not in answer[2]:
        suite.failures.append("rate_limited: no Retry-After header")


def verified(key, signature, message):
    try:
        key.verify(signature, message)
        return True
    except InvalidSignature:
        return False


def log_and_witnesses(server, suite):
    """A push's one receipt, the signed checkpoint, and an auditor's cosignature, each checked
    from the spec alone (C2SP signed notes and tlog-cosignature, §11.14, §11.15)."""
    keeper = Device(server)
    keeper.enrol()
    server_key = Ed25519PublicKey.from_public_bytes(base64.b64decode(keeper.request("GET", "/v1/device")[1]["serverKey"]))
    account, opening = keeper.enroll_account("320102198505052017")
    envelopes = []
    for body in (opening, None):
        body = body or keeper.deposit(account)
        envelope, ident = keeper.seal(body)
        keeper.advance(body, ident)
        envelopes.append(envelope)
    pushed = keeper.push(envelopes)
    suite.expect("a push of two change-sets the feed takes", pushed, 200)
    results, receipt = pushed[1].get("results", []), pushed[1].get("receipt") or {}
    listed = b"".join(bytes.fromhex(r["id"]) + r["position"].to_bytes(8, "big") for r in results if "position" in r)
    message = b"provident-receipts-v1" + int(receipt.get("time", 0)).to_bytes(8, "big") + listed
    if len(listed) != 80 or not verified(server_key, base64.b64decode(receipt.get("signature", "")), message):
        suite.failures.append(f"§11.14: the push's receipt does not sign its results' ids and positions: {pushed[1]}")

    note = keeper.request("GET", "/v1/log/checkpoint")[1]["checkpoint"]
    text, _, signature_lines = note.partition("\n\n")
    origin, size = text.split("\n")[0], int(text.split("\n")[1])
    public = server_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    key_id = hashlib.sha256(origin.encode() + b"\n\x01" + public).digest()[:4]
    signed = [base64.b64decode(line.split(" ")[2]) for line in signature_lines.split("\n") if line.startswith(f"\u2014 {origin} ")]
    if origin != "provident/" + hashlib.blake2b(public, digest_size=32).hexdigest()[:16] or \
            not any(blob[:4] == key_id and verified(server_key, blob[4:], (text + "\n").encode()) for blob in signed):
        suite.failures.append(f"§11.14: the checkpoint is not a signed note of the server key's log: {note!r}")

    suite.expect("a cosignature by a device that is not an auditor", keeper.request("POST", "/v1/log/cosign", body={"checkpoint": note}),
                 403, "log.not_witness")
    auditor = Device(server)
    suite.expect("an auditor's device with its invite", auditor.enrol("invite", server.invite("auditor")), 201)
    suite.expect("a cosigned note the server never signed",
                 auditor.request("POST", "/v1/log/cosign", body={"checkpoint": f"{origin}\n{size}\n{b64(bytes(32))}\n\n\u2014 {origin} {b64(bytes(68))}\n"}),
                 400, "log.checkpoint")
    suite.expect("the server's checkpoint without the auditor's line", auditor.request("POST", "/v1/log/cosign", body={"checkpoint": note}),
                 400, "log.cosignature")
    name = "provident-witness/" + auditor.id
    witness_id = hashlib.sha256(name.encode() + b"\n\x04" + auditor.public).digest()[:4]
    seconds = int(time.time())
    cosignature = auditor.key.sign(f"cosignature/v1\ntime {seconds}\n".encode() + (text + "\n").encode())
    line = f"\u2014 {name} " + b64(witness_id + seconds.to_bytes(8, "big") + cosignature)
    cosigned = auditor.request("POST", "/v1/log/cosign", body={"checkpoint": note + line + "\n"})
    suite.expect("an auditor's cosignature", cosigned, 200)
    if cosigned[0] == 200 and cosigned[1].get("cosigners") != 1:
        suite.failures.append(f"§11.15: one auditor cosigned, the answer says {cosigned[1]}")
    log = keeper.request("GET", "/v1/pull", query="?cursor=0&logSize=0")[1].get("log", {})
    vkey = f"{name}+{witness_id.hex()}+{b64(bytes([4]) + auditor.public)}"
    if vkey not in log.get("witnesses", []) or line not in (log.get("witnessed") or ""):
        suite.failures.append(f"§11.15: the pull does not carry the auditor and what it cosigned: {log}")

    # §11.16: an office device announces that the log begins again.
    office = Device(server)
    suite.expect("an office laptop for the log's epochs", office.enrol("invite", server.invite("office")), 201)
    office_name = "provident-office/" + office.id
    office_id = hashlib.sha256(office_name.encode() + b"\n\x01" + office.public).digest()[:4]
    root_line = text.split("\n")[2]
    body = f"provident-epoch/v1\n{origin}\nends 0 {b64(hashlib.sha256(b'').digest())}\nstarts {size} {root_line}\ntime {now_ms()}\n"

    def epoch(signer, key_id=office_id):
        return body + f"\n\u2014 {office_name} " + b64(key_id + signer.sign(body.encode())) + "\n"
    suite.expect("an epoch announced by a device that is not an office's",
                 keeper.request("POST", "/v1/log/epoch", body={"epoch": epoch(keeper.key)}), 403, "log.not_office")
    suite.expect("an epoch signed by another key", office.request("POST", "/v1/log/epoch", body={"epoch": epoch(Ed25519PrivateKey.generate())}),
                 400, "log.epoch")
    suite.expect("an office device's epoch", office.request("POST", "/v1/log/epoch", body={"epoch": epoch(office.key)}), 200)
    announced = keeper.request("GET", "/v1/log/epochs")[1]
    office_vkey = f"{office_name}+{office_id.hex()}+{b64(bytes([1]) + office.public)}"
    if [item.get("epoch") for item in announced.get("epochs", [])] != [epoch(office.key)] or \
            office_vkey not in keeper.request("GET", "/v1/pull", query="?cursor=0&logSize=0")[1].get("log", {}).get("offices", []):
        suite.failures.append(f"§11.16: the epoch or the office's key is not given back: {announced}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", help="the folder holding provident-server (default: swift build --show-bin-path)")
    options = parser.parse_args()
    bin_dir = pathlib.Path(options.bin) if options.bin else pathlib.Path(subprocess.run(
        [shutil.which("swift") or "/opt/swift/usr/bin/swift", "build", "--show-bin-path"], cwd=ROOT, capture_output=True, text=True,
        check=True).stdout.strip())
    suite = Suite()
    for shift in (0, 1):
        Device.count, Device.shift = 0, shift
        work = pathlib.Path(tempfile.mkdtemp(prefix="provident-conformance-"))
        server = Server(bin_dir, work)
        try:
            run(server, suite)
        finally:
            server.stop()
            shutil.rmtree(work, ignore_errors=True)
    listed = spec_codes()
    covered = set(suite.seen) | set(NOT_CAUSED_BY_CLIENTS)
    missing = sorted(code for code in listed if not (code in covered or (code.endswith(".*") and
                                                                         any(c.startswith(code[:-1]) for c in covered))))
    for failure in suite.failures:
        print("conformance: " + failure)
    for code in missing:
        print(f"conformance: {code} is listed in the spec, but no request produced it")
    print(f"conformance: {suite.checks} requests checked, {len(suite.seen)} codes produced, "
          f"{len(NOT_CAUSED_BY_CLIENTS)} not caused by clients, {len(missing)} listed codes not produced")
    if suite.failures or missing:
        sys.exit(1)


if __name__ == "__main__":
    main()
