import ProvidentCrypto
import ProvidentSync
import Testing

@Suite struct ChangeSetTests {
    let alice = TestDevice(1)

    func changeSet(sequence: UInt64 = 1, previous: ChangeSetID = .zero,
                   operations: [ProvidentSync.Operation]? = nil) -> ChangeSet {
        ChangeSet(device: alice.id, sequence: sequence, previous: previous,
                  time: HLCTimestamp(wallMillis: 1_795_000_000_000, counter: 0), action: "account.enroll",
                  operations: operations ?? [ProvidentSync.Operation(
                      record: RecordKey(type: "account", id: "acc-1"), kind: .create,
                      fields: ["name": "张三", "phone": "13800138000"])])
    }

    @Test func signsAndVerifiesThroughAnEnvelope() throws {
        let signed = try SignedChangeSet(signing: changeSet(), with: alice.key)
        let received = try SignedChangeSet(envelope: signed.envelope)
        #expect(received == signed)
        #expect(received.id == Digest256(hashing: signed.bytes))
        try received.verify(with: alice.key.publicKey)
        #expect(try received.changeSet.canonicalBytes() == received.bytes)
    }

    @Test func refusesASignatureByAnotherKey() throws {
        let signed = try SignedChangeSet(signing: changeSet(), with: alice.key)
        let mallory = TestDevice(9)
        let forged = try SignedChangeSet(bytes: signed.bytes, signature: mallory.key.signature(for: signed.bytes).bytes)
        #expect(throws: SyncError.badSignature) { try forged.verify(with: alice.key.publicKey) }
        // Signing someone else's change-set is refused at the source.
        #expect(throws: SyncError.self) { try SignedChangeSet(signing: changeSet(), with: mallory.key) }
    }

    @Test(arguments: [0, 1, 63, 65, 96])
    func refusesSignaturesOfTheWrongLength(length: Int) throws {
        let signed = try SignedChangeSet(signing: changeSet(), with: alice.key)
        let envelope: CanonicalValue = ["changeSet": .string(Base64.encode(signed.bytes)),
                                        "signature": .string(Base64.encode([UInt8](repeating: 7, count: length)))]
        #expect(throws: SyncError.signatureLength(length)) { try SignedChangeSet(envelope: envelope.bytes) }
    }

    @Test func refusesUnknownProtocolVersions() throws {
        var value = try #require(changeSet().canonicalValue.objectValue)
        for version: Int64 in [0, 2, 99] {
            value["v"] = .integer(version)
            #expect(throws: SyncError.unsupportedVersion(version)) {
                try ChangeSet(canonicalBytes: CanonicalValue.object(value).bytes)
            }
        }
    }

    @Test func refusesOverSizeEnvelopesAndChangeSets() throws {
        let huge = [UInt8](repeating: UInt8(ascii: "a"), count: SignedChangeSet.maxEnvelopeByteCount + 1)
        #expect(throws: SyncError.notCanonical(.tooLarge(size: huge.count, limit: SignedChangeSet.maxEnvelopeByteCount))) {
            try SignedChangeSet(envelope: huge)
        }
        let note = String(repeating: "备", count: 30_000)
        let big = changeSet(operations: [ProvidentSync.Operation(record: RecordKey(type: "visit", id: "v1"), kind: .create, fields: ["notes": .string(note)])])
        #expect(throws: SyncError.self) { try big.canonicalBytes() }
    }

    /// Schema rules beyond the encoding: each mutation of a valid change-set names its field.
    @Test(arguments: [
        ("device", CanonicalValue.string("ABC"), "changeSet.device"),
        ("seq", CanonicalValue.integer(0), "changeSet.seq"),
        ("seq", CanonicalValue.string("1"), "changeSet.seq"),
        ("prev", CanonicalValue.string("00"), "changeSet.prev"),
        ("prev", CanonicalValue.string(String(repeating: "1", count: 64)), "changeSet.prev"),
        ("hlc", CanonicalValue.string("019A"), "changeSet.hlc"),
        ("hlc", CanonicalValue.integer(5), "changeSet.hlc"),
        ("action", CanonicalValue.string("Enroll!"), "changeSet.action"),
        ("ops", CanonicalValue.array([]), "changeSet.ops"),
        ("extra", CanonicalValue.integer(1), "changeSet.extra"),
    ])
    func refusesSchemaViolations(key: String, value: CanonicalValue, path: String) throws {
        var object = try #require(changeSet().canonicalValue.objectValue)
        object[key] = value
        do {
            _ = try ChangeSet(canonicalBytes: CanonicalValue.object(object).bytes)
            Issue.record("accepted \(key) = \(value)")
        } catch let .invalidField(actualPath, _) {
            #expect(actualPath == path)
        } catch {
            Issue.record("expected invalidField at \(path), got \(error)")
        }
    }

    @Test func refusesMissingFields() throws {
        for key in ["device", "seq", "prev", "hlc", "action", "ops"] {
            var object = try #require(changeSet().canonicalValue.objectValue)
            object[key] = nil
            #expect(throws: SyncError.invalidField(path: "changeSet.\(key)", reason: Reason("is missing", "缺失"))) {
                try ChangeSet(canonicalBytes: CanonicalValue.object(object).bytes)
            }
        }
    }

    @Test func requiresAZeroPreviousExactlyForTheFirstChangeSet() {
        #expect(throws: SyncError.self) { try changeSet(sequence: 2, previous: .zero).canonicalBytes() }
        #expect(throws: SyncError.self) { try changeSet(sequence: 1, previous: Digest256(hashing: [1])).canonicalBytes() }
        #expect(throws: Never.self) { try changeSet(sequence: 2, previous: Digest256(hashing: [1])).canonicalBytes() }
    }

    @Test(arguments: [
        ("type", OperationKind.create, ["name": CanonicalValue.string("x")], [:], "Account"),
        ("id", .create, ["name": "x"], [:], "-bad"),
        ("fields", .create, ["Name": "x"], [:], nil),
        ("fields", .create, ["voided": "x"], [:], nil),
        ("ctx", .create, ["name": "x"], ["ctx": 1], nil),
        ("ctx", .fact, ["amountFen": 100], ["ctx": 1], nil),
        ("fields", .update, [:], [:], nil),
        ("fields", .void, ["why": "dup"], [:], nil),
        ("fields", .void, ["reason": ""], [:], nil),
        ("fields", .void, ["reason": "dup", "extra": 1], [:], nil),
    ] as [(String, OperationKind, [String: CanonicalValue], [String: Int], String?)])
    func refusesInvalidOperations(field: String, kind: OperationKind, fields: [String: CanonicalValue],
                                  context: [String: Int], badName: String?) throws {
        var ctx = VersionVector()
        if !context.isEmpty { ctx.record(Dot(device: alice.id, sequence: 1)) }
        let type = field == "type" ? (badName ?? "") : "account"
        let id = field == "id" ? (badName ?? "") : "acc-1"
        let op = ProvidentSync.Operation(record: RecordKey(type: type, id: id), kind: kind, fields: fields, context: ctx)
        do {
            _ = try changeSet(operations: [op]).canonicalBytes()
            Issue.record("accepted \(op)")
        } catch let .invalidField(path, _) {
            #expect(path == "changeSet.ops[0].\(field)")
        } catch {
            Issue.record("expected invalidField, got \(error)")
        }
    }

    @Test func refusesTwoWritesOfOneRecordInOneChangeSet() {
        let key = RecordKey(type: "account", id: "acc-1")
        let ops = [ProvidentSync.Operation(record: key, kind: .create, fields: ["name": "a"]),
                   ProvidentSync.Operation(record: key, kind: .update, fields: ["name": "b"])]
        #expect(throws: SyncError.self) { try changeSet(operations: ops).canonicalBytes() }
    }

    @Test func refusesNonCanonicalBase64InTheEnvelope() throws {
        let signed = try SignedChangeSet(signing: changeSet(), with: alice.key)
        let good = Base64.encode(signed.bytes)
        let bad: CanonicalValue = ["changeSet": .string(good + "\n"), "signature": .string(Base64.encode(signed.signature.bytes))]
        #expect(throws: SyncError.invalidBase64(field: "envelope.changeSet")) { try SignedChangeSet(envelope: bad.bytes) }
    }
}

@Suite struct ChainTests {
    let device = TestDevice(1)

    func signed(_ sequence: UInt64, previous: ChangeSetID, millis: UInt64, name: String = "x") throws -> SignedChangeSet {
        try SignedChangeSet(signing: ChangeSet(
            device: device.id, sequence: sequence, previous: previous,
            time: HLCTimestamp(wallMillis: millis, counter: 0), action: "account.update",
            operations: [ProvidentSync.Operation(record: RecordKey(type: "account", id: "a"), kind: .update, fields: ["name": .string(name)])]),
            with: device.key)
    }

    @Test func classifiesNextDuplicateGapForkAndClockRegression() throws {
        let first = try signed(1, previous: .zero, millis: 1_000)
        let second = try signed(2, previous: first.id, millis: 2_000)
        let history = [first.id, second.id]
        let head = ChainHead(sequence: 2, id: second.id, time: second.changeSet.time)
        let lookup: (UInt64) -> ChangeSetID? = { s in s >= 1 && s <= 2 ? history[Int(s - 1)] : nil }

        #expect(Chain.classify(first.changeSet, id: first.id, head: nil, acceptedID: { _ in nil }) == .next)
        #expect(Chain.classify(second.changeSet, id: second.id, head: nil, acceptedID: { _ in nil }) == .gap(expected: 1))
        #expect(Chain.classify(second.changeSet, id: second.id, head: head, acceptedID: lookup) == .duplicate)
        #expect(Chain.classify(first.changeSet, id: first.id, head: head, acceptedID: lookup) == .duplicate)

        let third = try signed(3, previous: second.id, millis: 3_000)
        #expect(Chain.classify(third.changeSet, id: third.id, head: head, acceptedID: lookup) == .next)
        let fifth = try signed(5, previous: Digest256(hashing: [5]), millis: 5_000)
        #expect(Chain.classify(fifth.changeSet, id: fifth.id, head: head, acceptedID: lookup) == .gap(expected: 3))

        // Two different change-sets for sequence 2: a fork, whether it names the right parent or not.
        let otherSecond = try signed(2, previous: first.id, millis: 2_000, name: "y")
        #expect(Chain.classify(otherSecond.changeSet, id: otherSecond.id, head: head, acceptedID: lookup) == .fork(sequence: 2))
        let wrongParent = try signed(3, previous: Digest256(hashing: [9]), millis: 3_000)
        #expect(Chain.classify(wrongParent.changeSet, id: wrongParent.id, head: head, acceptedID: lookup) == .fork(sequence: 2))

        let backwards = try signed(3, previous: second.id, millis: 1_500)
        #expect(Chain.classify(backwards.changeSet, id: backwards.id, head: head, acceptedID: lookup) == .timeNotAfterPrevious)
    }
}

@Suite struct HybridLogicalClockTests {
    @Test func ticksFollowTheWallClockAndCountWithinAMillisecond() {
        var clock = HybridLogicalClock()
        #expect(clock.tick(now: 1_000) == HLCTimestamp(wallMillis: 1_000, counter: 0))
        #expect(clock.tick(now: 1_000) == HLCTimestamp(wallMillis: 1_000, counter: 1))
        #expect(clock.tick(now: 1_005) == HLCTimestamp(wallMillis: 1_005, counter: 0))
    }

    @Test func staysMonotonicWhenTheWallClockGoesBackwards() {
        var clock = HybridLogicalClock()
        var previous = clock.tick(now: 10_000)
        for now: UInt64 in [9_000, 5_000, 10_000, 1, 10_001, 3] {
            let next = clock.tick(now: now)
            #expect(next > previous)
            previous = next
        }
    }

    @Test func carriesIntoTheNextMillisecondWhenTheCounterIsFull() {
        var clock = HybridLogicalClock(last: HLCTimestamp(wallMillis: 500, counter: .max))
        #expect(clock.tick(now: 100) == HLCTimestamp(wallMillis: 501, counter: 0))
    }

    /// The receive rules of Kulkarni et al.: the new time is after the local and the remote time.
    @Test(arguments: [
        // (local, remote, now) → expected
        ((1_000, 0), (2_000, 5), 1_500, (2_000, 6)),      // remote ahead
        ((3_000, 2), (2_000, 5), 1_500, (3_000, 3)),      // local ahead
        ((1_000, 0), (2_000, 5), 4_000, (4_000, 0)),      // wall ahead
        ((2_000, 7), (2_000, 5), 1_000, (2_000, 8)),      // same millisecond: max counter + 1
    ] as [((UInt64, UInt16), (UInt64, UInt16), UInt64, (UInt64, UInt16))])
    func receivesPastTheRemoteTime(local: (UInt64, UInt16), remote: (UInt64, UInt16), now: UInt64,
                                   expected: (UInt64, UInt16)) throws {
        var clock = HybridLogicalClock(last: HLCTimestamp(wallMillis: local.0, counter: local.1))
        let result = try clock.receive(HLCTimestamp(wallMillis: remote.0, counter: remote.1), now: now)
        #expect(result == HLCTimestamp(wallMillis: expected.0, counter: expected.1))
        #expect(clock.tick(now: now) > HLCTimestamp(wallMillis: remote.0, counter: remote.1))
    }

    @Test func refusesTimesBeyondTheDriftBoundAndStaysUnchanged() {
        var clock = HybridLogicalClock(last: HLCTimestamp(wallMillis: 1_000, counter: 0))
        #expect(throws: SyncError.clockDrift(aheadMillis: 600_001, allowedMillis: 600_000)) {
            try clock.receive(HLCTimestamp(wallMillis: 601_001, counter: 0), now: 1_000, maxDrift: 600_000)
        }
        #expect(clock.last == HLCTimestamp(wallMillis: 1_000, counter: 0))
        #expect(throws: Never.self) {
            try clock.receive(HLCTimestamp(wallMillis: 601_000, counter: 0), now: 1_000, maxDrift: 600_000)
        }
    }

    @Test func wireSpellingIsSixteenHexDigitsInTimeOrder() {
        let t = HLCTimestamp(wallMillis: 1_795_000_000_000, counter: 3)
        #expect(t.wireValue == "01a1ee565e000003")
        #expect(HLCTimestamp(wireValue: t.wireValue) == t)
        #expect(HLCTimestamp(wireValue: "01A1EE565E000003") == nil)
        #expect(HLCTimestamp(wireValue: "1") == nil)
        #expect(HLCTimestamp(wallMillis: 1, counter: 0).wireValue < HLCTimestamp(wallMillis: 1, counter: 1).wireValue)
    }
}

@Suite struct VersionVectorTests {
    static let a = TestDevice(1).id, b = TestDevice(2).id, c = TestDevice(3).id

    @Test(arguments: [
        ([:], [:], VersionVector.Order.equal),
        ([a: 1], [a: 1], .equal),
        ([a: 1], [a: 2], .before),
        ([a: 2], [a: 1], .after),
        ([:], [b: 1], .before),
        ([a: 1, b: 1], [a: 1], .after),
        ([a: 2], [b: 1], .concurrent),
        ([a: 2, b: 1], [a: 1, b: 2], .concurrent),
        ([a: 1, b: 2, c: 3], [a: 1, b: 2, c: 3], .equal),
    ] as [([DeviceID: UInt64], [DeviceID: UInt64], VersionVector.Order)])
    func compares(left: [DeviceID: UInt64], right: [DeviceID: UInt64], expected: VersionVector.Order) {
        #expect(VersionVector(left).compare(VersionVector(right)) == expected)
    }

    @Test func mergeTakesTheEntrywiseMaximumAndDominatesBoth() {
        let x = VersionVector([Self.a: 3, Self.b: 1])
        let y = VersionVector([Self.b: 4, Self.c: 2])
        let merged = x.merging(y)
        #expect(merged == VersionVector([Self.a: 3, Self.b: 4, Self.c: 2]))
        #expect(x.compare(merged) == .before)
        #expect(y.compare(merged) == .before)
        #expect(merged.merging(x) == merged)
        #expect(y.merging(x) == merged)
    }

    @Test func zeroEntriesAreNotStored() {
        #expect(VersionVector([Self.a: 0]) == VersionVector())
        #expect(VersionVector([Self.a: 0]).canonicalValue == .object([:]))
    }
}

@Suite struct ErrorReportTests {
    @Test func reportsCodeMessageAndDetailsInOneShape() throws {
        let report = SyncError.chainGap(expected: 3).report
        let bytes = try CanonicalEncoder.encode(report.canonicalValue)
        #expect(String(decoding: bytes, as: UTF8.self)
            == #"{"code":"chain.gap","details":{"expected":3},"message":"Change-sets are missing before this one; send sequence 3 next."}"#)
        #expect(try ErrorReport(canonicalValue: try CanonicalDecoder.decode(bytes, limit: 1_000)) == report)
    }

    @Test func messagesNameFieldsNeverValues() throws {
        // A phone number inside a rejected change-set must not surface in the error.
        let phone = "13812345678"
        let device = TestDevice(1)
        let bad = ChangeSet(device: device.id, sequence: 1, previous: .zero, time: HLCTimestamp(wallMillis: 1, counter: 0),
                            action: "account.update",
                            operations: [Operation(record: RecordKey(type: "account", id: "a"), kind: .update,
                                                   fields: ["phone": .string(phone), "voided": "x"])])
        do {
            _ = try bad.canonicalBytes()
            Issue.record("accepted a create writing the void field")
        } catch {
            #expect(!error.message.contains(phone))
            #expect(error.code == "schema.invalid")
            #expect(error.details["path"] == "changeSet.ops[0].fields")
        }
        var text = Array(#"{"phone":"138123456789"}"#.utf8)
        text.insert(0x20, at: 10)
        do {
            _ = try CanonicalDecoder.decode(text, limit: 100)
        } catch {
            #expect(!error.message.contains("138123"))
            #expect(error.details["offset"] == 10)
        }
    }
}
