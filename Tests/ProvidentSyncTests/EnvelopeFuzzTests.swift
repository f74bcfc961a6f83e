import ProvidentSync
import ProvidentTestSupport
import Testing

/// Seeded random mutations of valid envelopes. The decoder must never trap, and whatever it
/// accepts must be canonical: the envelope re-encodes to the mutated input byte for byte, and the
/// decoded change-set re-encodes to the bytes that were signed.
@Suite struct EnvelopeFuzzTests {
    static let chunks = 4
    static let mutationsPerChunk = 25_000

    static let seeds: [SignedChangeSet] = {
        let device = TestDevice(3)
        let account = RecordKey(type: "account", id: "acc-7f3a")
        let changeSets = [
            ChangeSet(device: device.id, sequence: 1, previous: .zero, time: HLCTimestamp(wallMillis: 1_795_000_000_000, counter: 0),
                      action: "account.enroll",
                      operations: [Operation(record: account, kind: .create,
                                             fields: ["name": "王 小明", "phone": "13800138000", "category": "gig", "baseFen": 500_000,
                                                      "note": "第一行\n\"引号\"\t\\", "agreement": ["rateBasisPoints": 1_200, "fixed": false, "extra": nil]])]),
            ChangeSet(device: device.id, sequence: 2, previous: Digest256(hashing: [1]), time: HLCTimestamp(wallMillis: 1_795_000_000_500, counter: 7),
                      action: "deposit.record",
                      operations: [Operation(record: RecordKey(type: "deposit", id: "dep-1"), kind: .fact,
                                             fields: ["account": "acc-7f3a", "amountFen": 230_000, "periods": ["2026-10", "2026-11"], "negative": -42]),
                                   Operation(record: account, kind: .update, fields: ["phone": "13900139000"],
                                             context: VersionVector([device.id: 1, TestDevice(4).id: 12]))]),
            ChangeSet(device: device.id, sequence: 3, previous: Digest256(hashing: [2]), time: HLCTimestamp(wallMillis: 1_795_000_001_000, counter: 0),
                      action: "visit.void",
                      operations: [Operation(record: RecordKey(type: "visit", id: "v-9"), kind: .void, fields: ["reason": "录入重复 😀"],
                                             context: VersionVector([device.id: 2]))]),
        ]
        return changeSets.map { try! SignedChangeSet(signing: $0, with: device.key) }
    }()

    /// Bytes that steer mutations toward the grammar's edges.
    static let interesting: [UInt8] = Array(#" {}[]",:\-0123456789eE.tfnu"#.utf8) + [0x00, 0x09, 0x0A, 0x0D, 0x7F, 0x80, 0xC0, 0xE4, 0xED, 0xF4, 0xFF]

    static func mutate(_ input: [UInt8], using rng: inout SeededGenerator) -> [UInt8] {
        var bytes = input
        let rounds = Int.random(in: 1...3, using: &rng)
        for _ in 0..<rounds {
            guard !bytes.isEmpty else { return bytes }
            let at = Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<9, using: &rng) {
            case 0: bytes[at] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
            case 1: bytes[at] = UInt8.random(in: 0...255, using: &rng)
            case 2: bytes[at] = interesting.randomElement(using: &rng) ?? 0
            case 3: bytes.insert(interesting.randomElement(using: &rng) ?? 0, at: at)
            case 4: bytes.remove(at: at)
            case 5: bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...16, using: &rng)))
            case 6:
                let end = min(bytes.count, at + Int.random(in: 1...16, using: &rng))
                bytes.insert(contentsOf: bytes[at..<end], at: Int.random(in: 0...bytes.count, using: &rng))
            case 7: bytes = Array(bytes[0..<at])
            default:
                let other = Int.random(in: 0..<bytes.count, using: &rng)
                bytes.swapAt(at, other)
            }
        }
        return bytes
    }

    @Test(arguments: 0..<chunks)
    func mutatedEnvelopesAreRejectedOrDecodeToTheSameBytes(chunk: Int) {
        var rng = SeededGenerator(seed: 0xF022 + UInt64(chunk))
        var accepted = 0, rejected = 0, deep = 0
        var problems: [String] = []
        for iteration in 0..<Self.mutationsPerChunk {
            let seed = Self.seeds[iteration % Self.seeds.count]
            let input: [UInt8]
            if iteration % 2 == 0 {
                // Mutate the envelope as sent.
                input = Self.mutate(seed.envelope, using: &rng)
            } else {
                // Mutate the signed bytes inside and re-wrap them, to reach the change-set decoder.
                let inner = Self.mutate(seed.bytes, using: &rng)
                let wrapped: CanonicalValue = ["changeSet": .string(Base64.encode(inner)),
                                               "signature": .string(Base64.encode(seed.signature.bytes))]
                input = wrapped.bytes
                deep += 1
            }
            do {
                let decoded = try SignedChangeSet(envelope: input)
                accepted += 1
                if decoded.envelope != input { problems.append("iteration \(iteration): envelope did not re-encode to its input") }
                if (try? decoded.changeSet.canonicalBytes()) != decoded.bytes {
                    problems.append("iteration \(iteration): change-set did not re-encode to its signed bytes")
                }
            } catch {
                rejected += 1
                if error.message.isEmpty { problems.append("iteration \(iteration): error without a message") }
            }
        }
        let problemCount = problems.count
        #expect(problemCount == 0, "\(problems.prefix(5))")
        #expect(accepted + rejected == Self.mutationsPerChunk)
        // Both outcomes occur, so the test is neither rejecting everything nor accepting everything.
        #expect(accepted > 0)
        #expect(rejected > Self.mutationsPerChunk / 2)
        #expect(deep == Self.mutationsPerChunk / 2)
    }

    @Test func coversAtLeastAHundredThousandMutations() {
        #expect(Self.chunks * Self.mutationsPerChunk >= 100_000)
    }
}
