/// The last change-set accepted from a device: the head of its hash chain.
public struct ChainHead: Hashable, Sendable {
    /// Its sequence number.
    public var sequence: UInt64
    /// Its id.
    public var id: ChangeSetID
    /// Its HLC time.
    public var time: HLCTimestamp

    /// Creates a chain head.
    public init(sequence: UInt64, id: ChangeSetID, time: HLCTimestamp) {
        self.sequence = sequence
        self.id = id
        self.time = time
    }
}

/// Where an incoming change-set stands against its device's history (sync-protocol.md §6).
public enum ChainVerdict: Hashable, Sendable {
    /// It extends the chain: apply it.
    case next
    /// It is one already accepted (same sequence, same id): acknowledge it again, apply nothing.
    case duplicate
    /// Change-sets are missing before it; `expected` is the sequence to send next.
    case gap(expected: UInt64)
    /// The device signed two different change-sets for one position: its history has forked.
    case fork(sequence: UInt64)
    /// It extends the chain but its time is not after its predecessor's, which a correct clock
    /// never produces.
    case timeNotAfterPrevious
}

/// The chain rules: every device's change-sets form a hash chain by sequence number and `prev`.
public enum Chain {
    /// Classifies `incoming` (with id `id`) against the device's accepted history.
    ///
    /// - Parameters:
    ///   - head: the device's last accepted change-set, nil if none.
    ///   - acceptedID: the id accepted at a given earlier sequence, nil if unknown.
    public static func classify(_ incoming: ChangeSet, id: ChangeSetID, head: ChainHead?,
                                acceptedID: (UInt64) -> ChangeSetID?) -> ChainVerdict {
        let lastSequence = head?.sequence ?? 0
        if incoming.sequence <= lastSequence {
            return acceptedID(incoming.sequence) == id ? .duplicate : .fork(sequence: incoming.sequence)
        }
        if incoming.sequence > lastSequence + 1 {
            return .gap(expected: lastSequence + 1)
        }
        // incoming.sequence == lastSequence + 1
        let expectedPrevious = head?.id ?? .zero
        guard incoming.previous == expectedPrevious else { return .fork(sequence: lastSequence) }
        if let head, incoming.time <= head.time { return .timeNotAfterPrevious }
        return .next
    }
}
