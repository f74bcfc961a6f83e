import Foundation
import ProvidentTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Killing the process (SIGKILL) at any moment of a write leaves the replica consistent: every
/// record change has its change-set in the outbox and every change-set its record change.
@Suite struct CrashSafetyTests {
    static let iterations = 40

    @Test func killingAWriterAtAnyMomentLeavesTheReplicaConsistent() throws {
        let cli = try CLI(policy: "deposits: {lumpAllowed: true}")
        try cli.enrolledWorker()
        let deposit = ["deposit", "--lump", "--amount", "1.00", "--passphrase-file", cli.passphraseFile]

        // Calibrate on this machine: how long a whole deposit takes, and when its key is unsealed
        // (after which the write happens), so the kills land around the write, not only before it.
        var durations: [Double] = [], unsealed: [Double] = []
        for _ in 0..<3 {
            let started = Date()
            let result = try cli.run(deposit, environment: ["PROVIDENT_TIMING": "1"])
            #expect(result.status == 0, "\(result.stderr)")
            durations.append(Date().timeIntervalSince(started))
            if let match = result.stderr.firstMatch(of: /timing unseal ([0-9.]+) ms/), let millis = Double(match.output.1) {
                unsealed.append(millis / 1_000)
            }
        }
        let total = durations.max() ?? 0.3
        let unseal = unsealed.min() ?? 0

        var rng = SeededGenerator(seed: 0xC0FFEE)
        var killed = 0, finished = 0
        for iteration in 0..<Self.iterations {
            // Half the kills anywhere in the run, half in the stretch after the key is unsealed.
            let low = iteration.isMultiple(of: 2) ? 0 : max(0, total - (total - unseal) * 1.5)
            let delay = Double.random(in: low...(total * 1.1), using: &rng)
            let process = try cli.start(deposit)
            usleep(useconds_t(delay * 1_000_000))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            _ = cli.collect(process)
            if process.terminationReason == .uncaughtSignal { killed += 1 } else { finished += 1 }

            let check = try cli.run(["check"])
            #expect(check.status == 0, "after kill \(iteration) at \(Int(delay * 1_000)) ms: \(check.stderr)")
        }
        print("crash safety: \(killed) killed, \(finished) finished; a deposit takes \(Int(total * 1_000)) ms, unsealing takes \(Int(unseal * 1_000)) ms")
        #expect(killed > 0, "no run was interrupted")
        #expect(finished > 0, "no run finished")

        // What the replica holds agrees with what the outbox says was done.
        let statement = try cli.json(["statement"])
        let deposits = (statement["lines"] as? [Any])?.count ?? -1
        let outbox = try cli.run(["outbox", "--json"])
        let recorded = try #require(try JSONSerialization.jsonObject(with: Data(outbox.stdout.utf8)) as? [[String: Any]])
            .filter { $0["action"] as? String == "deposit.record" }.count
        #expect(deposits == recorded)
        #expect(deposits >= 3 + finished)
    }
}
