import Foundation
import GRDB
import ProvidentCrypto
import ProvidentDomain
import ProvidentSync

/// Where this device stands with its server.
public struct SyncState: Hashable, Sendable {
    /// The server's address, once known.
    public let serverURL: String?
    /// The server's key, pinned when the device enrolled: it signs snapshots and scope changes.
    public let serverKey: PublicKey?
    /// Whether the server knows this device.
    public let registered: Bool
    /// The feed position read so far; nil until the first snapshot is complete.
    public let cursor: UInt64?
    /// The snapshot in progress: the feed position of its first page and where to continue.
    public let snapshotAsOf: UInt64?
    public let snapshotNext: RecordKey?
    /// The feed's mark at `cursor`, as the server gave it (nil when it gave none).
    public let cursorMark: Digest256?
}

/// One entry of the server's feed, checked by the caller.
public enum PulledEntry: Sendable {
    /// A device's change-set, with its original signed bytes.
    case changeSet(SignedChangeSet)
    /// A document signed by the server.
    case document(SignedDocument)
}

/// The server's answer for one pushed change-set.
public struct PushResult: Hashable, Sendable {
    public enum Status: String, Hashable, Sendable {
        case accepted
        case rejected
    }

    public let sequence: UInt64
    public let status: Status
    public let code: String?
    public let message: String?
    /// The server's signed promise of the change-set's feed position (sync-protocol.md §11.14),
    /// checked against the server key by the caller.
    public let receipt: LogReceipt?

    public init(sequence: UInt64, status: Status, code: String? = nil, message: String? = nil, receipt: LogReceipt? = nil) {
        self.sequence = sequence
        self.status = status
        self.code = code
        self.message = message
        self.receipt = receipt
    }
}

/// A change-set of this device that the server refused, as told to the user.
public struct Refusal: Hashable, Sendable {
    public let sequence: UInt64
    public let action: String
    public let code: String
    public let message: String
}

extension ReplicaDatabase {
    /// This device's standing with its server.
    public func syncState() throws -> SyncState {
        try read { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT server_url, server_key, registered, cursor, snapshot_as_of, snapshot_next, cursor_mark FROM device WHERE singleton = 1
                """) else { throw StoreError.noIdentity }
            let key: Data? = row["server_key"]
            let cursor: Int64? = row["cursor"]
            let asOf: Int64? = row["snapshot_as_of"]
            let next: String? = row["snapshot_next"]
            let mark: Data? = row["cursor_mark"]
            return SyncState(serverURL: row["server_url"], serverKey: key.flatMap { try? PublicKey(bytes: Array($0)) },
                             registered: row["registered"], cursor: cursor.map { UInt64($0) }, snapshotAsOf: asOf.map { UInt64($0) },
                             snapshotNext: next.flatMap(Self.recordKey), cursorMark: mark.flatMap { Digest256(bytes: Array($0)) })
        }
    }

    /// Records that the server at `url`, whose key is `serverKey`, knows this device with the
    /// given role, branch and (for a worker's device) account.
    public func register(serverURL: String, serverKey: PublicKey, role: DeviceRole, branch: String?, accountID: String?) throws {
        try write { db in
            try db.execute(sql: """
                UPDATE device SET server_url = ?, server_key = ?, registered = 1, role = ?, branch = ?,
                    account_id = COALESCE(?, account_id) WHERE singleton = 1
                """, arguments: [serverURL, Data(serverKey.bytes), role.rawValue, branch, accountID])
        }
    }

    /// Merges one page of a snapshot (whole records, signed by the server) and remembers where
    /// to continue; with `next` nil the snapshot is complete and the feed is read from the
    /// first page's position. One transaction: a killed sync resumes at the same page.
    /// `mark` is the feed's mark at the page's `asOf`; the first page's becomes the cursor's.
    public func applySnapshotPage(_ document: SignedDocument, next: RecordKey?, mark: Digest256?, now: Instant) throws {
        guard case let .records(states) = document.content else { return }
        // A record new to this replica is stored as the document carries it, without encoding
        // it again.
        let forms = document.transferForms.flatMap { $0.count == states.count ? $0 : nil }
        try write { db in
            let started = try Row.fetchOne(db, sql: "SELECT snapshot_as_of, snapshot_mark FROM device WHERE singleton = 1 AND snapshot_as_of IS NOT NULL")
            if started == nil { try DeferredIndexes.setAsideIfEmpty(db) }
            for (index, state) in states.enumerated() { try Self.join(state, into: db, transferForm: forms?[index]) }
            let asOf: Int64 = started?["snapshot_as_of"] ?? Int64(document.asOf)
            let asOfMark: Data? = started == nil ? mark.map { Data($0.bytes) } : started?["snapshot_mark"]
            if let next {
                try db.execute(sql: "UPDATE device SET snapshot_as_of = ?, snapshot_mark = ?, snapshot_next = ? WHERE singleton = 1",
                               arguments: [asOf, asOfMark, "\(next.type)/\(next.id)"])
            } else {
                try db.execute(sql: """
                    UPDATE device SET snapshot_as_of = NULL, snapshot_mark = NULL, snapshot_next = NULL, cursor = ?, cursor_mark = ?
                    WHERE singleton = 1
                    """, arguments: [asOf, asOfMark])
                try DeferredIndexes.restore(db)
            }
            try Self.advanceClock(db, past: states.flatMap { $0.fields.values.map(\.winner.time) }, now: now)
        }
    }

    /// Applies one page of the feed and moves the cursor to `cursor`, in one transaction.
    /// Replaces where this device stands with a whole snapshot given at once (a bundle's answer):
    /// every page's records joined and the cursor set to their `asOf` with `mark`, in one
    /// transaction, so an interrupted import leaves the device where it was.
    public func applyWholeSnapshot(_ documents: [SignedDocument], mark: Digest256?, checkpoint: HeldCheckpoint? = nil, now: Instant) throws {
        guard let asOf = documents.first?.asOf else { return }
        try write { db in
            if let checkpoint { try Self.keep(checkpoint, in: db, at: now) }
            try DeferredIndexes.setAsideIfEmpty(db)
            var times: [HLCTimestamp] = []
            for document in documents {
                guard case let .records(states) = document.content else { continue }
                for state in states { try Self.join(state, into: db) }
                times += states.flatMap { $0.fields.values.map(\.winner.time) }
            }
            try db.execute(sql: """
                UPDATE device SET cursor = ?, cursor_mark = ?, snapshot_as_of = NULL, snapshot_mark = NULL, snapshot_next = NULL
                WHERE singleton = 1
                """, arguments: [Int64(asOf), mark.map { Data($0.bytes) }])
            try DeferredIndexes.restore(db)
            try Self.advanceClock(db, past: times, now: now)
        }
    }

    /// `mark` is the feed's mark at `cursor`, sent with the next pull; `checkpoint`, the log's
    /// checkpoint the page was verified against (§11.14), is kept with it.
    public func applyFeedPage(_ entries: [PulledEntry], cursor: UInt64, mark: Digest256?, checkpoint: HeldCheckpoint? = nil, now: Instant) throws {
        try write { db in
            if let checkpoint { try Self.keep(checkpoint, in: db, at: now) }
            var times: [HLCTimestamp] = []
            for entry in entries {
                switch entry {
                case let .changeSet(signed):
                    try Self.merge(signed.changeSet, into: db)
                    times.append(signed.changeSet.time)
                case let .document(document):
                    switch document.content {
                    case let .records(states):
                        for state in states { try Self.join(state, into: db) }
                    case let .scopeExit(keys):
                        for key in keys { try Self.forget(key, in: db) }
                    }
                }
            }
            try db.execute(sql: "UPDATE device SET cursor = ?, cursor_mark = ? WHERE singleton = 1",
                           arguments: [Int64(cursor), mark.map { Data($0.bytes) }])
            try Self.advanceClock(db, past: times, now: now)
        }
    }

    /// Records the server's answers for pushed change-sets. A refused change-set's writes are
    /// taken back from the records (they never reached anyone else), and the refusals are
    /// returned so the user can be told.
    @discardableResult
    public func recordPushResults(_ results: [PushResult]) throws -> [Refusal] {
        try write { db in
            let device = try Self.deviceState(db)
            try Self.keep(results.compactMap { result in result.receipt.map { ($0, result.sequence) } }, in: db)
            var refusals: [Refusal] = []
            for result in results {
                guard let row = try Row.fetchOne(db, sql: "SELECT bytes, signature, state FROM outbox WHERE sequence = ?",
                                                 arguments: [Int64(result.sequence)]) else { continue }
                let state: String = row["state"]
                guard state == "pending" else { continue }
                try db.execute(sql: "UPDATE outbox SET state = ?, rejection_code = ?, rejection_message = ? WHERE sequence = ?",
                               arguments: [result.status.rawValue, result.code, result.message, Int64(result.sequence)])
                guard result.status == .rejected else { continue }
                let bytes: Data = row["bytes"]
                let changeSet = try ChangeSet(canonicalBytes: Array(bytes))
                for operation in changeSet.operations {
                    try Self.withdraw(Dot(device: device.id, sequence: result.sequence), wasCreate: operation.kind == .create,
                                      from: operation.record, in: db)
                }
                if Action(of: changeSet) == .accountEnroll, let op = changeSet.operations.first, device.accountID == op.record.id {
                    try db.execute(sql: "UPDATE device SET account_id = NULL WHERE singleton = 1")
                }
                refusals.append(Refusal(sequence: result.sequence, action: changeSet.action, code: result.code ?? "",
                                        message: result.message ?? ""))
            }
            return refusals
        }
    }

    /// Sets the device's clock back after the server refused change-sets because the clock ran
    /// ahead (`clock.drift`): to the latest time this replica holds that the server did not
    /// refuse for the clock — every write it holds (the refused ones were withdrawn) and its own
    /// change-sets answered otherwise. The server's chain ignores the refused change-sets' times
    /// (sync-protocol.md §7), so the next change-set, made once the wall clock is right, is
    /// accepted; and it is still later than every write this device has seen. Returns the clock.
    @discardableResult
    public func rewindClockAfterDrift(code: String) throws -> HLCTimestamp {
        try write { db in
            var latest = HLCTimestamp.zero
            let records = try Row.fetchCursor(db, sql: "SELECT type, id, state FROM records")
            while let row = try records.next() {
                let key = RecordKey(type: row["type"], id: row["id"])
                let data: Data = row["state"]
                guard let state = RecordState(key: key, transferBytes: Array(data)) else { throw StoreError.unreadableRecord(key) }
                latest = max(latest, state.latestWriteTime)
            }
            let own = try Int64.fetchOne(db, sql: "SELECT MAX(hlc) FROM outbox WHERE state = 'accepted' OR (state = 'rejected' AND rejection_code IS NOT ?)",
                                         arguments: [code]) ?? 0
            latest = max(latest, HLCTimestamp(packed: UInt64(bitPattern: own)))
            try db.execute(sql: "UPDATE device SET hlc = ? WHERE singleton = 1", arguments: [Int64(bitPattern: latest.packed)])
            return latest
        }
    }

    /// Marks already answered outbox entries as waiting again, from `sequence` on: the server
    /// lost them (restored from a backup) and asks for them again. Refused ones are sent too:
    /// they hold their place in the server's chain. Returns how many will be sent again, and
    /// the sequences from `sequence` on that this device no longer holds (pruned by the policy).
    @discardableResult
    public func resendOutbox(from sequence: UInt64) throws -> (count: Int, missing: ClosedRange<UInt64>?) {
        try write { db in
            let lowest = try Int64.fetchOne(db, sql: "SELECT MIN(sequence) FROM outbox WHERE sequence >= ?", arguments: [Int64(sequence)])
            let last = try Self.deviceState(db).sequence
            var missing: ClosedRange<UInt64>?
            if sequence <= last {
                let held = lowest.map { UInt64($0) } ?? last + 1
                if held > sequence { missing = sequence...(held - 1) }
            }
            try db.execute(sql: "UPDATE outbox SET state = 'pending' WHERE sequence >= ? AND state != 'pending'",
                           arguments: [Int64(sequence)])
            return (db.changesCount, missing)
        }
    }

    /// The sequence of the last change-set of this device the server answered (0 for none).
    public func lastAnsweredSequence() throws -> UInt64 {
        try read { db in
            UInt64(try Int64.fetchOne(db, sql: "SELECT MAX(sequence) FROM outbox WHERE state != 'pending'") ?? 0)
        }
    }

    /// Forgets where this device stands in the feed, so the next sync takes a new snapshot: the
    /// server's feed is not the one it read. Records are kept: joining the snapshot is
    /// idempotent, and what the server lost comes back as the devices that made it sync.
    public func restartFeed() throws {
        try write { db in
            try db.execute(sql: """
                UPDATE device SET cursor = NULL, cursor_mark = NULL, snapshot_as_of = NULL, snapshot_mark = NULL, snapshot_next = NULL
                WHERE singleton = 1
                """)
            // A snapshot given up builds the indexes it set aside; the next one may not.
            try DeferredIndexes.restore(db)
        }
    }

    /// Removes change-sets the server acknowledged before `before` (the policy's retention),
    /// always keeping the last answered one. Returns how many were removed.
    @discardableResult
    public func pruneAcknowledged(recordedBefore before: Instant) throws -> Int {
        try write { db in
            try db.execute(sql: """
                DELETE FROM outbox WHERE state != 'pending' AND recorded_at < ?
                    AND sequence < (SELECT MAX(sequence) FROM outbox WHERE state != 'pending')
                """, arguments: [before.utcISO])
            return db.changesCount
        }
    }

    /// Pending outbox change-sets, oldest first, at most `limit`.
    public func pendingChangeSets(limit: Int) throws -> [SignedChangeSet] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT bytes, signature FROM outbox WHERE state = 'pending' ORDER BY sequence LIMIT ?",
                             arguments: [limit]).map { row in
                let bytes: Data = row["bytes"]
                let signature: Data = row["signature"]
                return try SignedChangeSet(bytes: Array(bytes), signature: Array(signature))
            }
        }
    }

    /// Conflicts held in this replica, with whether a later write has settled each.
    public func conflicts() throws -> [(conflict: Conflict, resolved: Bool)] {
        try read { db in
            var result: [(Conflict, Bool)] = []
            for row in try Row.fetchAll(db, sql: "SELECT type, record_id, state FROM conflicts ORDER BY type, record_id, field") {
                let key = RecordKey(type: row["type"], id: row["record_id"])
                let data: Data = row["state"]
                guard let conflict = Conflict(digestForm: Array(data), record: key), let state = try Self.recordState(db, key) else { continue }
                result.append((conflict, Self.isResolved(conflict, in: state)))
            }
            return result
        }
    }

    /// A conflict is settled once some write to its field had seen both sides.
    static func isResolved(_ conflict: Conflict, in state: RecordState) -> Bool {
        state.fields[conflict.field]?.writes.contains {
            $0.context.contains(conflict.first.dot) && $0.context.contains(conflict.second.dot)
        } ?? false
    }

    // MARK: Internals shared with the server

    /// Joins a whole record; `transferForm`, when given, is `state`'s transfer form, stored as
    /// it is if the record is new here (a record already held is merged and encoded again).
    static func join(_ state: RecordState, into db: Database, transferForm: ArraySlice<UInt8>? = nil) throws {
        if let transferForm {
            // Most records of a snapshot are new here: one insert finds out, without a read first.
            try db.cachedStatement(sql: "INSERT INTO records (type, id, state) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
                .execute(arguments: [state.key.type, state.key.id, Data(transferForm)])
            if db.changesCount == 1 {
                try storeDerived(try RecordMerge.join(state, into: nil), in: db)
                return
            }
        }
        let current = try recordState(db, state.key)
        let outcome = try RecordMerge.join(state, into: current)
        guard outcome.changed else { return }
        try store(outcome, in: db)
    }

    static func withdraw(_ dot: Dot, wasCreate: Bool, from key: RecordKey, in db: Database) throws {
        guard let state = try recordState(db, key) else { return }
        let (remaining, dropped) = RecordMerge.withdraw(dot, wasCreate: wasCreate, from: state)
        for id in dropped { try db.execute(sql: "DELETE FROM conflicts WHERE id = ?", arguments: [Data(id.bytes)]) }
        if let remaining {
            try db.execute(sql: "UPDATE records SET state = ? WHERE type = ? AND id = ?",
                           arguments: [Data(try remaining.transferBytes()), key.type, key.id])
            try Projection.update(db, with: remaining)
        } else {
            try forget(key, in: db)
        }
    }

    /// Removes a record, its conflicts and its read model.
    static func forget(_ key: RecordKey, in db: Database) throws {
        try db.execute(sql: "DELETE FROM records WHERE type = ? AND id = ?", arguments: [key.type, key.id])
        try db.execute(sql: "DELETE FROM conflicts WHERE type = ? AND record_id = ?", arguments: [key.type, key.id])
        try Projection.remove(db, key)
    }

    static func advanceClock(_ db: Database, past times: [HLCTimestamp], now: Instant) throws {
        guard let latest = times.max() else { return }
        var clock = try deviceState(db).clock
        _ = try clock.receive(latest, now: UInt64(max(0, now.millisSinceEpoch)))
        try db.execute(sql: "UPDATE device SET hlc = ? WHERE singleton = 1", arguments: [Int64(bitPattern: clock.last.packed)])
    }

    static func recordKey(_ text: String) -> RecordKey? {
        guard let slash = text.firstIndex(of: "/") else { return nil }
        return RecordKey(type: String(text[..<slash]), id: String(text[text.index(after: slash)...]))
    }
}
