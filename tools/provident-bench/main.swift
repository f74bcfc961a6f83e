// Prints the throughput of the foundation's hot paths on this machine, in one run:
// Ed25519 sign/s and verify/s, canonical encode+hash/s, decode+verify/s, merge ops/s.
// Build in release: `make bench` (swift run -c release provident-bench).
import ProvidentCrypto
import ProvidentSync

let clock = ContinuousClock()

/// Runs `body` in rounds until at least `seconds` have passed; returns operations per second.
func measure(_ name: String, seconds: Double = 1.0, batch: Int = 1_000, _ body: () throws -> Void) rethrows -> Double {
    // Warm up caches and lazy initialisers.
    for _ in 0..<min(batch, 100) { try body() }
    var count = 0
    let start = clock.now
    var elapsed = Duration.zero
    repeat {
        for _ in 0..<batch { try body() }
        count += batch
        elapsed = clock.now - start
    } while elapsed < .seconds(seconds)
    let perSecond = Double(count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    print(name.padding(toLength: 34, withPad: " ", startingAt: 0), format(perSecond), "/s")
    return perSecond
}

/// Groups digits by thousands and right-aligns in 12 columns.
func format(_ value: Double) -> String {
    var digits = Array(String(Int(value.rounded())))
    var index = digits.count - 3
    while index > 0 {
        digits.insert(",", at: index)
        index -= 3
    }
    return String(repeating: " ", count: max(0, 12 - digits.count)) + String(digits)
}

let key = try SigningKey(seed: [UInt8](repeating: 7, count: 32))
let device = DeviceID(publicKey: key.publicKey)

/// A deposit as the client records it: one insert-only fact of nine fields.
func typicalChangeSet(sequence: UInt64, previous: ChangeSetID) -> ChangeSet {
    ChangeSet(
        device: device, sequence: sequence, previous: previous,
        time: HLCTimestamp(wallMillis: 1_795_000_000_000 + sequence, counter: 0),
        action: "deposit.record",
        operations: [Operation(
            record: RecordKey(type: "deposit", id: "dep-\(sequence)-9f8e7d6c5b4a"),
            kind: .fact,
            fields: [
                "account": "acc-3f9a1c2e7b5d4e6f",
                "amountFen": 230_000,
                "kind": "monthly",
                "period": "2026-11",
                "method": "bankTransfer",
                "reference": "PV7K3M9Q2X",
                "recordedAt": "2026-11-23T09:15:00Z",
                "channel": "self",
                "note": "十一月缴存",
            ])])
}

print("Provident foundation benchmark (release build recommended)")
print("")
let message = Array(repeating: UInt8(0x5a), count: 400)
let signature = key.signature(for: message)
let signPerSecond = measure("Ed25519 sign (400-byte message)") { _ = key.signature(for: message) }
let verifyPerSecond = measure("Ed25519 verify (400-byte message)") {
    precondition(key.publicKey.isValidSignature(signature, for: message))
}

let sample = typicalChangeSet(sequence: 2, previous: Digest256(hashing: [1]))
let sampleBytes = try sample.canonicalBytes()
print("typical change-set: \(sampleBytes.count) bytes canonical")
_ = try measure("canonical encode + BLAKE2b-256") {
    _ = Digest256(hashing: try sample.canonicalBytes())
}
let envelope = try SignedChangeSet(signing: sample, with: key).envelope
_ = try measure("envelope decode + verify") {
    let decoded = try SignedChangeSet(envelope: envelope)
    try decoded.verify(with: key.publicKey)
}

// Merge: 10,000 records written by 4 devices, each update concurrent with the others' last write.
let writers = try (0..<4).map { i in DeviceID(publicKey: try SigningKey(seed: [UInt8](repeating: UInt8(i + 1), count: 32)).publicKey) }
var states: [RecordKey: RecordState] = [:]
var sequences = [UInt64](repeating: 0, count: writers.count)
var mergeCount = 0
let fields: [String: CanonicalValue] = ["phone": "13800138000", "address": "洛阳市西工区", "baseFen": 500_000]
_ = try measure("merge (update, 3 fields)", batch: 1_000) {
    let w = mergeCount % writers.count
    sequences[w] += 1
    let key = RecordKey(type: "account", id: "acc-\(mergeCount % 10_000)")
    let operation = Operation(record: key, kind: .update, fields: fields)
    let outcome = try RecordMerge.apply(operation, dot: Dot(device: writers[w], sequence: sequences[w]),
                                        time: HLCTimestamp(wallMillis: 1_795_000_000_000 + UInt64(mergeCount), counter: 0),
                                        to: states[key])
    states[key] = outcome.state
    mergeCount += 1
}
print("")
print("cores × verify/s = \(ProcessInfoCores.count) × \(format(verifyPerSecond).trimmingSpaces) = \(format(Double(ProcessInfoCores.count) * verifyPerSecond).trimmingSpaces)/s (ingest ceiling)")
_ = signPerSecond

enum ProcessInfoCores {
    static var count: Int {
        #if canImport(Glibc)
        Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #else
        1
        #endif
    }
}

extension String {
    var trimmingSpaces: String { String(drop { $0 == " " }) }
}

#if canImport(Glibc)
import Glibc
#endif
