import ProvidentSync
import ProvidentTestSupport
import Testing

/// Devices that write, sync with each other in random patterns and run skewed clocks, producing
/// a realistic set of signed change-sets with causal chains, concurrency and clock disagreement.
struct Simulation {
    struct Device {
        let test: TestDevice
        var clock = HybridLogicalClock()
        var replica = Replica()
        var skewMillis: Int64
        var sequence: UInt64 = 0
        var last: ChangeSetID = .zero
        var received: [Int]
        var seen: Set<Dot> = []
    }

    /// One field write with the true causal past of its writer, for the oracle.
    struct Write {
        let record: RecordKey
        let field: String
        let dot: Dot
        let time: HLCTimestamp
        let value: CanonicalValue
        let seen: Set<Dot>
        let writerWallMillis: UInt64
    }

    var devices: [Device]
    var logs: [[SignedChangeSet]]
    var writes: [Write] = []
    var globalMillis: UInt64 = 1_795_000_000_000
    var rng: SeededGenerator

    static let records = (0..<3).map { RecordKey(type: "account", id: "acc-\($0)") }
    static let fieldNames = ["phone", "name", "address"]
    static let values: [CanonicalValue] = ["13800138000", "13900139000", "张三", "李四", "洛阳", 1, 2]

    init(seed: UInt64, deviceCount: Int) {
        rng = SeededGenerator(seed: seed)
        var devices: [Device] = []
        for n in 0..<deviceCount {
            // Some clocks run far behind or ahead, so HLC ordering is exercised against wall order.
            let skew = [Int64(0), -3_600_000, -50, 40, 120_000][n % 5]
            devices.append(Device(test: TestDevice(UInt8(n + 1)), skewMillis: skew, received: Array(repeating: 0, count: deviceCount)))
        }
        self.devices = devices
        logs = Array(repeating: [], count: deviceCount)
    }

    func wall(_ d: Int) -> UInt64 {
        UInt64(max(0, Int64(globalMillis) + devices[d].skewMillis))
    }

    mutating func run(steps: Int) throws {
        for _ in 0..<steps {
            globalMillis += UInt64.random(in: 0...40, using: &rng)
            let d = Int.random(in: 0..<devices.count, using: &rng)
            if Int.random(in: 0..<100, using: &rng) < 35 {
                try sync(d)
            } else {
                try write(d)
            }
            // Now and then a wall clock is set back (a battery swap, a manual change).
            if Int.random(in: 0..<100, using: &rng) < 3 { devices[d].skewMillis -= 5_000 }
        }
    }

    /// Delivers to `d` a random number of each other device's next change-sets, in that device's order.
    mutating func sync(_ d: Int) throws {
        for e in devices.indices.shuffled(using: &rng) where e != d {
            let available = logs[e].count - devices[d].received[e]
            guard available > 0 else { continue }
            let take = Int.random(in: 0...available, using: &rng)
            for _ in 0..<take { try deliver(logs[e][devices[d].received[e]], to: d, from: e) }
        }
    }

    mutating func deliver(_ signed: SignedChangeSet, to d: Int, from e: Int) throws {
        _ = try devices[d].replica.apply(signed)
        try devices[d].clock.receive(signed.changeSet.time, now: wall(d))
        devices[d].received[e] += 1
        devices[d].seen.insert(signed.changeSet.dot)
    }

    mutating func write(_ d: Int) throws {
        let device = devices[d]
        let sequence = device.sequence + 1
        var operations: [ProvidentSync.Operation] = []
        let roll = Int.random(in: 0..<100, using: &rng)
        let record = Self.records.randomElement(using: &rng) ?? Self.records[0]
        let state = device.replica.records[record]
        if roll < 10 {
            let fact = RecordKey(type: "deposit", id: "dep-\(d)-\(sequence)")
            operations.append(ProvidentSync.Operation(record: fact, kind: .fact,
                                                      fields: ["amountFen": .integer(Int64.random(in: 1...900_000, using: &rng)), "account": .string(record.id)]))
        } else if roll < 15, state?.created == true {
            operations.append(ProvidentSync.Operation(record: record, kind: .void, fields: ["reason": Self.values.randomElement(using: &rng) == "张三" ? "dup" : "moved"],
                                                      context: state?.versionVector ?? VersionVector()))
        } else {
            var fields: [String: CanonicalValue] = [:]
            for name in Self.fieldNames.shuffled(using: &rng).prefix(Int.random(in: 1...2, using: &rng)) {
                fields[name] = Self.values.randomElement(using: &rng)
            }
            if let state {
                operations.append(ProvidentSync.Operation(record: record, kind: .update, fields: fields, context: state.versionVector))
            } else {
                operations.append(ProvidentSync.Operation(record: record, kind: .create, fields: fields))
            }
        }
        let wallNow = wall(d)
        let time = devices[d].clock.tick(now: wallNow)
        let changeSet = ChangeSet(device: device.test.id, sequence: sequence, previous: device.last, time: time,
                                  action: "test.write", operations: operations)
        let signed = try SignedChangeSet(signing: changeSet, with: device.test.key)
        _ = try devices[d].replica.apply(signed)
        devices[d].sequence = sequence
        devices[d].last = signed.id
        logs[d].append(signed)
        for op in operations where op.kind != .fact {
            for (name, value) in op.fields {
                writes.append(Write(record: op.record, field: op.kind == .void ? Operation.voidField : name,
                                    dot: changeSet.dot, time: time, value: value, seen: devices[d].seen, writerWallMillis: wallNow))
            }
        }
        devices[d].seen.insert(changeSet.dot)
    }

    /// A random interleaving of all logs that keeps each device's own order.
    func deliveryOrder(using rng: inout SeededGenerator) -> [SignedChangeSet] {
        var positions = Array(repeating: 0, count: logs.count)
        var order: [SignedChangeSet] = []
        while true {
            let candidates = logs.indices.filter { positions[$0] < logs[$0].count }
            guard let e = candidates.randomElement(using: &rng) else { return order }
            order.append(logs[e][positions[e]])
            positions[e] += 1
        }
    }

    /// The conflicts the definition asks for, computed from true causality, not version vectors.
    var expectedConflicts: Set<String> {
        var expected = Set<String>()
        let byField = Dictionary(grouping: writes) { "\($0.record)|\($0.field)" }
        for (_, group) in byField {
            for i in group.indices {
                for j in group.indices where i < j {
                    let x = group[i], y = group[j]
                    let concurrent = !x.seen.contains(y.dot) && !y.seen.contains(x.dot) && x.dot.device != y.dot.device
                    if concurrent && x.value != y.value {
                        let (p, q) = x.dot < y.dot ? (x.dot, y.dot) : (y.dot, x.dot)
                        expected.insert("\(x.record)|\(x.field)|\(p)|\(q)")
                    }
                }
            }
        }
        return expected
    }
}

@Suite struct ConvergencePropertyTests {
    static let chunks = 6
    static let simulationsPerChunk = 50
    static let ordersPerSimulation = 4

    @Test func coversAtLeastAThousandSchedules() {
        #expect(Self.chunks * Self.simulationsPerChunk * Self.ordersPerSimulation >= 1_000)
    }

    /// 1,200 delivery schedules over 300 seeded histories (in chunks, so they run in parallel):
    /// every order that keeps each device's own order yields byte-identical state, redelivery
    /// changes nothing, conflicts are exactly the concurrent different pairs, and causal
    /// successors always win.
    @Test(arguments: 0..<chunks)
    func everyDeliveryOrderConvergesToOneState(chunk: Int) throws {
        let seeds = UInt64(chunk * Self.simulationsPerChunk)..<UInt64((chunk + 1) * Self.simulationsPerChunk)
        var schedules = 0
        var causalWinsAgainstWallClock = 0
        var conflictsSeen = 0
        var violations: [String] = []
        for seed in seeds {
            var simulation = Simulation(seed: seed, deviceCount: 3 + Int(seed % 3))
            try simulation.run(steps: 40)
            var rng = SeededGenerator(seed: seed ^ 0xDEAD_BEEF)

            var reference: Digest256?
            var referenceReplica: Replica?
            for order in 0..<Self.ordersPerSimulation {
                var replica = Replica()
                var delivered: [SignedChangeSet] = []
                for signed in simulation.deliveryOrder(using: &rng) {
                    if try replica.apply(signed) == .duplicate { violations.append("seed \(seed): first delivery seen as duplicate") }
                    delivered.append(signed)
                    // Redeliver something already applied now and then: it must change nothing.
                    if Int.random(in: 0..<8, using: &rng) == 0, let again = delivered.randomElement(using: &rng) {
                        let before = replica.stateDigest()
                        if try replica.apply(again) != .duplicate || replica.stateDigest() != before {
                            violations.append("seed \(seed): redelivery changed the state")
                        }
                    }
                }
                let digest = replica.stateDigest()
                if let reference {
                    if digest != reference { violations.append("seed \(seed): delivery order \(order) changed the state") }
                } else {
                    reference = digest
                    referenceReplica = replica
                }
                schedules += 1
            }

            // A new replica that starts from a snapshot (whole records joined) taken part-way and
            // then receives every change-set reaches the same state: join and apply agree.
            let all = simulation.deliveryOrder(using: &rng)
            let cut = Int.random(in: 0...all.count, using: &rng)
            var partial = Replica()
            for signed in all.prefix(cut) { _ = try partial.apply(signed) }
            var joined = Replica()
            for state in partial.records.values.shuffled(using: &rng) { try joined.join(state) }
            for state in partial.records.values { try joined.join(state) }
            for signed in all { _ = try joined.apply(signed) }
            if joined.stateDigest() != reference { violations.append("seed \(seed): snapshot at \(cut) then feed diverged") }

            // Each device's own replica, once it has received everything, agrees too.
            for d in simulation.devices.indices {
                for e in simulation.devices.indices where e != d {
                    while simulation.devices[d].received[e] < simulation.logs[e].count {
                        try simulation.deliver(simulation.logs[e][simulation.devices[d].received[e]], to: d, from: e)
                    }
                }
                if simulation.devices[d].replica.stateDigest() != reference {
                    violations.append("seed \(seed): device \(d) diverged")
                }
            }

            let replica = try #require(referenceReplica)
            let actual = Set(replica.conflicts.values.map { "\($0.record)|\($0.field)|\($0.first.dot)|\($0.second.dot)" })
            if actual != simulation.expectedConflicts || actual.count != replica.conflicts.count {
                violations.append("seed \(seed): conflicts \(actual.count), expected \(simulation.expectedConflicts.count)")
            }
            conflictsSeen += actual.count

            for write in simulation.writes {
                for earlier in simulation.writes where earlier.record == write.record && earlier.field == write.field
                    && write.seen.contains(earlier.dot) {
                    // A write made after seeing another carries a later time, even from a slow clock...
                    if write.time <= earlier.time { violations.append("seed \(seed): \(write.dot) not after \(earlier.dot)") }
                    if write.writerWallMillis < earlier.time.wallMillis { causalWinsAgainstWallClock += 1 }
                    // ...so the one it saw can never be the winner.
                    if replica.records[write.record]?.fields[write.field]?.winner.dot == earlier.dot {
                        violations.append("seed \(seed): \(earlier.dot) won over \(write.dot), which had seen it")
                    }
                }
            }
        }
        let violationCount = violations.count
        #expect(violationCount == 0, "first violations: \(violations.prefix(5))")
        #expect(schedules == Self.simulationsPerChunk * Self.ordersPerSimulation)
        // The properties were exercised, not vacuously true.
        #expect(causalWinsAgainstWallClock > 20)
        #expect(conflictsSeen > 20)
        print("convergence: \(schedules) schedules, \(conflictsSeen) conflicts, \(causalWinsAgainstWallClock) causal wins over a faster wall clock")
    }
}
