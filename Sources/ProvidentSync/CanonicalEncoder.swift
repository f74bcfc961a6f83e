import Foundation

/// Writes `CanonicalValue`s as canonical bytes (sync-protocol.md §2).
public enum CanonicalEncoder {
    /// Encodes `value`, refusing what has no canonical spelling: a key outside the key alphabet,
    /// a string that is not NFC, an integer beyond ±(2^53 − 1), nesting deeper than 16.
    public static func encode(_ value: CanonicalValue) throws(CanonicalError) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(256)
        try write(value, into: &out, depth: 0)
        return out
    }

    static func write(_ value: CanonicalValue, into out: inout [UInt8], depth: Int) throws(CanonicalError) {
        switch value {
        case .null:
            out += Literal.null
        case let .bool(b):
            out += b ? Literal.true : Literal.false
        case let .integer(i):
            try appendInteger(i, to: &out)
        case let .string(s):
            try writeString(s, into: &out)
        case let .array(elements):
            guard depth < CanonicalRules.maxDepth else { throw .tooDeep(offset: out.count) }
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                try write(element, into: &out, depth: depth + 1)
            }
            out.append(UInt8(ascii: "]"))
        case let .object(members):
            try writeObject(members, spliced: nil, into: &out, depth: depth)
        }
    }

    /// Encodes an object whose member `key` is given as its canonical bytes, written by the
    /// caller (`appendBase64`, `appendInteger`): a feed page's thousands of entries, without a
    /// tree of values for each.
    public static func encode(_ members: [String: CanonicalValue], splicing key: String, canonical: [UInt8]) throws(CanonicalError) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(canonical.count + 256)
        try writeObject(members, spliced: (key, canonical), into: &out, depth: 0)
        return out
    }

    /// Appends `bytes` in base64 as a string: base64 has nothing to escape.
    public static func appendBase64(_ bytes: [UInt8], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        Base64.encode(bytes, appendingTo: &out)
        out.append(UInt8(ascii: "\""))
    }

    /// Appends `{"<member>":<base64 of bytes>,"signature":<base64 of signature>}`: a signed
    /// envelope (a change-set's or a document's), as its `envelopeValue` encodes.
    public static func appendEnvelope(_ member: String, bytes: [UInt8], signature: [UInt8], to out: inout [UInt8]) {
        out += #"{""#.utf8
        out += member.utf8
        out += #"":"#.utf8
        appendBase64(bytes, to: &out)
        out += #","signature":"#.utf8
        appendBase64(signature, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// Appends an integer as its digits, refusing one beyond ±(2^53 − 1).
    public static func appendInteger(_ i: Int64, to out: inout [UInt8]) throws(CanonicalError) {
        guard (-CanonicalValue.maxInteger...CanonicalValue.maxInteger).contains(i) else { throw .integerOutOfRange(offset: out.count) }
        if i < 0 { out.append(UInt8(ascii: "-")) }
        let start = out.count
        var rest = i.magnitude
        repeat {
            out.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        } while rest > 0
        out[start...].reverse()
    }

    static func writeObject(_ members: [String: CanonicalValue], spliced: (key: String, bytes: [UInt8])?, into out: inout [UInt8],
                            depth: Int) throws(CanonicalError) {
        guard depth < CanonicalRules.maxDepth else { throw .tooDeep(offset: out.count) }
        out.append(UInt8(ascii: "{"))
        var keys = Array(members.keys)
        if let spliced, members[spliced.key] == nil { keys.append(spliced.key) }
        // Keys are ASCII, so byte order, code-point order and UTF-16 order all agree.
        for (index, key) in keys.sorted(by: { UTF8Order.compare($0, $1) < 0 }).enumerated() {
            guard CanonicalRules.isValidKey(key.utf8) else { throw .invalidKey(offset: out.count) }
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            out += key.utf8
            out.append(UInt8(ascii: "\""))
            out.append(UInt8(ascii: ":"))
            if let spliced, key == spliced.key {
                out += spliced.bytes
            } else {
                // The key was just read from the dictionary, so the lookup cannot miss.
                try write(members[key] ?? .null, into: &out, depth: depth + 1)
            }
        }
        out.append(UInt8(ascii: "}"))
    }

    static func writeString(_ s: String, into out: inout [UInt8]) throws(CanonicalError) {
        var text = s
        // Runs of bytes that need no escape are copied whole: strings here reach megabytes
        // (a snapshot page's base64).
        let written = text.withUTF8 { bytes -> Bool in
            // Most strings, and all the long ones (base64), are ASCII with nothing to escape: the
            // bytes before the first one to look at are checked eight at a time and need nothing.
            let first = CanonicalRules.firstByteToLookAt(in: bytes)
            guard !bytes[first...].contains(where: { $0 >= 0x80 }) || CanonicalText.isNFC(s) else { return false }
            out.append(UInt8(ascii: "\""))
            var run = 0
            for index in first..<bytes.count {
                let byte = bytes[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<index]))
                run = index + 1
                switch byte {
                case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
                case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
                case 0x08: out += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
                case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
                case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
                case 0x0C: out += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
                case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    out += [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                            hex[Int(byte >> 4)], hex[Int(byte & 0x0f)]]
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run...]))
            out.append(UInt8(ascii: "\""))
            return true
        }
        guard written else { throw .notNFC(offset: out.count) }
    }

    enum Literal {
        static let null = Array("null".utf8)
        static let `true` = Array("true".utf8)
        static let `false` = Array("false".utf8)
    }
}

/// Unicode normalization for canonical strings.
public enum CanonicalText {
    /// Whether `s` is in Normalization Form C. ASCII text always is, which keeps the common case cheap.
    public static func isNFC(_ s: String) -> Bool {
        if s.utf8.allSatisfy({ $0 < 0x80 }) { return true }
        return s.precomposedStringWithCanonicalMapping.utf8.elementsEqual(s.utf8)
    }

    /// `s` in Normalization Form C: what text typed by people becomes before it is encoded.
    public static func nfc(_ s: String) -> String {
        isNFC(s) ? s : s.precomposedStringWithCanonicalMapping
    }
}
