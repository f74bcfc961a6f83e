import Foundation
import ProvidentCrypto
import ProvidentDomain
import ProvidentSync
import ProvidentTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The sync service end to end: the real server on 127.0.0.1, the real `provident` binaries.
@Suite(.serialized) struct SyncServiceTests {
    static let policy = "name: 测试城市\ndeposits: {lumpAllowed: true, advanceMonths: 2}\n"

    /// A field laptop of 西工区 registers a worker (with a first deposit); the worker claims the
    /// account on her own laptop; an office laptop is enrolled. All three have synced once.
    struct Story {
        let server: ServerProcess
        let office: CLI, field: CLI, worker: CLI
        let account: String

        init(language: String = "en_US.UTF-8") throws {
            server = try ServerProcess(policy: SyncServiceTests.policy)
            office = try CLI(language: language)
            field = try CLI(language: language)
            worker = try CLI(language: language)
            #expect(try office.sign(["init", "--server", server.url, "--invite", try server.invite(role: "office")]).status == 0)
            #expect(try field.sign(["init", "--server", server.url, "--invite", try server.invite(role: "field", branch: "西工区")]).status == 0)
            let enrolled = try field.sign(["enroll", "--name", "李四", "--id-number", "110102199101010078", "--phone", "13900139000",
                                           "--category", "trader", "--monthly", "600"])
            #expect(enrolled.status == 0, "\(enrolled.stderr)")
            account = String(try #require(enrolled.stdout.firstMatch(of: /acc-[0-9a-f]+/)).output)
            let claim = String(try #require(enrolled.stdout.firstMatch(of: /[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{5}/)).output)
            #expect(try field.sign(["deposit", "--account", account]).status == 0)
            try field.sync()
            let claimed = try worker.sign(["init", "--server", server.url, "--claim", claim])
            #expect(claimed.status == 0, "\(claimed.stderr)")
            try worker.sync()
            try office.sync()
        }

        var devices: [CLI] { [worker, field, office] }

        func references(_ cli: CLI) throws -> [String] {
            try cli.json(["statement", "--account", account])["lines"].flatMap { $0 as? [[String: Any]] }?
                .compactMap { $0["reference"] as? String }.sorted() ?? []
        }
    }

    @Test(arguments: [[0, 1, 2], [2, 1, 0], [1, 0, 2], [1, 2, 0]])
    func offlineEditsOfOneAccountConvergeWithExactlyOneConflict(order: [Int]) throws {
        let story = try Story()
        let (worker, field, office, account) = (story.worker, story.field, story.office, story.account)

        // Offline, all three edit the same account: worker and field laptop change the phone
        // number to different values, the office changes the agreement; two deposits are recorded.
        #expect(try worker.sign(["account", "update", "--phone", "13700137000"]).status == 0)
        #expect(try field.sign(["account", "update", "--account", account, "--phone", "13600136000"]).status == 0)
        #expect(try office.sign(["account", "update", "--account", account, "--monthly", "800"]).status == 0)
        #expect(try worker.sign(["deposit", "--lump", "--amount", "123.45"]).status == 0)
        #expect(try field.sign(["deposit", "--account", account, "--lump", "--amount", "50"]).status == 0)

        // They come back online in this test's order, twice round so everyone hears everything.
        for _ in 0..<2 {
            for index in order { try story.devices[index].sync() }
        }

        let digests = try story.devices.map { try $0.digest() }
        #expect(Set(digests).count == 1, "replicas differ: \(digests)")
        #expect(digests.first == (try story.server.digest()))

        for device in story.devices {
            let conflicts = try device.run(["conflicts", "--json"])
            let list = try #require(try JSONSerialization.jsonObject(with: conflicts.output) as? [[String: Any]])
            #expect(list.count == 1)
            #expect(list.first?["field"] as? String == "phone")
        }
        #expect(try story.server.admin(["conflicts", "list"]).stdout.components(separatedBy: "\n").filter { $0.contains("open") }.count == 1)

        // No deposit lost or doubled: the first, and one from each of the two devices.
        let references = try story.references(worker)
        #expect(references.count == 3)
        #expect(Set(references).count == 3)
        for device in [field, office] { #expect(try story.references(device) == references) }
        #expect(try worker.json(["account", "show"])["monthlyFen"] as? Int == 80_000)
    }

    @Test func aRefusedChangeIsTakenBackAndTheUserIsTold() throws {
        let story = try Story()
        // The worker closes her account; the field laptop, not having heard, records a deposit.
        #expect(try story.worker.sign(["close", "--reason", "moving away"]).status == 0)
        try story.worker.sync()
        #expect(try story.field.sign(["deposit", "--account", story.account, "--lump", "--amount", "100"]).status == 0)
        #expect(try story.references(story.field).count == 2)

        let sync = try story.field.sync()
        #expect(sync.stdout.contains("1 change refused — record deposit: The account is closed"))
        #expect(try story.references(story.field).count == 1)
        let outbox = try story.field.run(["outbox", "--all", "--json"])
        let entries = try #require(try JSONSerialization.jsonObject(with: outbox.output) as? [[String: Any]])
        #expect(entries.last?["state"] as? String == "rejected")
        #expect(entries.last?["rejectionCode"] as? String == "account.closed")
        #expect(try story.field.digest() == (try story.worker.digest()))

        // Having heard of the close, the laptop now refuses changes to the account itself.
        #expect(try story.field.sign(["account", "update", "--account", story.account, "--phone", "13500135000"]).status == 4)
    }

    @Test func aLaptopWhoseClockRanAheadSyncsAgainOnceTheClockIsRight() throws {
        let story = try Story()
        // A deposit recorded while the laptop's clock ran two days fast; then the clock is put right.
        let fast = Instant(millisSinceEpoch: Int64(Date().timeIntervalSince1970 * 1_000) + 2 * 86_400_000)
        try ProvidentStoreAccess.recordLumpDeposit(story.field, account: story.account, yuan: "100", at: fast)
        let refused = try story.field.sync()
        #expect(refused.stdout.contains("1 change refused — record deposit: This device's clock was 47 h ahead of the server's"),
                "\(refused.stdout)")
        let alerts = try story.server.admin(["alerts"])
        #expect(alerts.stdout.contains("clock.ahead") && alerts.stdout.contains("min ahead of the server's"), "\(alerts.stdout)")
        // The next deposit, recorded with the right time, is accepted: it used to be refused as
        // clock.drift again (the device's clock stayed ahead), or as chain.time once it was set back.
        #expect(try story.field.sign(["deposit", "--account", story.account, "--lump", "--amount", "200"]).status == 0)
        let accepted = try story.field.sync()
        #expect(!accepted.stdout.contains("refused"), "\(accepted.stdout)")
        try story.worker.sync()
        #expect(try story.references(story.worker).count == 2)
        #expect(try story.field.digest() == (try story.worker.digest()))
    }

    @Test func aWorkersDeviceCanNeitherReadNorWriteAnotherWorkersAccount() async throws {
        let server = try ServerProcess(policy: Self.policy)
        let alice = try CLI(), bob = try CLI()
        for (cli, id) in [(alice, "360426199101010071"), (bob, "412723199010050012")] {
            #expect(try cli.sign(["init", "--server", server.url]).status == 0)
            #expect(try cli.sign(["enroll", "--name", "工人", "--id-number", id, "--phone", "13800138000", "--category", "gig",
                                  "--base", "5000", "--rate", "12"]).status == 0)
            #expect(try cli.sign(["deposit"]).status == 0)
            try cli.sync()
        }
        let bobAccount = try #require(try bob.json(["whoami"])["account"] as? String)

        // Reading: Alice's device never receives Bob's records, neither in a snapshot nor the feed.
        let raw = RawClient(url: server.url, key: try alice.signingKey())
        let snapshot = try await raw.send(.GET, "/v1/snapshot")
        #expect(snapshot.status == 200)
        let document = try SignedDocument(envelope: try #require(snapshot.body?.objectValue?["document"]),
                                          serverKey: try serverKey(server))
        guard case let .records(states) = document.content else { Issue.record("not records"); return }
        #expect(!states.isEmpty)
        #expect(!states.contains { $0.key.id == bobAccount || $0.values["account"]?.stringValue == bobAccount })
        let feed = try await raw.send(.GET, "/v1/pull", query: "?cursor=0")
        #expect(feed.status == 200)
        let authors = try #require(feed.body?.objectValue?["entries"]?.arrayValue).compactMap { entry -> String? in
            guard let envelope = entry.objectValue?["changeSet"] else { return nil }
            return try? SignedChangeSet(envelopeValue: envelope).changeSet.device.rawValue
        }
        #expect(authors.allSatisfy { $0 == raw.device.rawValue })
        #expect(try alice.run(["statement", "--account", bobAccount]).status == 4)

        // Writing: a change-set of Alice's device that updates Bob's account is refused, durably.
        let replica = try ProvidentStoreAccess.deviceState(alice)
        let forbidden = try SignedChangeSet(signing: ChangeSet(
            device: raw.device, sequence: replica.sequence + 1, previous: replica.lastChangeSet,
            time: HLCTimestamp(wallMillis: UInt64(Date().timeIntervalSince1970 * 1_000), counter: 0), action: "account.update",
            operations: [Operation(record: RecordKey(type: "account", id: bobAccount), kind: .update, fields: ["phone": "13100131000"])]),
            with: try alice.signingKey())
        let before = try server.digest()
        let answer = try await raw.push([forbidden])
        #expect(answer.status == 403)
        #expect(answer.body?.objectValue?["code"]?.stringValue == "scope.forbidden")
        let result = try #require(answer.body?.objectValue?["details"]?.objectValue?["results"]?.arrayValue?.first?.objectValue)
        #expect(result["status"]?.stringValue == "rejected")
        #expect(result["code"]?.stringValue == "scope.forbidden")
        #expect(try server.digest() == before)
        try bob.sync()
        #expect(try bob.json(["account", "show", "--reveal"])["phone"] as? String == "13800138000")
    }

    @Test func forgedReplayedGapAndForkAreRefusedAndApplyNothing() async throws {
        let server = try ServerProcess(policy: Self.policy)
        let worker = try CLI()
        try worker.enrolledWorker(server: server.url)
        try worker.sync()
        let key = try worker.signingKey()
        let raw = RawClient(url: server.url, key: key)
        let state = try ProvidentStoreAccess.deviceState(worker)
        let account = try #require(try worker.json(["whoami"])["account"] as? String)
        func changeSet(_ sequence: UInt64, previous: ChangeSetID, phone: String, signer: SigningKey? = nil) throws -> SignedChangeSet {
            let changeSet = ChangeSet(device: raw.device, sequence: sequence, previous: previous,
                                      time: HLCTimestamp(wallMillis: UInt64(Date().timeIntervalSince1970 * 1_000) + sequence, counter: 0),
                                      action: "account.update",
                                      operations: [Operation(record: RecordKey(type: "account", id: account), kind: .update,
                                                             fields: ["phone": .string(phone)], context: VersionVector([raw.device: 1]))])
            guard let signer else { return try SignedChangeSet(signing: changeSet, with: key) }
            return try SignedChangeSet(bytes: try changeSet.canonicalBytes(), signature: signer.signature(for: try changeSet.canonicalBytes()).bytes)
        }
        let before = try server.digest()

        // A forged signature (by another key): 401, nothing applied.
        let forged = try await raw.push([try changeSet(2, previous: state.lastChangeSet, phone: "13111111111", signer: SigningKey.generate())])
        #expect(forged.status == 401)
        #expect(forged.code == "signature.invalid")

        // A gap (sequence 3 when 2 is expected): 409 naming the expected sequence.
        let gap = try await raw.push([try changeSet(3, previous: Digest256(hashing: [3]), phone: "13122222222")])
        #expect(gap.status == 409)
        #expect(gap.code == "chain.gap")
        #expect(gap.body?.objectValue?["details"]?.objectValue?["expected"] == 2)

        // A replayed request (same nonce): 401 replay, even with a valid body.
        let good = try changeSet(2, previous: state.lastChangeSet, phone: "13133333333")
        let nonce = "0123456789abcdef0123456789abcdef"
        let first = try await raw.send(.POST, "/v1/push", body: .object(["changeSets": [good.envelopeValue]]), nonce: nonce)
        #expect(first.status == 200)
        let replay = try await raw.send(.POST, "/v1/push", body: .object(["changeSets": [good.envelopeValue]]), nonce: nonce)
        #expect(replay.status == 401)
        #expect(replay.code == "auth.replay")
        // The same change-set in a new request is acknowledged as a duplicate and applies nothing more.
        let afterGood = try server.digest()
        let again = try await raw.push([good])
        #expect(again.body?.objectValue?["results"]?.arrayValue?.first?.objectValue?["status"] == "duplicate")
        #expect(try server.digest() == afterGood)
        #expect(afterGood != before)

        // A fork (a different change-set for sequence 2): 409, and the device is stopped.
        let fork = try await raw.push([try changeSet(2, previous: state.lastChangeSet, phone: "13144444444")])
        #expect(fork.status == 409)
        #expect(fork.code == "chain.fork")
        #expect(try server.digest() == afterGood)
        let stopped = try await raw.send(.GET, "/v1/pull", query: "?cursor=0")
        #expect(stopped.status == 403)
        #expect(stopped.code == "device.quarantined")
        #expect(try server.admin(["alerts"]).stdout.contains("fork"))
        let refusedSync = try worker.sign(["sync"])
        #expect(refusedSync.status == 11)
        #expect(refusedSync.stderr.contains("stopped"))
    }

    @Test func theServerKilledDuringAPushLosesNothingAndDoublesNothing() throws {
        let server = try ServerProcess(policy: Self.policy)
        let worker = try CLI()
        try worker.enrolledWorker(server: server.url)
        // 1,200 deposits recorded offline: twelve pushes of 100.
        try ProvidentStoreAccess.recordLumpDeposits(worker, count: 1_200)
        #expect(try worker.json(["whoami"])["waitingToSync"] as? Int == 1_201)

        let sync = try worker.start(["sync", "--passphrase-file", worker.passphraseFile])
        // Kill the server once the first push was answered, while the others are under way, and
        // bring it back on the same port.
        while sync.isRunning, (try? worker.json(["whoami"])["waitingToSync"] as? Int) == 1_201 { usleep(10_000) }
        let interrupted = sync.isRunning
        server.crash()
        usleep(300_000)
        try server.start()
        sync.waitUntilExit()
        let result = worker.collect(sync)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(interrupted, "the sync had already finished when the server was killed")

        try worker.sync()
        #expect(try worker.json(["whoami"])["waitingToSync"] as? Int == 0)
        #expect(try worker.digest() == (try server.digest()))
        let statement = try worker.json(["statement"])
        #expect((statement["lines"] as? [Any])?.count == 1_200)
        #expect(statement["totalFen"] as? Int == 1_200 * 10_000)
    }

    @Test func aSyncKilledAtAnyMomentResumesWithNothingLostOrApplied() throws {
        let server = try ServerProcess(policy: Self.policy)
        let worker = try CLI()
        try worker.enrolledWorker(server: server.url)
        try ProvidentStoreAccess.recordLumpDeposits(worker, count: 1_200)
        // A second device that will receive everything: killed mid-pull as well.
        let office = try CLI()
        #expect(try office.sign(["init", "--server", server.url, "--invite", try server.invite(role: "office")]).status == 0)

        /// Starts a sync on `device`, kills it once `moment` has passed if it still runs, and
        /// checks the replica; whether it was killed.
        func sync(_ device: CLI, killedAfter moment: (Process) -> Void) throws -> Bool {
            let sync = try device.start(["sync", "--passphrase-file", device.passphraseFile])
            moment(sync)
            let running = sync.isRunning
            if running { kill(sync.processIdentifier, SIGKILL) }
            sync.waitUntilExit()
            _ = device.collect(sync)
            #expect(try device.run(["check"]).status == 0)
            return running
        }
        // One kill known to land mid-sync, whatever the machine's speed: once the first push was
        // answered, while the others are under way.
        var killed = 0
        if try sync(worker, killedAfter: { first in
            while first.isRunning, (try? worker.json(["whoami"])["waitingToSync"] as? Int) == 1_201 { usleep(2_000) }
        }) { killed += 1 }
        // Then at moments drawn at random.
        var rng = SeededGenerator(seed: 42)
        for _ in 0..<6 {
            for device in [worker, office] {
                if try sync(device, killedAfter: { _ in usleep(useconds_t(Int.random(in: 100_000...600_000, using: &rng))) }) { killed += 1 }
            }
        }
        #expect(killed > 0)
        try worker.sync()
        try office.sync()
        #expect(try worker.json(["whoami"])["waitingToSync"] as? Int == 0)
        let digest = try server.digest()
        #expect(try worker.digest() == digest)
        #expect(try office.digest() == digest)
        #expect((try office.json(["statement", "--account", try #require(try worker.json(["whoami"])["account"] as? String)])["lines"]
            as? [Any])?.count == 1_200)
    }

    @Test func anAccountMovedToAnotherBranchLeavesTheOldBranchsLaptops() throws {
        let story = try Story()
        let other = try CLI()
        #expect(try other.sign(["init", "--server", story.server.url, "--invite", try story.server.invite(role: "field", branch: "涧西区")]).status == 0)
        try other.sync()
        #expect(try other.run(["account", "show", "--account", story.account]).status == 4)

        #expect(try story.office.sign(["account", "transfer", "--account", story.account, "--branch", "涧西区"]).status == 0)
        try story.office.sync()
        let moved = try story.field.sync()
        #expect(moved.stdout.contains("Removed 2 record(s)"))
        #expect(try story.field.run(["account", "show", "--account", story.account]).status == 4)
        try other.sync()
        #expect(try other.json(["account", "show", "--account", story.account])["name"] as? String == "李四")
        #expect(try story.references(other).count == 1)
        // The new branch's laptop holds exactly what the worker's own device holds.
        try story.worker.sync()
        #expect(try other.digest() == (try story.worker.digest()))
    }

    @Test func aRevokedDeviceIsRefusedWithAClearMessage() throws {
        let story = try Story(language: "zh_CN.UTF-8")
        let device = try #require(try story.field.json(["whoami"])["deviceId"] as? String)
        #expect(try story.server.admin(["device", "revoke", device, "--reason", "laptop stolen"]).status == 0)
        let refused = try story.field.sign(["sync"])
        #expect(refused.status == 11)
        #expect(refused.stderr.contains("本设备已被中心停用"))
    }

    @Test func everyErrorHasTheOneShapeAndItsStatus() async throws {
        let server = try ServerProcess()
        let stranger = RawClient(url: server.url, key: SigningKey.generate())

        let missing = try await stranger.send(.GET, "/v1/nothing-here")
        #expect(missing.status == 404)
        #expect(missing.code == "request.not_found")

        let unknown = try await stranger.send(.GET, "/v1/pull", query: "?cursor=0")
        #expect(unknown.status == 401)
        #expect(unknown.code == "device.unknown")

        let skewed = try await stranger.send(.GET, "/v1/pull", query: "?cursor=0", dateMillis: 1_000)
        #expect(skewed.status == 401)

        let malformed = try await stranger.send(.POST, "/v1/devices", body: .object(["publicKey": "not base64!"]))
        #expect(malformed.status == 400)
        #expect(malformed.code == "request.malformed")

        // Over the 8 MiB body limit.
        let huge = try await stranger.send(.POST, "/v1/push", body: .object(["changeSets": .array(Array(repeating: .string(String(repeating: "A", count: 1_048_576)), count: 9))]))
        #expect(huge.status == 413)
        #expect(huge.code == "request.too_large")

        // Self-enrolment is limited per source address (20 an hour by default).
        var limited: RawClient.Answer?
        for _ in 0..<21 {
            let device = RawClient(url: server.url, key: SigningKey.generate())
            let answer = try await device.send(.POST, "/v1/devices",
                                               body: .object(["publicKey": .string(Base64.encode(device.key.publicKey.bytes)), "enrolment": "self"]))
            if answer.status != 201 { limited = answer }
        }
        #expect(limited?.status == 429)
        #expect(limited?.code == "rate_limited")

        for answer in [missing, unknown, skewed, malformed, huge] {
            let object = try #require(answer.body?.objectValue)
            #expect(Set(object.keys) == ["code", "message", "details"])
            let message = object["message"]?.stringValue ?? ""
            #expect(message.count > 10)
        }
    }

    func serverKey(_ server: ServerProcess) throws -> PublicKey {
        try HostKeyFile.decode(Array(try Data(contentsOf: URL(fileURLWithPath: server.folder + "/server.key")))).publicKey
    }
}
