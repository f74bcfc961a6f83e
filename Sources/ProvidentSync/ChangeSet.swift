/// What an operation does to its record.
public enum OperationKind: String, Hashable, Sendable, CaseIterable {
    /// Brings a mutable record into existence with initial field values.
    case create
    /// Writes some fields of a mutable record.
    case update
    /// Inserts an immutable fact (a deposit, a reversal, a confirmation). Never changes afterwards.
    case fact
    /// Marks a mutable record void, with a reason. Records are voided, never deleted.
    case void
}

/// One operation on one record inside a change-set.
public struct Operation: Hashable, Sendable {
    /// The record written.
    public var record: RecordKey
    /// What the operation does.
    public var kind: OperationKind
    /// The field values written. For `.void`, exactly `reason`.
    public var fields: [String: CanonicalValue]
    /// The version vector the device had for this record when it wrote: which earlier writes
    /// this one saw and therefore supersedes. Empty for `.create` and `.fact`.
    public var context: VersionVector

    /// Creates an operation.
    public init(record: RecordKey, kind: OperationKind, fields: [String: CanonicalValue],
                context: VersionVector = VersionVector()) {
        self.record = record
        self.kind = kind
        self.fields = fields
        self.context = context
    }

    /// The field a void writes its reason to; no create or update may name it.
    public static let voidField = "voided"
}

/// The immutable unit of replication: one user action made on one device (sync-protocol.md §3).
public struct ChangeSet: Hashable, Sendable {
    /// The protocol version this code writes and reads.
    public static let protocolVersion: Int64 = 1
    /// The most operations one change-set may carry.
    public static let maxOperations = 256
    /// The largest canonical encoding accepted, in bytes.
    public static let maxByteCount = 65_536

    /// The protocol version of the encoding.
    public var version: Int64
    /// The device that made and signed the change-set.
    public var device: DeviceID
    /// The device's sequence number, from 1 with no gaps.
    public var sequence: UInt64
    /// The id of the device's previous change-set; `Digest256.zero` for sequence 1.
    public var previous: ChangeSetID
    /// The device's hybrid-logical-clock time for this change-set.
    public var time: HLCTimestamp
    /// What the user did, e.g. `account.enroll` or `deposit.record`: for people and for the
    /// server's business rules.
    public var action: String
    /// The writes, at most one per record.
    public var operations: [Operation]

    /// Creates a change-set of the current protocol version.
    public init(device: DeviceID, sequence: UInt64, previous: ChangeSetID, time: HLCTimestamp,
                action: String, operations: [Operation]) {
        version = Self.protocolVersion
        self.device = device
        self.sequence = sequence
        self.previous = previous
        self.time = time
        self.action = action
        self.operations = operations
    }

    /// The dot that names this change-set's writes.
    public var dot: Dot { Dot(device: device, sequence: sequence) }

    // MARK: Encoding

    /// The canonical bytes: what is signed, hashed, sent and stored. Throws if the change-set
    /// breaks a schema rule, so an invalid change-set can never be signed.
    public func canonicalBytes() throws(SyncError) -> [UInt8] {
        try validate()
        let bytes: [UInt8]
        do {
            bytes = try CanonicalEncoder.encode(canonicalValue)
        } catch {
            throw .notCanonical(error)
        }
        guard bytes.count <= Self.maxByteCount else {
            throw .notCanonical(.tooLarge(size: bytes.count, limit: Self.maxByteCount))
        }
        return bytes
    }

    /// The change-set as a canonical value (sync-protocol.md §3.1).
    public var canonicalValue: CanonicalValue {
        .object([
            "v": .integer(version),
            "device": .string(device.rawValue),
            "seq": .integer(Int64(clamping: sequence)),
            "prev": .string(previous.hex),
            "hlc": .string(time.wireValue),
            "action": .string(action),
            "ops": .array(operations.map(\.canonicalValue)),
        ])
    }

    /// Decodes and checks canonical change-set bytes.
    public init(canonicalBytes bytes: [UInt8]) throws(SyncError) {
        let value: CanonicalValue
        do {
            value = try CanonicalDecoder.decode(bytes, limit: Self.maxByteCount)
        } catch {
            throw .notCanonical(error)
        }
        try self.init(canonicalValue: value)
    }

    /// Reads a change-set from a decoded canonical value, checking every schema rule.
    public init(canonicalValue value: CanonicalValue) throws(SyncError) {
        var reader = try ObjectReader(value, path: "changeSet")
        // The version is checked first, so a future version is reported as such rather than as
        // an unknown field.
        version = try reader.integer("v")
        guard version == Self.protocolVersion else { throw .unsupportedVersion(version) }
        let deviceText = try reader.string("device")
        guard let device = DeviceID(deviceText) else {
            throw .invalidField(path: "changeSet.device", reason: Reason("must be 32 lowercase hex digits", "须为 32 位小写十六进制数字"))
        }
        self.device = device
        let seq = try reader.integer("seq")
        guard seq >= 1 else { throw .invalidField(path: "changeSet.seq", reason: Reason("must be at least 1", "须至少为 1")) }
        sequence = UInt64(seq)
        guard let previous = Digest256(hex: try reader.string("prev")) else {
            throw .invalidField(path: "changeSet.prev", reason: Reason("must be 64 lowercase hex digits", "须为 64 位小写十六进制数字"))
        }
        self.previous = previous
        guard let time = HLCTimestamp(wireValue: try reader.string("hlc")) else {
            throw .invalidField(path: "changeSet.hlc", reason: Reason("must be 16 lowercase hex digits", "须为 16 位小写十六进制数字"))
        }
        self.time = time
        action = try reader.string("action")
        let ops = try reader.array("ops")
        var operations: [Operation] = []
        operations.reserveCapacity(ops.count)
        for (index, op) in ops.enumerated() {
            operations.append(try Operation(canonicalValue: op, path: "changeSet.ops[\(index)]"))
        }
        self.operations = operations
        try reader.finish()
        try validate()
    }

    /// Checks the rules the encoding alone does not express (sync-protocol.md §3.2).
    public func validate() throws(SyncError) {
        guard version == Self.protocolVersion else { throw .unsupportedVersion(version) }
        guard (1...UInt64(CanonicalValue.maxInteger)).contains(sequence) else {
            throw .invalidField(path: "changeSet.seq", reason: Reason("must be between 1 and 2^53 − 1", "须在 1 至 2^53 − 1 之间"))
        }
        guard (sequence == 1) == (previous == .zero) else {
            throw .invalidField(path: "changeSet.prev",
                                reason: Reason("must be all zeros exactly when seq is 1", "须在且仅在 seq 为 1 时全为零"))
        }
        guard Self.isValidAction(action) else {
            throw .invalidField(path: "changeSet.action", reason: Reason("must match [a-z][A-Za-z0-9.]{0,63}", "须符合 [a-z][A-Za-z0-9.]{0,63}"))
        }
        guard (1...Self.maxOperations).contains(operations.count) else {
            throw .invalidField(path: "changeSet.ops", reason: Reason("must hold 1 to \(Self.maxOperations) operations", "须含 1 至 \(Self.maxOperations) 个操作"))
        }
        var seen = Set<RecordKey>()
        for (index, op) in operations.enumerated() {
            try op.validate(path: "changeSet.ops[\(index)]")
            guard seen.insert(op.record).inserted else {
                throw .invalidField(path: "changeSet.ops[\(index)]", reason: Reason("writes a record already written in this change-set", "写入了本变更集中已写过的记录"))
            }
        }
    }

    static func isValidAction(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard (1...64).contains(u.count), (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(u[0]) else { return false }
        return u.allSatisfy { RecordKey.isAlphanumeric($0) || $0 == UInt8(ascii: ".") }
    }
}

extension Operation {
    /// The operation as a canonical value (sync-protocol.md §3.1).
    public var canonicalValue: CanonicalValue {
        .object([
            "type": .string(record.type),
            "id": .string(record.id),
            "kind": .string(kind.rawValue),
            "fields": .object(fields),
            "ctx": context.canonicalValue,
        ])
    }

    init(canonicalValue value: CanonicalValue, path: String) throws(SyncError) {
        var reader = try ObjectReader(value, path: path)
        let type = try reader.string("type")
        let id = try reader.string("id")
        record = RecordKey(type: type, id: id)
        let kindText = try reader.string("kind")
        guard let kind = OperationKind(rawValue: kindText) else {
            throw .invalidField(path: "\(path).kind", reason: Reason("must be create, update, fact or void", "须为 create、update、fact 或 void"))
        }
        self.kind = kind
        fields = try reader.object("fields")
        var counters: [DeviceID: UInt64] = [:]
        for (key, counter) in try reader.object("ctx") {
            guard let device = DeviceID(key) else {
                throw .invalidField(path: "\(path).ctx", reason: Reason("keys must be device ids", "键须为设备 ID"))
            }
            guard let n = counter.integerValue, n >= 1 else {
                throw .invalidField(path: "\(path).ctx.\(key)", reason: Reason("must be an integer of at least 1", "须为不小于 1 的整数"))
            }
            counters[device] = UInt64(n)
        }
        context = VersionVector(counters)
        try reader.finish()
    }

    func validate(path: String) throws(SyncError) {
        guard RecordKey.isValidType(record.type) else {
            throw .invalidField(path: "\(path).type", reason: Reason("must match [a-z][A-Za-z0-9]{0,31}", "须符合 [a-z][A-Za-z0-9]{0,31}"))
        }
        guard RecordKey.isValidID(record.id) else {
            throw .invalidField(path: "\(path).id", reason: Reason("must match [A-Za-z0-9][A-Za-z0-9._:-]{0,127}", "须符合 [A-Za-z0-9][A-Za-z0-9._:-]{0,127}"))
        }
        for name in fields.keys where !Self.isValidFieldName(name) {
            throw .invalidField(path: "\(path).fields", reason: Reason("field names must match [a-z][A-Za-z0-9]{0,63}", "字段名须符合 [a-z][A-Za-z0-9]{0,63}"))
        }
        switch kind {
        case .create, .fact:
            guard context.counters.isEmpty else {
                throw .invalidField(path: "\(path).ctx", reason: Reason("must be empty for \(kind.rawValue)", "对 \(kind.rawValue) 须为空"))
            }
            guard !fields.isEmpty else {
                throw .invalidField(path: "\(path).fields", reason: Reason("a \(kind.rawValue) must write a field", "\(kind.rawValue) 须写入至少一个字段"))
            }
        case .update:
            guard !fields.isEmpty else { throw .invalidField(path: "\(path).fields", reason: Reason("an update must write a field", "update 须写入至少一个字段")) }
        case .void:
            guard fields.count == 1, let reason = fields["reason"]?.stringValue, !reason.isEmpty else {
                throw .invalidField(path: "\(path).fields", reason: Reason("a void carries exactly a non-empty reason", "void 须且只能带一个非空的 reason"))
            }
        }
        if kind == .create || kind == .update, fields[Self.voidField] != nil {
            throw .invalidField(path: "\(path).fields", reason: Reason("\"\(Self.voidField)\" is written only by a void", "“\(Self.voidField)”只能由 void 写入"))
        }
    }

    static func isValidFieldName(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard (1...64).contains(u.count), (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(u[0]) else { return false }
        return u.allSatisfy(RecordKey.isAlphanumeric)
    }
}

/// Reads the members of a canonical object by name, then insists nothing unknown is left.
struct ObjectReader {
    private var members: [String: CanonicalValue]
    let path: String

    init(_ value: CanonicalValue, path: String) throws(SyncError) {
        guard let members = value.objectValue else {
            throw .invalidField(path: path, reason: Reason("must be an object, not \(value.typeName)", "须为对象，而不是 \(value.typeName)"))
        }
        self.members = members
        self.path = path
    }

    mutating func take(_ key: String) throws(SyncError) -> CanonicalValue {
        guard let value = members.removeValue(forKey: key) else {
            throw .invalidField(path: "\(path).\(key)", reason: Reason("is missing", "缺失"))
        }
        return value
    }

    mutating func string(_ key: String) throws(SyncError) -> String {
        let value = try take(key)
        guard let s = value.stringValue else {
            throw .invalidField(path: "\(path).\(key)", reason: Reason("must be a string, not \(value.typeName)", "须为字符串，而不是 \(value.typeName)"))
        }
        return s
    }

    mutating func integer(_ key: String) throws(SyncError) -> Int64 {
        let value = try take(key)
        guard let i = value.integerValue else {
            throw .invalidField(path: "\(path).\(key)", reason: Reason("must be an integer, not \(value.typeName)", "须为整数，而不是 \(value.typeName)"))
        }
        return i
    }

    mutating func array(_ key: String) throws(SyncError) -> [CanonicalValue] {
        let value = try take(key)
        guard let a = value.arrayValue else {
            throw .invalidField(path: "\(path).\(key)", reason: Reason("must be an array, not \(value.typeName)", "须为数组，而不是 \(value.typeName)"))
        }
        return a
    }

    mutating func object(_ key: String) throws(SyncError) -> [String: CanonicalValue] {
        let value = try take(key)
        guard let o = value.objectValue else {
            throw .invalidField(path: "\(path).\(key)", reason: Reason("must be an object, not \(value.typeName)", "须为对象，而不是 \(value.typeName)"))
        }
        return o
    }

    func finish() throws(SyncError) {
        if let unknown = members.keys.sorted().first {
            throw .invalidField(path: "\(path).\(unknown)", reason: Reason("is not a field of protocol version 1", "不是协议第 1 版的字段"))
        }
    }
}
