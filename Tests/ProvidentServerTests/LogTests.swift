import ProvidentCrypto
import ProvidentServerCore
import ProvidentServerStore
import ProvidentSync
import Testing

/// The feed's log on the server (sync-protocol.md §11.14), on both databases.
@Suite struct LogTests {
    /// A feed entry's id, as a device computes it from what it pulled.
    static func entryID(_ entry: FeedEntry) -> Digest256 {
        switch entry.content {
        case let .changeSet(bytes, _, _): Digest256(hashing: bytes)
        case let .document(bytes, _): FeedMark.entryID(document: bytes)
        }
    }

    static func hashes(_ value: CanonicalValue?) -> [Digest256]? {
        value?.arrayValue?.map { item in item.stringValue.flatMap(Base64.decode).flatMap { Digest256(bytes: $0) } ?? .zero }
    }

    @Test(arguments: Backend.allCases)
    func receiptsPagesAndProofsAllCheckAgainstSignedCheckpoints(_ backend: Backend) async throws {
        try await withServer(backend) { server in
            let core = server.core
            let serverKey = core.key.publicKey
            let worker = TestDevice(now: { server.clock.now })
            let other = TestDevice(now: { server.clock.now })
            _ = try await core.enrol(worker)
            _ = try await core.enrol(other)
            let (account, enroll) = try worker.enroll(1)
            let (otherAccount, otherEnroll) = try other.enroll(2)
            var pushed = [enroll]
            for _ in 0..<6 { pushed.append(try worker.deposit(account.id).1) }
            let answers = try await core.push(try worker.push(pushed))
            // Another device's entries sit between this worker's in the log, unseen by it.
            _ = try await core.push(try other.push([otherEnroll, try other.deposit(otherAccount.id).1]))
            let more = [try worker.deposit(account.id).1, try worker.deposit(account.id).1]
            let later = try await core.push(try worker.push(more))

            // Every accepted change-set has a receipt signed by the server, at its own position:
            // one signature per push covers them all.
            var receipts: [LogReceipt] = []
            for outcome in [answers, later] {
                let batch = try #require(outcome.receipt)
                #expect(batch.isValid(for: serverKey))
                receipts += outcome.answers.compactMap { answer in answer.position.map { batch.receipt(id: answer.id, position: $0) } }
            }
            #expect(receipts.count == 9)
            #expect(receipts.allSatisfy { $0.isValid(for: serverKey) })
            #expect(receipts.map(\.id) == (pushed + more).map(\.id))
            #expect(Set(receipts.map(\.position)).count == 9)
            // Sent again, they are answered as duplicates with the same place.
            let again = try await core.push(try worker.push(Array(pushed.prefix(2))))
            #expect(again.answers.map(\.position) == receipts.prefix(2).map(\.position))
            #expect(try #require(again.receipt).isValid(for: serverKey))
            // A receipt does not speak for an entry its list does not hold, nor for another position.
            let one = receipts[0]
            #expect(!LogReceipt(id: one.id, position: one.position + 1, time: one.time, signature: one.signature, batch: one.batch).isValid(for: serverKey))
            #expect(!LogReceipt(id: receipts[8].id, position: receipts[8].position, time: one.time, signature: one.signature, batch: one.batch).isValid(for: serverKey))

            // A first pull: the checkpoint is the server's, and the page's entries prove against it.
            let registered = try #require(try await core.device(worker.id))
            let page = try await core.feedPage(for: registered, request: try worker.request("GET", "/v1/pull", query: "?cursor=0&logSize=0"))
            let checkpoint = try LogCheckpoint.verified(page.log.checkpoint, key: serverKey)
            #expect(checkpoint.size == page.head && checkpoint.size == 11)
            #expect(page.log.consistency == [])
            let leaves = page.entries.map { (index: $0.position - 1, hash: MerkleLog.leafHash(Self.entryID($0))) }
            #expect(MerkleLog.batchRoot(leaves: leaves, size: checkpoint.size, proof: page.log.proof) == checkpoint.root)
            #expect(page.entries.count == 9, "the worker sees its own 9, not the other's 2")
            // The answer's bytes, written straight from the page, are those of its tree of values.
            #expect(try page.canonicalBytes(serverTime: 5) == CanonicalEncoder.encode(.object(page.canonicalMembers.merging(["serverTime": 5]) { $1 })))
            for receipt in receipts {
                #expect(page.entries.first { $0.position == receipt.position }.map(Self.entryID) == receipt.id)
            }
            // The whole feed, read by a device that sees everything, makes the same root.
            let all = try await core.store.read { tx in try await tx.feedEntryIDs(after: 0, through: 11) }
            var reference: [LogNode: Digest256] = [:]
            for (node, hash) in MerkleLog.appending(all.map { MerkleLog.leafHash($0.id) }, to: 0, frontier: [:]) ?? [] { reference[node] = hash }
            #expect(MerkleLog.root(size: 11) { reference[$0] ?? .zero } == checkpoint.root)

            // Later: a pull that names the size it holds gets the proof that the new tree extends it.
            _ = try await core.push(try worker.push([try worker.deposit(account.id).1]))
            let next = try await core.feedPage(for: registered, request: try worker.request("GET", "/v1/pull", query: "?cursor=\(page.cursor)&logSize=11"))
            let newer = try LogCheckpoint.verified(next.log.checkpoint, key: serverKey)
            #expect(newer.size == 12)
            #expect(MerkleLog.verifyConsistency(old: 11, oldRoot: checkpoint.root, new: 12, newRoot: newer.root, proof: try #require(next.log.consistency)))
            // A size beyond the log (the device saw more than the server has): no proof to give.
            let beyond = try await core.feedPage(for: registered, request: try worker.request("GET", "/v1/pull", query: "?cursor=\(page.cursor)&logSize=40"))
            #expect(beyond.log.consistency == nil && beyond.log.canonicalValue.objectValue?["consistency"] == .null)

            // The public endpoints: receipts' entries, one audit path, a consistency proof.
            let positions = receipts.map(\.position).sorted()
            let proof = try await core.logProof(try worker.request("GET", "/v1/log/proof", query: "?size=12&positions=\(positions.map(String.init).joined(separator: ","))"))
            let proven = try #require(proof["entries"]?.arrayValue).map { item in
                (index: UInt64(item.objectValue?["position"]?.integerValue ?? 0) - 1,
                 hash: MerkleLog.leafHash(Digest256(hex: item.objectValue?["id"]?.stringValue ?? "") ?? .zero))
            }
            #expect(MerkleLog.batchRoot(leaves: proven, size: 12, proof: try #require(Self.hashes(proof["proof"]))) == newer.root)
            let first = try #require(receipts.first)
            let inclusion = try await core.logInclusion(try worker.request("GET", "/v1/log/inclusion", query: "?position=\(first.position)&size=12"))
            #expect(MerkleLog.verifyInclusion(leaf: MerkleLog.leafHash(first.id), index: first.position - 1, size: 12,
                                              path: try #require(Self.hashes(inclusion["path"])), root: newer.root))
            let consistency = try await core.logConsistency(try worker.request("GET", "/v1/log/consistency", query: "?from=11&to=12"))
            #expect(MerkleLog.verifyConsistency(old: 11, oldRoot: checkpoint.root, new: 12, newRoot: newer.root,
                                                proof: try #require(Self.hashes(consistency["proof"]))))
            let latest = try await core.logCheckpoint()
            #expect(try LogCheckpoint.verified(try #require(latest["checkpoint"]?.stringValue), key: serverKey) == newer)

            // Bad queries are told what to give.
            for query in ["?size=12", "?size=12&positions=3,2", "?size=12&positions=13", "?size=0&positions=1", "?positions=1", "?size=99&positions=1"] {
                await #expect(throws: ServerError.self) { _ = try await core.logProof(try worker.request("GET", "/v1/log/proof", query: query)) }
            }
            await #expect(throws: ServerError.self) { _ = try await core.logConsistency(try worker.request("GET", "/v1/log/consistency", query: "?from=5&to=4")) }
            await #expect(throws: ServerError.self) {
                _ = try await core.feedPage(for: registered, request: try worker.request("GET", "/v1/pull", query: "?cursor=0&logSize=x"))
            }
        }
    }

    @Test(arguments: Backend.allCases)
    func anAuditorCosignsTheLogAndPullsCarryWhatItCosigned(_ backend: Backend) async throws {
        try await withServer(backend) { server in
            let core = server.core
            let serverKey = core.key.publicKey
            let worker = TestDevice(now: { server.clock.now })
            _ = try await core.enrol(worker)
            let (account, enroll) = try worker.enroll(1)
            _ = try await core.push(try worker.push([enroll, try worker.deposit(account.id).1]))
            let (_, invite) = try await core.createInvite(role: .auditor, branch: nil, validFor: 3_600)
            let auditor = TestDevice(now: { server.clock.now })
            let registered = try await core.enrol(auditor, "invite", code: invite.value)
            #expect(registered.grant.role == .auditor && registered.grant.readScopes == [])
            let witness = LogWitness(device: auditor.id, key: auditor.key.publicKey)
            #expect(LogWitness(verifierKey: witness.verifierKey) == witness)

            // Before any cosignature: the witness is announced, nothing is witnessed.
            let workerDevice = try #require(try await core.device(worker.id))
            let before = try await core.feedPage(for: workerDevice, request: try worker.request("GET", "/v1/pull", query: "?cursor=0&logSize=0")).log
            #expect(before.witnesses == [witness.verifierKey] && before.witnessed == nil)

            // The auditor reads the checkpoint and cosigns it.
            let note = try #require(try await core.logCheckpoint()["checkpoint"]?.stringValue)
            let checkpoint = try LogCheckpoint.verified(note, key: serverKey)
            let line = LogWitness.cosign(checkpoint, time: 1_795_397_400, name: witness.name, key: auditor.key)
            let cosigned = LogWitness.adding([line], to: note)
            #expect(witness.cosigned(cosigned, checkpoint: checkpoint) == 1_795_397_400)
            let answer = try await core.cosign(try auditor.request("POST", "/v1/log/cosign", body: .object(["checkpoint": .string(cosigned)])))
            #expect(answer["size"]?.integerValue == Int64(checkpoint.size) && answer["cosigners"]?.integerValue == 1)

            // Later pulls carry it, with the proof that the log extends it.
            _ = try await core.push(try worker.push([try worker.deposit(account.id).1]))
            let after = try await core.feedPage(for: workerDevice, request: try worker.request("GET", "/v1/pull", query: "?cursor=0&logSize=0")).log
            let witnessed = try #require(after.witnessed)
            #expect(witness.cosigned(witnessed, checkpoint: try LogCheckpoint.verified(witnessed, key: serverKey)) == 1_795_397_400)
            let head = try LogCheckpoint.verified(after.checkpoint, key: serverKey)
            #expect(head.size == checkpoint.size + 1)
            #expect(MerkleLog.verifyConsistency(old: checkpoint.size, oldRoot: checkpoint.root, new: head.size, newRoot: head.root,
                                                proof: try #require(after.witnessedConsistency)))

            // Refused, with nothing kept: another role, a checkpoint the server did not sign, a
            // root the log never had, a line that is not this auditor's, a size beyond the log.
            await #expect(throws: ServerError.notWitness) {
                _ = try await core.cosign(try worker.request("POST", "/v1/log/cosign", body: .object(["checkpoint": .string(cosigned)])))
            }
            let other = SigningKey.generate()
            let forged = LogCheckpoint(origin: checkpoint.origin, size: checkpoint.size, root: MerkleLog.emptyRoot)
            let forgedNote = LogWitness.adding([LogWitness.cosign(forged, time: 1, name: witness.name, key: auditor.key)], to: forged.signed(with: other))
            await #expect(throws: ServerError.self) {
                _ = try await core.cosign(try auditor.request("POST", "/v1/log/cosign", body: .object(["checkpoint": .string(forgedNote)])))
            }
            let wrongRoot = LogCheckpoint(origin: checkpoint.origin, size: checkpoint.size, root: MerkleLog.emptyRoot)
            let wrongRootNote = LogWitness.adding([LogWitness.cosign(wrongRoot, time: 1, name: witness.name, key: auditor.key)], to: wrongRoot.signed(with: core.key))
            await #expect(throws: ServerError.unknownCheckpoint(size: checkpoint.size, logSize: checkpoint.size + 1)) {
                _ = try await core.cosign(try auditor.request("POST", "/v1/log/cosign", body: .object(["checkpoint": .string(wrongRootNote)])))
            }
            let othersLine = LogWitness.adding([LogWitness.cosign(checkpoint, time: 1, name: witness.name, key: other)], to: note)
            await #expect(throws: ServerError.badCosignature) {
                _ = try await core.cosign(try auditor.request("POST", "/v1/log/cosign", body: .object(["checkpoint": .string(othersLine)])))
            }
            let beyond = LogCheckpoint(origin: checkpoint.origin, size: 99, root: MerkleLog.emptyRoot)
            let beyondNote = LogWitness.adding([LogWitness.cosign(beyond, time: 1, name: witness.name, key: auditor.key)], to: beyond.signed(with: core.key))
            await #expect(throws: ServerError.unknownCheckpoint(size: 99, logSize: checkpoint.size + 1)) {
                _ = try await core.cosign(try auditor.request("POST", "/v1/log/cosign", body: .object(["checkpoint": .string(beyondNote)])))
            }
            let still = try await core.feedPage(for: workerDevice, request: try worker.request("GET", "/v1/pull", query: "?cursor=0&logSize=0")).log
            #expect(still.witnessed == after.witnessed)
            // An auditor writes nothing.
            let (_, own) = try auditor.enroll(9)
            #expect(try await core.push(try auditor.push([own])).answers.first?.status == .rejected)
        }
    }

    @Test(arguments: Backend.allCases)
    func anOfficeDeviceAnnouncesANewEpochOfTheLog(_ backend: Backend) async throws {
        try await withServer(backend) { server in
            let core = server.core
            let worker = TestDevice(now: { server.clock.now })
            _ = try await core.enrol(worker)
            let (account, enroll) = try worker.enroll(1)
            _ = try await core.push(try worker.push([enroll, try worker.deposit(account.id).1]))
            let office = try await server.invitedDevice(.office)
            let name = LogEpoch.officeName(office.id)

            // Pulls name the office devices people enrolled, not the server's own identity.
            let workerDevice = try #require(try await core.device(worker.id))
            let log = try await core.feedPage(for: workerDevice, request: try worker.request("GET", "/v1/pull", query: "?cursor=0&logSize=0")).log
            #expect(log.offices == [LogEpoch.verifierKey(name: name, key: office.key.publicKey)])
            #expect(LogEpoch.office(verifierKey: log.offices[0])?.name == name)

            let note = try #require(try await core.logCheckpoint()["checkpoint"]?.stringValue)
            let current = try LogCheckpoint.verified(note, key: core.key.publicKey)
            let epoch = LogEpoch(origin: current.origin, ends: (9, Digest256(hashing: [9])), starts: (current.size, current.root), time: 1_795_397_400_000)
            let signed = epoch.signed(name: name, key: office.key)
            #expect(LogEpoch.verified(signed, offices: [(name, office.key.publicKey)])?.epoch == epoch)
            #expect(LogEpoch.parse(signed) == epoch)
            let answer = try await core.announceEpoch(try office.request("POST", "/v1/log/epoch", body: .object(["epoch": .string(signed)])))
            #expect(answer["starts"]?.integerValue == Int64(current.size) && answer["ends"]?.integerValue == 9)

            // Anyone reads it, with the proof that the log, grown since, extends its start.
            _ = try await core.push(try worker.push([try worker.deposit(account.id).1]))
            let epochs = try await core.logEpochs()
            let head = try LogCheckpoint.verified(try #require(epochs["checkpoint"]?.stringValue), key: core.key.publicKey)
            let item = try #require(epochs["epochs"]?.arrayValue?.first?.objectValue)
            #expect(item["epoch"]?.stringValue == signed)
            #expect(MerkleLog.verifyConsistency(old: current.size, oldRoot: current.root, new: head.size, newRoot: head.root,
                                                proof: try #require(Self.hashes(item["consistency"]))))

            // Refused, with nothing kept: another role, another key's signature, a start the log
            // never had, another log's origin.
            await #expect(throws: ServerError.notOffice) {
                _ = try await core.announceEpoch(try worker.request("POST", "/v1/log/epoch", body: .object(["epoch": .string(signed)])))
            }
            let forged = epoch.signed(name: name, key: SigningKey.generate())
            await #expect(throws: ServerError.self) {
                _ = try await core.announceEpoch(try office.request("POST", "/v1/log/epoch", body: .object(["epoch": .string(forged)])))
            }
            let elsewhere = LogEpoch(origin: current.origin, ends: epoch.ends, starts: (current.size, MerkleLog.emptyRoot), time: epoch.time)
            await #expect(throws: ServerError.unknownCheckpoint(size: current.size, logSize: head.size)) {
                _ = try await core.announceEpoch(try office.request("POST", "/v1/log/epoch",
                                                                    body: .object(["epoch": .string(elsewhere.signed(name: name, key: office.key))])))
            }
            let otherLog = LogEpoch(origin: "provident/0000000000000000", ends: epoch.ends, starts: epoch.starts, time: epoch.time)
            await #expect(throws: ServerError.self) {
                _ = try await core.announceEpoch(try office.request("POST", "/v1/log/epoch",
                                                                    body: .object(["epoch": .string(otherLog.signed(name: name, key: office.key))])))
            }
            #expect(try await core.logEpochs()["epochs"]?.arrayValue?.count == 1)
        }
    }

    @Test(arguments: Backend.allCases)
    func aDatabaseFromBeforeTheLogGetsItsLogAtStart(_ backend: Backend) async throws {
        try await withServer(backend) { server in
            let worker = TestDevice(now: { server.clock.now })
            _ = try await server.core.enrol(worker)
            let (account, enroll) = try worker.enroll(1)
            _ = try await server.core.push(try worker.push([enroll] + (0..<20).map { _ in try worker.deposit(account.id).1 }))
            let before = try await server.core.logCheckpoint()
            // The log as a database of the previous version has it: none.
            let store = try #require(server.core.store as? SQLServerStore)
            try await store.database.write { session in
                try await session.execute("DELETE FROM log_nodes")
                try await session.execute("UPDATE feed_head SET logged = 0")
            }
            let restarted = try await server.another()
            #expect(try await restarted.core.logCheckpoint() == before)
            // And it goes on from there.
            _ = try await restarted.core.push(try worker.push([try worker.deposit(account.id).1]))
            let size = try await restarted.core.store.read { try await $0.logSize() }
            #expect(size == 22)
            await restarted.close()
        }
    }
}
