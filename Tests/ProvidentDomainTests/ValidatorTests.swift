import ProvidentDomain
import ProvidentTestSupport
import Testing

let today = CivilDate(year: 2026, month: 11, day: 23)!

@Suite struct ResidentIDTests {
    @Test(arguments: ["360426199101010071", "44011320141005001X", "110102199101010078", "412723199010050012",
                      " 44011320141005001x "])
    func acceptsTheValidNumbersOfTheDomainReference(number: String) throws {
        let id = try ResidentID(number, today: today)
        #expect(id.value.count == 18)
        #expect(id.value.last != "x")
    }

    @Test(arguments: [
        ("36042619910102009X", DomainError.idNumberCheck),
        ("T60426199101010078", .idNumberFormat),
        ("360426199113010079", .idNumberBirthDate("1991-13-01")),
        ("36042619910101007", .idNumberFormat),
        ("3604261991010100711", .idNumberFormat),
        ("360426199102300074", .idNumberBirthDate("1991-02-30")),
        ("360426189901010077", .idNumberBirthDate("1899-01-01")),
    ])
    func refusesTheInvalidNumbers(number: String, error: DomainError) {
        #expect(throws: error) { try ResidentID(number, today: today) }
    }

    @Test func refusesABirthDateAfterToday() throws {
        // 2027-01-01 with a correct check character.
        let digits = Array("11010220270101001").map { Int(String($0))! }
        let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        let check = Array("10X98765432")[zip(digits, weights).reduce(0) { $0 + $1.0 * $1.1 } % 11]
        #expect(throws: DomainError.idNumberBirthInFuture) { try ResidentID("11010220270101001\(check)", today: today) }
    }

    @Test func computesAgeInWholeYears() throws {
        let id = try ResidentID("360426199101010071", today: today)
        #expect(id.age(on: CivilDate(year: 2026, month: 12, day: 31)!) == 35)
        #expect(id.age(on: CivilDate(year: 2026, month: 1, day: 1)!) == 35)
        #expect(id.age(on: CivilDate(year: 2025, month: 12, day: 31)!) == 34)
    }

    @Test func masksAllButTheFirstAndLastFour() throws {
        #expect(try ResidentID("360426199101010071", today: today).masked == "3604**********0071")
    }
}

@Suite struct CreditCodeTests {
    @Test(arguments: ["91110000600037341L", "121200004013590816", "91310115MA1K3BTP2B", "92340602MA2PBMEM24", "91310115ma1k3btp2b"])
    func acceptsTheValidCodesOfTheDomainReference(code: String) throws {
        #expect(try CreditCode(code).value == code.uppercased())
    }

    @Test(arguments: [("91110000600037341N", DomainError.creditCodeCheck), ("91110000600037341", .creditCodeFormat),
                      ("9111000060003734IL", .creditCodeFormat), ("91110000600O37341L", .creditCodeFormat)])
    func refusesInvalidCodes(code: String, error: DomainError) {
        #expect(throws: error) { try CreditCode(code) }
    }
}

@Suite struct MobileNumberTests {
    @Test(arguments: [("13800138000", "13800138000"), ("+8613800138000", "13800138000"), ("+86 138 0013 8000", "13800138000"),
                      ("0086-19912345678", "19912345678"), ("１３８００１３８０００", "13800138000")])
    func normalizesAcceptedSpellings(text: String, expected: String) throws {
        #expect(try MobileNumber(text).value == expected)
    }

    @Test(arguments: ["12800138000", "1380013800", "138001380000", "+1 13800138000", "1380013800a", ""])
    func refusesOthers(text: String) {
        #expect(throws: DomainError.mobileInvalid) { try MobileNumber(text) }
    }

    @Test func masksTheMiddleDigits() throws {
        #expect(try MobileNumber("13800138000").masked == "138****8000")
    }
}

@Suite struct ReferenceCodeTests {
    @Test func roundTripsAndCatchesEverySingleSubstitutionAndAdjacentSwap() throws {
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<200 {
            let code = ReferenceCode(randomBytes: (0..<12).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
            #expect(code.value.count == 15)
            #expect(try ReferenceCode(code.value.lowercased()) == code)
            let characters = Array(code.value)
            for index in 2..<characters.count {
                for replacement in Array("0123456789ABCDEFGHJKLMNPQRTUWXY") where replacement != characters[index] {
                    var typo = characters
                    typo[index] = replacement
                    #expect(throws: DomainError.referenceCheck) { try ReferenceCode(String(typo)) }
                }
                if index + 1 < characters.count, characters[index] != characters[index + 1] {
                    var swapped = characters
                    swapped.swapAt(index, index + 1)
                    #expect(throws: DomainError.referenceCheck) { try ReferenceCode(String(swapped)) }
                }
            }
        }
    }

    @Test func readsACodeAsTypedWithSpacesHyphensAndLowerCaseAndTheSameWithOtherCharactersAround() throws {
        let code = ReferenceCode(randomBytes: Array(repeating: 9, count: 12))
        let grouped = code.value.enumerated().map { $0.offset > 0 && $0.offset % 5 == 0 ? " -\($0.element)" : "\($0.element)" }.joined()
        #expect(try ReferenceCode(grouped.lowercased()) == code)
        #expect(try ReferenceCode(" " + grouped + " ") == code)
        // Not ASCII: a full-width letter is no symbol of the code.
        #expect(throws: DomainError.referenceFormat) { try ReferenceCode(code.value.replacingOccurrences(of: "PV", with: "ＰV")) }
        #expect(throws: DomainError.referenceFormat) { try ReferenceCode(code.value + "号") }
        #expect(throws: DomainError.referenceFormat) { try ReferenceCode(code.value + "0") }
        #expect(throws: DomainError.referenceFormat) { try ReferenceCode("PV") }
        #expect(throws: DomainError.referenceFormat) { try ReferenceCode("") }
    }

    @Test(arguments: ["PV123", "XX4K7Q9MXTR2HC3A", "PV4K7Q9MXTR2HCI3"])
    func refusesMalformedCodes(text: String) {
        #expect(throws: DomainError.referenceFormat) { try ReferenceCode(text) }
    }
}

@Suite struct MoneyTests {
    @Test(arguments: [("1234", Int64(123_400)), ("1234.5", 123_450), ("1,234.50", 123_450), ("¥1,234.50", 123_450),
                      ("0.01", 1), ("12,345,678.9", 1_234_567_890), ("  230 ", 23_000), ("１，２３４．５", 123_450),
                      ("-5", -500), ("0", 0), ("-¥5.00", -500)])
    func parsesYuanExactly(text: String, fen: Int64) throws {
        #expect(try Money.parseYuan(text).fen == fen)
    }

    @Test(arguments: [("1234.567", "amount.decimals"), ("1,23,4", "amount.format"), ("1234,5", "amount.format"),
                      ("12.", "amount.format"), (".5", "amount.format"), ("1e3", "amount.format"), ("abc", "amount.format"),
                      ("", "amount.format"), ("1 234", "amount.format"), ("12345678901234", "amount.format"),
                      ("1.2.3", "amount.format"), ("--5", "amount.format")])
    func refusesAnythingElse(text: String, code: String) {
        do {
            let money = try Money.parseYuan(text)
            Issue.record("accepted \(text) as \(money)")
        } catch {
            #expect(error.code == code)
        }
    }

    @Test(arguments: [(Int64(123_450), "¥1,234.50", "1234.50"), (0, "¥0.00", "0.00"), (5, "¥0.05", "0.05"),
                      (-50_000, "-¥500.00", "-500.00"), (1_234_567_890, "¥12,345,678.90", "12345678.90")])
    func formats(fen: Int64, formatted: String, plain: String) {
        #expect(Money(fen: fen).formatted == formatted)
        #expect(Money(fen: fen).plain == plain)
    }
}

@Suite struct CalendarTests {
    @Test func convertsDaysBothWays() {
        for days in stride(from: -800_000, through: 3_000_000, by: 997) {
            let date = CivilDate(daysSinceEpoch: days)
            #expect(date.daysSinceEpoch == days)
        }
        #expect(CivilDate(daysSinceEpoch: 0).iso == "1970-01-01")
        #expect(CivilDate(year: 2024, month: 2, day: 29)!.adding(days: 1).iso == "2024-03-01")
        #expect(CivilDate(year: 2026, month: 2, day: 29) == nil)
    }

    @Test func showsUTCInstantsInShanghaiTime() {
        // 2026-11-23T16:30:00Z is 2026-11-24 00:30 in Shanghai.
        let instant = Instant(utcISO: "2026-11-23T16:30:00Z")!
        #expect(instant.shanghaiDate.iso == "2026-11-24")
        #expect(instant.shanghaiDisplay == "2026-11-24 00:30")
        #expect(instant.utcISO == "2026-11-23T16:30:00.000Z")
        #expect(Instant(utcISO: "2026-11-23T16:30:00.250Z")?.millisSinceEpoch == instant.millisSinceEpoch + 250)
        #expect(Instant(millisSinceEpoch: -1).utcISO == "1969-12-31T23:59:59.999Z")
        #expect(Instant(utcISO: "2026-11-23 16:30:00") == nil)
        #expect(Instant(utcISO: "2026-11-23T16:30:00.25Z") == nil)
    }

    @Test(arguments: [("2026-11", "2026-11"), ("2026/11", "2026-11"), ("202611", "2026-11"), (" 2026-01 ", "2026-01")])
    func readsPeriods(text: String, iso: String) {
        #expect(Period(text)?.iso == iso)
    }

    @Test(arguments: ["2026-13", "2026-00", "26-11", "2026-1", "2026-11-01", "November", ""])
    func refusesOtherPeriods(text: String) {
        #expect(Period(text) == nil)
    }
}
