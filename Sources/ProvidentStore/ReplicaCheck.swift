import Foundation
import GRDB
import ProvidentSync

/// The result of checking a replica's own history against its records.
public struct ReplicaCheck: Hashable, Sendable {
    /// Something found wrong.
    public enum Finding: Hashable, Sendable {
        /// SQLite's integrity check reported a problem.
        case sqlite(String)
        /// An outbox change-set cannot be read or its signature does not verify.
        case unreadableChangeSet(sequence: UInt64)
        /// Outbox sequence numbers or `prev` links do not form one chain from 1.
        case chainBroken(sequence: UInt64)
        /// The device row's position disagrees with the outbox.
        case headMismatch(deviceSequence: UInt64, outboxSequence: UInt64)
        /// A change-set in the outbox has no effect in the records.
        case changeSetWithoutEffect(sequence: UInt64, record: RecordKey)
        /// A record carries a write of this device that no outbox change-set made.
        case effectWithoutChangeSet(record: RecordKey, sequence: UInt64)
    }

    public let findings: [Finding]
    /// How many change-sets of this device were checked.
    public let changeSets: Int
    /// How many records were checked.
    public let records: Int

    public var isConsistent: Bool { findings.isEmpty }
}

extension ReplicaDatabase {
    /// Checks that the outbox is one signed chain matching the device row, that every local
    /// change-set has its effect in the records, and that every write this device made to a
    /// record has its change-set in the outbox.
    public func check() throws -> ReplicaCheck {
        var findings: [ReplicaCheck.Finding] = []
        let integrity = try integrityCheck()
        if integrity != ["ok"] { findings += integrity.map { .sqlite($0) } }

        let device = try deviceState()
        let raw: [(UInt64, [UInt8], [UInt8], Bool)] = try read { db in
            try Row.fetchAll(db, sql: "SELECT sequence, bytes, signature, state FROM outbox ORDER BY sequence").map { row in
                let bytes: Data = row["bytes"]
                let signature: Data = row["signature"]
                let state: String = row["state"]
                return (UInt64(row["sequence"] as Int64), Array(bytes), Array(signature), state == "rejected")
            }
        }
        var previous = Digest256.zero
        var outboxRecords: [UInt64: Set<RecordKey>] = [:]
        var lastSequence: UInt64 = 0
        var effects: [(sequence: UInt64, dot: Dot, record: RecordKey)] = []
        for (index, entry) in raw.enumerated() {
            let (sequence, bytes, signature, refused) = entry
            guard let signed = try? SignedChangeSet(bytes: bytes, signature: signature),
                  (try? signed.verify(with: device.publicKey)) != nil else {
                findings.append(.unreadableChangeSet(sequence: sequence))
                continue
            }
            let changeSet = signed.changeSet
            if sequence != UInt64(index + 1) || changeSet.sequence != sequence || changeSet.previous != previous {
                findings.append(.chainBroken(sequence: sequence))
            }
            previous = signed.id
            lastSequence = sequence
            // A change-set the server refused was taken back: it must have no effect, and has none to check.
            guard !refused else { continue }
            outboxRecords[sequence] = Set(changeSet.operations.map(\.record))
            effects += changeSet.operations.map { (sequence, changeSet.dot, $0.record) }
        }
        if device.sequence != lastSequence || device.lastChangeSet != previous {
            findings.append(.headMismatch(deviceSequence: device.sequence, outboxSequence: lastSequence))
        }
        // The records are read one at a time, never all at once. Only a record whose stored
        // bytes hold this device's id can carry a write of this device (its writes and its
        // version vector name the device by that id): the others are counted, not decoded.
        let deviceID = Array(device.id.rawValue.utf8)
        let records: Int = try read { db in
            var count = 0
            let rows = try Row.fetchCursor(db, sql: "SELECT type, id, state FROM records")
            while let row = try rows.next() {
                count += 1
                let data: Data = row["state"]
                guard Self.contains(data, deviceID) else { continue }
                let key = RecordKey(type: row["type"], id: row["id"])
                guard let state = RecordState(key: key, transferBytes: Array(data)) else { throw StoreError.unreadableRecord(key) }
                for history in state.fields.values {
                    for write in history.writes where write.dot.device == device.id {
                        if outboxRecords[write.dot.sequence]?.contains(state.key) != true {
                            findings.append(.effectWithoutChangeSet(record: state.key, sequence: write.dot.sequence))
                        }
                    }
                }
            }
            // Every change-set's effect, each record read by its key once.
            var states: [RecordKey: RecordState?] = [:]
            for effect in effects {
                let state: RecordState?
                if let known = states[effect.record] {
                    state = known
                } else {
                    state = try Self.recordState(db, effect.record)
                    states[effect.record] = state
                }
                if state?.versionVector.contains(effect.dot) != true {
                    findings.append(.changeSetWithoutEffect(sequence: effect.sequence, record: effect.record))
                }
            }
            return count
        }
        return ReplicaCheck(findings: Array(Set(findings)).sorted { "\($0)" < "\($1)" }, changeSets: raw.count, records: records)
    }
}

extension ReplicaDatabase {
    /// Whether `needle` occurs in `data` (memchr for its first byte, memcmp for the rest).
    static func contains(_ data: Data, _ needle: [UInt8]) -> Bool {
        guard let first = needle.first else { return true }
        return data.withUnsafeBytes { haystack in
            needle.withUnsafeBytes { pattern in
                guard let base = haystack.baseAddress, let rest = pattern.baseAddress, haystack.count >= pattern.count else { return false }
                var offset = 0
                let last = haystack.count - pattern.count
                while offset <= last {
                    guard let found = memchr(base + offset, Int32(first), last - offset + 1) else { return false }
                    let at = base.distance(to: UnsafeRawPointer(found))
                    if memcmp(base + at, rest, pattern.count) == 0 { return true }
                    offset = at + 1
                }
                return false
            }
        }
    }
}
