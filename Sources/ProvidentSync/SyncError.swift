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
    case invalidField(path: String, reason: String)
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
    case integrity(record: RecordKey, reason: String)
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

    /// A sentence for people: what is wrong.
    public var message: String {
        switch self {
        case let .notCanonical(inner):
            "Not canonical: \(inner.message)."
        case let .invalidBase64(field):
            "\(field) is not canonical base64 (RFC 4648 §4, with padding, no line breaks)."
        case let .invalidField(path, reason):
            "\(path): \(reason)."
        case let .unsupportedVersion(version):
            "Protocol version \(version) is not supported; this side speaks version \(ChangeSet.protocolVersion)."
        case let .signatureLength(length):
            "The signature is \(length) bytes; an Ed25519 signature is 64."
        case .badSignature:
            "The signature does not match the change-set and the device's key."
        case let .clockDrift(ahead, allowed):
            "The change-set's clock is \(ahead / 1000) s ahead of the receiver's, more than the \(allowed / 1000) s allowed; check the device's date and time."
        case let .integrity(record, reason):
            "\(record.type) \(record.id): \(reason)."
        case let .chainGap(expected):
            "Change-sets are missing before this one; send sequence \(expected) next."
        case let .chainFork(sequence):
            "The device already sent a different change-set with sequence \(sequence): its history has forked."
        case .chainTimeNotAfterPrevious:
            "The change-set's clock time is not after the device's previous change-set."
        }
    }
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
