import ProvidentSync

/// How a voluntary agreement sets the monthly deposit.
public enum AgreementMode: String, Hashable, Sendable, CaseIterable {
    /// A contribution base and a combined rate; monthly amount = base × rate, rounded half-up to the yuan.
    case baseAndRate
    /// A fixed monthly amount within the city's range.
    case fixedAmount
}

/// The city's rules for voluntary accounts. Every figure that differs between cities lives here,
/// never in code; `Policy.defaults` holds the defaults of the domain reference.
public struct Policy: Hashable, Sendable {
    /// A name for the policy in force, shown by `provident policy show`.
    public var name: String
    /// Youngest age at enrolment, in whole years.
    public var minimumAge: Int
    /// Oldest age at enrolment (the legal retirement age), in whole years.
    public var maximumAge: Int
    /// The agreement kinds the city offers.
    public var agreementModes: [AgreementMode]
    /// Contribution base bounds, in fen (local minimum wage to 3× last year's average wage).
    public var baseFen: ClosedRange<Int64>
    /// Combined rate bounds, in whole percent.
    public var ratePercent: ClosedRange<Int>
    /// Fixed monthly amount bounds, in fen.
    public var fixedMonthlyFen: ClosedRange<Int64>
    /// Whether lump (free) deposits are allowed.
    public var lumpAllowed: Bool
    /// The most a single deposit may be, in fen.
    public var depositCapFen: Int64
    /// The most months one catch-up deposit may cover.
    public var catchUpMaxMonths: Int
    /// How many months ahead of the current one a monthly deposit may be paid.
    public var advanceMonths: Int
    /// Annual interest rate, in basis points (150 = 1.5%).
    public var interestBasisPoints: Int
    /// Days in the interest year for daily-balance interest (360 is the HPF convention).
    public var dayCountBasis: Int
    /// The month of the annual interest settlement.
    public var settlementMonth: Int
    /// The day of the annual interest settlement.
    public var settlementDay: Int
    /// Employer and employee rate bounds, in whole percent; a reduced rate may not go below the minimum.
    public var employerRatePercent: ClosedRange<Int>
    /// The longest a deferral or reduced rate may run, in months.
    public var reliefMaxMonths: Int
    /// Months without payment after which an employer counts as stopped (停缴) rather than in arrears (欠缴).
    public var stoppedAfterMonths: Int
    /// How many staff a collection visit needs.
    public var collectionMinimumStaff: Int
    /// The longest deadline an order to pay may give, in days after it is served.
    public var deadlineMaxDays: Int
    /// Where deposits are paid: the fund centre's bank account. Nil in the defaults: a city
    /// sets it in its policy file.
    public var payee: Payee? = nil
    /// How many days a device keeps its change-sets after the server acknowledged them, so it
    /// can send them again to a server restored from an older copy. Nil in the defaults: kept
    /// for as long as the device's data.
    public var keepSentDays: Int? = nil
    /// How many auditors must cosign a checkpoint of the server's log for devices to take it as
    /// witnessed (sync-protocol.md §11.15); 0 (the default) requires none, and one cosignature
    /// is then enough for a checkpoint to count as witnessed.
    public var witnesses: Int = 0

    /// The defaults of the domain reference: ages 16–60; base ¥2,000–¥28,000; rate 10%–24% in
    /// whole percent; fixed amount ¥210–¥6,888; no lump deposits; interest 1.5% settled on 30 June;
    /// employers' rates 5%–12% each side, reliefs of at most 12 months, stopped after 3 unpaid
    /// months, collection visits by at least 2 staff, deadlines at most 30 days.
    public static let defaults = Policy(
        name: "default", minimumAge: 16, maximumAge: 60, agreementModes: [.baseAndRate, .fixedAmount],
        baseFen: 200_000...2_800_000, ratePercent: 10...24, fixedMonthlyFen: 21_000...688_800,
        lumpAllowed: false, depositCapFen: 10_000_000, catchUpMaxMonths: 12, advanceMonths: 0,
        interestBasisPoints: 150, dayCountBasis: 360, settlementMonth: 6, settlementDay: 30,
        employerRatePercent: 5...12, reliefMaxMonths: 12, stoppedAfterMonths: 3, collectionMinimumStaff: 2, deadlineMaxDays: 30)

    /// The monthly amount an agreement of `base` at `rateBasisPoints` sets: base × rate, rounded
    /// half-up to the whole yuan.
    public static func monthlyAmount(baseFen: Int64, rateBasisPoints: Int) -> Int64 {
        // base (fen) × rate (bp) / 10,000 = fen; to whole yuan: / 100 more, half-up.
        let product = baseFen * Int64(rateBasisPoints)
        let yuan = (product + 500_000) / 1_000_000
        return yuan * 100
    }

    /// The next interest settlement day on or after `date`.
    public func nextSettlement(onOrAfter date: CivilDate) -> CivilDate {
        let thisYear = settlementDate(year: date.year)
        return thisYear >= date ? thisYear : settlementDate(year: date.year + 1)
    }

    /// The settlement day in `year` (28 February for a 29 February setting in common years).
    public func settlementDate(year: Int) -> CivilDate {
        let day = min(settlementDay, CivilDate.daysIn(month: settlementMonth, year: year))
        return CivilDate(daysSinceEpoch: CivilDate.daysFor(year: year, month: settlementMonth, day: day))
    }

    /// Checks that the figures make sense together.
    public func validate() throws(PolicyError) {
        func require(_ condition: Bool, _ path: String, _ reason: PolicyError.Reason) throws(PolicyError) {
            if !condition { throw .invalid(path: path, reason: reason) }
        }
        try require(minimumAge >= 0 && minimumAge <= maximumAge && maximumAge <= 120, "eligibility", .ageRange)
        try require(!agreementModes.isEmpty, "agreement.modes", .noModes)
        try require(baseFen.lowerBound > 0, "agreement.baseYuan", .notPositive)
        try require(ratePercent.lowerBound > 0 && ratePercent.upperBound <= 100, "agreement.ratePercent", .percentRange)
        try require(fixedMonthlyFen.lowerBound > 0, "agreement.fixedMonthlyYuan", .notPositive)
        try require(depositCapFen > 0, "deposits.capYuan", .notPositive)
        try require(catchUpMaxMonths >= 1 && catchUpMaxMonths <= 120, "deposits.catchUpMaxMonths", .outOfRange(1, 120))
        try require(advanceMonths >= 0 && advanceMonths <= 12, "deposits.advanceMonths", .outOfRange(0, 12))
        try require(interestBasisPoints >= 0 && interestBasisPoints <= 10_000, "interest.annualRateBasisPoints", .outOfRange(0, 10_000))
        try require(dayCountBasis == 360 || dayCountBasis == 365, "interest.dayCountBasis", .dayCountBasis)
        try require(CivilDate(year: 2000, month: settlementMonth, day: settlementDay) != nil, "interest.settlementDate", .settlementDate)
        try require(employerRatePercent.lowerBound > 0 && employerRatePercent.upperBound <= 100, "employers.ratePercent", .percentRange)
        try require((1...60).contains(reliefMaxMonths), "employers.reliefMaxMonths", .outOfRange(1, 60))
        try require((1...24).contains(stoppedAfterMonths), "employers.stoppedAfterMonths", .outOfRange(1, 24))
        try require((1...10).contains(collectionMinimumStaff), "visits.collectionMinimumStaff", .outOfRange(1, 10))
        try require((1...365).contains(deadlineMaxDays), "visits.deadlineMaxDays", .outOfRange(1, 365))
        if let keepSentDays { try require((30...3_650).contains(keepSentDays), "devices.keepSentDays", .outOfRange(30, 3_650)) }
        try require((0...9).contains(witnesses), "devices.witnesses", .outOfRange(0, 9))
        if let payee {
            try require(Payee.isValidText(payee.bank, maximum: 100), "payee.bank", .text(maximum: 100))
            try require(Payee.isValidText(payee.accountName, maximum: 100), "payee.accountName", .text(maximum: 100))
            try require(Payee.isValidAccountNumber(payee.accountNumber), "payee.accountNumber", .accountNumber)
            if let note = payee.note { try require(Payee.isValidText(note, maximum: 200), "payee.note", .text(maximum: 200)) }
        }
    }
}

/// A policy file that cannot be used, with where and why.
public enum PolicyError: ProvidentError, Hashable {
    /// Why a value is refused.
    public enum Reason: Hashable, Sendable {
        case ageRange
        case noModes
        case notPositive
        case percentRange
        case outOfRange(Int, Int)
        case dayCountBasis
        case settlementDate
        case minimumAboveMaximum
        case text(maximum: Int)
        case accountNumber
    }

    /// The text is not YAML.
    case syntax(line: Int, problem: String)
    /// A key that the policy format does not have (often a typo).
    case unknownKey(path: String, line: Int)
    /// A value of the wrong kind.
    case wrongType(path: String, line: Int, expected: String)
    /// A value that breaks a rule.
    case invalid(path: String, reason: Reason)

    /// A policy file is configuration.
    public var kind: ErrorKind { .configuration }

    /// A stable code.
    public var code: String {
        switch self {
        case .syntax: "policy_file.syntax"
        case .unknownKey: "policy_file.unknown_key"
        case .wrongType: "policy_file.type"
        case .invalid: "policy_file.invalid"
        }
    }

    /// What is wrong with the file and where, in `language`.
    public func message(_ language: Language) -> String {
        let l = language
        switch self {
        case let .syntax(line, problem):
            return l.pick("The policy file is not valid YAML at line \(line): \(problem).",
                          "政策文件第 \(line) 行不是有效的 YAML:\(problem)。")
        case let .unknownKey(path, line):
            return l.pick("The policy file has an unknown key “\(path)” at line \(line); check its spelling (`provident policy show` prints every key).",
                          "政策文件第 \(line) 行有未知的键“\(path)”；请检查拼写（`provident policy show` 会列出所有键）。")
        case let .wrongType(path, line, expected):
            return l.pick("In the policy file, “\(path)” at line \(line) must be \(expected).",
                          "政策文件第 \(line) 行的“\(path)”应为\(Self.chinese(expected))。")
        case let .invalid(path, reason):
            let why: String
            switch reason {
            case .ageRange: why = l.pick("ages must satisfy 0 ≤ minimum ≤ maximum ≤ 120", "年龄须满足 0 ≤ 最小 ≤ 最大 ≤ 120")
            case .noModes: why = l.pick("at least one agreement mode is needed", "至少需要一种缴存协议方式")
            case .notPositive: why = l.pick("must be greater than zero", "必须大于零")
            case .percentRange: why = l.pick("percentages must be 1–100", "百分比须在 1–100 之间")
            case let .outOfRange(low, high): why = l.pick("must be \(low)–\(high)", "须在 \(low)–\(high) 之间")
            case .dayCountBasis: why = l.pick("must be 360 or 365", "须为 360 或 365")
            case .settlementDate: why = l.pick("must be a real day, written MM-DD", "须为有效日期，格式 MM-DD")
            case .minimumAboveMaximum: why = l.pick("minimum is above maximum", "最小值大于最大值")
            case let .text(maximum): why = l.pick("must be 1–\(maximum) characters on one line", "须为一行 1–\(maximum) 个字符")
            case .accountNumber: why = l.pick("must be 8–32 digits (spaces allowed between them)", "须为 8–32 位数字（数字之间可有空格）")
            }
            return l.pick("In the policy file, “\(path)”: \(why).", "政策文件中“\(path)”：\(why)。")
        }
    }

    static func chinese(_ expected: String) -> String {
        switch expected {
        case "a whole number": "整数"
        case "true or false": "true 或 false"
        case "text": "文本"
        case "a list": "列表"
        case "a mapping": "键值映射"
        default: expected
        }
    }
}

/// The bank account deposits are paid into, as a transfer slip shows it.
public struct Payee: Hashable, Sendable {
    /// The bank and branch, e.g. 中国建设银行XX支行.
    public var bank: String
    /// The account holder, e.g. XX市住房公积金管理中心.
    public var accountName: String
    /// The account number as printed: digits, with spaces between groups.
    public var accountNumber: String
    /// Anything else the payer must know, e.g. opening hours of the counter.
    public var note: String?

    public init(bank: String, accountName: String, accountNumber: String, note: String? = nil) {
        self.bank = bank
        self.accountName = accountName
        self.accountNumber = accountNumber
        self.note = note
    }

    static func isValidText(_ text: String, maximum: Int) -> Bool {
        (1...maximum).contains(text.count) && text == text.trimmingASCIIWhitespace
            && !text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
    }

    static func isValidAccountNumber(_ text: String) -> Bool {
        let digits = text.filter { $0 != " " }
        return (8...32).contains(digits.count) && digits.allSatisfy(\.isASCIIDigit) && text == text.trimmingASCIIWhitespace
            && !text.contains("  ")
    }
}
