import Foundation
import GRDB
import ProvidentCrypto
import ProvidentDomain
import ProvidentStore
import ProvidentSync
import Testing

/// A temporary folder removed when the test ends.
final class TemporaryFolder {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("provident-store-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}

let now = Instant(utcISO: "2026-11-23T02:00:00Z")!

@Suite struct ReplicaDatabaseTests {
    let folder: TemporaryFolder
    let key: SigningKey
    let database: ReplicaDatabase

    init() throws {
        folder = try TemporaryFolder()
        key = try SigningKey(seed: [UInt8](repeating: 5, count: 32))
        database = try ReplicaDatabase.create(path: folder.path + "/replica.sqlite", identity: key, role: .selfService, now: now)
    }

    func account(_ id: String = "acc-1", idNumber: String = "360426199101010071") throws -> Account {
        try Account.enroll(id: id, name: "张三", idNumber: idNumber, phone: "13800138000", category: .gig,
                           agreement: try Agreement.typed(base: "5000", rate: "12", monthly: nil, policy: .defaults),
                           channel: .selfService, today: now.shanghaiDate, policy: .defaults)
    }

    func enroll(_ account: Account) throws {
        try database.commitLocalChange(unlock: { key }, now: now, bindAccount: account.id) { _ in
            LocalChange(action: .accountEnroll, operations: [Operation(record: account.recordKey, kind: .create, fields: account.createFields)])
        }
    }

    @Test func writesTheRecordItsReadModelTheOutboxAndTheDeviceTogether() throws {
        let account = try account()
        try enroll(account)
        #expect(try database.reading { try $0.boundAccount() } == account)
        let outbox = try database.outbox()
        #expect(outbox.map(\.sequence) == [1])
        #expect(outbox.first?.action == "account.enroll")
        let state = try database.deviceState()
        #expect(state.sequence == 1)
        #expect(state.accountID == account.id)
        #expect(state.lastChangeSet == outbox.first?.id)
        #expect(try database.check().isConsistent)
    }

    @Test func aRefusedEditChangesNothing() throws {
        try enroll(try account())
        let before = try database.stateDigest()
        let stateBefore = try database.deviceState()
        #expect(throws: DomainError.accountAlreadyEnrolled) {
            try database.commitLocalChange(unlock: { key }, now: now) { _ in throw DomainError.accountAlreadyEnrolled }
        }
        // A failure after the checks (here: an operation the merge refuses) also leaves nothing.
        let note = RecordKey(type: "note", id: "note-1")
        try database.commitLocalChange(unlock: { key }, now: now) { _ in
            LocalChange(action: .visitRecord, operations: [Operation(record: note, kind: .fact, fields: ["text": "a"])])
        }
        let afterFirst = try database.stateDigest()
        #expect(throws: SyncError.self) {
            try database.commitLocalChange(unlock: { key }, now: now) { _ in
                LocalChange(action: .visitRecord, operations: [Operation(record: note, kind: .fact, fields: ["text": "b"])])
            }
        }
        #expect(try database.stateDigest() == afterFirst)
        #expect(afterFirst != before)
        #expect(try database.deviceState().sequence == stateBefore.sequence + 1)
        #expect(try database.outbox().count == 2)
        #expect(try database.check().isConsistent)
    }

    @Test func checksBeforeAskingForTheKey() throws {
        var asked = false
        #expect(throws: DomainError.noAccount) {
            try database.commitLocalChange(unlock: { asked = true; return key }, now: now) { reader in
                guard try reader.boundAccount() != nil else { throw DomainError.noAccount }
                return LocalChange(action: .visitRecord, operations: [])
            }
        }
        #expect(!asked)
    }

    @Test func refusesAKeyOfAnotherDevice() throws {
        let other = SigningKey.generate()
        let account = try account()
        #expect(throws: SyncError.self) {
            try database.commitLocalChange(unlock: { other }, now: now) { _ in
                LocalChange(action: .accountEnroll, operations: [Operation(record: account.recordKey, kind: .create, fields: account.createFields)])
            }
        }
        #expect(try database.outbox().isEmpty)
    }

    @Test func theOutboxIsOneSignedChainAndStateMatchesTheReferenceReplica() throws {
        let account = try account()
        try enroll(account)
        try database.commitLocalChange(unlock: { key }, now: Instant(millisSinceEpoch: now.millisSinceEpoch - 60_000)) { reader in
            // The wall clock went back a minute: the HLC still moves forward.
            let current = try #require(try reader.boundAccount())
            return LocalChange(action: .accountUpdate, operations: [
                Operation(record: current.recordKey, kind: .update, fields: try current.updateFields(phone: "13900139000", agreement: nil)),
            ])
        }
        let changeSets = try database.outboxChangeSets()
        #expect(changeSets.map(\.changeSet.sequence) == [1, 2])
        #expect(changeSets[1].changeSet.previous == changeSets[0].id)
        #expect(changeSets[1].changeSet.time > changeSets[0].changeSet.time)
        #expect(changeSets[1].changeSet.operations[0].context == VersionVector([DeviceID(publicKey: key.publicKey): 1]))
        for signed in changeSets { try signed.verify(with: key.publicKey) }

        var reference = Replica()
        for signed in changeSets { _ = try reference.apply(signed) }
        #expect(try database.stateDigest() == reference.stateDigest())
        #expect(try database.reading { try $0.boundAccount()?.phone } == "13900139000")
    }

    @Test func mergesVerifiedChangeSetsOfOtherDevicesAndRecordsConflicts() throws {
        let account = try account()
        try enroll(account)
        let mine = try database.outboxChangeSets()
        // Another device (the office) changes the phone concurrently with this one.
        let office = try SigningKey(seed: [UInt8](repeating: 9, count: 32))
        let officeID = DeviceID(publicKey: office.publicKey)
        let theirs = try SignedChangeSet(signing: ChangeSet(
            device: officeID, sequence: 1, previous: .zero, time: HLCTimestamp(wallMillis: UInt64(now.millisSinceEpoch) + 5_000, counter: 0),
            action: "account.update",
            operations: [Operation(record: account.recordKey, kind: .update, fields: ["phone": "13700137000"],
                                   context: VersionVector([DeviceID(publicKey: key.publicKey): 1]))]), with: office)
        try database.commitLocalChange(unlock: { key }, now: now) { reader in
            let current = try #require(try reader.boundAccount())
            return LocalChange(action: .accountUpdate, operations: [
                Operation(record: current.recordKey, kind: .update, fields: ["phone": "13900139000"]),
            ])
        }
        try database.mergeVerified([theirs], now: now)
        #expect(try database.reading { try $0.boundAccount()?.phone } == "13700137000")
        #expect(try database.deviceState().clock.last > theirs.changeSet.time)

        var reference = Replica()
        for signed in try database.outboxChangeSets() + [theirs] { _ = try reference.apply(signed) }
        #expect(reference.conflicts.count == 1)
        #expect(try database.stateDigest() == reference.stateDigest())
        _ = mine
    }

    @Test func keepsDepositReadModelsForStatements() throws {
        let account = try account()
        try enroll(account)
        let deposit = Deposit(id: "dep-1", accountID: account.id, amountFen: 60_000, kind: .monthly, periods: [Period("2026-11")!],
                              method: .bankTransfer, reference: "PV4K7Q9MXTR2HC3", recordedAt: now)
        try database.commitLocalChange(unlock: { key }, now: now) { _ in
            LocalChange(action: .depositRecord, operations: [Operation(record: deposit.recordKey, kind: .fact, fields: deposit.fields)])
        }
        #expect(try database.reading { try $0.deposits(accountID: account.id) } == [deposit])
        #expect(try database.reading { try $0.paidPeriods(accountID: account.id) } == [Period("2026-11")!: "PV4K7Q9MXTR2HC3"])
        let reversal = DepositReversal(depositID: deposit.id, reason: "wrong month", recordedAt: now)
        try database.commitLocalChange(unlock: { key }, now: now) { _ in
            LocalChange(action: .depositReverse, operations: [Operation(record: reversal.recordKey, kind: .fact, fields: reversal.fields)])
        }
        #expect(try database.reading { try $0.paidPeriods(accountID: account.id) }.isEmpty)
        #expect(try database.reading { try $0.isReversed(depositID: deposit.id) })
    }

    @Test func refusesARecordItsReadModelCannotRead() throws {
        let malformed = RecordKey(type: "deposit", id: "dep-1")
        #expect(throws: StoreError.unreadableRecord(malformed)) {
            try database.commitLocalChange(unlock: { key }, now: now) { _ in
                LocalChange(action: .depositRecord, operations: [Operation(record: malformed, kind: .fact, fields: ["amountFen": 1])])
            }
        }
        #expect(try database.outbox().isEmpty)
        #expect(try database.allRecords().isEmpty)
    }

    /// A snapshot page of deposits `numbers` of account acc-1, signed by `server`, as a device reads it.
    func snapshotPage(_ numbers: ClosedRange<Int>, server: SigningKey) throws -> SignedDocument {
        let office = DeviceID(publicKey: try SigningKey(seed: [UInt8](repeating: 9, count: 32)).publicKey)
        let states = try numbers.map { n in
            let deposit = Deposit(id: "dep-\(n)", accountID: "acc-1", amountFen: Int64(n) * 100, kind: .lump, periods: [],
                                  method: .bankTransfer, reference: "PV4K7Q9MXTR2H\(n)", recordedAt: now)
            return try RecordMerge.apply(Operation(record: deposit.recordKey, kind: .fact, fields: deposit.fields),
                                         dot: Dot(device: office, sequence: UInt64(n)), time: HLCTimestamp(wallMillis: 10, counter: 0), to: nil).state
        }
        let signed = try SignedDocument(asOf: 7, transferForms: try states.map { (key: $0.key, form: try $0.transferBytes()) }, signingWith: server)
        return try SignedDocument(envelope: signed.envelopeValue, serverKey: server.publicKey)
    }

    /// The deposits' indexes the replica has, and those it holds set aside.
    func indexes() throws -> (present: Set<String>, setAside: Set<String>) {
        let queue = try DatabaseQueue(path: database.path)
        return try queue.read { db in
            (Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'deposits' AND sql IS NOT NULL")),
             Set(try String.fetchAll(db, sql: "SELECT name FROM deferred_indexes WHERE name LIKE 'deposits%'")))
        }
    }

    @Test func aSnapshotIntoAnEmptyReplicaBuildsTheReadModelsIndexesOnceAtItsEnd() throws {
        let server = SigningKey.generate()
        let all: Set = ["deposits_account", "deposits_reference", "deposits_recorded"]
        #expect(try indexes() == (all, []))
        try database.applySnapshotPage(try snapshotPage(1...3, server: server), next: RecordKey(type: "deposit", id: "dep-3"), mark: nil, now: now)
        // Set aside while the snapshot fills the replica; the read models answer all the same.
        #expect(try indexes() == ([], all))
        #expect(try database.reading { try $0.deposits(accountID: "acc-1") }.map(\.id) == ["dep-1", "dep-2", "dep-3"])
        try database.applySnapshotPage(try snapshotPage(4...5, server: server), next: nil, mark: nil, now: now)
        #expect(try indexes() == (all, []))
        #expect(try database.reading { try $0.deposits(accountID: "acc-1") }.count == 5)
        #expect(try database.check().isConsistent)
        #expect(try database.syncState().cursor == 7)
    }

    @Test func aSnapshotGivenUpBuildsTheIndexesItSetAside() throws {
        let server = SigningKey.generate()
        try database.applySnapshotPage(try snapshotPage(1...3, server: server), next: RecordKey(type: "deposit", id: "dep-3"), mark: nil, now: now)
        #expect(try indexes().present.isEmpty)
        try database.restartFeed()
        #expect(try indexes() == (["deposits_account", "deposits_reference", "deposits_recorded"], []))
    }

    @Test func aSnapshotIntoAReplicaHoldingRecordsKeepsItsIndexes() throws {
        try enroll(try account())
        try database.applySnapshotPage(try snapshotPage(1...3, server: SigningKey.generate()), next: RecordKey(type: "deposit", id: "dep-3"),
                                       mark: nil, now: now)
        #expect(try indexes() == (["deposits_account", "deposits_reference", "deposits_recorded"], []))
        #expect(try database.reading { try $0.deposits(accountID: "acc-1") }.count == 3)
    }

    @Test func persistsAcrossReopening() throws {
        try enroll(try account())
        let digest = try database.stateDigest()
        let reopened = try ReplicaDatabase.open(path: database.path)
        #expect(try reopened.stateDigest() == digest)
        #expect(try reopened.deviceState().sequence == 1)
    }
}

@Suite struct DamagedReplicaTests {
    @Test func reportsAMissingReplica() throws {
        let folder = try TemporaryFolder()
        #expect(throws: StoreError.missing(path: folder.path + "/replica.sqlite")) {
            try ReplicaDatabase.open(path: folder.path + "/replica.sqlite")
        }
    }

    @Test func reportsAFileThatIsNotADatabase() throws {
        let folder = try TemporaryFolder()
        let path = folder.path + "/replica.sqlite"
        try Data(repeating: 0x41, count: 8_192).write(to: URL(fileURLWithPath: path))
        #expect(throws: StoreError.damaged(path: path, detail: "not a SQLite database, or corrupt")) {
            try ReplicaDatabase.open(path: path)
        }
        // And leaves the file as it was.
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(repeating: 0x41, count: 8_192))
    }

    @Test func findsAChangeSetWithoutItsEffect() throws {
        let folder = try TemporaryFolder()
        let key = SigningKey.generate()
        let path = folder.path + "/replica.sqlite"
        let database = try ReplicaDatabase.create(path: path, identity: key, role: .selfService, now: now)
        let record = RecordKey(type: "note", id: "note-1")
        try database.commitLocalChange(unlock: { key }, now: now) { _ in
            LocalChange(action: .visitRecord, operations: [Operation(record: record, kind: .fact, fields: ["text": "a"])])
        }
        #expect(try database.check().isConsistent)
        // Remove the record behind the store's back, as a torn write would.
        try DatabaseQueue(path: path).write { try $0.execute(sql: "DELETE FROM records") }
        let report = try ReplicaDatabase.open(path: path).check()
        #expect(report.findings == [.changeSetWithoutEffect(sequence: 1, record: record)])
    }

    @Test func findsAWriteOfThisDeviceThatNoChangeSetMadeAmongRecordsOfOthers() throws {
        let folder = try TemporaryFolder()
        let key = SigningKey.generate()
        let path = folder.path + "/replica.sqlite"
        let database = try ReplicaDatabase.create(path: path, identity: key, role: .selfService, now: now)
        let mine = RecordKey(type: "note", id: "note-1")
        try database.commitLocalChange(unlock: { key }, now: now) { _ in
            LocalChange(action: .visitRecord, operations: [Operation(record: mine, kind: .fact, fields: ["text": "a"])])
        }
        // Records of another device, which the check counts without decoding.
        let other = DeviceID(publicKey: SigningKey.generate().publicKey)
        let time = HLCTimestamp(wallMillis: UInt64(now.millisSinceEpoch), counter: 0)
        try DatabaseQueue(path: path).write { db in
            for n in 1...50 {
                let state = RecordState(key: RecordKey(type: "note", id: "other-\(n)"), mutability: .fact, created: true,
                                        versionVector: VersionVector([other: UInt64(n)]),
                                        fields: ["text": try #require(FieldHistory(writes: [FieldWrite(dot: Dot(device: other, sequence: UInt64(n)), time: time,
                                                                                                      context: VersionVector(), value: "b")]))])
                try db.execute(sql: "INSERT INTO records (type, id, state) VALUES (?, ?, ?)",
                               arguments: [state.key.type, state.key.id, Data(try state.transferBytes())])
            }
        }
        let clean = try ReplicaDatabase.open(path: path).check()
        #expect(clean.isConsistent && clean.records == 51 && clean.changeSets == 1)
        // A write of this device's sequence 7, which it never made, slipped into a record.
        let forged = RecordKey(type: "note", id: "other-9")
        try DatabaseQueue(path: path).write { db in
            let state = RecordState(key: forged, mutability: .mutable, created: true, versionVector: VersionVector([DeviceID(publicKey: key.publicKey): 7]),
                                    fields: ["text": try #require(FieldHistory(writes: [FieldWrite(dot: Dot(device: DeviceID(publicKey: key.publicKey), sequence: 7),
                                                                                                  time: time, context: VersionVector(), value: "c")]))])
            try db.execute(sql: "UPDATE records SET state = ? WHERE type = ? AND id = ?",
                           arguments: [Data(try state.transferBytes()), forged.type, forged.id])
        }
        let report = try ReplicaDatabase.open(path: path).check()
        #expect(report.findings == [.effectWithoutChangeSet(record: forged, sequence: 7)])
    }
}
