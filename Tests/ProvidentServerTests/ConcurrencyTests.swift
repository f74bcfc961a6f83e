import Foundation
import ProvidentCrypto
import ProvidentDomain
import ProvidentServerCore
import ProvidentSync
import ProvidentTestSupport
import Testing

/// Several servers on one database: what one writes, the others and every reader see in one
/// order, with no gap and no position filled after a reader passed it.
@Suite struct ConcurrencyTests {
    @Test(arguments: Backend.allCases)
    func readersNeverPassAPositionThatConcurrentWritersOnTwoServersFillLater(_ backend: Backend) async throws {
        try await withServer(backend) { first in
            let second = try await first.another()
            let servers = [first, second]
            let (devices, chains) = try await workers(8, depositing: 24, on: first, people: 100)
            let total = chains.reduce(0) { $0 + $1.count }
            let reader = Task { () -> (seen: [UInt64], gaps: Int) in
                var seen: [UInt64] = [], gaps = 0, cursor: UInt64 = 0
                while seen.count < total {
                    let after = cursor
                    let page = try await first.core.store.read { try await $0.feed(after: after, scopes: nil, limit: 7) }
                    for entry in page {
                        if entry.position != cursor + 1 { gaps += 1 }
                        cursor = entry.position
                        seen.append(entry.position)
                    }
                    if page.isEmpty { try await Task.sleep(for: .milliseconds(1)) }
                }
                return (seen, gaps)
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, (device, chain)) in zip(devices, chains).enumerated() {
                    group.addTask {
                        // Pushes of five, alternating between the two servers.
                        for (batch, start) in stride(from: 0, to: chain.count, by: 5).enumerated() {
                            let server = servers[(index + batch) % 2]
                            let answers = try await server.core.push(try device.push(Array(chain[start..<min(start + 5, chain.count)]))).answers
                            #expect(answers.allSatisfy { $0.status == .accepted })
                        }
                    }
                }
                try await group.waitForAll()
            }
            let (seen, gaps) = try await reader.value
            #expect(gaps == 0)
            #expect(seen == Array(1...UInt64(total)))
            #expect(try await second.core.feedHead() == UInt64(total))
            await second.close()
        }
    }

    /// Pushes that arrive while the writer is busy are judged together in one transaction: each
    /// is still all or nothing. Here the writer is held while they arrive (on SQLite, where one
    /// writer waits for another, that puts them all in one transaction): good pushes of several
    /// devices, a request sent twice, the same change-sets in two requests (a device retrying
    /// while its first push is still on its way), and a push with a gap in its chain.
    @Test(arguments: Backend.allCases)
    func pushesJudgedTogetherAreEachAllOrNothing(_ backend: Backend) async throws {
        try await withServer(backend) { server in
            let (devices, chains) = try await workers(4, depositing: 4, on: server, people: 300)
            let twice = try devices[0].push(chains[0])
            // The last device skips its first change-set.
            let gap = try devices[3].push(Array(chains[3].dropFirst()))
            let requests = [twice, twice, try devices[1].push(chains[1]), try devices[2].push(chains[2]), gap, try devices[1].push(chains[1])]
            let core = server.core
            let held = Task { try await core.store.write { _ in try await Task.sleep(for: .milliseconds(300)) } }
            try await Task.sleep(for: .milliseconds(50))
            let pushes = requests.map { request in Task { () -> Result<[PushAnswer], any Error> in
                do { return .success(try await core.push(request).answers) } catch { return .failure(error) }
            } }
            try await held.value
            var results: [Result<[PushAnswer], any Error>] = []
            for push in pushes { results.append(await push.value) }

            func refusal(_ result: Result<[PushAnswer], any Error>) -> ServerError? {
                if case let .failure(error as ServerError) = result { return error }
                return nil
            }
            // The request sent twice: judged once, the other refused as a replay.
            #expect(results[0..<2].compactMap(refusal) == [.replay])
            #expect(results[0..<2].filter { if case .success = $0 { true } else { false } }.count == 1)
            for result in [results[0], results[1], results[3]] {
                if case let .success(answers) = result { #expect(answers.count == 5 && answers.allSatisfy { $0.status == .accepted }) }
            }
            #expect(refusal(results[3]) == nil)
            #expect(refusal(results[4]) == .chainGap(expected: 1, index: 0))
            // The same change-sets in two requests: whichever was judged first accepted them, the
            // other got duplicates, answered as the first were, at the same places.
            let pair = [try results[2].get(), try results[5].get()].sorted { $0.first?.status == .accepted && $1.first?.status != .accepted }
            #expect(pair[0].map(\.status) == Array(repeating: .accepted, count: 5))
            #expect(pair[1].map(\.status) == Array(repeating: .duplicate, count: 5) && pair[1].allSatisfy(\.accepted))
            #expect(pair[1].map(\.position) == pair[0].map(\.position))
            #expect(try await core.device(devices[1].id)?.status == .active)
            // Three devices' fifteen change-sets, once each; nothing of the refused push.
            #expect(try await core.feedHead() == 15)
            #expect(try await core.store.read { try await $0.chainHead(of: devices[3].id) } == nil)
            // Its request was not remembered either: sent again, it gets the same answer, not a replay's.
            await #expect(throws: ServerError.chainGap(expected: 1, index: 0)) { try await core.push(gap) }
            // And the device goes on once it sends its chain whole.
            #expect(try await core.push(try devices[3].push(chains[3])).answers.allSatisfy { $0.status == .accepted })
            #expect(try await core.feedHead() == 20)
        }
    }

    @Test(arguments: Backend.allCases)
    func oneDevicesPushesArrivingAtTwoServersAtOnceMakeOneChain(_ backend: Backend) async throws {
        try await withServer(backend) { first in
            let second = try await first.another()
            let device = TestDevice(now: { first.clock.now })
            _ = try await first.core.enrol(device)
            let (account, enroll) = try device.enroll(200)
            var chain = [enroll]
            for _ in 0..<9 { chain.append(try device.deposit(account.id).1) }
            // The same five to both at once (a retry after a lost answer, say), then overlapping ones.
            for batches in [(Array(chain[0..<5]), Array(chain[0..<5])), (Array(chain[5..<10]), Array(chain[5..<8]))] {
                let requests = (try device.push(batches.0), try device.push(batches.1))
                let cores = (first.core, second.core)
                let a = Task { try await cores.0.push(requests.0) }
                let b = Task { try await cores.1.push(requests.1) }
                let (left, right) = (try await a.value, try await b.value)
                // Each change-set is accepted exactly once, by whichever server judged it first.
                for signed in batches.1 {
                    let answers = (left.answers + right.answers).filter { $0.id == signed.id }
                    #expect(answers.filter { $0.status == .accepted }.count == 1)
                    #expect(answers.allSatisfy { $0.accepted })
                }
            }
            #expect(try await first.core.feedHead() == 10)
            #expect(try await second.core.store.read { try await $0.chainHead(of: device.id) }?.sequence == 10)
            await second.close()
        }
    }

    /// Two servers creating one record at once (two office laptops deciding one deposit, say):
    /// the second read it absent before the first committed. It must not overwrite the first's
    /// write unseen: on PostgreSQL its insert collides and its transaction runs again, this time
    /// reading the record; on SQLite it waits for the writer and reads it the first time.
    @Test(arguments: Backend.allCases)
    func aRecordTwoServersCreateAtOnceKeepsBothWrites(_ backend: Backend) async throws {
        try await withServer(backend) { first in
            let second = try await first.another()
            let key = RecordKey(type: "note", id: "note-0192f3c4a1bc3d4e5f6a7b8")
            let (a, b) = (DeviceID(publicKey: SigningKey.generate().publicKey), DeviceID(publicKey: SigningKey.generate().publicKey))
            @Sendable func write(_ device: DeviceID, onto current: RecordState?) throws -> RecordState {
                try RecordMerge.apply(ProvidentSync.Operation(record: key, kind: .create, fields: ["text": .string(device.rawValue)]),
                                      dot: Dot(device: device, sequence: 1), time: HLCTimestamp(wallMillis: 1, counter: 0), to: current).state
            }
            let (inserted, insertedNow) = AsyncStream<Void>.makeStream()
            let attempts = Counter()
            let one = Task {
                try await first.core.store.write { tx in
                    let found = try await tx.lockRecords([key])
                    try await tx.saveRecords([try write(a, onto: found[key])], scopes: [:], new: found[key] == nil ? [key] : [], createdBy: [:], conflicts: [])
                    insertedNow.yield()
                    // Still uncommitted while the other server reads and inserts: on PostgreSQL
                    // until its insert waits for this one (a fixed pause was too short on a busy
                    // machine); on SQLite it waits for the writer, and cannot begin before.
                    if backend == .postgres { _ = try await Self.lockWaits(reaching: 1, in: first) } else { try await Task.sleep(for: .milliseconds(500)) }
                }
            }
            for await _ in inserted { break }
            try await second.core.store.write { tx in
                attempts.add()
                let found = try await tx.lockRecords([key])
                try await tx.saveRecords([try write(b, onto: found[key])], scopes: [:], new: found[key] == nil ? [key] : [], createdBy: [:], conflicts: [])
            }
            try await one.value
            let stored = try #require(try await first.core.store.read { try await $0.records([key]) }[key])
            #expect(stored.versionVector.contains(Dot(device: a, sequence: 1)))
            #expect(stored.versionVector.contains(Dot(device: b, sequence: 1)))
            #expect(attempts.value == (backend == .postgres ? 2 : 1))
            await second.close()
        }
    }

    /// On PostgreSQL every push could have a transaction of its own, all queued on the feed's
    /// end; a server runs two at most, and the pushes that arrive meanwhile go into the next one
    /// together. Here the feed's end is held by another transaction: a first push, then a second,
    /// each waits there in a transaction of its own; four more then make no third, and once the
    /// feed's end is let go every push is accepted.
    @Test func aServerRunsTwoPushTransactionsAtOnceOnPostgreSQLAndTheRestWaitTogether() async throws {
        try await withServer(.postgres) { server in
            let (devices, chains) = try await workers(6, depositing: 4, on: server, people: 500)
            let requests = try zip(devices, chains).map { try $0.push($1) }
            let (held, holding) = AsyncStream<Void>.makeStream()
            let release = Counter()
            let core = server.core
            let holder = Task {
                try await core.store.write { tx in
                    _ = try await tx.reserveFeedPositions(0)
                    holding.yield()
                    while release.value == 0 { try await Task.sleep(for: .milliseconds(10)) }
                }
            }
            for await _ in held { break }
            var pushes = [Task { try await core.push(requests[0]).answers }]
            #expect(try await Self.lockWaits(reaching: 1, in: server) == 1)
            pushes.append(Task { try await core.push(requests[1]).answers })
            #expect(try await Self.lockWaits(reaching: 2, in: server) == 2)
            pushes += requests[2...].map { request in Task { try await core.push(request).answers } }
            try await Task.sleep(for: .milliseconds(300))
            #expect(try Self.lockWaits(in: server) == 2)
            release.add()
            try await holder.value
            for push in pushes { #expect(try await push.value.allSatisfy { $0.status == .accepted }) }
            #expect(try await core.feedHead() == 30)
        }
    }

    /// How many connections to `server`'s PostgreSQL database wait on a lock.
    private static func lockWaits(in server: TestServer) throws -> Int {
        let database = String(server.database.location.split(separator: "/").last ?? "")
        return Int(try PostgresCluster.current().value(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = '\(database)' AND wait_event_type = 'Lock'", database: database)) ?? -1
    }

    /// How many wait on a lock once `count` do, or after half a minute.
    private static func lockWaits(reaching count: Int, in server: TestServer) async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(30)
        var waiting = try lockWaits(in: server)
        while waiting < count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            waiting = try lockWaits(in: server)
        }
        return waiting
    }

    /// Workers enrolled on `server`, each with its chain: its account opened, then `deposits` deposits.
    private func workers(_ count: Int, depositing deposits: Int, on server: TestServer,
                         people: Int) async throws -> ([TestDevice], [[SignedChangeSet]]) {
        let devices = (0..<count).map { _ in TestDevice(now: { server.clock.now }) }
        var chains: [[SignedChangeSet]] = []
        for (index, device) in devices.enumerated() {
            _ = try await server.core.enrol(device)
            let (account, enroll) = try device.enroll(people + index)
            var chain = [enroll]
            for _ in 0..<deposits { chain.append(try device.deposit(account.id).1) }
            chains.append(chain)
        }
        return (devices, chains)
    }
}

/// How many times something ran, counted from any task.
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
