/// An amount of money in fen (1 yuan = 100 fen). Never a floating-point number.
public struct Money: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The amount in fen.
    public let fen: Int64

    public init(fen: Int64) {
        self.fen = fen
    }

    /// Whole yuan.
    public init(yuan: Int64) {
        fen = yuan * 100
    }

    /// Parses an amount typed in yuan: digits with at most two decimals, optionally grouped by
    /// thousands with commas ("1234.5", "1,234.50"), optionally after ¥. Full-width digits and
    /// punctuation from Chinese input methods are accepted. Anything else is an error, never a
    /// rounding; zero and negative amounts parse (as what they are) so callers can say which.
    public static func parseYuan(_ input: String) throws(DomainError) -> Money {
        let text = String(input.trimmingASCIIWhitespace.map(Self.halfWidth))
        var rest = Substring(text)
        var negative = false
        if rest.first == "-" {
            negative = true
            rest = rest.dropFirst()
        }
        if rest.first == "¥" || rest.first == "￥" { rest = rest.dropFirst() }
        if !negative, rest.first == "-" {
            negative = true
            rest = rest.dropFirst()
        }
        let parts = rest.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let integerPart = parts.first, !integerPart.isEmpty else {
            throw .amountFormat(input)
        }
        let groups = integerPart.split(separator: ",", omittingEmptySubsequences: false)
        guard groups.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) }) else { throw .amountFormat(input) }
        if groups.count > 1 {
            // Thousands separators must sit every three digits.
            guard groups[0].count <= 3, groups.dropFirst().allSatisfy({ $0.count == 3 }) else { throw .amountFormat(input) }
        }
        let digits = groups.joined()
        guard digits.count <= 13 else { throw .amountFormat(input) }
        var fen = (Int64(digits) ?? 0) * 100
        if parts.count == 2 {
            let fraction = parts[1]
            guard !fraction.isEmpty, fraction.allSatisfy(\.isASCIIDigit) else { throw .amountFormat(input) }
            guard fraction.count <= 2 else { throw .amountTooManyDecimals(input) }
            fen += (Int64(fraction) ?? 0) * (fraction.count == 1 ? 10 : 1)
        }
        return Money(fen: negative ? -fen : fen)
    }

    /// For people: ¥1,234.50 (−¥5.00 when negative).
    public var formatted: String {
        (fen < 0 ? "-¥" : "¥") + Self.grouped(fen.magnitude / 100) + "." + Self.cents(fen.magnitude % 100)
    }

    /// For files and scripts: 1234.50, no symbol, no grouping.
    public var plain: String {
        (fen < 0 ? "-" : "") + String(fen.magnitude / 100) + "." + Self.cents(fen.magnitude % 100)
    }

    public var description: String { formatted }

    public static func < (a: Money, b: Money) -> Bool { a.fen < b.fen }

    static func grouped(_ value: UInt64) -> String {
        var digits = Array(String(value))
        var index = digits.count - 3
        while index > 0 {
            digits.insert(",", at: index)
            index -= 3
        }
        return String(digits)
    }

    static func cents(_ value: UInt64) -> String {
        value < 10 ? "0\(value)" : String(value)
    }

    /// Maps full-width digits and punctuation (U+FF0C ,  U+FF0E .  U+FF10–FF19 0–9  U+FF0D -) to ASCII.
    static func halfWidth(_ c: Character) -> Character {
        guard let scalar = c.unicodeScalars.first, c.unicodeScalars.count == 1 else { return c }
        switch scalar.value {
        case 0xFF10...0xFF19, 0xFF0C, 0xFF0D, 0xFF0E:
            return Character(Unicode.Scalar(scalar.value - 0xFEE0) ?? scalar)
        default:
            return c
        }
    }
}
