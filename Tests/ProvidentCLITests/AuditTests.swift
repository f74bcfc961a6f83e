import Foundation
import Testing

/// The feed's log end to end (sync-protocol.md §11.14): the real server on 127.0.0.1, its
/// database edited behind its back, and the real `provident` binaries that must notice.
@Suite(.serialized) struct AuditTests {
    static let policy = "name: 测试城市\ndeposits: {lumpAllowed: true, advanceMonths: 2}\n"

    /// The feed positions of the change-sets devices pushed, oldest first.
    static func changeSetPositions(_ server: ServerProcess, count: Int) throws -> [Int] {
        try (0..<count).map { index in
            try #require(Int(try server.query("SELECT seq FROM feed WHERE device IS NOT NULL ORDER BY seq LIMIT 1 OFFSET \(index)")))
        }
    }

    /// Behind the server's back, the first two change-sets of its feed trade places and its log
    /// is built again from the feed when it restarts: another history its own checks accept.
    static func rewriteHistory(_ server: ServerProcess) throws {
        let positions = try changeSetPositions(server, count: 2)
        try server.tamper([
            "UPDATE feed SET device_seq = CASE seq WHEN \(positions[0]) THEN 2 ELSE 1 END WHERE seq IN (\(positions[0]), \(positions[1]))",
            "DELETE FROM log_nodes", "UPDATE feed_head SET logged = 0",
        ])
        server.crash()
        try server.start()
    }

    static func audit(_ cli: CLI) throws -> [String: Any] {
        let result = try cli.run(["audit", "--json"])
        return try #require(try JSONSerialization.jsonObject(with: result.output) as? [String: Any], "\(result.stderr)")
    }

    @Test func aDeletedAndTwoSwappedEntriesAreFoundByEveryDeviceTheyTouch() throws {
        let server = try ServerProcess(policy: Self.policy)
        let office = try CLI(), worker = try CLI()
        #expect(try office.sign(["init", "--server", server.url, "--invite", try server.invite(role: "office")]).status == 0)
        try office.sync()
        try worker.enrolledWorker(server: server.url)
        var deposits: [String] = []
        for amount in ["88", "120", "30.5"] {
            let result = try worker.sign(["deposit", "--lump", "--amount", amount, "--json"])
            #expect(result.status == 0, "\(result.stderr)")
            deposits.append(String(try #require(result.stdout.firstMatch(of: /dep-[0-9a-f]+/)).output))
        }
        try worker.sync()

        // Every receipt the worker holds is proven in a checkpoint it verified.
        let clean = try Self.audit(worker)
        let receipts = try #require(clean["receipts"] as? [String: Any])
        #expect(receipts["held"] as? Int == 4 && receipts["proven"] as? Int == 4, "\(clean)")
        #expect(clean["verdict"] as? String == "clean")
        let plain = try worker.run(["audit"])
        #expect(plain.status == 0 && plain.stdout.contains("no fault found"), "\(plain.stdout)\(plain.stderr)")

        // Behind the server's back: the second deposit and its feed entry go; the enrolment and
        // the first deposit trade places in the feed.
        let positions = try Self.changeSetPositions(server, count: 4)
        let (enrol, first, second) = (positions[0], positions[1], positions[2])
        try server.tamper([
            "DELETE FROM deposit_periods WHERE deposit_id = '\(deposits[1])'",
            "DELETE FROM deposits WHERE id = '\(deposits[1])'",
            "DELETE FROM record_scopes WHERE type = 'deposit' AND id = '\(deposits[1])'",
            "DELETE FROM records WHERE type = 'deposit' AND id = '\(deposits[1])'",
            "DELETE FROM feed_scopes WHERE feed_seq = \(second)",
            "DELETE FROM feed WHERE seq = \(second)",
            "UPDATE feed SET device_seq = CASE seq WHEN \(enrol) THEN 2 ELSE 1 END WHERE seq IN (\(enrol), \(first))",
        ])
        let depositsBefore = try server.query("SELECT count(*) FROM deposits")

        // The worker records one more deposit, then syncs: it is sent all the same, and the
        // receipts the server signed no longer match its feed.
        #expect(try worker.sign(["deposit", "--lump", "--amount", "66"]).status == 0)
        let workerSync = try worker.sign(["sync"])
        #expect(workerSync.status != 0)
        #expect(workerSync.stderr.contains("provident audit"), "\(workerSync.stderr)")
        #expect(Int(try server.query("SELECT count(*) FROM deposits")) == (Int(depositsBefore) ?? 0) + 1, "the new deposit still reached the server")
        let found = try Self.audit(worker)
        let kinds = Set((found["findings"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String })
        #expect(kinds == ["receipt.missing", "receipt.mismatch"], "\(found)")
        #expect(found["verdict"] as? String == "faults")
        // A later sync goes on, and reminds the user of what is kept.
        let later = try worker.sign(["sync"])
        #expect(later.status == 0 && later.stderr.contains("provident audit"), "\(later.stderr)")
        let worded = try worker.run(["audit"])
        #expect(worded.status == 11)
        #expect(worded.stdout.contains("its feed holds nothing there") && worded.stdout.contains("at fault"), "\(worded.stdout)")

        // The office laptop reads the swapped entries in the feed: the page does not make the
        // root the server signed with it, and nothing of it is applied.
        let officeBefore = try office.digest()
        let officeSync = try office.sign(["sync"])
        #expect(officeSync.status != 0, "\(officeSync.stdout)")
        #expect(officeSync.stderr.contains("log.page"), "\(officeSync.stderr)")
        #expect(try office.digest() == officeBefore)
        let officeFound = try Self.audit(office)
        #expect((officeFound["findings"] as? [[String: Any]])?.compactMap { $0["kind"] as? String } == ["log.page"], "\(officeFound)")
        try Self.verifyEvidence(worker)
        try Self.verifyEvidence(office)
    }

    @Test func aLogRebuiltToHideASwapDoesNotExtendTheCheckpointDevicesHold() throws {
        let server = try ServerProcess(policy: Self.policy)
        let worker = try CLI()
        try worker.enrolledWorker(server: server.url)
        #expect(try worker.sign(["deposit", "--lump", "--amount", "88"]).status == 0)
        try worker.sync()
        // The entries trade places and the log is built again from the feed so that the server's
        // own checks pass: a log of the same size with another root.
        try Self.rewriteHistory(server)
        let result = try worker.sign(["sync"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("log.inconsistent"), "\(result.stderr)")
        let found = try Self.audit(worker)
        #expect((found["findings"] as? [[String: Any]])?.compactMap { $0["kind"] as? String } == ["log.inconsistent"], "\(found)")
        try Self.verifyEvidence(worker)
    }

    @Test func aSplitViewIsCaughtByTheAuditorsCosignature() throws {
        let server = try ServerProcess(policy: Self.policy + "devices: {witnesses: 1}\n")
        let worker = try CLI()
        try worker.enrolledWorker(server: server.url)
        #expect(try worker.sign(["deposit", "--lump", "--amount", "88"]).status == 0)
        try worker.sync()

        // The audit office's device checks the log and cosigns it.
        let auditor = try CLI()
        let set = try auditor.sign(["init", "--server", server.url, "--invite", try server.invite(role: "auditor")])
        #expect(set.status == 0 && set.stdout.contains("provident sync"), "\(set.stdout)\(set.stderr)")
        let status = try auditor.run(["whoami"])
        #expect(status.stdout.contains("Witness key:      provident-witness/"), "\(status.stdout)\(status.stderr)")
        let refusedRecord = try auditor.sign(["enroll", "--name", "张三", "--id-number", "360426199101010071", "--phone", "13800138000",
                                              "--category", "gig", "--base", "5000", "--rate", "12"])
        #expect(refusedRecord.status != 0, "an auditor records nothing")
        let cosigned = try auditor.sign(["witness"])
        #expect(cosigned.status == 0 && cosigned.stdout.contains("cosigned. 1 auditor(s)"), "\(cosigned.stdout)\(cosigned.stderr)")
        #expect(try server.query("SELECT count(*) FROM log_cosignatures") == "1")
        let notAuditor = try worker.sign(["witness"])
        #expect(notAuditor.status != 0 && notAuditor.stderr.contains("auditor"), "\(notAuditor.stderr)")

        // Devices now hold what the auditor cosigned.
        try worker.sync()
        let clean = try Self.audit(worker)
        #expect((clean["witnessed"] as? [String: Any])?["cosigners"] as? Int == 1, "\(clean)")
        #expect(try worker.run(["audit"]).stdout.contains("cosigned by 1 of the 1 auditor(s)"))

        // The server now serves another history: two entries trade places and its log is built
        // again from the feed, so that its own checks pass.
        try Self.rewriteHistory(server)

        // A device that never saw the log before has nothing of its own to compare: what the
        // auditor cosigned shows that the history it is served is not the one the auditor saw.
        let newcomer = try CLI()
        #expect(try newcomer.sign(["init", "--server", server.url]).status == 0)
        let first = try newcomer.sign(["sync"])
        #expect(first.status == 11 && first.stderr.contains("log.inconsistent"), "\(first.stdout)\(first.stderr)")
        let found = try Self.audit(newcomer)
        #expect((found["findings"] as? [[String: Any]])?.compactMap { $0["kind"] as? String } == ["log.inconsistent"], "\(found)")
        let worded = try newcomer.run(["audit"], environment: ["LANG": "zh_CN.UTF-8"])
        #expect(worded.status == 11 && worded.stdout.contains("审计方联署"), "\(worded.stdout)")
        try Self.verifyEvidence(newcomer, saying: "cosigned by provident-witness/")

        // The auditor will not cosign it: its own check stops first, and nothing is cosigned.
        let again = try auditor.sign(["witness"])
        #expect(again.status == 11 && again.stderr.contains("log.inconsistent"), "\(again.stderr)")
        #expect(try server.query("SELECT count(*) FROM log_cosignatures") == "1")
    }

    @Test func aBundleCarriesTheLogAndTheCheckpointItsDeviceHolds() throws {
        let server = try ServerProcess(policy: Self.policy)
        let worker = try CLI()
        try worker.enrolledWorker(server: server.url)
        #expect(try worker.sign(["deposit", "--lump", "--amount", "88"]).status == 0)
        try worker.sync()
        let usb = worker.home + "/usb"
        try FileManager.default.createDirectory(atPath: usb, withIntermediateDirectories: true)

        // By hand, the answer's log is checked and its checkpoint kept.
        #expect(try worker.sign(["deposit", "--lump", "--amount", "120"]).status == 0)
        #expect(try worker.run(["bundle", "export", usb + "/one.bundle"]).status == 0)
        // The office imports with the city's policy, as the deployment's environment gives it.
        let policy = ["PROVIDENT_POLICY_PATH": try #require(server.policyFile)]
        let first = try server.admin(["bundle", "import", usb + "/one.bundle", "--answer", usb + "/one-answer.bundle"], environment: policy)
        #expect(first.status == 0 && first.stdout.contains("1 accepted"), "\(first.stdout)\(first.stderr)")
        let applied = try worker.run(["bundle", "import", usb + "/one-answer.bundle"])
        #expect(applied.status == 0, "\(applied.stderr)")
        let held = try #require(try Self.audit(worker)["checkpoint"] as? String)
        #expect(held.split(separator: "\n")[1] == Substring(try server.query("SELECT logged FROM feed_head")), "\(held)")

        // The server's log is rewritten behind its back; the next bundle gossips the checkpoint
        // the laptop holds: the office is alerted, and the laptop applies nothing of the answer.
        try Self.rewriteHistory(server)
        #expect(try worker.sign(["deposit", "--lump", "--amount", "30"]).status == 0)
        #expect(try worker.run(["bundle", "export", usb + "/two.bundle"]).status == 0)
        let second = try server.admin(["bundle", "import", usb + "/two.bundle", "--answer", usb + "/two-answer.bundle"], environment: policy)
        #expect(second.status == 0 && second.stdout.contains("1 accepted"), "\(second.stdout)\(second.stderr)")
        let alerts = try server.admin(["alerts"])
        #expect(alerts.stdout.contains("log.diverged"), "\(alerts.stdout)")
        let before = try worker.digest()
        let refused = try worker.run(["bundle", "import", usb + "/two-answer.bundle"])
        #expect(refused.status == 11 && refused.stderr.contains("log.inconsistent"), "\(refused.stdout)\(refused.stderr)")
        #expect(try worker.digest() == before)
        try Self.verifyEvidence(worker)
    }

    /// Checks a device's evidence with the verifier in another language, from the spec alone.
    static func verifyEvidence(_ cli: CLI, saying words: String? = nil, atFault: Bool = true) throws {
        let result = try cli.run(["audit", "--json"])
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("evidence-\(UUID().uuidString).json")
        try result.output.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let verified = try runProgram("/usr/bin/python3", [root.appendingPathComponent("tools/verify-evidence").path, file.path], environment: ["PATH": "/usr/bin:/bin"])
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        #expect(verified.stdout.contains(atFault ? "the server is at fault" : "nothing here shows the server at fault")
                && words.map(verified.stdout.contains) != false, "\(verified.stdout)")
    }
}
