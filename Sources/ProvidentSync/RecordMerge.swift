/// One write of one field: the value, who wrote it and when, and what the writer had seen.
public struct FieldWrite: Hashable, Sendable {
    /// The write's dot (device and change-set sequence).
    public let dot: Dot
    /// The change-set's HLC time.
    public let time: HLCTimestamp
    /// The version vector the writer had for the record.
    public let context: VersionVector
    /// The value written.
    public let value: CanonicalValue

    /// Creates a field write.
    public init(dot: Dot, time: HLCTimestamp, context: VersionVector, value: CanonicalValue) {
        self.dot = dot
        self.time = time
        self.context = context
        self.value = value
    }

    /// Whether this write happened before `other`: the other's writer had seen it, or both come
    /// from one device, whose change-sets are ordered by sequence.
    public func happened(before other: FieldWrite) -> Bool {
        other.context.contains(dot) || (dot.device == other.dot.device && dot.sequence < other.dot.sequence)
    }

    /// Whether neither write saw the other.
    public func isConcurrent(with other: FieldWrite) -> Bool {
        dot != other.dot && !happened(before: other) && !other.happened(before: self)
    }

    /// The last-writer-wins order: greater (HLC time, device id) wins. The sequence number only
    /// breaks ties between two writes of one device with one time, which a correct device never
    /// makes, so the order is total even for bad input.
    public func wins(over other: FieldWrite) -> Bool {
        if time != other.time { return time > other.time }
        if dot.device != other.dot.device { return dot.device > other.dot.device }
        return dot.sequence > other.dot.sequence
    }
}

/// Every write a field has received, and the winner among them.
///
/// The whole history is kept, not only the winner, so that which pairs of writes conflict is a
/// function of the set of writes and not of the order they arrived in.
public struct FieldHistory: Hashable, Sendable {
    /// The writes, ordered by dot.
    public private(set) var writes: [FieldWrite]
    /// The index in `writes` of the last-writer-wins winner.
    private var winnerIndex: Int

    init(first: FieldWrite) {
        writes = [first]
        winnerIndex = 0
    }

    /// Restores a history from stored writes; nil if there are none.
    public init?(writes: [FieldWrite]) {
        guard let first = writes.first else { return nil }
        self.init(first: first)
        for write in writes.dropFirst() { insert(write) }
    }

    /// The winning write.
    public var winner: FieldWrite { writes[winnerIndex] }

    mutating func insert(_ write: FieldWrite) {
        let index = writes.firstIndex { write.dot < $0.dot } ?? writes.count
        writes.insert(write, at: index)
        if index <= winnerIndex, writes.count > 1 { winnerIndex += 1 }
        if write.wins(over: writes[winnerIndex]) { winnerIndex = index }
    }
}

/// Two concurrent writes of different values to one field, kept for the office to review.
public struct Conflict: Hashable, Comparable, Sendable {
    /// The record.
    public let record: RecordKey
    /// The field.
    public let field: String
    /// The write with the smaller dot.
    public let first: FieldWrite
    /// The write with the larger dot.
    public let second: FieldWrite

    /// A stable id: BLAKE2b-256 of the record, field and both dots (sync-protocol.md §8.4).
    public let id: Digest256

    /// Pairs two writes in dot order, so a pair has one spelling whichever arrived first.
    public init(record: RecordKey, field: String, _ a: FieldWrite, _ b: FieldWrite) {
        self.record = record
        self.field = field
        (first, second) = a.dot < b.dot ? (a, b) : (b, a)
        id = Self.id(record: record, field: field, first: first.dot, second: second.dot)
    }

    /// The write applied: the last-writer-wins winner of the two.
    public var winner: FieldWrite { first.wins(over: second) ? first : second }

    /// The id of the conflict between the writes `first` and `second` (in dot order) of a field.
    public static func id(record: RecordKey, field: String, first: Dot, second: Dot) -> Digest256 {
        let value: CanonicalValue = .object([
            "type": .string(record.type), "id": .string(record.id), "field": .string(field),
            "a": .object(["device": .string(first.device.rawValue), "seq": .integer(Int64(first.sequence))]),
            "b": .object(["device": .string(second.device.rawValue), "seq": .integer(Int64(second.sequence))]),
        ])
        // Record keys, field names and device ids are validated ASCII, so encoding cannot fail.
        return Digest256(hashing: (try? CanonicalEncoder.encode(value)) ?? [])
    }

    /// The conflict as it enters the state digest.
    public var canonicalValue: CanonicalValue {
        func side(_ w: FieldWrite) -> CanonicalValue {
            .object(["device": .string(w.dot.device.rawValue), "seq": .integer(Int64(w.dot.sequence)),
                     "hlc": .string(w.time.wireValue), "value": w.value])
        }
        return .object(["id": .string(id.hex), "record": .object(["type": .string(record.type), "id": .string(record.id)]),
                        "field": .string(field), "a": side(first), "b": side(second)])
    }

    public static func < (a: Conflict, b: Conflict) -> Bool { a.id < b.id }

    /// Reads a conflict back from the canonical bytes of its digest form, as replicas store it.
    /// The writes' contexts are not part of that form and come back empty.
    public init?(digestForm bytes: [UInt8], record: RecordKey) {
        guard let object = (try? CanonicalDecoder.decode(bytes, limit: RecordState.transferByteLimit))?.objectValue,
              let field = object["field"]?.stringValue, let a = object["a"].flatMap(Self.side), let b = object["b"].flatMap(Self.side) else {
            return nil
        }
        self.init(record: record, field: field, a, b)
    }

    private static func side(_ value: CanonicalValue) -> FieldWrite? {
        guard let object = value.objectValue, let device = object["device"]?.stringValue.flatMap(DeviceID.init),
              let seq = object["seq"]?.integerValue, seq > 0, let time = object["hlc"]?.stringValue.flatMap(HLCTimestamp.init(wireValue:)),
              let value = object["value"] else { return nil }
        return FieldWrite(dot: Dot(device: device, sequence: UInt64(seq)), time: time, context: VersionVector(), value: value)
    }
}

/// The merged state of one record on a replica.
public struct RecordState: Hashable, Sendable {
    /// Whether a record takes field writes or is an immutable fact.
    public enum Mutability: String, Hashable, Sendable {
        case mutable
        case fact
    }

    /// The record's address.
    public let key: RecordKey
    /// Mutable record or fact; fixed by the first operation applied.
    public let mutability: Mutability
    /// Whether a `.create` has been applied. An update may arrive before its create when
    /// delivery is not causal; the record exists for readers once the create is in.
    public fileprivate(set) var created: Bool
    /// The dots of every write applied to the record.
    public fileprivate(set) var versionVector: VersionVector
    /// Each field's history. For a fact, each field has exactly one write.
    public fileprivate(set) var fields: [String: FieldHistory]

    /// The current value of each field: the last-writer-wins winner.
    public var values: [String: CanonicalValue] {
        fields.mapValues(\.winner.value)
    }

    /// The time of its latest write.
    public var latestWriteTime: HLCTimestamp {
        fields.values.flatMap(\.writes).map(\.time).max() ?? .zero
    }

    /// The void reason, if the record has been voided.
    public var voidReason: String? {
        fields[Operation.voidField]?.winner.value.stringValue
    }

    /// Restores a record from stored parts.
    public init(key: RecordKey, mutability: Mutability, created: Bool, versionVector: VersionVector,
                fields: [String: FieldHistory]) {
        self.key = key
        self.mutability = mutability
        self.created = created
        self.versionVector = versionVector
        self.fields = fields
    }

    /// The record as it enters the state digest: winners only, with the version vector.
    public var canonicalValue: CanonicalValue {
        .object(["type": .string(key.type), "id": .string(key.id), "kind": .string(mutability.rawValue),
                 "created": .bool(created), "fields": .object(values), "vv": versionVector.canonicalValue])
    }
}

/// The merge rules (sync-protocol.md §8): one function that server and clients both call.
public enum RecordMerge {
    /// The result of applying one operation.
    public struct Outcome: Sendable {
        /// The record after the operation.
        public var state: RecordState
        /// Conflicts the operation created (empty when it overwrote only what it had seen).
        public var conflicts: [Conflict]
        /// False when the operation had already been applied and nothing changed.
        public var changed: Bool
    }

    /// Applies `operation`, carried by the change-set with `dot` and `time`, to the record's
    /// current state (nil if the replica has never seen the record).
    ///
    /// Mutable records merge field by field; the greatest (HLC time, device id) wins, and each
    /// earlier write that the new one had not seen and that holds a different value makes a
    /// conflict. Applying an operation a second time changes nothing. Facts are immutable:
    /// the same fact again changes nothing, different content under its id is an integrity error.
    public static func apply(_ operation: Operation, dot: Dot, time: HLCTimestamp,
                             to current: RecordState?) throws(SyncError) -> Outcome {
        let key = operation.record
        if operation.kind == .fact {
            return try applyFact(operation, dot: dot, time: time, to: current)
        }
        guard current?.mutability != .fact else {
            throw .integrity(record: key, reason: Reason("is an insert-only fact and cannot be \(operation.kind.rawValue)d", "是只可新增的事实，不能 \(operation.kind.rawValue)"))
        }
        var state = current ?? RecordState(key: key, mutability: .mutable, created: false,
                                           versionVector: VersionVector(), fields: [:])
        if state.versionVector.contains(dot) {
            return Outcome(state: state, conflicts: [], changed: false)
        }
        // A write can only have seen writes that happened before it, so its time must be after
        // theirs; a device that claims otherwise has a broken clock or is lying about causality.
        for history in state.fields.values {
            for seen in history.writes where operation.context.contains(seen.dot) && seen.time >= time {
                throw .integrity(record: key, reason: Reason("the change-set's time is not after a write it had seen", "变更集的时间不晚于它已见过的一次写入"))
            }
        }
        var conflicts: [Conflict] = []
        for (name, value) in operation.fields {
            let fieldName = operation.kind == .void ? Operation.voidField : name
            let write = FieldWrite(dot: dot, time: time, context: operation.context, value: value)
            guard var history = state.fields[fieldName] else {
                state.fields[fieldName] = FieldHistory(first: write)
                continue
            }
            for earlier in history.writes where earlier.isConcurrent(with: write) && earlier.value != value {
                conflicts.append(Conflict(record: key, field: fieldName, earlier, write))
            }
            history.insert(write)
            state.fields[fieldName] = history
        }
        if operation.kind == .create { state.created = true }
        state.versionVector.record(dot)
        return Outcome(state: state, conflicts: conflicts, changed: true)
    }

    private static func applyFact(_ operation: Operation, dot: Dot, time: HLCTimestamp,
                                  to current: RecordState?) throws(SyncError) -> Outcome {
        let key = operation.record
        guard var state = current else {
            var fields: [String: FieldHistory] = [:]
            for (name, value) in operation.fields {
                fields[name] = FieldHistory(first: FieldWrite(dot: dot, time: time, context: VersionVector(), value: value))
            }
            return Outcome(state: RecordState(key: key, mutability: .fact, created: true,
                                              versionVector: VersionVector([dot.device: dot.sequence]), fields: fields),
                           conflicts: [], changed: true)
        }
        guard state.mutability == .fact else {
            throw .integrity(record: key, reason: Reason("is a mutable record, not a fact", "是可变记录，不是事实"))
        }
        guard state.values == operation.fields else {
            throw .integrity(record: key, reason: Reason("a fact with this id already exists with different content", "已有同一 ID 而内容不同的事实"))
        }
        // The same fact delivered by another change-set: remember the dot so the state does not
        // depend on which copy came first.
        if state.versionVector.contains(dot) { return Outcome(state: state, conflicts: [], changed: false) }
        state.versionVector.record(dot)
        return Outcome(state: state, conflicts: [], changed: true)
    }
}

extension RecordMerge {
    /// Merges a whole record state, as received in a snapshot or scope change, into the current
    /// one (nil if the replica has none): the union of every field's writes and of the version
    /// vectors. This is the state-based form of `apply`: joining a state that holds some writes
    /// gives the same result as applying the operations that made them, in any order, any
    /// number of times. Conflicts between writes that were not both present before are reported.
    public static func join(_ incoming: RecordState, into current: RecordState?) throws(SyncError) -> Outcome {
        guard let current else {
            return Outcome(state: incoming, conflicts: conflicts(in: incoming, excluding: nil), changed: true)
        }
        let key = current.key
        guard current.mutability == incoming.mutability else {
            throw .integrity(record: key, reason: Reason("is a fact on one side and a mutable record on the other", "一方是事实，另一方是可变记录"))
        }
        var state = current
        switch current.mutability {
        case .fact:
            guard current.values == incoming.values else {
                throw .integrity(record: key, reason: Reason("a fact with this id already exists with different content", "已有同一 ID 而内容不同的事实"))
            }
        case .mutable:
            for (name, history) in incoming.fields {
                guard var merged = state.fields[name] else {
                    state.fields[name] = history
                    continue
                }
                for write in history.writes {
                    if let existing = merged.writes.first(where: { $0.dot == write.dot }) {
                        guard existing == write else {
                            throw .integrity(record: key, reason: Reason("two different writes carry the same dot \(write.dot)", "两次不同的写入带有同一个点 \(write.dot)"))
                        }
                        continue
                    }
                    merged.insert(write)
                }
                state.fields[name] = merged
            }
            state.created = current.created || incoming.created
        }
        state.versionVector.merge(incoming.versionVector)
        guard state != current else { return Outcome(state: current, conflicts: [], changed: false) }
        return Outcome(state: state, conflicts: conflicts(in: state, excluding: current), changed: true)
    }

    /// Every conflicting pair of writes in `state` that was not already a pair in `previous`.
    static func conflicts(in state: RecordState, excluding previous: RecordState?) -> [Conflict] {
        guard state.mutability == .mutable else { return [] }
        var found: [Conflict] = []
        for (name, history) in state.fields {
            let known = Set(previous?.fields[name]?.writes.map(\.dot) ?? [])
            let writes = history.writes
            for i in writes.indices {
                for j in writes.indices where i < j && !(known.contains(writes[i].dot) && known.contains(writes[j].dot)) {
                    if writes[i].isConcurrent(with: writes[j]), writes[i].value != writes[j].value {
                        found.append(Conflict(record: state.key, field: name, writes[i], writes[j]))
                    }
                }
            }
        }
        return found
    }

    /// Takes back the writes a change-set made to a record, when the server refused that
    /// change-set: the device applied its own edit at once, and undoes it on hearing the answer.
    ///
    /// Returns the record without those writes (nil when nothing of it remains) and the ids of
    /// the conflicts that involved them. The version vector is recomputed from the remaining
    /// writes, as it would have been had the change-set never been applied.
    public static func withdraw(_ dot: Dot, wasCreate: Bool, from state: RecordState) -> (state: RecordState?, droppedConflicts: [Digest256]) {
        var result = state
        var dropped: [Digest256] = []
        switch state.mutability {
        case .fact:
            guard state.versionVector[dot.device] == dot.sequence else { return (state, []) }
            var counters = state.versionVector.counters
            counters[dot.device] = nil
            guard !counters.isEmpty else { return (nil, []) }
            result.versionVector = VersionVector(counters)
            return (result, [])
        case .mutable:
            var fields: [String: FieldHistory] = [:]
            for (name, history) in state.fields {
                let others = history.writes.filter { $0.dot != dot }
                if others.count != history.writes.count, let withdrawn = history.writes.first(where: { $0.dot == dot }) {
                    dropped += others.filter { $0.isConcurrent(with: withdrawn) && $0.value != withdrawn.value }
                        .map { Conflict(record: state.key, field: name, $0, withdrawn).id }
                }
                if let remaining = FieldHistory(writes: others) { fields[name] = remaining }
            }
            guard !fields.isEmpty else { return (nil, dropped) }
            var vector = VersionVector()
            for history in fields.values { for write in history.writes { vector.record(write.dot) } }
            result.fields = fields
            result.versionVector = vector
            if wasCreate { result.created = false }
            return (result, dropped)
        }
    }
}
