/// Why bytes are not a canonical encoding, with the byte offset where the problem was found.
public enum CanonicalError: Error, Hashable, Sendable {
    case tooLarge(size: Int, limit: Int)
    case unexpectedEnd(offset: Int)
    case unexpectedByte(offset: Int, byte: UInt8)
    case trailingBytes(offset: Int)
    case floatNotAllowed(offset: Int)
    case nonCanonicalInteger(offset: Int)
    case integerOutOfRange(offset: Int)
    case invalidUTF8(offset: Int)
    case notNFC(offset: Int)
    case invalidEscape(offset: Int)
    case unescapedControlCharacter(offset: Int)
    case invalidKey(offset: Int)
    case duplicateKey(offset: Int, key: String)
    case keysOutOfOrder(offset: Int, key: String)
    case tooDeep(offset: Int)

    /// A stable code, as used in the `details.reason` of a wire error.
    public var code: String {
        switch self {
        case .tooLarge: "too_large"
        case .unexpectedEnd: "unexpected_end"
        case .unexpectedByte: "unexpected_byte"
        case .trailingBytes: "trailing_bytes"
        case .floatNotAllowed: "float"
        case .nonCanonicalInteger: "non_canonical_integer"
        case .integerOutOfRange: "integer_range"
        case .invalidUTF8: "invalid_utf8"
        case .notNFC: "not_nfc"
        case .invalidEscape: "invalid_escape"
        case .unescapedControlCharacter: "control_character"
        case .invalidKey: "invalid_key"
        case .duplicateKey: "duplicate_key"
        case .keysOutOfOrder: "key_order"
        case .tooDeep: "too_deep"
        }
    }

    /// A sentence for people.
    public var message: String {
        switch self {
        case let .tooLarge(size, limit): "input is \(size) bytes, over the limit of \(limit)"
        case let .unexpectedEnd(offset): "input ends early at byte \(offset)"
        case let .unexpectedByte(offset, byte):
            byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
                ? "whitespace at byte \(offset) is not allowed"
                : "unexpected byte 0x\(String(byte, radix: 16)) at byte \(offset)"
        case let .trailingBytes(offset): "bytes follow the value at byte \(offset)"
        case let .floatNotAllowed(offset): "a fraction or exponent at byte \(offset): only integers are allowed"
        case let .nonCanonicalInteger(offset): "integer at byte \(offset) has a leading zero or is -0"
        case let .integerOutOfRange(offset): "integer at byte \(offset) is beyond ±(2^53 − 1)"
        case let .invalidUTF8(offset): "invalid UTF-8 at byte \(offset)"
        case let .notNFC(offset): "string at byte \(offset) is not in Unicode NFC"
        case let .invalidEscape(offset): "escape at byte \(offset) is not the canonical one"
        case let .unescapedControlCharacter(offset): "control character at byte \(offset) must be escaped"
        case let .invalidKey(offset): "object key at byte \(offset) is not 1–64 characters of [A-Za-z0-9_.:-]"
        case let .duplicateKey(offset, key): "key \"\(key)\" at byte \(offset) appears twice"
        case let .keysOutOfOrder(offset, key): "key \"\(key)\" at byte \(offset) is out of order"
        case let .tooDeep(offset): "nesting deeper than 16 at byte \(offset)"
        }
    }
}
