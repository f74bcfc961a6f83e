/// Standard base64 (RFC 4648 §4) with padding, in its one canonical spelling.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let reverse: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, c) in alphabet.enumerated() { table[Int(c)] = UInt8(index) }
        return table
    }()

    /// Encodes bytes. (Written into the string's own storage: a snapshot page is megabytes.)
    public static func encode(_ bytes: [UInt8]) -> String {
        let length = encodedLength(bytes.count)
        guard length > 0 else { return "" }
        return String(unsafeUninitializedCapacity: length) { out in
            write(bytes, into: out)
            return length
        }
    }

    /// Appends the encoding of `bytes` to `out`, with no string in between (a feed page's
    /// thousands of change-sets).
    public static func encode(_ bytes: [UInt8], appendingTo out: inout [UInt8]) {
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: encodedLength(bytes.count)))
        out.withUnsafeMutableBufferPointer { all in write(bytes, into: UnsafeMutableBufferPointer(rebasing: all[start...])) }
    }

    static func encodedLength(_ count: Int) -> Int { (count + 2) / 3 * 4 }

    /// Writes the encoding of `bytes` into `out`, which holds exactly `encodedLength` bytes.
    private static func write(_ bytes: [UInt8], into out: UnsafeMutableBufferPointer<UInt8>) {
        alphabet.withUnsafeBufferPointer { alphabet in
            bytes.withUnsafeBufferPointer { input in
                var index = 0, at = 0
                while index + 3 <= input.count {
                    let n = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2])
                    out[at] = alphabet[Int(n >> 18 & 63)]
                    out[at + 1] = alphabet[Int(n >> 12 & 63)]
                    out[at + 2] = alphabet[Int(n >> 6 & 63)]
                    out[at + 3] = alphabet[Int(n & 63)]
                    index += 3
                    at += 4
                }
                let rest = input.count - index
                if rest > 0 {
                    let n = UInt32(input[index]) << 16 | (rest == 2 ? UInt32(input[index + 1]) << 8 : 0)
                    out[at] = alphabet[Int(n >> 18 & 63)]
                    out[at + 1] = alphabet[Int(n >> 12 & 63)]
                    out[at + 2] = rest == 2 ? alphabet[Int(n >> 6 & 63)] : UInt8(ascii: "=")
                    out[at + 3] = UInt8(ascii: "=")
                }
            }
        }
    }

    /// Decodes canonical base64; nil for a wrong length, a character outside the alphabet,
    /// misplaced padding, or non-zero padding bits (which would give a second spelling).
    public static func decode(_ text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8 { input -> [UInt8]? in
            guard input.count % 4 == 0 else { return nil }
            guard !input.isEmpty else { return [] }
            let padding = input[input.count - 1] == UInt8(ascii: "=") ? (input[input.count - 2] == UInt8(ascii: "=") ? 2 : 1) : 0
            let length = input.count / 4 * 3 - padding
            var failed = false
            let out = [UInt8](unsafeUninitializedCapacity: length) { out, count in
                reverse.withUnsafeBufferPointer { reverse in
                    var index = 0, at = 0
                    // Every group but the last has no padding.
                    while index + 4 < input.count {
                        let c0 = reverse[Int(input[index])], c1 = reverse[Int(input[index + 1])]
                        let c2 = reverse[Int(input[index + 2])], c3 = reverse[Int(input[index + 3])]
                        guard (c0 | c1 | c2 | c3) != 0xFF, c0 < 64, c1 < 64, c2 < 64, c3 < 64 else { failed = true; return }
                        out[at] = c0 << 2 | c1 >> 4
                        out[at + 1] = (c1 & 0x0F) << 4 | c2 >> 2
                        out[at + 2] = (c2 & 0x03) << 6 | c3
                        index += 4
                        at += 3
                    }
                    let c0 = reverse[Int(input[index])], c1 = reverse[Int(input[index + 1])]
                    guard c0 != 0xFF, c1 != 0xFF else { failed = true; return }
                    switch padding {
                    case 2:
                        guard c1 & 0x0F == 0 else { failed = true; return }
                        out[at] = c0 << 2 | c1 >> 4
                    case 1:
                        let c2 = reverse[Int(input[index + 2])]
                        guard c2 != 0xFF, c2 & 0x03 == 0 else { failed = true; return }
                        out[at] = c0 << 2 | c1 >> 4
                        out[at + 1] = (c1 & 0x0F) << 4 | c2 >> 2
                    default:
                        let c2 = reverse[Int(input[index + 2])], c3 = reverse[Int(input[index + 3])]
                        guard c2 != 0xFF, c3 != 0xFF else { failed = true; return }
                        out[at] = c0 << 2 | c1 >> 4
                        out[at + 1] = (c1 & 0x0F) << 4 | c2 >> 2
                        out[at + 2] = (c2 & 0x03) << 6 | c3
                    }
                }
                count = failed ? 0 : length
            }
            return failed ? nil : out
        }
    }
}
