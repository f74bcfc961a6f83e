/// A value in Provident's canonical encoding: a strict subset of JSON (RFC 8259) in which every
/// value has exactly one byte spelling.
///
/// The subset (sync-protocol.md §2): no whitespace; integers only, within ±(2^53 − 1) so any JSON
/// parser reads them exactly; strings in UTF-8 NFC with the minimal escapes of RFC 8785; object
/// keys drawn from `[A-Za-z0-9_.:-]`, unique, in ascending byte order.
public enum CanonicalValue: Hashable, Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case string(String)
    case array([CanonicalValue])
    case object([String: CanonicalValue])

    /// The largest magnitude an integer may have: 2^53 − 1, exact in every JSON implementation.
    public static let maxInteger: Int64 = 9_007_199_254_740_991

    /// The string, if this is one.
    public var stringValue: String? {
        if case let .string(s) = self { s } else { nil }
    }

    /// The integer, if this is one.
    public var integerValue: Int64? {
        if case let .integer(i) = self { i } else { nil }
    }

    /// The Boolean, if this is one.
    public var boolValue: Bool? {
        if case let .bool(b) = self { b } else { nil }
    }

    /// The members, if this is an object.
    public var objectValue: [String: CanonicalValue]? {
        if case let .object(o) = self { o } else { nil }
    }

    /// The elements, if this is an array.
    public var arrayValue: [CanonicalValue]? {
        if case let .array(a) = self { a } else { nil }
    }

    /// The name of the JSON type, for error messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .integer: "integer"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

extension CanonicalValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: CanonicalValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, CanonicalValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(nilLiteral: ()) { self = .null }
}

/// Rules shared by the encoder and decoder.
enum CanonicalRules {
    /// The index of the first byte a string cannot be written with as it is: a control character,
    /// `"`, `\\`, or a byte of a character beyond ASCII (whose text must be checked for NFC);
    /// `bytes.count` when there is none.
    static func firstByteToLookAt(in bytes: UnsafeBufferPointer<UInt8>) -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        var index = 0
        while index + 8 <= bytes.count {
            let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
            // Whether some byte is below 0x20, or is 0x22 or 0x5C (a zero byte after the XOR),
            // or has its high bit set: exact for the word as a whole, which is all that is asked.
            let quote = word ^ (ones &* 0x22), backslash = word ^ (ones &* 0x5C)
            let below = (word &- ones &* 0x20) & ~word
            let zeros = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash)
            if (word | below | zeros) & highs != 0 { break }
            index += 8
        }
        while index < bytes.count {
            let byte = base[index]
            if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte >= 0x80 { return index }
            index += 1
        }
        return bytes.count
    }

    /// Whether `key` is a valid object key: 1…64 bytes of `[A-Za-z0-9_.:-]`.
    static func isValidKey(_ key: some Collection<UInt8>) -> Bool {
        guard (1...64).contains(key.count) else { return false }
        return key.allSatisfy(isKeyByte)
    }

    static func isKeyByte(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "."),
             UInt8(ascii: ":"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }

    /// The deepest nesting of arrays and objects accepted.
    static let maxDepth = 16
}
