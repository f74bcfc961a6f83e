/// A mainland resident identity number (GB 11643-1999), 18 characters.
///
/// Six-digit region code, birth date YYYYMMDD, three-digit sequence, check character
/// "10X98765432"[Σ(dᵢ·wᵢ) mod 11] with weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2.
public struct ResidentID: Hashable, Sendable {
    /// The 18 characters, with a final X in upper case.
    public let value: String
    /// The birth date written in the number.
    public let birthDate: CivilDate

    static let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    static let checkCharacters = Array("10X98765432")

    /// Checks a number as typed (spaces around it and a lower-case x are accepted), in this
    /// order: shape, birth date, check character, birth date not after `today`.
    public init(_ text: String, today: CivilDate) throws(DomainError) {
        let characters = Array(text.trimmingASCIIWhitespace.uppercased())
        guard characters.count == 18, characters[0..<17].allSatisfy(\.isASCIIDigit),
              characters[17].isASCIIDigit || characters[17] == "X" else { throw .idNumberFormat }
        let digits = characters[0..<17].map { Int(String($0)) ?? 0 }
        let year = digits[6...9].reduce(0) { $0 * 10 + $1 }
        let month = digits[10] * 10 + digits[11]
        let day = digits[12] * 10 + digits[13]
        guard year >= 1900, let birth = CivilDate(year: year, month: month, day: day) else {
            throw .idNumberBirthDate("\(year)-\(CivilDate.pad(month, 2))-\(CivilDate.pad(day, 2))")
        }
        let sum = zip(digits, Self.weights).reduce(0) { $0 + $1.0 * $1.1 }
        guard Self.checkCharacters[sum % 11] == characters[17] else { throw .idNumberCheck }
        guard birth <= today else { throw .idNumberBirthInFuture }
        value = String(characters)
        birthDate = birth
    }

    /// Re-reads a number stored by this program (already checked when it was entered).
    public init?(stored text: String) {
        guard text.count == 18, let birth = CivilDate(year: Int(text.dropFirst(6).prefix(4)) ?? 0,
                                    month: Int(text.dropFirst(10).prefix(2)) ?? 0,
                                    day: Int(text.dropFirst(12).prefix(2)) ?? 0) else { return nil }
        value = text
        birthDate = birth
    }

    /// The age in whole years on `date`.
    public func age(on date: CivilDate) -> Int {
        birthDate.yearsUntil(date)
    }

    /// The number as it may be shown or logged: first four and last four characters.
    public var masked: String {
        Self.mask(value)
    }

    /// Masks any ID number: 3604**********0071.
    public static func mask(_ value: String) -> String {
        guard value.count > 8 else { return String(repeating: "*", count: value.count) }
        return String(value.prefix(4)) + String(repeating: "*", count: value.count - 8) + String(value.suffix(4))
    }
}

/// A unified social credit code (GB 32100-2015), 18 characters over the 31 symbols
/// 0-9 A-H J-N P-R T U W-Y.
public struct CreditCode: Hashable, Sendable {
    /// The 18 characters, upper case.
    public let value: String

    static let alphabet = Array("0123456789ABCDEFGHJKLMNPQRTUWXY")
    static let weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

    /// Checks a code as typed (spaces around it and lower case accepted).
    public init(_ text: String) throws(DomainError) {
        let characters = Array(text.trimmingASCIIWhitespace.uppercased())
        guard characters.count == 18 else { throw .creditCodeFormat }
        var values: [Int] = []
        for c in characters {
            guard let index = Self.alphabet.firstIndex(of: c) else { throw .creditCodeFormat }
            values.append(index)
        }
        let sum = zip(values[0..<17], Self.weights).reduce(0) { $0 + $1.0 * $1.1 }
        guard (31 - sum % 31) % 31 == values[17] else { throw .creditCodeCheck }
        value = String(characters)
    }
}

/// A mainland mobile number: 11 digits, `1[3-9]` then nine digits.
public struct MobileNumber: Hashable, Sendable {
    /// The 11 digits.
    public let value: String

    /// Accepts the number with or without a +86 (or 0086) prefix, and with spaces or hyphens
    /// between groups, as people write it.
    public init(_ text: String) throws(DomainError) {
        var digits = String(text.trimmingASCIIWhitespace.map(Money.halfWidth).filter { $0 != " " && $0 != "-" })
        if digits.hasPrefix("+86") {
            digits.removeFirst(3)
        } else if digits.hasPrefix("0086") {
            digits.removeFirst(4)
        }
        let characters = Array(digits)
        guard characters.count == 11, characters.allSatisfy(\.isASCIIDigit), characters[0] == "1",
              ("3"..."9").contains(characters[1]) else { throw .mobileInvalid }
        value = digits
    }

    /// The number as it may be shown or logged: 138****8000.
    public var masked: String { Self.mask(value) }

    /// Masks any phone number, keeping the first three and last four digits.
    public static func mask(_ value: String) -> String {
        guard value.count > 7 else { return String(repeating: "*", count: value.count) }
        return String(value.prefix(3)) + String(repeating: "*", count: value.count - 7) + String(value.suffix(4))
    }
}

/// The payment reference code a worker writes in the bank-transfer memo so the office can match
/// the bank line to the deposit: `PV`, 12 random symbols and a check symbol, over the 31-symbol
/// alphabet of the credit code (no I, O, S, V, Z, which people misread).
///
/// Check symbol: alphabet[(31 − Σ vᵢ·(i+2) mod 31) mod 31] over the 12 random symbols, i from 0.
/// 31 is prime and the weights 2…13 are distinct, so any single wrong symbol and any swap of two
/// adjacent symbols is caught.
public struct ReferenceCode: Hashable, Sendable, CustomStringConvertible {
    /// The 15 characters.
    public let value: String

    static let prefix = "PV"
    static let randomCount = 12

    /// Makes a code from 12 random bytes (the caller supplies the randomness).
    public init(randomBytes: [UInt8]) {
        precondition(randomBytes.count >= Self.randomCount, "a reference code needs 12 random bytes")
        // 256 = 8·31 + 8, so symbols 0–7 come up 9 times in 256 and the others 8: a slight
        // unevenness that leaves about 2^59 equally likely codes, ample against collisions.
        let symbols = randomBytes.prefix(Self.randomCount).map { CreditCode.alphabet[Int($0) % 31] }
        value = Self.prefix + String(symbols) + String(CreditCode.alphabet[Self.check(symbols.map { Self.index($0) })])
    }

    /// Checks a code as typed: upper or lower case, with or without spaces or hyphens.
    public init(_ text: String) throws(DomainError) {
        // Every deposit of a push has its code checked in the server's write transaction, so the
        // code is read as bytes: ASCII (nearly every code) is put in upper case byte by byte,
        // anything else by Unicode's rules first; a byte beyond ASCII is no symbol of a code.
        let typed = text.utf8.allSatisfy { $0 < 0x80 } ? text : text.uppercased()
        var symbols: [UInt8] = []
        symbols.reserveCapacity(Self.prefix.count + Self.randomCount + 1)
        var values: [Int] = []
        values.reserveCapacity(Self.randomCount + 1)
        for byte in typed.utf8 where byte != UInt8(ascii: " ") && byte != UInt8(ascii: "-") {
            let upper = (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) ? byte - 32 : byte
            symbols.append(upper)
            guard symbols.count > Self.prefix.count else { continue }
            guard upper < 0x80, let index = Self.indexes[Int(upper)] else { throw .referenceFormat }
            values.append(index)
        }
        guard symbols.count == Self.prefix.count + Self.randomCount + 1, symbols.starts(with: Self.prefix.utf8) else { throw .referenceFormat }
        guard Self.check(Array(values.prefix(Self.randomCount))) == values[Self.randomCount] else { throw .referenceCheck }
        value = String(decoding: symbols, as: UTF8.self)
    }

    public var description: String { value }

    static func index(_ c: Character) -> Int {
        CreditCode.alphabet.firstIndex(of: c) ?? 0
    }

    /// The alphabet's index of each ASCII byte that is in it.
    private static let indexes: [Int?] = (0..<128).map { byte in CreditCode.alphabet.firstIndex(of: Character(Unicode.Scalar(UInt8(byte)))) }

    static func check(_ values: [Int]) -> Int {
        let sum = values.enumerated().reduce(0) { $0 + $1.element * ($1.offset + 2) }
        return (31 - sum % 31) % 31
    }
}
