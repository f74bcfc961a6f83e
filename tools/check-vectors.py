#!/usr/bin/env python3
"""Independent check of sync-protocol.md's golden vectors.

Recomputes every vector from the spec's own words with Python's standard library and the
`cryptography` package (no Provident code): canonical bytes as json.dumps with sorted keys,
no whitespace and UTF-8 text; ids as BLAKE2b-256; Ed25519 keys and signatures. Run with
`--print` to print freshly computed vectors instead of checking them.
"""
import base64
import hashlib
import json
import pathlib
import re
import sys

try:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives import serialization
except ImportError:
    sys.exit("check-vectors: the Python package 'cryptography' is missing; install it with: pip install cryptography")

SPEC = pathlib.Path(__file__).resolve().parent.parent / "sync-protocol.md"


def canonical(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


def compute():
    seed = bytes(range(32))
    key = Ed25519PrivateKey.from_private_bytes(seed)
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    fingerprint = hashlib.blake2b(public, digest_size=32).digest()
    device = fingerprint[:16].hex()
    out = {
        "seed": seed.hex(),
        "public-key": public.hex(),
        "fingerprint": fingerprint.hex(),
        "device-id": device,
    }

    def hlc(millis, counter=0):
        return format(millis << 16 | counter, "016x")

    create = {
        "v": 1, "device": device, "seq": 1, "prev": "0" * 64,
        "hlc": hlc(1795397400000), "action": "account.enroll",
        "ops": [{
            "type": "account", "id": "acc-0001", "kind": "create", "ctx": {},
            "fields": {"name": "张三", "phone": "13800138000", "category": "gig",
                       "baseFen": 500000, "note": "第一行\n\"引号\""},
        }],
    }
    create_bytes = canonical(create)
    create_id = hashlib.blake2b(create_bytes, digest_size=32).hexdigest()
    update = {
        "v": 1, "device": device, "seq": 2, "prev": create_id,
        "hlc": hlc(1795397460000, 0), "action": "account.update",
        "ops": [{
            "type": "account", "id": "acc-0001", "kind": "update", "ctx": {device: 1},
            "fields": {"phone": "13900139000"},
        }],
    }
    # A signed request: GET /v1/pull?cursor=0&limit=500 at a fixed time with a fixed nonce.
    empty_digest = "blake2b-256=:" + base64.b64encode(hashlib.blake2b(b"", digest_size=32).digest()).decode() + ":"
    components = ["@method", "@path", "@query", "content-digest", "provident-date", "provident-device", "provident-nonce"]
    base = "\n".join([
        '"@method": GET', '"@path": /v1/pull', '"@query": ?cursor=0&limit=500', f'"content-digest": {empty_digest}',
        '"provident-date": 1795397400000', f'"provident-device": {device}', '"provident-nonce": 000102030405060708090a0b0c0d0e0f',
        '"@signature-params": (' + " ".join(f'"{c}"' for c in components) + f');alg="ed25519";keyid="{device}"',
    ]).encode("utf-8")
    out["request.base-hex"] = base.hex()
    out["request.signature"] = key.sign(base).hex()

    # §5.1: a transport key from the seed 20 21 … 3f, certified by the device key, and the same
    # request signed by it (header Provident-Key: transport; keyid "<device id>/transport").
    transport = Ed25519PrivateKey.from_private_bytes(bytes(range(32, 64)))
    transport_public = transport.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    delegation = canonical({"device": device, "issuedAt": 1795397400000, "purpose": "provident-transport",
                            "transportKey": base64.b64encode(transport_public).decode()})
    delegation_signature = key.sign(delegation)
    out["transport.public-key"] = transport_public.hex()
    out["delegation.canonical"] = delegation.decode("utf-8")
    out["delegation.signature"] = delegation_signature.hex()
    out["delegation.envelope"] = canonical({"delegation": base64.b64encode(delegation).decode(),
                                            "signature": base64.b64encode(delegation_signature).decode()}).decode("utf-8")
    transport_base = base.replace(f'keyid="{device}"'.encode(), f'keyid="{device}/transport"'.encode())
    out["transport-request.base-hex"] = transport_base.hex()
    out["transport-request.signature"] = transport.sign(transport_base).hex()

    for name, body in (("create", create), ("update", update)):
        raw = canonical(body)
        signature = key.sign(raw)
        envelope = canonical({"changeSet": base64.b64encode(raw).decode(), "signature": base64.b64encode(signature).decode()})
        out[f"{name}.canonical"] = raw.decode("utf-8")
        out[f"{name}.canonical-hex"] = raw.hex()
        out[f"{name}.id"] = hashlib.blake2b(raw, digest_size=32).hexdigest()
        out[f"{name}.signature"] = signature.hex()
        out[f"{name}.envelope"] = envelope.decode("utf-8")

    # §11.6: the feed's marks when the create is at position 1 and the update at position 2.
    mark = bytes(32)
    for position, name in ((1, "create"), (2, "update")):
        entry = bytes.fromhex(out[f"{name}.id"])
        mark = hashlib.blake2b(b"provident-feed-mark-v1" + mark + position.to_bytes(8, "big") + entry, digest_size=32).digest()
        out[f"feed.mark-{position}"] = mark.hex()

    # §11.14: the feed's log over seven entries whose ids are 32 bytes each equal to the position.
    def sha(data):
        return hashlib.sha256(data).digest()

    def mth(leaves):
        if not leaves:
            return sha(b"")
        if len(leaves) == 1:
            return sha(b"\x00" + leaves[0])
        k = split(len(leaves))
        return sha(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))

    def split(n):
        k = 1
        while k * 2 < n:
            k *= 2
        return k

    def path(m, leaves):  # RFC 9162 §2.1.3.1
        if len(leaves) <= 1:
            return []
        k = split(len(leaves))
        return path(m, leaves[:k]) + [mth(leaves[k:])] if m < k else path(m - k, leaves[k:]) + [mth(leaves[:k])]

    def subproof(m, leaves, whole):  # RFC 9162 §2.1.4.1
        if m == len(leaves):
            return [] if whole else [mth(leaves)]
        k = split(len(leaves))
        if m <= k:
            return subproof(m, leaves[:k], whole) + [mth(leaves[k:])]
        return subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]

    def batch(indexes, leaves, lo=0):  # §11.14: the largest subtrees holding none of the leaves, left to right
        inside = [i for i in indexes if lo <= i < lo + len(leaves)]
        if not inside:
            return [mth(leaves)]
        if len(leaves) == 1:
            return []
        k = split(len(leaves))
        return batch(indexes, leaves[:k], lo) + batch(indexes, leaves[k:], lo + k)

    entries = [bytes([p]) * 32 for p in range(1, 8)]
    root = mth(entries)
    out["log.leaf-1"] = sha(b"\x00" + entries[0]).hex()
    out["log.root-7"] = root.hex()
    out["log.inclusion-3-of-7"] = ",".join(h.hex() for h in path(2, entries))
    out["log.consistency-3-to-7"] = ",".join(h.hex() for h in subproof(3, entries, True))
    out["log.batch-2-5-of-7"] = ",".join(h.hex() for h in batch([1, 4], entries))
    origin = "provident/" + fingerprint.hex()[:16]
    body = f"{origin}\n7\n{base64.b64encode(root).decode()}\n".encode()
    key_id = sha(origin.encode() + b"\n\x01" + public)[:4]
    out["log.origin"] = origin
    out["log.checkpoint-7"] = f"\u2014 {origin} " + base64.b64encode(key_id + key.sign(body)).decode()
    receipt = b"provident-receipt-v1" + bytes.fromhex(out["create.id"]) + (1).to_bytes(8, "big") + (1795397400000).to_bytes(8, "big")
    out["log.receipt"] = key.sign(receipt).hex()
    # Revision 1.6: one signature over a push's list, the create at 1 and the update at 2.
    receipts = b"provident-receipts-v1" + (1795397400000).to_bytes(8, "big")
    for name, position in (("create", 1), ("update", 2)):
        receipts += bytes.fromhex(out[f"{name}.id"]) + position.to_bytes(8, "big")
    out["log.receipts"] = key.sign(receipts).hex()
    # §11.15: the witness of the key from the seed 20 21 … 3f, cosigning the 7-entry checkpoint.
    witness = Ed25519PrivateKey.from_private_bytes(bytes(range(32, 64)))
    witness_public = witness.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    name = "provident-witness/" + hashlib.blake2b(witness_public, digest_size=32).hexdigest()[:32]
    witness_id = sha(name.encode() + b"\n\x04" + witness_public)[:4]
    out["log.witness-key"] = f"{name}+{witness_id.hex()}+" + base64.b64encode(b"\x04" + witness_public).decode()
    seconds = 1795397400
    cosignature = witness.sign(f"cosignature/v1\ntime {seconds}\n".encode() + body)
    # §11.16: the seed's key as an office device announces the 7-entry log after the first 3.
    office = "provident-office/" + fingerprint.hex()[:32]
    epoch = (f"provident-epoch/v1\n{origin}\nends 3 {base64.b64encode(mth(entries[:3])).decode()}\n"
             f"starts 7 {base64.b64encode(root).decode()}\ntime 1795397400000\n").encode()
    out["log.epoch-7"] = f"\u2014 {office} " + base64.b64encode(sha(office.encode() + b"\n\x01" + public)[:4] + key.sign(epoch)).decode()
    out["log.cosignature-7"] = f"\u2014 {name} " + base64.b64encode(witness_id + seconds.to_bytes(8, "big") + cosignature).decode()
    return out


def spec_vectors():
    text = SPEC.read_text(encoding="utf-8")
    match = re.search(r"<!-- golden-vectors:begin -->\n```text\n(.*?)```\n<!-- golden-vectors:end -->", text, re.S)
    if not match:
        sys.exit("check-vectors: no golden-vectors block in sync-protocol.md")
    vectors = {}
    for line in match.group(1).splitlines():
        name, sep, value = line.partition(": ")
        if not sep:
            sys.exit(f"check-vectors: malformed vector line: {line!r}")
        vectors[name] = value
    return vectors


def main():
    computed = compute()
    if "--print" in sys.argv:
        for name, value in computed.items():
            print(f"{name}: {value}")
        return
    written = spec_vectors()
    bad = [name for name in computed if written.get(name) != computed[name]]
    extra = [name for name in written if name not in computed]
    if bad or extra:
        for name in bad:
            print(f"check-vectors: {name} differs\n  spec:     {written.get(name)}\n  computed: {computed[name]}")
        for name in extra:
            print(f"check-vectors: {name} is in the spec but not computed here")
        sys.exit(1)
    print(f"check-vectors: {len(computed)} golden vectors in sync-protocol.md reproduced independently")


if __name__ == "__main__":
    main()
