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

    /// A sentence for people, in English.
    public var message: String { message(.english) }

    /// A sentence for people, in `l`.
    public func message(_ l: Language) -> String {
        switch self {
        case let .tooLarge(size, limit): l.pick("input is \(size) bytes, over the limit of \(limit)", "输入为 \(size) 字节，超过上限 \(limit)")
        case let .unexpectedEnd(offset): l.pick("input ends early at byte \(offset)", "输入在第 \(offset) 字节处提前结束")
        case let .unexpectedByte(offset, byte):
            byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
                ? l.pick("whitespace at byte \(offset) is not allowed", "第 \(offset) 字节处不允许有空白")
                : l.pick("unexpected byte 0x\(String(byte, radix: 16)) at byte \(offset)", "第 \(offset) 字节处出现意外的字节 0x\(String(byte, radix: 16))")
        case let .trailingBytes(offset): l.pick("bytes follow the value at byte \(offset)", "第 \(offset) 字节处的值之后还有字节")
        case let .floatNotAllowed(offset):
            l.pick("a fraction or exponent at byte \(offset): only integers are allowed", "第 \(offset) 字节处有小数或指数：只允许整数")
        case let .nonCanonicalInteger(offset):
            l.pick("integer at byte \(offset) has a leading zero or is -0", "第 \(offset) 字节处的整数有前导零或为 -0")
        case let .integerOutOfRange(offset): l.pick("integer at byte \(offset) is beyond ±(2^53 − 1)", "第 \(offset) 字节处的整数超出 ±(2^53 − 1)")
        case let .invalidUTF8(offset): l.pick("invalid UTF-8 at byte \(offset)", "第 \(offset) 字节处不是有效的 UTF-8")
        case let .notNFC(offset): l.pick("string at byte \(offset) is not in Unicode NFC", "第 \(offset) 字节处的字符串不是 Unicode NFC 形式")
        case let .invalidEscape(offset): l.pick("escape at byte \(offset) is not the canonical one", "第 \(offset) 字节处的转义不是规范形式")
        case let .unescapedControlCharacter(offset):
            l.pick("control character at byte \(offset) must be escaped", "第 \(offset) 字节处的控制字符须转义")
        case let .invalidKey(offset):
            l.pick("object key at byte \(offset) is not 1–64 characters of [A-Za-z0-9_.:-]", "第 \(offset) 字节处的对象键不是 1–64 个 [A-Za-z0-9_.:-] 字符")
        case let .duplicateKey(offset, key): l.pick("key \"\(key)\" at byte \(offset) appears twice", "第 \(offset) 字节处的键“\(key)”重复出现")
        case let .keysOutOfOrder(offset, key): l.pick("key \"\(key)\" at byte \(offset) is out of order", "第 \(offset) 字节处的键“\(key)”顺序不对")
        case let .tooDeep(offset): l.pick("nesting deeper than 16 at byte \(offset)", "第 \(offset) 字节处嵌套超过 16 层")
        }
    }
}
