import ProvidentSync
import Testing

@Suite struct RecordMergeTests {
    static let a = TestDevice(1).id, b = TestDevice(2).id
    let account = RecordKey(type: "account", id: "acc-1")

    func op(_ kind: OperationKind, _ fields: [String: CanonicalValue], seen: [DeviceID: UInt64] = [:]) -> ProvidentSync.Operation {
        ProvidentSync.Operation(record: account, kind: kind, fields: fields, context: VersionVector(seen))
    }

    func apply(_ steps: [(ProvidentSync.Operation, DeviceID, UInt64, UInt64)]) throws -> (RecordState?, [Conflict]) {
        var state: RecordState?
        var conflicts: [Conflict] = []
        for (operation, device, sequence, millis) in steps {
            let outcome = try RecordMerge.apply(operation, dot: Dot(device: device, sequence: sequence),
                                                time: HLCTimestamp(wallMillis: millis, counter: 0), to: state)
            state = outcome.state
            conflicts += outcome.conflicts
        }
        return (state, conflicts)
    }

    @Test func aWriteThatSawAnotherReplacesItWithoutConflict() throws {
        let (state, conflicts) = try apply([
            (op(.create, ["phone": "13800138000"]), Self.a, 1, 100),
            (op(.update, ["phone": "13900139000"], seen: [Self.a: 1]), Self.b, 1, 200),
        ])
        #expect(state?.values["phone"] == "13900139000")
        #expect(conflicts.isEmpty)
    }

    @Test func concurrentDifferentWritesConflictOnceAndTheLaterTimeWins() throws {
        for order in [[0, 1, 2], [0, 2, 1]] {
            let steps = [
                (op(.create, ["phone": "13800138000", "name": "张三"]), Self.a, UInt64(1), UInt64(100)),
                (op(.update, ["phone": "13900139000"], seen: [Self.a: 1]), Self.a, 2, 300),
                (op(.update, ["phone": "13700137000"], seen: [Self.a: 1]), Self.b, 1, 200),
            ]
            let (state, conflicts) = try apply(order.map { steps[$0] })
            #expect(state?.values["phone"] == "13900139000")
            #expect(state?.values["name"] == "张三")
            #expect(conflicts.count == 1)
            #expect(conflicts.first?.field == "phone")
            #expect(conflicts.first?.winner.dot == Dot(device: Self.a, sequence: 2))
        }
    }

    @Test func concurrentWritesOfTheSameValueDoNotConflict() throws {
        let (_, conflicts) = try apply([
            (op(.create, ["phone": "1"]), Self.a, 1, 100),
            (op(.update, ["phone": "2"], seen: [Self.a: 1]), Self.a, 2, 300),
            (op(.update, ["phone": "2"], seen: [Self.a: 1]), Self.b, 1, 200),
        ])
        #expect(conflicts.isEmpty)
    }

    @Test func equalTimesAreBrokenByTheGreaterDeviceID() throws {
        let (low, high) = Self.a < Self.b ? (Self.a, Self.b) : (Self.b, Self.a)
        let (state, conflicts) = try apply([
            (op(.update, ["phone": "from-high"]), high, 1, 500),
            (op(.update, ["phone": "from-low"]), low, 1, 500),
        ])
        #expect(state?.values["phone"] == "from-high")
        #expect(conflicts.count == 1)
    }

    @Test func applyingAnOperationTwiceChangesNothing() throws {
        let create = op(.create, ["phone": "1"])
        let first = try RecordMerge.apply(create, dot: Dot(device: Self.a, sequence: 1), time: HLCTimestamp(wallMillis: 1, counter: 0), to: nil)
        let again = try RecordMerge.apply(create, dot: Dot(device: Self.a, sequence: 1), time: HLCTimestamp(wallMillis: 1, counter: 0), to: first.state)
        #expect(!again.changed)
        #expect(again.state == first.state)
    }

    @Test func anUpdateBeforeItsCreateConvergesToTheSameState() throws {
        let create = (op(.create, ["phone": "1", "name": "n"]), Self.a, UInt64(1), UInt64(100))
        let update = (op(.update, ["phone": "2"], seen: [Self.a: 1]), Self.b, UInt64(1), UInt64(200))
        let (causal, _) = try apply([create, update])
        let (reversed, _) = try apply([update, create])
        #expect(causal == reversed)
        #expect(reversed?.created == true)
    }

    @Test func voidingKeepsTheRecordAndItsReason() throws {
        let (state, _) = try apply([
            (op(.create, ["purpose": "promotion"]), Self.a, 1, 100),
            (op(.void, ["reason": "entered twice"], seen: [Self.a: 1]), Self.a, 2, 200),
        ])
        #expect(state?.voidReason == "entered twice")
        #expect(state?.values["purpose"] == "promotion")
    }

    @Test func factsAreImmutable() throws {
        let deposit = RecordKey(type: "deposit", id: "dep-1")
        let fact = ProvidentSync.Operation(record: deposit, kind: .fact, fields: ["amountFen": 230_000])
        let first = try RecordMerge.apply(fact, dot: Dot(device: Self.a, sequence: 1), time: HLCTimestamp(wallMillis: 1, counter: 0), to: nil)
        // The same fact again, even from another change-set, changes nothing but its delivery record.
        let again = try RecordMerge.apply(fact, dot: Dot(device: Self.a, sequence: 1), time: HLCTimestamp(wallMillis: 1, counter: 0), to: first.state)
        #expect(!again.changed)

        let altered = ProvidentSync.Operation(record: deposit, kind: .fact, fields: ["amountFen": 23_000])
        #expect(throws: SyncError.integrity(record: deposit, reason: Reason("a fact with this id already exists with different content", "已有同一 ID 而内容不同的事实"))) {
            try RecordMerge.apply(altered, dot: Dot(device: Self.b, sequence: 1), time: HLCTimestamp(wallMillis: 2, counter: 0), to: first.state)
        }
        let edit = ProvidentSync.Operation(record: deposit, kind: .update, fields: ["amountFen": 1])
        #expect(throws: SyncError.self) {
            try RecordMerge.apply(edit, dot: Dot(device: Self.b, sequence: 1), time: HLCTimestamp(wallMillis: 2, counter: 0), to: first.state)
        }
        let mutable = try apply([(op(.create, ["phone": "1"]), Self.a, 1, 1)]).0
        let factOverMutable = ProvidentSync.Operation(record: account, kind: .fact, fields: ["phone": "1"])
        #expect(throws: SyncError.self) {
            try RecordMerge.apply(factOverMutable, dot: Dot(device: Self.b, sequence: 1), time: HLCTimestamp(wallMillis: 2, counter: 0), to: mutable)
        }
    }

    @Test func refusesAWriteWhoseTimeIsNotAfterAWriteItSaw() throws {
        let (state, _) = try apply([(op(.create, ["phone": "1"]), Self.a, 1, 1_000)])
        #expect(throws: SyncError.self) {
            try RecordMerge.apply(op(.update, ["phone": "2"], seen: [Self.a: 1]), dot: Dot(device: Self.b, sequence: 1),
                                  time: HLCTimestamp(wallMillis: 900, counter: 0), to: state)
        }
    }
}
