import Foundation
import GRDB
import ProvidentCrypto
import ProvidentDomain
import ProvidentSync

/// This device as the replica knows it.
public struct DeviceState: Hashable, Sendable {
    public let id: DeviceID
    public let publicKey: PublicKey
    public let role: DeviceRole
    public let branch: String?
    /// The account a worker's device is bound to, once it has enrolled.
    public let accountID: String?
    /// The sequence number of the last change-set made here.
    public let sequence: UInt64
    /// The id of the last change-set made here.
    public let lastChangeSet: ChangeSetID
    /// The clock's last time.
    public let clock: HybridLogicalClock
    public let createdAt: Instant
}

/// A change-set waiting in, or answered in, the outbox.
public struct OutboxEntry: Hashable, Sendable {
    public enum State: String, Hashable, Sendable {
        case pending
        case accepted
        case rejected
    }

    public let sequence: UInt64
    public let id: ChangeSetID
    public let action: String
    public let time: HLCTimestamp
    public let byteCount: Int
    public let state: State
    /// Why the server refused it, once it has.
    public let rejection: Rejection?
    public let recordedAt: Instant

    /// A refusal, in the error shape of sync-protocol.md §10.
    public struct Rejection: Hashable, Sendable {
        public let code: String
        public let message: String
    }
}

/// What a local edit writes: a user action and its operations. Contexts of updates and voids
/// are filled in by the store from the replica, inside the transaction.
public struct LocalChange: Sendable {
    public var action: Action
    public var operations: [ProvidentSync.Operation]

    public init(action: Action, operations: [ProvidentSync.Operation]) {
        self.action = action
        self.operations = operations
    }
}

/// The replica database (SQLite through GRDB): the device's identity and clock, its outbox of
/// signed change-sets, every replicated record's merged state, conflicts, and read models of
/// accounts and deposits.
///
/// Every local edit is one transaction: the checks that depend on the replica, the change-set
/// (signed), the merged records, the read models and the outbox entry are written together or
/// not at all, so a crash at any moment leaves every record change with its change-set and
/// every change-set with its effect.
public final class ReplicaDatabase: Sendable {
    /// The database file.
    public let path: String
    let writer: any DatabaseWriter

    init(path: String, writer: any DatabaseWriter) {
        self.path = path
        self.writer = writer
    }

    /// Opens an existing replica, bringing its schema up to date.
    public static func open(path: String) throws -> ReplicaDatabase {
        guard FileManager.default.fileExists(atPath: path) else { throw StoreError.missing(path: path) }
        return try connect(path: path)
    }

    /// Creates a replica for a new device, or replaces one that holds nothing unsynced.
    public static func create(path: String, identity: SigningKey, role: DeviceRole, branch: String? = nil,
                              now: Instant) throws -> ReplicaDatabase {
        let database = try connect(path: path)
        try database.write { db in
            try db.execute(sql: "DELETE FROM device")
            try db.execute(sql: """
                INSERT INTO device (singleton, device_id, public_key, role, branch, sequence, last_change_set, hlc, created_at)
                VALUES (1, ?, ?, ?, ?, 0, ?, 0, ?)
                """, arguments: [DeviceID(publicKey: identity.publicKey).rawValue, Data(identity.publicKey.bytes),
                                 role.rawValue, branch, Data(Digest256.zero.bytes), now.utcISO])
        }
        return database
    }

    static func connect(path: String) throws -> ReplicaDatabase {
        var configuration = Configuration()
        configuration.journalMode = .wal
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // Savepoints keep their journals in memory rather than in temporary files.
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
            // A first sync writes tens of megabytes: copying the log into the database every
            // 4 MB (the default) writes the same index pages again and again.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 16384")
        }
        // The replica holds ID and phone numbers: only its owner may read it. SQLite gives the
        // -wal and -shm files the database file's mode.
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        let writer: DatabaseQueue
        do {
            // A client runs one command at a time: a queue opens fastest.
            writer = try DatabaseQueue(path: path, configuration: configuration)
            try requireFullSync(writer)
            if try writer.read({ try Schema.migrator.hasBeenSuperseded($0) }) { throw StoreError.newerSchema(path: path) }
            try Schema.migrator.migrate(writer)
        } catch let error as StoreError {
            throw error
        } catch let error as DatabaseError {
            throw translate(error, path: path)
        }
        return ReplicaDatabase(path: path, writer: writer)
    }

    /// FULL: a recorded deposit survives a power cut, not only a crash of the process. Set after
    /// GRDB's WAL set-up, which sets NORMAL, and read back, so the setting in force is known.
    static func requireFullSync(_ writer: DatabaseQueue) throws {
        let level = try writer.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            return try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? 0
        }
        guard level == 2 else { throw StoreError.damaged(path: writer.path, detail: "PRAGMA synchronous is \(level), not FULL (2)") }
    }

    /// The `synchronous` setting in force on the writer: 2 is FULL.
    public func synchronousLevel() throws -> Int {
        try write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? 0 }
    }

    /// Whether the file system holding `path` has (almost) no space left: SQLite reports a write
    /// that found no space as an I/O error as often as SQLITE_FULL. The server's store asks too.
    package static func diskIsFull(under path: String) -> Bool {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return false }
        return UInt64(info.f_bavail) * UInt64(info.f_frsize) < 64 * 1_024
    }

    static func translate(_ error: DatabaseError, path: String) -> StoreError {
        switch error.resultCode {
        case .SQLITE_NOTADB, .SQLITE_CORRUPT: .damaged(path: path, detail: "not a SQLite database, or corrupt")
        case .SQLITE_BUSY, .SQLITE_LOCKED: .busy(path: path)
        case .SQLITE_FULL: .diskFull(path: path)
        case .SQLITE_READONLY: .unwritable(path: path, readOnly: true)
        // A write that fails for want of space often comes back as an I/O error: look at the disk.
        case .SQLITE_IOERR: diskIsFull(under: path) ? .diskFull(path: path) : .unwritable(path: path, readOnly: false)
        default: .damaged(path: path, detail: "SQLite error \(error.resultCode.rawValue)")
        }
    }

    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try writer.write(body)
        } catch let error as DatabaseError {
            throw Self.translate(error, path: path)
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try writer.read(body)
        } catch let error as DatabaseError {
            throw Self.translate(error, path: path)
        }
    }

    // MARK: Identity

    /// This device's identity, chain position and clock.
    public func deviceState() throws -> DeviceState {
        try read { db in try Self.deviceState(db) }
    }

    static func deviceState(_ db: Database) throws -> DeviceState {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM device WHERE singleton = 1") else { throw StoreError.noIdentity }
        let keyData: Data = row["public_key"]
        let lastData: Data = row["last_change_set"]
        guard let id = DeviceID(row["device_id"]), let key = try? PublicKey(bytes: Array(keyData)),
              let role = DeviceRole(rawValue: row["role"]), let last = Digest256(bytes: Array(lastData)),
              let created = Instant(utcISO: row["created_at"]) else { throw StoreError.noIdentity }
        return DeviceState(id: id, publicKey: key, role: role, branch: row["branch"], accountID: row["account_id"],
                           sequence: UInt64(row["sequence"] as Int64), lastChangeSet: last,
                           clock: HybridLogicalClock(last: HLCTimestamp(packed: UInt64(bitPattern: row["hlc"] as Int64))),
                           createdAt: created)
    }

    // MARK: Local edits

    /// Records a local edit: in one transaction, `build` checks the edit against the replica and
    /// says what to write; the store fills in version contexts, advances the clock, signs the
    /// change-set, merges it into the records and read models, and appends it to the outbox. An
    /// error from `build` (or anywhere after) leaves the replica untouched.
    ///
    /// `build` runs first against a read snapshot, so a mistake is reported before `unlock` asks
    /// for the passphrase, then again inside the write transaction, where its answer counts. It
    /// must therefore have no effects beyond its result.
    @discardableResult
    public func commitLocalChange(unlock: () throws -> SigningKey, now: Instant, bindAccount: String? = nil,
                                  _ build: (ReplicaReader) throws -> LocalChange) throws -> SignedChangeSet {
        _ = try reading(build)
        let key = try unlock()
        return try write { db in
            let device = try Self.deviceState(db)
            guard DeviceID(publicKey: key.publicKey) == device.id else {
                throw SyncError.invalidField(path: "changeSet.device", reason: Reason("is not the id of this device's key", "不是本设备密钥的 ID"))
            }
            var change = try build(ReplicaReader(db: db, device: device))
            for index in change.operations.indices where change.operations[index].kind == .update || change.operations[index].kind == .void {
                let key = change.operations[index].record
                change.operations[index].context = try Self.recordState(db, key)?.versionVector ?? VersionVector()
            }
            var clock = device.clock
            let time = clock.tick(now: UInt64(max(0, now.millisSinceEpoch)))
            let changeSet = ChangeSet(device: device.id, sequence: device.sequence + 1, previous: device.lastChangeSet,
                                      time: time, action: change.action.rawValue, operations: change.operations)
            let signed = try SignedChangeSet(signing: changeSet, with: key)
            try Self.merge(changeSet, into: db)
            try db.execute(sql: """
                INSERT INTO outbox (sequence, change_set_id, action, hlc, bytes, signature, recorded_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [Int64(changeSet.sequence), Data(signed.id.bytes), changeSet.action,
                                 Int64(bitPattern: time.packed), Data(signed.bytes), Data(signed.signature.bytes), now.utcISO])
            try db.execute(sql: """
                UPDATE device SET sequence = ?, last_change_set = ?, hlc = ?, account_id = COALESCE(?, account_id)
                WHERE singleton = 1
                """, arguments: [Int64(changeSet.sequence), Data(signed.id.bytes), Int64(bitPattern: time.packed), bindAccount])
            return signed
        }
    }

    /// Applies every operation of a change-set to the records, conflicts and read models, and
    /// gives the records whose state changed.
    @discardableResult
    static func merge(_ changeSet: ChangeSet, into db: Database) throws -> [RecordState] {
        var changed: [RecordState] = []
        for operation in changeSet.operations {
            let outcome = try RecordMerge.apply(operation, dot: changeSet.dot, time: changeSet.time,
                                                to: try recordState(db, operation.record))
            guard outcome.changed else { continue }
            try store(outcome, in: db)
            changed.append(outcome.state)
        }
        return changed
    }

    /// Writes a merge outcome: the record, its new conflicts, its read model.
    static func store(_ outcome: RecordMerge.Outcome, in db: Database) throws {
        let key = outcome.state.key
        let form = Data(try outcome.state.transferBytes())
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO records (type, id, state) VALUES (?, ?, ?)")
            .execute(arguments: [key.type, key.id, form])
        try storeDerived(outcome, in: db)
    }

    /// What a merged record brings besides its row in `records`: its new conflicts and its read model.
    static func storeDerived(_ outcome: RecordMerge.Outcome, in db: Database) throws {
        for conflict in outcome.conflicts {
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO conflicts (id, type, record_id, field, state) VALUES (?, ?, ?, ?, ?)")
                .execute(arguments: [Data(conflict.id.bytes), conflict.record.type, conflict.record.id, conflict.field,
                                     Data(try CanonicalEncoder.encode(conflict.canonicalValue))])
        }
        try Projection.update(db, with: outcome.state)
    }

    static func recordState(_ db: Database, _ key: RecordKey) throws -> RecordState? {
        guard let data = try Data.fetchOne(db.cachedStatement(sql: "SELECT state FROM records WHERE type = ? AND id = ?"),
                                           arguments: [key.type, key.id]) else { return nil }
        guard let state = RecordState(key: key, transferBytes: Array(data)) else { throw StoreError.unreadableRecord(key) }
        return state
    }

    // MARK: Reads

    /// Runs reads against one consistent snapshot of the replica.
    public func reading<T>(_ body: (ReplicaReader) throws -> T) throws -> T {
        try read { db in try body(ReplicaReader(db: db, device: try Self.deviceState(db))) }
    }

    /// The outbox, oldest first; only entries waiting to be synced unless `all`.
    public func outbox(all: Bool = false) throws -> [OutboxEntry] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT sequence, change_set_id, action, hlc, length(bytes) AS size, state, rejection_code, rejection_message, recorded_at
                FROM outbox \(all ? "" : "WHERE state = 'pending'") ORDER BY sequence
                """).map { row in
                let idData: Data = row["change_set_id"]
                let code: String? = row["rejection_code"]
                let message: String? = row["rejection_message"]
                return OutboxEntry(sequence: UInt64(row["sequence"] as Int64), id: Digest256(bytes: Array(idData)) ?? .zero,
                                   action: row["action"],
                                   time: HLCTimestamp(wallMillis: UInt64(bitPattern: row["hlc"] as Int64) >> 16,
                                                      counter: UInt16(truncatingIfNeeded: UInt64(bitPattern: row["hlc"] as Int64))),
                                   byteCount: row["size"], state: OutboxEntry.State(rawValue: row["state"]) ?? .pending,
                                   rejection: code.map { OutboxEntry.Rejection(code: $0, message: message ?? "") },
                                   recordedAt: Instant(utcISO: row["recorded_at"]) ?? Instant(millisSinceEpoch: 0))
            }
        }
    }

    /// The signed change-sets in the outbox, in sequence order, for checks and for sync.
    public func outboxChangeSets() throws -> [SignedChangeSet] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT bytes, signature FROM outbox ORDER BY sequence").map { row in
                let bytes: Data = row["bytes"]
                let signature: Data = row["signature"]
                return try SignedChangeSet(bytes: Array(bytes), signature: Array(signature))
            }
        }
    }

    /// Every record's merged state, in key order: for consistency checks and state digests.
    public func allRecords() throws -> [RecordState] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT type, id, state FROM records ORDER BY type, id").map { row in
                let key = RecordKey(type: row["type"], id: row["id"])
                let data: Data = row["state"]
                guard let state = RecordState(key: key, transferBytes: Array(data)) else { throw StoreError.unreadableRecord(key) }
                return state
            }
        }
    }

    /// SQLite's own integrity check: "ok", or what it found.
    public func integrityCheck() throws -> [String] {
        try read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
    }
}

extension ReplicaDatabase {
    /// The state digest of sync-protocol.md §9 over everything this replica holds: equal to
    /// `Replica.stateDigest()` of an in-memory replica that applied the same change-sets.
    public func stateDigest() throws -> Digest256 {
        try read { db in
            var hasher = BLAKE2b.Hasher(outputLength: 32)
            // BINARY collation orders by bytes: the digest's record order (type, then id).
            // Read in batches; each batch's records are turned into their digest form on every
            // core, then hashed in order.
            let records = try Row.fetchCursor(db, sql: "SELECT type, id, state FROM records ORDER BY type, id")
            var batch: [(RecordKey, Data)] = []
            var more = true
            while more {
                batch.removeAll(keepingCapacity: true)
                while batch.count < 4_096, let row = try records.next() {
                    batch.append((RecordKey(type: row["type"], id: row["id"]), row["state"]))
                }
                more = batch.count == 4_096
                for (index, form) in Self.digestForms(batch).enumerated() {
                    guard let form else { throw StoreError.unreadableRecord(batch[index].0) }
                    hasher.update(form)
                }
            }
            // Conflicts are stored in their digest form already.
            let conflicts = try Data.fetchCursor(db, sql: "SELECT state FROM conflicts ORDER BY id")
            while let state = try conflicts.next() {
                hasher.update(Array(state) + [0x0A])
            }
            return Digest256(bytes: hasher.finalize()) ?? .zero
        }
    }

    /// Merges change-sets that a trusted source has already verified and ordered, all in one
    /// transaction, with no outbox entry and no cursor: for building replicas in tools. Syncing
    /// devices use `applyFeedPage`.
    public func mergeVerified(_ changeSets: [SignedChangeSet], now: Instant) throws {
        try write { db in
            for signed in changeSets { try Self.merge(signed.changeSet, into: db) }
            try Self.advanceClock(db, past: changeSets.map(\.changeSet.time), now: now)
        }
    }
}

extension ReplicaDatabase {
    /// Each stored record's line of the state digest (its canonical form and a line feed), made
    /// on every core; nil for a record that cannot be read.
    static func digestForms(_ batch: [(RecordKey, Data)]) -> [[UInt8]?] {
        let forms = UnsafeMutableBufferPointer<[UInt8]?>.allocate(capacity: batch.count)
        forms.initialize(repeating: nil)
        defer { forms.deinitialize(); forms.deallocate() }
        let slices = min(batch.count, ProcessInfo.processInfo.activeProcessorCount * 4)
        guard slices > 0 else { return [] }
        nonisolated(unsafe) let output = forms
        DispatchQueue.concurrentPerform(iterations: slices) { slice in
            // Each slice writes only its own elements.
            for index in stride(from: slice, to: batch.count, by: slices) {
                let (key, data) = batch[index]
                guard let state = RecordState(key: key, transferBytes: Array(data)),
                      let bytes = try? CanonicalEncoder.encode(state.canonicalValue) else { continue }
                output[index] = bytes + [0x0A]
            }
        }
        return Array(forms)
    }
}
