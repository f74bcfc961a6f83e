import ProvidentSync

/// Where a deposit stands.
public enum DepositStatus: String, Hashable, Sendable {
    /// Recorded; the office has not yet matched it against the bank statement.
    case pending
    /// The office found the money on the bank statement.
    case confirmed
    /// The office found no matching payment, or a wrong amount.
    case rejected
    /// Reversed as a mistake by the worker or staff.
    case reversed

    /// Whether the deposit still counts toward totals.
    public var counts: Bool { self == .pending || self == .confirmed }

    /// A label for people.
    public func label(_ language: Language) -> String {
        switch self {
        case .pending: language.pick("pending", "待确认")
        case .confirmed: language.pick("confirmed", "已确认")
        case .rejected: language.pick("rejected", "已退回")
        case .reversed: language.pick("reversed", "已冲正")
        }
    }
}

/// One line of an account statement.
public struct StatementLine: Hashable, Sendable {
    public let deposit: Deposit
    public let status: DepositStatus
    /// Why the deposit was rejected or reversed.
    public let note: String?
    /// The total of counted deposits up to and including this line.
    public let runningTotalFen: Int64
    /// The day the money counts from for interest: the bank's date once confirmed, otherwise
    /// the day it was recorded (in Shanghai).
    public let valueDate: CivilDate
}

/// An account's deposits with their status, running total and continuous-months count.
public struct Statement: Hashable, Sendable {
    public let lines: [StatementLine]
    /// The total of pending and confirmed deposits.
    public let totalFen: Int64
    public let confirmedFen: Int64
    public let pendingFen: Int64
    /// Consecutive months paid (pending or confirmed), ending this month or, if this month is
    /// not paid yet, last month. Loans and withdrawals usually ask for 6 or 12.
    public let continuousMonths: Int
    /// Consecutive confirmed months, ending at the latest paid month once the paid months still
    /// awaiting confirmation at the end are set aside: what the office will accept today.
    public let continuousConfirmedMonths: Int

    /// Builds a statement from an account's deposits, the reversals and office outcomes that
    /// concern them, as of `today` (in Shanghai).
    public init(deposits: [Deposit], reversals: [String: DepositReversal], outcomes: [String: DepositOutcome],
                today: CivilDate) {
        let ordered = deposits.sorted { ($0.recordedAt, $0.reference) < ($1.recordedAt, $1.reference) }
        var running: Int64 = 0, confirmed: Int64 = 0, pending: Int64 = 0
        var lines: [StatementLine] = []
        var paidMonths = Set<Period>(), confirmedMonths = Set<Period>()
        for deposit in ordered {
            let outcome = outcomes[deposit.id]
            let status: DepositStatus
            let note: String?
            if let reversal = reversals[deposit.id] {
                status = .reversed
                note = reversal.reason
            } else if let outcome {
                status = outcome.decision == .confirmed ? .confirmed : .rejected
                note = outcome.reason
            } else {
                status = .pending
                note = nil
            }
            if status.counts {
                running += deposit.amountFen
                paidMonths.formUnion(deposit.periods)
                if status == .confirmed {
                    confirmed += deposit.amountFen
                    confirmedMonths.formUnion(deposit.periods)
                } else {
                    pending += deposit.amountFen
                }
            }
            let valueDate = (status == .confirmed ? outcome?.bankDate : nil) ?? deposit.recordedAt.shanghaiDate
            lines.append(StatementLine(deposit: deposit, status: status, note: note, runningTotalFen: running,
                                       valueDate: valueDate))
        }
        self.lines = lines
        totalFen = running
        confirmedFen = confirmed
        pendingFen = pending
        continuousMonths = Self.streak(paidMonths, today: today)
        continuousConfirmedMonths = Self.streak(confirmedMonths, skipping: paidMonths.subtracting(confirmedMonths), today: today)
    }

    /// Counts back from this month (or last month, when this one is not paid yet: it is not
    /// late until it is over) while months are in `months`, after passing over the latest
    /// months that are in `skipping`.
    static func streak(_ months: Set<Period>, skipping: Set<Period> = [], today: CivilDate) -> Int {
        var month = today.period
        if !months.contains(month), !skipping.contains(month) { month = month.adding(months: -1) }
        while skipping.contains(month) { month = month.adding(months: -1) }
        var count = 0
        while months.contains(month) {
            count += 1
            month = month.adding(months: -1)
        }
        return count
    }
}

/// What an account holds and what it will earn.
public struct Balance: Hashable, Sendable {
    /// Confirmed deposits.
    public let confirmedFen: Int64
    /// Deposits recorded but not yet confirmed by the office.
    public let pendingFen: Int64
    /// Interest credited at past settlements.
    public let interestCreditedFen: Int64
    /// Interest the confirmed balance will have earned at the next settlement, at the policy rate.
    public let projectedInterestFen: Int64
    /// The next settlement day.
    public let settlementDate: CivilDate
    /// The first day of the current interest year.
    public let interestYearStart: CivilDate

    /// Projects interest by the settlement's own method (`InterestMethod`: daily-balance
    /// accumulation), assuming nothing else changes until the next settlement day; a year
    /// already settled is not projected again.
    public init(statement: Statement, credits: [InterestCredit] = [], policy: Policy, today: CivilDate) {
        let settlement = policy.nextSettlement(onOrAfter: today)
        let (start, _) = InterestMethod.interestYear(settlement.year, policy: policy)
        let accumulated = InterestMethod.accumulated(statement, credits: credits, from: start, to: settlement)
        projectedInterestFen = credits.contains { $0.year == settlement.year } ? 0 : InterestMethod.interest(accumulated: accumulated, policy: policy)
        interestCreditedFen = credits.reduce(0) { $0 + $1.amountFen }
        confirmedFen = statement.confirmedFen
        pendingFen = statement.pendingFen
        settlementDate = settlement
        interestYearStart = start
    }
}
