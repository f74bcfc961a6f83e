import Foundation
import GRDB
import ProvidentCrypto
import ProvidentDomain
import ProvidentSync

/// The last checkpoint of the server's log that this device verified (sync-protocol.md §11.14).
public struct HeldCheckpoint: Hashable, Sendable {
    public let size: UInt64
    public let root: Digest256
    /// The signed note, as the server gave it.
    public let note: String
    /// The largest checkpoint the log's witnesses cosigned that this one extends (§11.15).
    public let witnessed: HeldWitnessed?
    /// When this device verified it (nil before it is kept).
    public let verifiedAt: Instant?

    public init(size: UInt64, root: Digest256, note: String, witnessed: HeldWitnessed? = nil, verifiedAt: Instant? = nil) {
        self.size = size
        self.root = root
        self.note = note
        self.witnessed = witnessed
        self.verifiedAt = verifiedAt
    }

    /// The same checkpoint, witnessed as given (or as before, when nil).
    public func witnessed(_ witnessed: HeldWitnessed?) -> HeldCheckpoint {
        HeldCheckpoint(size: size, root: root, note: note, witnessed: witnessed ?? self.witnessed)
    }
}

/// A checkpoint of the server's log that its auditors cosigned (sync-protocol.md §11.15).
public struct HeldWitnessed: Hashable, Sendable {
    public let size: UInt64
    /// The server's signed note with the auditors' cosignature lines.
    public let note: String
    /// How many witnesses this device knows cosigned it.
    public let cosigners: Int

    public init(size: UInt64, note: String, cosigners: Int) {
        self.size = size
        self.note = note
        self.cosigners = cosigners
    }
}

/// Something wrong that this device found in the server's log, with the signed material that
/// shows it (sync-protocol.md §11.14).
public struct LogEvidence: Hashable, Sendable {
    public let id: Int64
    /// `log.signature`, `log.rollback`, `log.inconsistent`, `log.page`, `receipt.missing`,
    /// `receipt.mismatch`, or `log.restart` (the server announced a restore and its log began again).
    public let kind: String
    public let foundAt: Instant
    /// Canonical JSON: the checkpoints, receipts, proofs and answers involved.
    public let material: CanonicalValue

    /// The kinds that do not show the server at fault (§11.14): a restore the device confirmed
    /// by the server's key, a bad signature (anyone can forge one), and a witnessed checkpoint
    /// the device could not take (too few cosignatures it can check, or a witness whose key changed).
    public static let notFaults = ["log.restart", "log.signature", "log.witness"]

    /// Whether a finding of `kind` shows the server at fault.
    public static func isFault(_ kind: String) -> Bool {
        !notFaults.contains(kind)
    }
}

/// How many receipts a device holds, by how far they are checked.
public struct ReceiptCounts: Hashable, Sendable {
    public let held, proven, wrong: Int
    /// Given by the log before it began again, not in the new one, not acknowledged again (§11.16).
    public let lost: Int
    /// Neither proven nor found wrong nor lost yet: waiting for a checkpoint that covers them.
    public var waiting: Int { held - proven - wrong - lost }
}

/// A receipt this device holds for one of its change-sets.
public struct HeldReceipt: Hashable, Sendable {
    public let receipt: LogReceipt
    public let sequence: UInt64
    /// The size of the checkpoint that proved it, once proven.
    public let provenSize: UInt64?
    /// Given by the log before it began again after a restore (§11.16), and not checked since.
    public let beforeRestart: Bool
}

extension ReplicaDatabase {
    /// The last checkpoint this device verified, if any.
    public func logCheckpoint() throws -> HeldCheckpoint? {
        let path = path
        return try read { db in try Self.logCheckpoint(db, path: path) }
    }

    static func logCheckpoint(_ db: Database, path: String) throws -> HeldCheckpoint? {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT size, root, note, verified_at, witnessed_size, witnessed_note, witnessed_by FROM log_checkpoint WHERE singleton = 1
            """) else { return nil }
        let size: Int64 = row["size"]
        let root: Data = row["root"]
        guard let digest = Digest256(bytes: Array(root)) else { throw StoreError.damaged(path: path, detail: "the held log checkpoint's root is not 32 bytes") }
        var witnessed: HeldWitnessed?
        if let witnessedSize = row["witnessed_size"] as Int64?, let note = row["witnessed_note"] as String? {
            witnessed = HeldWitnessed(size: UInt64(witnessedSize), note: note, cosigners: row["witnessed_by"] ?? 0)
        }
        return HeldCheckpoint(size: UInt64(size), root: digest, note: row["note"], witnessed: witnessed,
                              verifiedAt: (row["verified_at"] as String?).flatMap(Instant.init(utcISO:)))
    }

    static func keep(_ checkpoint: HeldCheckpoint, in db: Database, at now: Instant) throws {
        let witnessed = checkpoint.witnessed
        try db.execute(sql: """
            INSERT INTO log_checkpoint (singleton, size, root, note, verified_at, witnessed_size, witnessed_note, witnessed_by) VALUES (1, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (singleton) DO UPDATE SET size = excluded.size, root = excluded.root, note = excluded.note, verified_at = excluded.verified_at,
                witnessed_size = excluded.witnessed_size, witnessed_note = excluded.witnessed_note, witnessed_by = excluded.witnessed_by
            """, arguments: [Int64(checkpoint.size), Data(checkpoint.root.bytes), checkpoint.note, now.utcISO,
                             witnessed.map { Int64($0.size) }, witnessed?.note, witnessed?.cosigners])
    }

    /// The log's witnesses this device knows, by name (§11.15).
    public func logWitnesses() throws -> [LogWitness] {
        let path = path
        return try read { db in
            try Row.fetchAll(db, sql: "SELECT name, public_key FROM log_witnesses ORDER BY name").map { row in
                let key: Data = row["public_key"]
                guard let publicKey = try? PublicKey(bytes: Array(key)) else { throw StoreError.damaged(path: path, detail: "a witness's key is not 32 bytes") }
                return LogWitness(name: row["name"], key: publicKey)
            }
        }
    }

    /// The office devices this device knows, which may announce a new epoch of the log (§11.16).
    public func logOffices() throws -> [(name: String, key: PublicKey)] {
        let path = path
        return try read { db in
            try Row.fetchAll(db, sql: "SELECT name, public_key FROM log_offices ORDER BY name").map { row in
                let key: Data = row["public_key"]
                guard let publicKey = try? PublicKey(bytes: Array(key)) else { throw StoreError.damaged(path: path, detail: "an office's key is not 32 bytes") }
                return (row["name"], publicKey)
            }
        }
    }

    /// Remembers office devices first seen now; a name already known keeps its key.
    public func learnOffices(_ offices: [(name: String, key: PublicKey)], at now: Instant) throws {
        guard !offices.isEmpty else { return }
        try write { db in
            for (name, key) in offices {
                try db.execute(sql: "INSERT INTO log_offices (name, public_key, learned_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
                               arguments: [name, Data(key.bytes), now.utcISO])
            }
        }
    }

    /// After the log began again (§11.16): every receipt held was given by the old log, and is
    /// checked again against the new one; one it no longer holds, and not acknowledged again, is
    /// lost in the restore rather than a fault.
    public func markReceiptsBeforeRestart() throws {
        try write { db in
            try db.execute(sql: "UPDATE log_receipts SET before_restart = 1, proven_size = NULL, checked_at = NULL WHERE proven_size IS NULL OR proven_size > 0")
        }
    }

    /// Receipts of the old log that the new one does not hold and that were not acknowledged
    /// again: acknowledged change-sets of this device missing since the restore.
    public func lostReceipts() throws -> [HeldReceipt] {
        let path = path
        return try read { db in
            try Row.fetchAll(db, sql: """
                SELECT change_set, sequence, position, time, signature, proven_size, before_restart FROM log_receipts WHERE proven_size = -1 ORDER BY sequence
                """).map { try Self.receipt($0, path: path) }
        }
    }

    /// Remembers witnesses first seen now; a name already known keeps its key.
    public func learnWitnesses(_ witnesses: [LogWitness], at now: Instant) throws {
        guard !witnesses.isEmpty else { return }
        try write { db in
            for witness in witnesses {
                try db.execute(sql: "INSERT INTO log_witnesses (name, public_key, learned_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
                               arguments: [witness.name, Data(witness.key.bytes), now.utcISO])
            }
        }
    }

    /// Keeps the server's receipts for this device's change-sets (a newer one for the same
    /// change-set, after a restored server took it again, replaces the older).
    static func keep(_ receipts: [(receipt: LogReceipt, sequence: UInt64)], in db: Database) throws {
        for (receipt, sequence) in receipts {
            if let batch = receipt.batch {
                try db.execute(sql: "INSERT INTO log_receipt_batches (signature, entries) VALUES (?, ?) ON CONFLICT (signature) DO NOTHING",
                               arguments: [Data(receipt.signature.bytes), Data(batch)])
            }
            try db.execute(sql: """
                INSERT INTO log_receipts (change_set, sequence, position, time, signature) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (change_set) DO UPDATE SET position = excluded.position, time = excluded.time, signature = excluded.signature,
                    proven_size = CASE WHEN log_receipts.position = excluded.position AND log_receipts.before_restart = 0 THEN log_receipts.proven_size END,
                    checked_at = CASE WHEN log_receipts.position = excluded.position AND log_receipts.before_restart = 0 THEN log_receipts.checked_at END,
                    before_restart = 0
                """, arguments: [Data(receipt.id.bytes), Int64(sequence), Int64(receipt.position), receipt.time, Data(receipt.signature.bytes)])
        }
    }

    /// Receipts to check against a checkpoint of `size`: those it covers that were never
    /// checked, then those checked longest ago (a log must keep holding what it once proved);
    /// none found wrong already.
    /// (The list a batch receipt's signature covers is not read: `receiptWithBatch` gives it.)
    public func receiptsToProve(within size: UInt64, limit: Int) throws -> [HeldReceipt] {
        let path = path
        return try read { db in
            try Row.fetchAll(db, sql: """
                SELECT change_set, sequence, position, time, signature, proven_size, before_restart FROM log_receipts
                WHERE position <= ? AND (proven_size IS NULL OR proven_size > 0) ORDER BY checked_at IS NOT NULL, checked_at, position LIMIT ?
                """, arguments: [Int64(size), limit]).map { try Self.receipt($0, path: path) }
        }
    }

    /// A held receipt with the list its signature covers, when it was signed with others: what
    /// evidence about it must show.
    public func receiptWithBatch(_ held: HeldReceipt) throws -> LogReceipt {
        let receipt = held.receipt
        let batch = try read { db in
            try Data.fetchOne(db, sql: "SELECT entries FROM log_receipt_batches WHERE signature = ?", arguments: [Data(receipt.signature.bytes)])
        }
        guard let batch else { return receipt }
        return LogReceipt(id: receipt.id, position: receipt.position, time: receipt.time, signature: receipt.signature, batch: Array(batch))
    }

    /// The ids of this device's change-sets of these sequences (those its outbox still holds).
    public func changeSetIDs(_ sequences: [UInt64]) throws -> [UInt64: ChangeSetID] {
        try read { db in
            var ids: [UInt64: ChangeSetID] = [:]
            for chunk in stride(from: 0, to: sequences.count, by: 500).map({ sequences[$0..<min($0 + 500, sequences.count)] }) {
                let rows = try Row.fetchAll(db, sql: "SELECT sequence, change_set_id FROM outbox WHERE sequence IN (\(chunk.map { _ in "?" }.joined(separator: ",")))",
                                            arguments: StatementArguments(chunk.map { Int64(clamping: $0) }))
                for row in rows {
                    let id: Data = row["change_set_id"]
                    if let digest = Digest256(bytes: Array(id)) { ids[UInt64(row["sequence"] as Int64)] = digest }
                }
            }
            return ids
        }
    }

    /// How many receipts are held, proven and found wrong (counted, not read).
    public func receiptCounts() throws -> ReceiptCounts {
        try read { db in
            let row = try Row.fetchOne(db, sql: """
                SELECT count(*) AS held, count(CASE WHEN proven_size > 0 THEN 1 END) AS proven,
                    count(CASE WHEN proven_size = 0 THEN 1 END) AS wrong, count(CASE WHEN proven_size = -1 THEN 1 END) AS lost FROM log_receipts
                """)
            return ReceiptCounts(held: row?["held"] ?? 0, proven: row?["proven"] ?? 0, wrong: row?["wrong"] ?? 0, lost: row?["lost"] ?? 0)
        }
    }

    static func receipt(_ row: Row, path: String) throws -> HeldReceipt {
        let id: Data = row["change_set"]
        let signature: Data = row["signature"]
        let position: Int64 = row["position"]
        let sequence: Int64 = row["sequence"]
        let proven: Int64? = row["proven_size"]
        guard let digest = Digest256(bytes: Array(id)), let signed = try? Signature(bytes: Array(signature)), position > 0, sequence > 0 else {
            throw StoreError.damaged(path: path, detail: "a held receipt cannot be read")
        }
        return HeldReceipt(receipt: LogReceipt(id: digest, position: UInt64(position), time: row["time"], signature: signed),
                           sequence: UInt64(sequence), provenSize: proven.flatMap { $0 > 0 ? UInt64($0) : nil },
                           beforeRestart: (row["before_restart"] as Int64?) == 1)
    }

    /// Marks receipts of the old log that the new one does not hold as lost in the restore (§11.16).
    public func markLost(_ ids: [ChangeSetID], at now: Instant) throws {
        try write { db in
            for id in ids {
                try db.execute(sql: "UPDATE log_receipts SET proven_size = -1, checked_at = ? WHERE change_set = ?", arguments: [now.utcISO, Data(id.bytes)])
            }
        }
    }

    /// Marks receipts proven by a checkpoint of `size`, or (size 0) found wrong and kept as a finding.
    public func markProven(_ ids: [ChangeSetID], size: UInt64, at now: Instant) throws {
        try write { db in
            for id in ids {
                try db.execute(sql: "UPDATE log_receipts SET proven_size = ?, checked_at = ? WHERE change_set = ?",
                               arguments: [Int64(size), now.utcISO, Data(id.bytes)])
            }
        }
    }

    /// Keeps a finding, in a transaction of its own.
    /// The same finding found again (the same material) is kept once, as first found.
    public func addEvidence(kind: String, material: CanonicalValue, at now: Instant) throws {
        let text = String(decoding: try CanonicalEncoder.encode(material), as: UTF8.self)
        try write { db in
            try db.execute(sql: """
                INSERT INTO log_evidence (kind, found_at, material) SELECT ?, ?, ?
                WHERE NOT EXISTS (SELECT 1 FROM log_evidence WHERE kind = ? AND material = ?)
                """, arguments: [kind, now.utcISO, text, kind, text])
        }
    }

    /// How many findings show the server at fault (counted, not read).
    public func faultCount() throws -> Int {
        try read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM log_evidence WHERE kind NOT IN (\(LogEvidence.notFaults.map { _ in "?" }.joined(separator: ", ")))",
                             arguments: StatementArguments(LogEvidence.notFaults)) ?? 0
        }
    }

    /// Everything found, oldest first.
    public func evidence() throws -> [LogEvidence] {
        let path = path
        return try read { db in
            try Row.fetchAll(db, sql: "SELECT id, kind, found_at, material FROM log_evidence ORDER BY id").map { row in
                let text: String = row["material"]
                guard let found = Instant(utcISO: row["found_at"]),
                      let material = try? CanonicalDecoder.decode(Array(text.utf8), limit: 64 * 1_048_576) else {
                    throw StoreError.damaged(path: path, detail: "a finding of the log cannot be read")
                }
                return LogEvidence(id: row["id"], kind: row["kind"], foundAt: found, material: material)
            }
        }
    }
}
