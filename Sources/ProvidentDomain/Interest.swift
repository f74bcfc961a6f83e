import ProvidentSync

/// Interest credited to an account at the annual settlement (结息): an insert-only fact of type
/// `interest` with id `int-<account id>-<year>`, so a year is settled at most once per account.
public struct InterestCredit: Hashable, Sendable {
    public static let recordType = "interest"

    public let accountID: String
    /// The settlement year: the interest year ending on its settlement day.
    public let year: Int
    public let amountFen: Int64
    /// The sum of the daily balances over the interest year (积数), in fen-days.
    public let accumulatedFenDays: Int64
    public let rateBasisPoints: Int
    public let dayCountBasis: Int
    /// The interest year: its first and last day.
    public let from: CivilDate
    public let to: CivilDate
    public let settledAt: Instant

    public init(accountID: String, year: Int, amountFen: Int64, accumulatedFenDays: Int64, rateBasisPoints: Int, dayCountBasis: Int,
                from: CivilDate, to: CivilDate, settledAt: Instant) {
        self.accountID = accountID
        self.year = year
        self.amountFen = amountFen
        self.accumulatedFenDays = accumulatedFenDays
        self.rateBasisPoints = rateBasisPoints
        self.dayCountBasis = dayCountBasis
        self.from = from
        self.to = to
        self.settledAt = settledAt
    }

    public static func id(accountID: String, year: Int) -> String { "int-\(accountID)-\(year)" }

    public var recordKey: RecordKey { RecordKey(type: Self.recordType, id: Self.id(accountID: accountID, year: year)) }

    /// The day the credited interest starts earning: the day after the settlement.
    public var valueDate: CivilDate { to.adding(days: 1) }

    public var fields: [String: CanonicalValue] {
        ["account": .string(accountID), "year": .integer(Int64(year)), "amountFen": .integer(amountFen),
         "accumulatedFenDays": .integer(accumulatedFenDays), "rateBasisPoints": .integer(Int64(rateBasisPoints)),
         "dayCountBasis": .integer(Int64(dayCountBasis)), "from": .string(from.iso), "to": .string(to.iso),
         "settledAt": .string(settledAt.utcISO)]
    }

    public init?(values: [String: CanonicalValue]) {
        guard let account = values["account"]?.stringValue, let year = values["year"]?.integerValue,
              let amount = values["amountFen"]?.integerValue, let accumulated = values["accumulatedFenDays"]?.integerValue,
              let rate = values["rateBasisPoints"]?.integerValue, let basis = values["dayCountBasis"]?.integerValue,
              let from = values["from"]?.stringValue.flatMap(CivilDate.init(iso:)), let to = values["to"]?.stringValue.flatMap(CivilDate.init(iso:)),
              let at = values["settledAt"]?.stringValue.flatMap(Instant.init(utcISO:)) else { return nil }
        self.init(accountID: account, year: Int(year), amountFen: amount, accumulatedFenDays: accumulated, rateBasisPoints: Int(rate),
                  dayCountBasis: Int(basis), from: from, to: to, settledAt: at)
    }
}

/// Daily-balance interest (积数计息), the method of the annual settlement and of the balance's
/// projection alike. For the interest year ending on the settlement day S of year Y (from the
/// day after the previous settlement day to S, both included):
///
/// - each confirmed deposit counts from its value date (the bank's date), or from the start of
///   the year if earlier, to S: amount × days;
/// - interest credited at earlier settlements counts from the day after its settlement day;
/// - a deposit whose value date is after S, or that is pending, rejected or reversed, counts
///   nothing;
/// - interest = Σ amount × days × annual rate ÷ day-count basis (360 by HPF convention),
///   rounded half-up to the fen once, at the end.
public enum InterestMethod {
    /// The interest year that ends on the settlement day of `year`.
    public static func interestYear(_ year: Int, policy: Policy) -> (from: CivilDate, to: CivilDate) {
        (policy.settlementDate(year: year - 1).adding(days: 1), policy.settlementDate(year: year))
    }

    /// The accumulated daily balances (fen-days) of an interest year.
    public static func accumulated(_ statement: Statement, credits: [InterestCredit], from start: CivilDate, to end: CivilDate) -> Int64 {
        var total: Int64 = 0
        func add(_ amount: Int64, from valueDate: CivilDate) {
            let first = max(valueDate, start)
            let days = Int64(end.daysSinceEpoch - first.daysSinceEpoch + 1)
            if days > 0 { total += amount * days }
        }
        for line in statement.lines where line.status == .confirmed { add(line.deposit.amountFen, from: line.valueDate) }
        for credit in credits where credit.to < start { add(credit.amountFen, from: credit.valueDate) }
        return total
    }

    /// The interest on `accumulated` fen-days at the policy's rate, rounded half-up to the fen.
    public static func interest(accumulated: Int64, policy: Policy) -> Int64 {
        let denominator = Int64(10_000 * policy.dayCountBasis)
        return (accumulated * Int64(policy.interestBasisPoints) + denominator / 2) / denominator
    }

    /// The credit for an account's interest year ending in `year`.
    public static func settle(accountID: String, year: Int, statement: Statement, credits: [InterestCredit], policy: Policy,
                              at instant: Instant) -> InterestCredit {
        let (from, to) = interestYear(year, policy: policy)
        let accumulated = accumulated(statement, credits: credits, from: from, to: to)
        return InterestCredit(accountID: accountID, year: year, amountFen: interest(accumulated: accumulated, policy: policy),
                              accumulatedFenDays: accumulated, rateBasisPoints: policy.interestBasisPoints,
                              dayCountBasis: policy.dayCountBasis, from: from, to: to, settledAt: instant)
    }
}
