import Foundation
import ProvidentTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Two servers on one PostgreSQL database behind haproxy, whatever PROVIDENT_TEST_BACKEND says:
/// either server may die at any moment, and the devices go on through the other.
@Suite(.serialized) struct ScaleOutTests {
    static let rounds = 20
    static let depositsPerRound = 40

    @Test func oneOfTwoServersKilledTwentyTimesMidPushLosesNothingAndDoublesNothing() throws {
        let server = try ServerProcess(policy: SyncServiceTests.policy, backend: .postgresTwoServers)
        let workers = try (0..<3).map { _ in try CLI() }
        // Three workers, three people: the server refuses a second account for one ID number.
        for (worker, idNumber) in zip(workers, ["360426199101010071", "440305199002020031", "510107198803030040"]) {
            try worker.enrolledWorker(server: server.url, idNumber: idNumber)
        }

        var rng = SeededGenerator(seed: 2_026)
        var interrupted = 0
        for round in 0..<Self.rounds {
            for worker in workers { try ProvidentStoreAccess.recordLumpDeposits(worker, count: Self.depositsPerRound) }
            let syncs = try workers.map { try $0.start(["sync", "--passphrase-file", $0.passphraseFile]) }
            usleep(useconds_t(Int.random(in: 30_000...250_000, using: &rng)))
            interrupted += syncs.filter(\.isRunning).count
            // SIGKILL one of the two, alternately; the devices' retries reach the other.
            server.crash(round % 2)
            for (worker, sync) in zip(workers, syncs) {
                sync.waitUntilExit()
                _ = worker.collect(sync)
            }
            try server.start()
        }
        print("scale-out: \(Self.rounds) kills of one of two servers; \(interrupted) syncs were under way at a kill")
        #expect(interrupted > 0, "every sync had finished before its kill")

        // Whatever was interrupted is sent again; then everyone agrees with the database.
        for worker in workers {
            try worker.sync()
            #expect(try worker.json(["whoami"])["waitingToSync"] as? Int == 0)
        }
        // The office laptop sees everything: its replica and the database agree.
        let office = try CLI()
        #expect(try office.sign(["init", "--server", server.url, "--invite", try server.invite(role: "office")]).status == 0)
        try office.sync()
        #expect(try office.digest() == (try server.digest()))
        for worker in workers {
            let statement = try worker.json(["statement"])
            #expect((statement["lines"] as? [Any])?.count == Self.rounds * Self.depositsPerRound)
            #expect(statement["totalFen"] as? Int == Self.rounds * Self.depositsPerRound * 10_000)
        }
        // The feed holds every change-set once, at positions 1…n without a gap.
        let cluster = try PostgresCluster.current()
        let name = String(server.database.split(separator: "/").last ?? "")
        let expected = workers.count * (Self.rounds * Self.depositsPerRound + 1)
        #expect(try cluster.value("SELECT count(*) || ' ' || max(seq) || ' ' || count(DISTINCT (device, device_seq)) FROM feed", database: name)
            == "\(expected) \(expected) \(expected)")
        #expect(try cluster.value("SELECT count(*) FROM change_sets WHERE status = 'accepted'", database: name) == "\(expected)")
    }
}
