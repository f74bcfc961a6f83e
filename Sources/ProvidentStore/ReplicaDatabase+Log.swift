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

    public init(size: UInt64, root: Digest256, note: String) {
        self.size = size
        self.root = root
        self.note = note
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
    /// by the server's key, and a bad signature (anyone can forge one).
    public static let notFaults = ["log.restart", "log.signature"]

    /// Whether a finding of `kind` shows the server at fault.
    public static func isFault(_ kind: String) -> Bool {
        !notFaults.contains(kind)
    }
}

/// How many receipts a device holds, by how far they are checked.
public struct ReceiptCounts: Hashable, Sendable {
    public let held, proven, wrong: Int
    /// Neither proven nor found wrong yet: waiting for a checkpoint that covers them.
    public var waiting: Int { held - proven - wrong }
}

/// A receipt this device holds for one of its change-sets.
public struct HeldReceipt: Hashable, Sendable {
    public let receipt: LogReceipt
    public let sequence: UInt64
    /// The size of the checkpoint that proved it, once proven.
    public let provenSize: UInt64?
}

extension ReplicaDatabase {
    /// The last checkpoint this device verified, if any.
    public func logCheckpoint() throws -> HeldCheckpoint? {
        let path = path
        return try read { db in try Self.logCheckpoint(db, path: path) }
    }

    static func logCheckpoint(_ db: Database, path: String) throws -> HeldCheckpoint? {
        guard let row = try Row.fetchOne(db, sql: "SELECT size, root, note FROM log_checkpoint WHERE singleton = 1") else { return nil }
        let size: Int64 = row["size"]
        let root: Data = row["root"]
        guard let digest = Digest256(bytes: Array(root)) else { throw StoreError.damaged(path: path, detail: "the held log checkpoint's root is not 32 bytes") }
        return HeldCheckpoint(size: UInt64(size), root: digest, note: row["note"])
    }

    static func keep(_ checkpoint: HeldCheckpoint, in db: Database, at now: Instant) throws {
        try db.execute(sql: """
            INSERT INTO log_checkpoint (singleton, size, root, note, verified_at) VALUES (1, ?, ?, ?, ?)
            ON CONFLICT (singleton) DO UPDATE SET size = excluded.size, root = excluded.root, note = excluded.note, verified_at = excluded.verified_at
            """, arguments: [Int64(checkpoint.size), Data(checkpoint.root.bytes), checkpoint.note, now.utcISO])
    }

    /// Keeps the server's receipts for this device's change-sets (a newer one for the same
    /// change-set, after a restored server took it again, replaces the older).
    static func keep(_ receipts: [(receipt: LogReceipt, sequence: UInt64)], in db: Database) throws {
        for (receipt, sequence) in receipts {
            try db.execute(sql: """
                INSERT INTO log_receipts (change_set, sequence, position, time, signature) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (change_set) DO UPDATE SET position = excluded.position, time = excluded.time, signature = excluded.signature,
                    proven_size = CASE WHEN log_receipts.position = excluded.position THEN log_receipts.proven_size END,
                    checked_at = CASE WHEN log_receipts.position = excluded.position THEN log_receipts.checked_at END
                """, arguments: [Data(receipt.id.bytes), Int64(sequence), Int64(receipt.position), receipt.time, Data(receipt.signature.bytes)])
        }
    }

    /// Receipts to check against a checkpoint of `size`: those it covers that were never
    /// checked, then those checked longest ago (a log must keep holding what it once proved);
    /// none found wrong already.
    public func receiptsToProve(within size: UInt64, limit: Int) throws -> [HeldReceipt] {
        let path = path
        return try read { db in
            try Row.fetchAll(db, sql: """
                SELECT change_set, sequence, position, time, signature, proven_size FROM log_receipts
                WHERE position <= ? AND (proven_size IS NULL OR proven_size > 0) ORDER BY checked_at IS NOT NULL, checked_at, position LIMIT ?
                """, arguments: [Int64(size), limit]).map { try Self.receipt($0, path: path) }
        }
    }

    /// How many receipts are held, proven and found wrong (counted, not read).
    public func receiptCounts() throws -> ReceiptCounts {
        try read { db in
            let row = try Row.fetchOne(db, sql: """
                SELECT count(*) AS held, count(CASE WHEN proven_size > 0 THEN 1 END) AS proven,
                    count(CASE WHEN proven_size = 0 THEN 1 END) AS wrong FROM log_receipts
                """)
            return ReceiptCounts(held: row?["held"] ?? 0, proven: row?["proven"] ?? 0, wrong: row?["wrong"] ?? 0)
        }
    }

    static func receipt(_ row: Row, path: String) throws -> HeldReceipt {
        let id: Data = row["change_set"]
        let signature: Data = row["signature"]
        let position: Int64 = row["position"]
        let sequence: Int64 = row["sequence"]
        let proven: Int64? = row["proven_size"]
        guard let digest = Digest256(bytes: Array(id)), let signed = try? Signature(bytes: Array(signature)) else {
            throw StoreError.damaged(path: path, detail: "a held receipt cannot be read")
        }
        return HeldReceipt(receipt: LogReceipt(id: digest, position: UInt64(position), time: row["time"], signature: signed),
                           sequence: UInt64(sequence), provenSize: proven.map { UInt64($0) })
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
    public func addEvidence(kind: String, material: CanonicalValue, at now: Instant) throws {
        let text = String(decoding: try CanonicalEncoder.encode(material), as: UTF8.self)
        try write { db in
            try db.execute(sql: "INSERT INTO log_evidence (kind, found_at, material) VALUES (?, ?, ?)", arguments: [kind, now.utcISO, text])
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
