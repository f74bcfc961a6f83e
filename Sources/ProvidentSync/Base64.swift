/// Standard base64 (RFC 4648 §4) with padding, in its one canonical spelling.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let reverse: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, c) in alphabet.enumerated() { table[Int(c)] = UInt8(index) }
        return table
    }()

    /// Encodes bytes.
    public static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= bytes.count {
            let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
            index += 3
        }
        let rest = bytes.count - index
        if rest == 1 {
            let n = UInt32(bytes[index]) << 16
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], UInt8(ascii: "="), UInt8(ascii: "=")]
        } else if rest == 2 {
            let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], UInt8(ascii: "=")]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes canonical base64; nil for a wrong length, a character outside the alphabet,
    /// misplaced padding, or non-zero padding bits (which would give a second spelling).
    public static func decode(_ text: String) -> [UInt8]? {
        let input = Array(text.utf8)
        guard input.count % 4 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(input.count / 4 * 3)
        var index = 0
        while index < input.count {
            let isLast = index + 4 == input.count
            let c0 = reverse[Int(input[index])], c1 = reverse[Int(input[index + 1])]
            guard c0 != 0xFF, c1 != 0xFF else { return nil }
            let p2 = input[index + 2] == UInt8(ascii: "="), p3 = input[index + 3] == UInt8(ascii: "=")
            if isLast && p2 {
                guard p3, c1 & 0x0F == 0 else { return nil }
                out.append(c0 << 2 | c1 >> 4)
            } else if isLast && p3 {
                let c2 = reverse[Int(input[index + 2])]
                guard c2 != 0xFF, c2 & 0x03 == 0 else { return nil }
                out += [c0 << 2 | c1 >> 4, (c1 & 0x0F) << 4 | c2 >> 2]
            } else {
                let c2 = reverse[Int(input[index + 2])], c3 = reverse[Int(input[index + 3])]
                guard c2 != 0xFF, c3 != 0xFF else { return nil }
                out += [c0 << 2 | c1 >> 4, (c1 & 0x0F) << 4 | c2 >> 2, (c2 & 0x03) << 6 | c3]
            }
            index += 4
        }
        return out
    }
}
