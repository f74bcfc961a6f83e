import ProvidentCrypto

/// An error from decoding, checking or merging change-sets.
///
/// Each case has a stable `code` (the `code` of the wire error shape in sync-protocol.md §10 when
/// the server reports it) and a `message` for people. Messages name fields and byte offsets,
/// never field values, so no personal data reaches a log through them.
public enum SyncError: Error, Hashable, Sendable {
    /// The bytes are not canonical (see `CanonicalError`).
    case notCanonical(CanonicalError)
    /// A base64 field is not canonical base64.
    case invalidBase64(field: String)
    /// The change-set or envelope is canonical but does not follow the schema.
    case invalidField(path: String, reason: Reason)
    /// The change-set names a protocol version this code does not speak.
    case unsupportedVersion(Int64)
    /// The signature is not 64 bytes.
    case signatureLength(Int)
    /// The signature does not verify with the device's public key.
    case badSignature
    /// An HLC time is further ahead of the receiver's clock than the allowed drift.
    case clockDrift(aheadMillis: UInt64, allowedMillis: UInt64)
    /// An insert-only fact was sent again with different content, or a record was written with
    /// the wrong kind of operation.
    case integrity(record: RecordKey, reason: Reason)
    /// Change-sets of this device are missing before this one; `expected` is the next to send.
    case chainGap(expected: UInt64)
    /// The device signed two different change-sets for one sequence number.
    case chainFork(sequence: UInt64)
    /// The change-set's time is not after the device's previous change-set's.
    case chainTimeNotAfterPrevious

    /// A stable machine-readable code.
    public var code: String {
        switch self {
        case let .notCanonical(inner): "encoding.\(inner.code)"
        case .invalidBase64: "encoding.base64"
        case .invalidField: "schema.invalid"
        case .unsupportedVersion: "version.unsupported"
        case .signatureLength: "signature.length"
        case .badSignature: "signature.invalid"
        case .clockDrift: "clock.drift"
        case .integrity: "merge.integrity"
        case .chainGap: "chain.gap"
        case .chainFork: "chain.fork"
        case .chainTimeNotAfterPrevious: "chain.time"
        }
    }

    /// A sentence for people: what is wrong, in English.
    public var message: String { message(.english) }

    /// A sentence for people: what is wrong, in `l`. Messages name fields, byte offsets and
    /// record ids, never field values.
    public func message(_ l: Language) -> String {
        switch self {
        case let .notCanonical(inner):
            l.pick("Not canonical: \(inner.message(.english)).", "不是规范编码：\(inner.message(.chinese))。")
        case let .invalidBase64(field):
            l.pick("\(field) is not canonical base64 (RFC 4648 §4, with padding, no line breaks).",
                   "\(field) 不是规范的 base64（RFC 4648 §4，带填充，不换行）。")
        case let .invalidField(path, reason):
            l.pick("\(path): \(reason.english).", "\(path)：\(reason.chinese)。")
        case let .unsupportedVersion(version):
            l.pick("Protocol version \(version) is not supported; this side speaks version \(ChangeSet.protocolVersion).",
                   "不支持协议第 \(version) 版；本方使用第 \(ChangeSet.protocolVersion) 版。")
        case let .signatureLength(length):
            l.pick("The signature is \(length) bytes; an Ed25519 signature is 64.", "签名为 \(length) 字节；Ed25519 签名应为 64 字节。")
        case .badSignature:
            l.pick("The signature does not match the change-set and the device's key.", "签名与变更集及设备密钥不符。")
        case let .clockDrift(ahead, allowed):
            l.pick("This device's clock was \(Self.duration(ahead, l)) ahead of the server's when the change was made, more than the \(Self.duration(allowed, l)) allowed; the change was not kept. Set the device's date and time right, then make the change again.",
                   "记录这项更改时，本设备的时钟比服务器快 \(Self.duration(ahead, l))，超过允许的 \(Self.duration(allowed, l))；这项更改未被保留。请校正设备的日期和时间，然后重新录入。")
        case let .integrity(record, reason):
            l.pick("\(record.type) \(record.id): \(reason.english).", "\(record.type) \(record.id)：\(reason.chinese)。")
        case let .chainGap(expected):
            l.pick("Change-sets are missing before this one; send sequence \(expected) next.",
                   "此前缺少变更集；下一个请发送序号 \(expected)。")
        case let .chainFork(sequence):
            l.pick("The device already sent a different change-set with sequence \(sequence): its history has forked.",
                   "本设备已用序号 \(sequence) 发送过另一个变更集：其历史已分叉。")
        case .chainTimeNotAfterPrevious:
            l.pick("The change-set's clock time is not after the device's previous change-set.",
                   "变更集的时间不晚于本设备上一个变更集。")
        }
    }

    /// Milliseconds as people read them: seconds, minutes, hours or days.
    static func duration(_ millis: UInt64, _ l: Language) -> String {
        let seconds = millis / 1_000
        switch seconds {
        case ..<120: return l.pick("\(seconds) s", "\(seconds) 秒")
        case ..<7_200: return l.pick("\(seconds / 60) min", "\(seconds / 60) 分钟")
        case ..<172_800: return l.pick("\(seconds / 3_600) h", "\(seconds / 3_600) 小时")
        default: return l.pick("\(seconds / 86_400) days", "\(seconds / 86_400) 天")
        }
    }
}

/// Why a field or a record was refused, for people, in English and in Chinese. Two reasons
/// are the same when their English texts are.
public struct Reason: Hashable, Sendable, CustomStringConvertible {
    public let english: String
    public let chinese: String

    public init(_ english: String, _ chinese: String) {
        self.english = english
        self.chinese = chinese
    }

    public static func == (a: Reason, b: Reason) -> Bool { a.english == b.english }
    public func hash(into hasher: inout Hasher) { hasher.combine(english) }
    public var description: String { english }
}

extension SyncError {
    /// The structured facts of the case, as listed for each code in sync-protocol.md §10.
    public var details: [String: CanonicalValue] {
        switch self {
        case let .notCanonical(inner): inner.details
        case let .invalidBase64(field): ["field": .string(field)]
        case let .invalidField(path, _): ["path": .string(path)]
        case let .unsupportedVersion(version): ["version": .integer(version)]
        case let .signatureLength(length): ["length": .integer(Int64(length))]
        case .badSignature, .chainTimeNotAfterPrevious: [:]
        case let .clockDrift(ahead, allowed):
            ["aheadMillis": .integer(Int64(clamping: ahead)), "allowedMillis": .integer(Int64(clamping: allowed))]
        case let .integrity(record, _): ["type": .string(record.type), "id": .string(record.id)]
        case let .chainGap(expected): ["expected": .integer(Int64(clamping: expected))]
        case let .chainFork(sequence): ["sequence": .integer(Int64(clamping: sequence))]
        }
    }

    /// The error in the one JSON shape of sync-protocol.md §10.
    public var report: ErrorReport {
        ErrorReport(code: code, message: message, details: details)
    }
}

extension CanonicalError {
    /// The structured facts of the case.
    public var details: [String: CanonicalValue] {
        switch self {
        case let .tooLarge(size, limit): ["size": .integer(Int64(size)), "limit": .integer(Int64(limit))]
        case let .unexpectedEnd(offset), let .unexpectedByte(offset, _), let .trailingBytes(offset),
             let .floatNotAllowed(offset), let .nonCanonicalInteger(offset), let .integerOutOfRange(offset),
             let .invalidUTF8(offset), let .notNFC(offset), let .invalidEscape(offset),
             let .unescapedControlCharacter(offset), let .invalidKey(offset), let .duplicateKey(offset, _),
             let .keysOutOfOrder(offset, _), let .tooDeep(offset):
            ["offset": .integer(Int64(offset))]
        }
    }
}

/// An error as one program reports it to another: `{"code":…,"details":{…},"message":…}`
/// (sync-protocol.md §10).
public struct ErrorReport: Hashable, Sendable, Error {
    /// Stable, dotted, lowercase; programs branch on it.
    public var code: String
    /// For people: what was wrong and what to do. Never carries personal data or secrets.
    public var message: String
    /// Structured facts of the case.
    public var details: [String: CanonicalValue]

    /// Creates a report.
    public init(code: String, message: String, details: [String: CanonicalValue] = [:]) {
        self.code = code
        self.message = message
        self.details = details
    }

    /// The report as a canonical value.
    public var canonicalValue: CanonicalValue {
        .object(["code": .string(code), "message": .string(message), "details": .object(details)])
    }

    /// Reads a report back, as a client does with a server's answer.
    public init(canonicalValue value: CanonicalValue) throws(SyncError) {
        var reader = try ObjectReader(value, path: "error")
        code = try reader.string("code")
        message = try reader.string("message")
        details = try reader.object("details")
        try reader.finish()
    }
}
