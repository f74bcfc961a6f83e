import Foundation
import ProvidentTestSupport
import Testing

/// A server restored from an older copy, refilled by the devices that made what it lost
/// (sync-protocol.md §11.6): the real server on 127.0.0.1, the real `provident` binaries.
@Suite(.serialized) struct RecoveryTests {
    static let policy = "name: 测试城市\ndeposits: {lumpAllowed: true, advanceMonths: 2}\n"

    @Test func aRestoredServerIsRefilledByEveryDeviceAndNoneSaysUpToDateWhileMissingAnything() throws {
        let server = try ServerProcess(policy: Self.policy)
        let office = try CLI(), field = try CLI(), worker = try CLI()
        #expect(try office.sign(["init", "--server", server.url, "--invite", try server.invite(role: "office")]).status == 0)
        #expect(try field.sign(["init", "--server", server.url, "--invite", try server.invite(role: "field", branch: "西工区")]).status == 0)
        let enrolled = try field.sign(["enroll", "--name", "李四", "--id-number", "110102199101010078", "--phone", "13900139000",
                                       "--category", "trader", "--monthly", "600"])
        #expect(enrolled.status == 0, "\(enrolled.stderr)")
        let account = String(try #require(enrolled.stdout.firstMatch(of: /acc-[0-9a-f]+/)).output)
        let claim = String(try #require(enrolled.stdout.firstMatch(of: /[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{5}/)).output)
        #expect(try field.sign(["deposit", "--account", account]).status == 0)
        try field.sync()
        #expect(try worker.sign(["init", "--server", server.url, "--claim", claim]).status == 0)
        try worker.sync()
        let lump = try worker.sign(["deposit", "--lump", "--amount", "88"])
        #expect(lump.status == 0, "\(lump.stderr)")
        try worker.sync()
        try office.sync()

        // The copy is taken in the middle of the story.
        let copy = try server.backup()

        // Afterwards: more deposits, a second account, a worker who enrols alone and a second
        // field laptop, both unknown to the copy; everyone syncs, the office last.
        #expect(try worker.sign(["deposit", "--lump", "--amount", "120"]).status == 0)
        #expect(try worker.sign(["deposit", "--lump", "--amount", "30.5"]).status == 0)
        try worker.sync()
        let second = try field.sign(["enroll", "--name", "王五", "--id-number", "44030519900101123X", "--phone", "13700137000",
                                     "--category", "gig", "--monthly", "500"])
        #expect(second.status == 0, "\(second.stderr)")
        try field.sync()
        let alone = try CLI()
        #expect(try alone.sign(["init", "--server", server.url]).status == 0)
        let own = try alone.sign(["enroll", "--name", "赵六", "--id-number", "360426199101010071", "--phone", "13600136000",
                                  "--category", "gig", "--monthly", "400"])
        #expect(own.status == 0, "\(own.stderr)")
        try alone.sync()
        let east = try CLI()
        #expect(try east.sign(["init", "--server", server.url, "--invite", try server.invite(role: "field", branch: "西工区")]).status == 0)
        let third = try east.sign(["enroll", "--name", "钱七", "--id-number", "320102198505052017", "--phone", "13500135000",
                                   "--category", "trader", "--monthly", "700"])
        #expect(third.status == 0, "\(third.stderr)")
        try east.sync()
        try office.sync()
        let before = try server.digest()
        #expect(try office.digest() == before)

        try server.restore(copy)
        #expect(try server.digest() != before)
        // Meanwhile the worker records a deposit the office has never seen.
        let fresh = try worker.sign(["deposit", "--lump", "--amount", "66"])
        #expect(fresh.status == 0, "\(fresh.stderr)")

        // Until the office announces that the restored server's log begins again, devices take
        // nothing from it (sync-protocol.md §11.16): a restore is announced, not hidden.
        let fieldBefore = try field.digest()
        let unannounced = try field.sign(["sync"])
        #expect(unannounced.status == 11 && unannounced.stderr.contains("provident epoch"), "\(unannounced.stdout)\(unannounced.stderr)")
        #expect(try field.digest() == fieldBefore)
        let notOffice = try field.sign(["epoch"])
        #expect(notOffice.status != 0 && notOffice.stderr.contains("office laptop"), "\(notOffice.stderr)")
        let announced = try office.sign(["epoch"])
        #expect(announced.status == 0 && announced.stdout.contains("begins again"), "\(announced.stdout)\(announced.stderr)")
        let twice = try office.sign(["epoch"])
        #expect(twice.status == 0, "an announcement may be made again: \(twice.stderr)")

        // Every device syncs once. The field laptop and the worker send back what the server
        // lost, in another order than they first sent it: the feed's positions past the copy
        // are filled again with other entries, past the office laptop's old cursor.
        for device in [field, worker] {
            let result = try device.sync()
            #expect(result.stdout.contains("restored from an older copy"), "\(result.stdout)")
        }
        let again = try alone.sync()
        #expect(again.stdout.contains("enrolled it again"), "\(again.stdout)")
        // The second field laptop was enrolled after the copy: it is told to ask the office.
        let forgotten = try east.sign(["sync"])
        #expect(forgotten.status == 11)
        #expect(forgotten.stderr.contains("invite code"), "\(forgotten.stderr)")
        let back = try east.sign(["sync", "--invite", try server.invite(role: "field", branch: "西工区")])
        #expect(back.status == 0, "\(back.stderr)")
        // The office laptop notices that the feed is not the one it read, instead of reporting
        // "Up to date" with entries missing, and reads it again: it holds what the server holds.
        let officeSync = try office.sync()
        #expect(officeSync.stdout.contains("restored from an older copy"), "\(officeSync.stdout)")
        #expect(try office.digest() == (try server.digest()))

        // Each took the new log as the office announced it, and nothing it had acknowledged is
        // missing from it (§11.16).
        for device in [worker, field, office] {
            let audited = try #require(try JSONSerialization.jsonObject(with: try device.run(["audit", "--json"]).output) as? [String: Any])
            let kinds = (audited["findings"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }
            #expect(kinds == ["log.restart"] && audited["verdict"] as? String == "clean", "\(audited)")
            #expect((audited["missing"] as? [Any])?.isEmpty == true, "\(audited)")
        }
        #expect(try worker.run(["audit"]).stdout.contains("the office announced"))
        try AuditTests.verifyEvidence(worker, saying: "as the office device provident-office/", atFault: false)

        // Nothing acknowledged is missing: every change-set every device made is acknowledged
        // by the restored server, and the office's replica, rebuilt from the feed, is the server's.
        #expect(try office.json(["statement", "--account", account])["lines"].flatMap { $0 as? [Any] }?.count == 5)
        for device in [worker, field, alone, east] {
            let outbox = try device.run(["outbox", "--json"])
            let waiting = try #require(try JSONSerialization.jsonObject(with: outbox.output) as? [Any])
            #expect(waiting.isEmpty, "\(outbox.stdout)")
        }
    }

    @Test func aServerWithAnotherKeyAtTheSameAddressIsRefusedAndNothingIsSentOrTaken() throws {
        let server = try ServerProcess(policy: Self.policy)
        let worker = try CLI()
        #expect(try worker.sign(["init", "--server", server.url]).status == 0)
        #expect(try worker.sign(["enroll", "--name", "赵六", "--id-number", "360426199101010071", "--phone", "13600136000",
                                 "--category", "gig", "--monthly", "400"]).status == 0)
        try worker.sync()
        let digest = try worker.digest()
        // Another deployment at another address, given as this device's server.
        let other = try ServerProcess(policy: Self.policy)
        let refused = try worker.sign(["sync", "--server", other.url])
        #expect(refused.status == 11)
        #expect(refused.stderr.contains("key is not the one"), "\(refused.stderr)")
        #expect(try worker.digest() == digest)
    }

    @Test func aDeviceThatNoLongerHoldsWhatTheServerLostSaysWhichChangeSets() throws {
        let server = try ServerProcess(policy: Self.policy + "devices: {keepSentDays: 30}\n")
        let worker = try CLI()
        #expect(try worker.sign(["init", "--server", server.url]).status == 0)
        #expect(try worker.sign(["enroll", "--name", "赵六", "--id-number", "360426199101010071", "--phone", "13600136000",
                                 "--category", "gig", "--monthly", "400"]).status == 0)
        try worker.sync()
        let copy = try server.backup()
        for amount in ["10", "20", "30"] { #expect(try worker.sign(["deposit", "--lump", "--amount", amount]).status == 0) }
        // The first two deposits were made 40 days ago: acknowledged, they are past the policy's 30 days.
        try ProvidentStoreAccess.age(worker, sequences: 2...3, days: 40)
        try worker.sync()
        let kept = try #require(try JSONSerialization.jsonObject(with: try worker.run(["outbox", "--all", "--json"]).output) as? [[String: Any]])
        #expect(kept.compactMap { $0["sequence"] as? Int } == [1, 4])

        try server.restore(copy)
        let refused = try worker.sign(["sync"])
        #expect(refused.status == 11)
        #expect(refused.stderr.contains("change-sets 2–3") && refused.stderr.contains("30 days"), "\(refused.stderr)")
        // It says so again, and nothing else changed.
        #expect(try worker.sign(["sync"]).status == 11)
    }

    @Test func aLaptopThatNeverReachesTheServerSyncsThroughBundlesConflictIncluded() throws {
        let server = try ServerProcess(policy: Self.policy)
        let office = try CLI(), field = try CLI()
        #expect(try office.sign(["init", "--server", server.url, "--invite", try server.invite(role: "office")]).status == 0)
        #expect(try field.sign(["init", "--server", server.url, "--invite", try server.invite(role: "field", branch: "西工区")]).status == 0)
        let enrolled = try field.sign(["enroll", "--name", "李四", "--id-number", "110102199101010078", "--phone", "13900139000",
                                       "--category", "trader", "--monthly", "600"])
        let account = String(try #require(enrolled.stdout.firstMatch(of: /acc-[0-9a-f]+/)).output)
        try field.sync()
        try office.sync()

        // From here on the field laptop is in a market with no network. Meanwhile the office,
        // online, changes the same phone number.
        #expect(try field.sign(["account", "update", "--account", account, "--phone", "13600136000"]).status == 0)
        #expect(try field.sign(["deposit", "--account", account]).status == 0)
        #expect(try office.sign(["account", "update", "--account", account, "--phone", "13500135000"]).status == 0)
        try office.sync()

        // There and back on a USB stick; the request is signed by the transport key, no passphrase.
        let usb = field.home + "/usb"
        try FileManager.default.createDirectory(atPath: usb, withIntermediateDirectories: true)
        let request = usb + "/field.bundle", answer = usb + "/field-answer.bundle"
        let exported = try field.run(["bundle", "export", request])
        #expect(exported.status == 0, "\(exported.stderr)")
        let imported = try server.admin(["bundle", "import", request, "--answer", answer])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("2 change-set(s), 2 accepted, 0 refused"), "\(imported.stdout)")
        let applied = try field.run(["bundle", "import", answer])
        #expect(applied.status == 0, "\(applied.stderr)")
        #expect(applied.stdout.contains("The server accepted 2 change(s)."), "\(applied.stdout)")
        #expect(try field.run(["outbox", "--json"]).stdout.contains("pending") == false)
        // The answer's receipt (§11.14) came on the stick too: the laptop holds one for each of
        // its three change-sets, the two carried by hand among them.
        let audited = try #require(try JSONSerialization.jsonObject(with: try field.run(["audit", "--json"]).output) as? [String: Any])
        #expect((audited["receipts"] as? [String: Any])?["held"] as? Int == 3, "\(audited)")

        // The conflict is there on both sides, and everyone holds the same data.
        let conflicts = try #require(try JSONSerialization.jsonObject(with: try field.run(["conflicts", "--json"]).output) as? [[String: Any]])
        #expect(conflicts.count == 1 && conflicts.first?["field"] as? String == "phone")
        try office.sync()
        let digest = try server.digest()
        #expect(try field.digest() == digest && (try office.digest()) == digest)

        // Importing either file again changes nothing.
        let again = try field.run(["bundle", "import", answer])
        #expect(again.status == 0 && again.stdout.contains("already applied"), "\(again.stdout)")
        #expect(try server.admin(["bundle", "import", request, "--answer", usb + "/again.bundle"]).status == 0)
        #expect(try field.digest() == digest && (try server.digest()) == digest)

        // Bad files are refused whole, with the reason, and change nothing.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: request))
        let tampered = usb + "/tampered.bundle", cut = usb + "/cut.bundle"
        let at = try #require(bytes.firstIndex(of: UInt8(ascii: "A")) ?? bytes.firstIndex(of: UInt8(ascii: "B")))
        bytes[at] = bytes[at] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        try bytes.write(to: URL(fileURLWithPath: tampered))
        let refusedTampered = try server.admin(["bundle", "import", tampered, "--answer", usb + "/x.bundle"])
        #expect(refusedTampered.status != 0 && refusedTampered.stderr.contains("Nothing was applied"), "\(refusedTampered.stderr)")
        try Data(contentsOf: URL(fileURLWithPath: request)).prefix(400).write(to: URL(fileURLWithPath: cut))
        let refusedCut = try server.admin(["bundle", "import", cut, "--answer", usb + "/x.bundle"])
        #expect(refusedCut.status == 3 && refusedCut.stderr.contains("cut short"), "\(refusedCut.stderr)")
        let wrongDevice = try office.run(["bundle", "import", answer])
        #expect(wrongDevice.status == 4 && wrongDevice.stderr.contains("another device"), "\(wrongDevice.stderr)")
        let wrongWay = try server.admin(["bundle", "import", answer, "--answer", usb + "/x.bundle"])
        #expect(wrongWay.status == 3 && wrongWay.stderr.contains("answer bundle"), "\(wrongWay.stderr)")
        let elsewhere = try ServerProcess(policy: Self.policy)
        let otherServer = try elsewhere.admin(["bundle", "import", request, "--answer", usb + "/x.bundle"])
        #expect(otherServer.status == 4 && otherServer.stderr.contains("another server"), "\(otherServer.stderr)")
        #expect(!FileManager.default.fileExists(atPath: usb + "/x.bundle"))
        #expect(try field.digest() == digest && (try server.digest()) == digest)
    }
}
