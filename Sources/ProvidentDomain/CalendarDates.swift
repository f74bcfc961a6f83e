import ProvidentSync

/// A calendar date without a time (proleptic Gregorian).
public struct CivilDate: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Creates a date; nil unless it exists (month 1–12, day within the month, year 1–9999).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
              (1...CivilDate.daysIn(month: month, year: year)).contains(day) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYY-MM-DD`.
    public init?(iso text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              parts.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }),
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]) else { return nil }
        self.init(year: y, month: m, day: d)
    }

    /// `YYYY-MM-DD`.
    public var iso: String {
        "\(Self.pad(year, 4))-\(Self.pad(month, 2))-\(Self.pad(day, 2))"
    }

    public var description: String { iso }

    /// The month this date falls in.
    public var period: Period { Period(unchecked: year, month) }

    /// Days since 1970-01-01 (negative before).
    public var daysSinceEpoch: Int {
        Self.daysFor(year: year, month: month, day: day)
    }

    /// The date `days` after 1970-01-01.
    public init(daysSinceEpoch days: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        year = yoe + era * 400 + (m <= 2 ? 1 : 0)
        month = m
        day = d
    }

    /// The date `n` days later (earlier when negative).
    public func adding(days n: Int) -> CivilDate {
        CivilDate(daysSinceEpoch: daysSinceEpoch + n)
    }

    /// Whole years from `self` (a birth date) to `date`: the age on that date.
    public func yearsUntil(_ date: CivilDate) -> Int {
        var years = date.year - year
        if (date.month, date.day) < (month, day) { years -= 1 }
        return years
    }

    public static func < (a: CivilDate, b: CivilDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    static func isLeap(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

/// A calendar month, `YYYY-MM`: the period a monthly deposit pays for.
public struct Period: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let year: Int
    public let month: Int

    init(unchecked year: Int, _ month: Int) {
        self.year = year
        self.month = month
    }

    /// Creates a period; nil unless month is 1–12 and year 1–9999.
    public init?(year: Int, month: Int) {
        guard (1...9999).contains(year), (1...12).contains(month) else { return nil }
        self.init(unchecked: year, month)
    }

    /// Parses `YYYY-MM`; also accepts `YYYY/MM` and `YYYYMM`, which people type.
    public init?(_ text: String) {
        var characters = Array(text.trimmingASCIIWhitespace)
        if characters.count == 7, characters[4] == "-" || characters[4] == "/" { characters.remove(at: 4) }
        guard characters.count == 6, characters.allSatisfy(\.isASCIIDigit),
              let y = Int(String(characters[0..<4])), let m = Int(String(characters[4..<6])) else { return nil }
        self.init(year: y, month: m)
    }

    /// `YYYY-MM`.
    public var iso: String { "\(CivilDate.pad(year, 4))-\(CivilDate.pad(month, 2))" }

    public var description: String { iso }

    /// Months since January of year 0, for arithmetic.
    public var ordinal: Int { year * 12 + (month - 1) }

    /// The period from its ordinal.
    public init(ordinal: Int) {
        self.init(unchecked: ordinal / 12, ordinal % 12 + 1)
    }

    /// The period `n` months later (earlier when negative).
    public func adding(months n: Int) -> Period { Period(ordinal: ordinal + n) }

    /// The first day of the month.
    public var firstDay: CivilDate { CivilDate(daysSinceEpoch: CivilDate.daysFor(year: year, month: month, day: 1)) }

    public static func < (a: Period, b: Period) -> Bool { a.ordinal < b.ordinal }
}

extension CivilDate {
    /// Howard Hinnant's days_from_civil: days since 1970-01-01 of a valid date.
    static func daysFor(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}

/// An instant, stored as milliseconds since the Unix epoch in UTC and shown in China Standard
/// Time (Asia/Shanghai, UTC+8; China has kept no daylight saving time since 1991).
public struct Instant: Hashable, Comparable, Sendable {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public let millisSinceEpoch: Int64

    /// The offset of Asia/Shanghai from UTC.
    public static let shanghaiOffsetMillis: Int64 = 8 * 3_600_000

    public init(millisSinceEpoch: Int64) {
        self.millisSinceEpoch = millisSinceEpoch
    }

    /// The calendar date in Shanghai.
    public var shanghaiDate: CivilDate {
        CivilDate(daysSinceEpoch: Int(Self.floorDiv(millisSinceEpoch + Self.shanghaiOffsetMillis, 86_400_000)))
    }

    /// `YYYY-MM-DD HH:MM` in Shanghai time, for people.
    public var shanghaiDisplay: String {
        let local = millisSinceEpoch + Self.shanghaiOffsetMillis
        let minutes = Int(Self.floorDiv(local, 60_000) % (24 * 60))
        return "\(shanghaiDate.iso) \(CivilDate.pad(minutes / 60, 2)):\(CivilDate.pad(minutes % 60, 2))"
    }

    /// `YYYY-MM-DDTHH:MM:SS.sssZ` in UTC: the stored spelling.
    public var utcISO: String {
        let date = CivilDate(daysSinceEpoch: Int(Self.floorDiv(millisSinceEpoch, 86_400_000)))
        let millis = Int(millisSinceEpoch - Int64(date.daysSinceEpoch) * 86_400_000)
        let seconds = millis / 1_000
        guard (0...9_999).contains(date.year) else {
            return "\(date.iso)T\(CivilDate.pad(seconds / 3_600, 2)):\(CivilDate.pad(seconds / 60 % 60, 2)):"
                + "\(CivilDate.pad(seconds % 60, 2)).\(CivilDate.pad(millis % 1_000, 3))Z"
        }
        // Written digit by digit: instants are formatted for every record stored.
        return String(unsafeUninitializedCapacity: 24) { buffer in
            func put(_ value: Int, _ width: Int, at offset: Int) {
                var value = value
                for index in stride(from: offset + width - 1, through: offset, by: -1) {
                    buffer[index] = UInt8(48 + value % 10)
                    value /= 10
                }
            }
            put(date.year, 4, at: 0); buffer[4] = 45; put(date.month, 2, at: 5); buffer[7] = 45; put(date.day, 2, at: 8)
            buffer[10] = 84; put(seconds / 3_600, 2, at: 11); buffer[13] = 58; put(seconds / 60 % 60, 2, at: 14); buffer[16] = 58
            put(seconds % 60, 2, at: 17); buffer[19] = 46; put(millis % 1_000, 3, at: 20); buffer[23] = 90
            return 24
        }
    }

    /// Parses `YYYY-MM-DDTHH:MM:SSZ`, with or without `.sss` milliseconds.
    public init?(utcISO text: String) {
        if let fast = Self.parseStored(text) {
            self = fast
            return
        }
        guard text.hasSuffix("Z"), let t = text.firstIndex(of: "T"), let date = CivilDate(iso: String(text[..<t])) else { return nil }
        var time = String(text[text.index(after: t)..<text.index(before: text.endIndex)])
        var millis = 0
        if let dot = time.firstIndex(of: ".") {
            let fraction = time[time.index(after: dot)...]
            guard fraction.count == 3, fraction.allSatisfy(\.isASCIIDigit), let value = Int(fraction) else { return nil }
            millis = value
            time = String(time[..<dot])
        }
        let parts = time.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCIIDigit) }),
              let h = Int(parts[0]), let m = Int(parts[1]), let s = Int(parts[2]), h < 24, m < 60, s < 60 else { return nil }
        millisSinceEpoch = Int64(date.daysSinceEpoch) * 86_400_000 + Int64((h * 3_600 + m * 60 + s) * 1_000 + millis)
    }

    public static func < (a: Instant, b: Instant) -> Bool { a.millisSinceEpoch < b.millisSinceEpoch }

    /// The stored spelling, `YYYY-MM-DDTHH:MM:SS.sssZ`, read straight from its bytes; nil for
    /// anything else (which the general parser then judges).
    static func parseStored(_ text: String) -> Instant? {
        var text = text
        return text.withUTF8 { bytes -> Instant? in
            guard bytes.count == 24, bytes[4] == 45, bytes[7] == 45, bytes[10] == 84, bytes[13] == 58, bytes[16] == 58, bytes[19] == 46,
                  bytes[23] == 90 else { return nil }
            func number(_ offset: Int, _ width: Int) -> Int? {
                var value = 0
                for index in offset..<(offset + width) {
                    let digit = Int(bytes[index]) - 48
                    guard (0...9).contains(digit) else { return nil }
                    value = value * 10 + digit
                }
                return value
            }
            guard let y = number(0, 4), let mo = number(5, 2), let d = number(8, 2), let h = number(11, 2), let mi = number(14, 2),
                  let s = number(17, 2), let ms = number(20, 3), h < 24, mi < 60, s < 60,
                  let date = CivilDate(year: y, month: mo, day: d) else { return nil }
            return Instant(millisSinceEpoch: Int64(date.daysSinceEpoch) * 86_400_000 + Int64((h * 3_600 + mi * 60 + s) * 1_000 + ms))
        }
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

extension String {
    /// The string without leading and trailing ASCII spaces, tabs and line breaks, nor the
    /// ideographic space people type with Chinese input methods.
    var trimmingASCIIWhitespace: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\u{3000}" }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}

extension HLCTimestamp {
    /// The wall-clock part, as an instant.
    public var instant: Instant {
        Instant(millisSinceEpoch: Int64(clamping: wallMillis))
    }
}
