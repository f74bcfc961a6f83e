/// Reads canonical bytes back into `CanonicalValue`s, rejecting every other spelling.
///
/// The decoder is the gatekeeper for bytes from the network: it never traps, bounds its work
/// by `limit` and the depth limit, and reports the first problem with its byte offset. A value it
/// accepts re-encodes to exactly the input bytes.
public struct CanonicalDecoder {
    /// Decodes `bytes`, which must hold exactly one canonical value and nothing after it.
    public static func decode(_ bytes: [UInt8], limit: Int) throws(CanonicalError) -> CanonicalValue {
        guard bytes.count <= limit else { throw .tooLarge(size: bytes.count, limit: limit) }
        return try bytes.withUnsafeBufferPointer { buffer throws(CanonicalError) in
            var decoder = CanonicalDecoder(buffer: buffer)
            let value = try decoder.parseValue(depth: 0)
            guard decoder.position == buffer.count else { throw .trailingBytes(offset: decoder.position) }
            return value
        }
    }

    private let buffer: UnsafeBufferPointer<UInt8>
    private var position = 0

    private init(buffer: UnsafeBufferPointer<UInt8>) {
        self.buffer = buffer
    }

    private func peek() throws(CanonicalError) -> UInt8 {
        guard position < buffer.count else { throw .unexpectedEnd(offset: position) }
        return buffer[position]
    }

    private mutating func expect(_ byte: UInt8) throws(CanonicalError) {
        let actual = try peek()
        guard actual == byte else { throw .unexpectedByte(offset: position, byte: actual) }
        position += 1
    }

    private mutating func expectLiteral(_ literal: [UInt8]) throws(CanonicalError) {
        for byte in literal { try expect(byte) }
    }

    private mutating func parseValue(depth: Int) throws(CanonicalError) -> CanonicalValue {
        let byte = try peek()
        switch byte {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"):
            try expectLiteral(CanonicalEncoder.Literal.true)
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral(CanonicalEncoder.Literal.false)
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral(CanonicalEncoder.Literal.null)
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .integer(try parseInteger())
        default:
            throw .unexpectedByte(offset: position, byte: byte)
        }
    }

    private mutating func parseObject(depth: Int) throws(CanonicalError) -> CanonicalValue {
        guard depth < CanonicalRules.maxDepth else { throw .tooDeep(offset: position) }
        try expect(UInt8(ascii: "{"))
        if try peek() == UInt8(ascii: "}") {
            position += 1
            return .object([:])
        }
        // Collected in order, then hashed once into a table of the right size: growing the
        // table member by member rehashed it several times for every record.
        var members: [(String, CanonicalValue)] = []
        var previousKey: UnsafeBufferPointer<UInt8>.SubSequence?
        while true {
            let keyOffset = position
            try expect(UInt8(ascii: "\""))
            let keyStart = position
            while try peek() != UInt8(ascii: "\"") {
                guard CanonicalRules.isKeyByte(buffer[position]) else { throw .invalidKey(offset: keyOffset) }
                position += 1
            }
            let key = buffer[keyStart..<position]
            position += 1
            guard (1...64).contains(key.count) else { throw .invalidKey(offset: keyOffset) }
            let keyString = String(decoding: key, as: UTF8.self)
            if let previousKey {
                if previousKey.elementsEqual(key) { throw .duplicateKey(offset: keyOffset, key: keyString) }
                if !previousKey.lexicographicallyPrecedes(key) { throw .keysOutOfOrder(offset: keyOffset, key: keyString) }
            }
            previousKey = key
            try expect(UInt8(ascii: ":"))
            members.append((keyString, try parseValue(depth: depth + 1)))
            let next = try peek()
            position += 1
            // The keys were checked in strictly increasing order: no two are the same.
            if next == UInt8(ascii: "}") { return .object(Dictionary(uniqueKeysWithValues: members)) }
            guard next == UInt8(ascii: ",") else { throw .unexpectedByte(offset: position - 1, byte: next) }
        }
    }

    private mutating func parseArray(depth: Int) throws(CanonicalError) -> CanonicalValue {
        guard depth < CanonicalRules.maxDepth else { throw .tooDeep(offset: position) }
        try expect(UInt8(ascii: "["))
        var elements: [CanonicalValue] = []
        if try peek() == UInt8(ascii: "]") {
            position += 1
            return .array(elements)
        }
        while true {
            elements.append(try parseValue(depth: depth + 1))
            let next = try peek()
            position += 1
            if next == UInt8(ascii: "]") { return .array(elements) }
            guard next == UInt8(ascii: ",") else { throw .unexpectedByte(offset: position - 1, byte: next) }
        }
    }

    private mutating func parseInteger() throws(CanonicalError) -> Int64 {
        let start = position
        var negative = false
        if buffer[position] == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        let digitsStart = position
        var magnitude: Int64 = 0
        while position < buffer.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(buffer[position]) {
            let digit = Int64(buffer[position] - UInt8(ascii: "0"))
            // Stop accumulating once past the limit; the range check below reports it.
            if magnitude <= CanonicalValue.maxInteger { magnitude = magnitude * 10 + digit }
            position += 1
        }
        let digitCount = position - digitsStart
        guard digitCount > 0 else {
            if position < buffer.count { throw .unexpectedByte(offset: position, byte: buffer[position]) }
            throw .unexpectedEnd(offset: position)
        }
        if position < buffer.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(buffer[position]) {
            throw .floatNotAllowed(offset: start)
        }
        if buffer[digitsStart] == UInt8(ascii: "0"), digitCount > 1 || negative {
            throw .nonCanonicalInteger(offset: start)
        }
        guard magnitude <= CanonicalValue.maxInteger else { throw .integerOutOfRange(offset: start) }
        return negative ? -magnitude : magnitude
    }

    private mutating func parseString() throws(CanonicalError) -> String {
        let start = position
        try expect(UInt8(ascii: "\""))
        // Fast path: printable ASCII up to the closing quote, no escapes (base64, ids, codes),
        // looked through eight bytes at a time.
        let end = position + CanonicalRules.firstByteToLookAt(in: UnsafeBufferPointer(rebasing: buffer[position...]))
        if end < buffer.count, buffer[end] == UInt8(ascii: "\"") {
            let text = String(decoding: UnsafeBufferPointer(rebasing: buffer[position..<end]), as: UTF8.self)
            position = end + 1
            return text
        }
        var bytes = Array(buffer[position..<end])
        position = end
        var isASCII = true
        while true {
            let byte = try peek()
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                let s = String(decoding: bytes, as: UTF8.self)
                if !isASCII, !CanonicalText.isNFC(s) { throw .notNFC(offset: start) }
                return s
            case UInt8(ascii: "\\"):
                bytes.append(try parseEscape())
            case 0x00..<0x20:
                throw .unescapedControlCharacter(offset: position)
            case 0x20..<0x80:
                bytes.append(byte)
                position += 1
            default:
                isASCII = false
                try copyUTF8Scalar(into: &bytes)
            }
        }
    }

    /// Reads one escape; only the spellings the encoder writes are accepted.
    private mutating func parseEscape() throws(CanonicalError) -> UInt8 {
        let offset = position
        position += 1
        let kind = try peek()
        position += 1
        switch kind {
        case UInt8(ascii: "\""): return UInt8(ascii: "\"")
        case UInt8(ascii: "\\"): return UInt8(ascii: "\\")
        case UInt8(ascii: "b"): return 0x08
        case UInt8(ascii: "t"): return 0x09
        case UInt8(ascii: "n"): return 0x0A
        case UInt8(ascii: "f"): return 0x0C
        case UInt8(ascii: "r"): return 0x0D
        case UInt8(ascii: "u"):
            guard position + 4 <= buffer.count else { throw .unexpectedEnd(offset: buffer.count) }
            let digits = Array(buffer[position..<position + 4])
            position += 4
            guard digits[0] == UInt8(ascii: "0"), digits[1] == UInt8(ascii: "0"),
                  let high = Self.lowerHex(digits[2]), let low = Self.lowerHex(digits[3]) else {
                throw .invalidEscape(offset: offset)
            }
            let value = high << 4 | low
            // \uXXXX is only for control characters without a short form.
            guard value < 0x20, ![0x08, 0x09, 0x0A, 0x0C, 0x0D].contains(value) else {
                throw .invalidEscape(offset: offset)
            }
            return value
        default:
            throw .invalidEscape(offset: offset)
        }
    }

    private static func lowerHex(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    /// Validates one multi-byte UTF-8 sequence (RFC 3629: no overlong forms, no surrogates,
    /// nothing above U+10FFFF) and copies it.
    private mutating func copyUTF8Scalar(into bytes: inout [UInt8]) throws(CanonicalError) {
        let offset = position
        let lead = buffer[position]
        let length: Int
        var lowerBound: UInt8 = 0x80
        var upperBound: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; lowerBound = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; upperBound = 0x9F
        case 0xF0: length = 4; lowerBound = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; upperBound = 0x8F
        default: throw .invalidUTF8(offset: offset)
        }
        guard position + length <= buffer.count else { throw .invalidUTF8(offset: offset) }
        let second = buffer[position + 1]
        guard (lowerBound...upperBound).contains(second) else { throw .invalidUTF8(offset: offset) }
        for index in 2..<max(length, 2) where !(0x80...0xBF).contains(buffer[position + index]) {
            throw .invalidUTF8(offset: offset)
        }
        bytes.append(contentsOf: buffer[position..<position + length])
        position += length
    }
}
