import ProvidentCrypto

/// An in-memory replica: the chain heads of every device, every record's merged state and the
/// conflicts found, built only by applying signed change-sets.
///
/// It is the reference model of the merge rules. The SQLite stores of the server and the
/// clients keep the same state in tables and must reach the same `stateDigest()`; tests and
/// benchmarks use this type directly. It checks chains but not signatures, which need the
/// device directory: callers verify before applying.
public struct Replica: Sendable {
    /// What applying a change-set did.
    public enum ApplyOutcome: Hashable, Sendable {
        /// Applied; lists the conflicts it created.
        case applied(conflicts: [Conflict])
        /// Already applied before: nothing changed.
        case duplicate
    }

    /// Each record's merged state.
    public private(set) var records: [RecordKey: RecordState] = [:]
    /// Every conflict found, by id.
    public private(set) var conflicts: [Digest256: Conflict] = [:]
    /// Each device's last applied change-set.
    public private(set) var heads: [DeviceID: ChainHead] = [:]
    private var acceptedIDs: [DeviceID: [ChangeSetID]] = [:]

    /// An empty replica.
    public init() {}

    /// Applies a change-set: chain check, then every operation, all or nothing.
    public mutating func apply(_ signed: SignedChangeSet) throws(SyncError) -> ApplyOutcome {
        let changeSet = signed.changeSet
        let device = changeSet.device
        let verdict = Chain.classify(changeSet, id: signed.id, head: heads[device]) { sequence in
            let ids = acceptedIDs[device] ?? []
            return sequence >= 1 && sequence <= UInt64(ids.count) ? ids[Int(sequence - 1)] : nil
        }
        switch verdict {
        case .next: break
        case .duplicate: return .duplicate
        case let .gap(expected): throw .chainGap(expected: expected)
        case let .fork(sequence): throw .chainFork(sequence: sequence)
        case .timeNotAfterPrevious: throw .chainTimeNotAfterPrevious
        }
        // Merge into copies first, so an integrity error in a later operation leaves nothing applied.
        var updated: [RecordKey: RecordState] = [:]
        var found: [Conflict] = []
        for operation in changeSet.operations {
            let outcome = try RecordMerge.apply(operation, dot: changeSet.dot, time: changeSet.time,
                                                to: records[operation.record])
            updated[operation.record] = outcome.state
            found += outcome.conflicts
        }
        records.merge(updated) { _, new in new }
        for conflict in found { conflicts[conflict.id] = conflict }
        heads[device] = ChainHead(sequence: changeSet.sequence, id: signed.id, time: changeSet.time)
        acceptedIDs[device, default: []].append(signed.id)
        return .applied(conflicts: found)
    }

    /// Merges a whole record state, as a snapshot delivers it (see `RecordMerge.join`).
    public mutating func join(_ state: RecordState) throws(SyncError) {
        let outcome = try RecordMerge.join(state, into: records[state.key])
        records[state.key] = outcome.state
        for conflict in outcome.conflicts { conflicts[conflict.id] = conflict }
    }

    /// BLAKE2b-256 over every record's and every conflict's canonical form, in a fixed order
    /// (sync-protocol.md §9). Two replicas holding the same change-sets have the same digest,
    /// whatever order the change-sets arrived in.
    public func stateDigest() -> Digest256 {
        StateDigest.compute(records: records.values.sorted { $0.key < $1.key },
                            conflicts: conflicts.values.sorted())
    }
}

/// The state digest (sync-protocol.md §9).
public enum StateDigest {
    /// Hashes records (in key order) then conflicts (in id order), each as its canonical bytes
    /// followed by a line feed.
    public static func compute(records: some Sequence<RecordState>, conflicts: some Sequence<Conflict>) -> Digest256 {
        var hasher = BLAKE2b.Hasher(outputLength: 32)
        for record in records {
            hasher.update(((try? CanonicalEncoder.encode(record.canonicalValue)) ?? []) + [0x0A])
        }
        for conflict in conflicts {
            hasher.update(((try? CanonicalEncoder.encode(conflict.canonicalValue)) ?? []) + [0x0A])
        }
        return Digest256(unchecked: hasher.finalize())
    }
}
