import ProvidentSync

/// What a deposit pays for.
public enum DepositKind: String, Hashable, Sendable {
    /// The agreed amount for one month (汇缴).
    case monthly
    /// The agreed amount for each of some missed past months (补缴).
    case catchUp
    /// A free amount, where the city allows it.
    case lump

    /// A label for people.
    public func label(_ language: Language) -> String {
        switch self {
        case .monthly: language.pick("monthly", "汇缴")
        case .catchUp: language.pick("catch-up", "补缴")
        case .lump: language.pick("lump sum", "灵活缴存")
        }
    }
}

/// How the worker pays the bank.
public enum PaymentMethod: String, Hashable, Sendable, CaseIterable {
    case bankTransfer
    case bankCounter
    case mobileBanking

    /// Reads `bank-transfer`, `bank-counter` or `mobile-banking` (or the camel-case names).
    public init(typed text: String) throws(DomainError) {
        switch text.trimmingASCIIWhitespace.lowercased().replacingOccurrences(of: "_", with: "-") {
        case "bank-transfer", "banktransfer", "transfer", "银行转账": self = .bankTransfer
        case "bank-counter", "bankcounter", "counter", "银行柜台": self = .bankCounter
        case "mobile-banking", "mobilebanking", "mobile", "手机银行": self = .mobileBanking
        default: throw .methodUnknown(text)
        }
    }

    /// The name typed on a command line.
    public var typed: String {
        switch self {
        case .bankTransfer: "bank-transfer"
        case .bankCounter: "bank-counter"
        case .mobileBanking: "mobile-banking"
        }
    }

    /// A label for people.
    public func label(_ language: Language) -> String {
        switch self {
        case .bankTransfer: language.pick("bank transfer", "银行转账")
        case .bankCounter: language.pick("bank counter", "银行柜台")
        case .mobileBanking: language.pick("mobile banking", "手机银行")
        }
    }
}

/// A deposit, recorded by the worker (or outreach staff) when the money is sent to the bank.
/// An insert-only fact of type `deposit`: never edited; a mistake is reversed (`DepositReversal`).
public struct Deposit: Hashable, Sendable {
    /// The record type.
    public static let recordType = "deposit"

    public let id: String
    public let accountID: String
    public let amountFen: Int64
    public let kind: DepositKind
    /// The months paid for: one for monthly, several for catch-up, none for lump.
    public let periods: [Period]
    public let method: PaymentMethod
    /// The code the worker writes in the bank-transfer memo.
    public let reference: String
    public let recordedAt: Instant

    /// The record key.
    public var recordKey: RecordKey { RecordKey(type: Self.recordType, id: id) }

    /// The fact's fields.
    public var fields: [String: CanonicalValue] {
        ["account": .string(accountID), "amountFen": .integer(amountFen), "kind": .string(kind.rawValue),
         "periods": .array(periods.map { .string($0.iso) }), "method": .string(method.rawValue),
         "reference": .string(reference), "recordedAt": .string(recordedAt.utcISO)]
    }

    /// Reads a deposit from a fact's fields; nil when malformed.
    public init?(id: String, values: [String: CanonicalValue]) {
        guard let account = values["account"]?.stringValue, let amount = values["amountFen"]?.integerValue,
              let kind = values["kind"]?.stringValue.flatMap(DepositKind.init(rawValue:)),
              let periodValues = values["periods"]?.arrayValue,
              let method = values["method"]?.stringValue.flatMap(PaymentMethod.init(rawValue:)),
              let reference = values["reference"]?.stringValue,
              let recordedAt = values["recordedAt"]?.stringValue.flatMap(Instant.init(utcISO:)) else { return nil }
        let periods = periodValues.compactMap { $0.stringValue.flatMap(Period.init) }
        guard periods.count == periodValues.count else { return nil }
        self.init(id: id, accountID: account, amountFen: amount, kind: kind, periods: periods, method: method,
                  reference: reference, recordedAt: recordedAt)
    }

    public init(id: String, accountID: String, amountFen: Int64, kind: DepositKind, periods: [Period],
                method: PaymentMethod, reference: String, recordedAt: Instant) {
        self.id = id
        self.accountID = accountID
        self.amountFen = amountFen
        self.kind = kind
        self.periods = periods
        self.method = method
        self.reference = reference
        self.recordedAt = recordedAt
    }
}

/// A deposit as asked for on the command line, before it is checked.
public struct DepositRequest: Hashable, Sendable {
    /// What is being paid.
    public enum Target: Hashable, Sendable {
        case month(String)
        case catchUp([String])
        case lump
    }

    public var target: Target
    /// The amount typed, in yuan; for monthly and catch-up it may be left out (the agreement sets it).
    public var amount: String?
    public var method: PaymentMethod

    public init(target: Target, amount: String?, method: PaymentMethod) {
        self.target = target
        self.amount = amount
        self.method = method
    }

    /// Checks the request against the account, the policy, today's date (in Shanghai) and the
    /// months already paid (period → reference of the deposit that paid it), and gives the kind,
    /// months and amount to record.
    public func check(account: Account, policy: Policy, today: CivilDate,
                      paid: [Period: String]) throws(DomainError) -> (kind: DepositKind, periods: [Period], amountFen: Int64) {
        let typedAmount = try amount.map { text throws(DomainError) -> Int64 in try Money.parseYuan(text).fen }
        let kind: DepositKind
        var periods: [Period] = []
        switch target {
        case let .month(text):
            guard let period = Period(text) else { throw .periodFormat(text) }
            kind = .monthly
            periods = [period]
        case let .catchUp(texts):
            for text in texts {
                guard let period = Period(text) else { throw .periodFormat(text) }
                periods.append(period)
            }
            kind = .catchUp
        case .lump:
            kind = .lump
        }
        let amountFen = try DepositRules.amount(kind: kind, periods: periods, typed: typedAmount, account: account, policy: policy)
        try DepositRules.check(kind: kind, periods: periods, amountFen: amountFen, account: account, policy: policy,
                               today: today, paid: paid)
        return (kind, periods.sorted(), amountFen)
    }
}

/// The rules every deposit must meet, whoever checks it: the device when it is recorded, and
/// the server when the change-set arrives (with the day it was recorded as "today").
public enum DepositRules {
    /// The amount to record: the typed one, which for monthly and catch-up deposits must be the
    /// agreed amount (for each month), or the agreed amount when none was typed.
    public static func amount(kind: DepositKind, periods: [Period], typed: Int64?, account: Account,
                              policy: Policy) throws(DomainError) -> Int64 {
        if let typed {
            if typed < 0 { throw .amountNegative }
            if typed == 0 { throw .amountZero }
            if typed > policy.depositCapFen { throw .amountAboveCap(capFen: policy.depositCapFen) }
        }
        switch kind {
        case .monthly, .catchUp:
            return typed ?? account.agreement.monthlyFen * Int64(max(periods.count, 1))
        case .lump:
            guard let typed else { throw .amountMissing }
            return typed
        }
    }

    /// Checks a deposit of `kind` for `periods` and `amountFen` against the account's status and
    /// agreement, the policy, the day it is recorded and the months already paid.
    public static func check(kind: DepositKind, periods: [Period], amountFen: Int64, account: Account, policy: Policy,
                             today: CivilDate, paid: [Period: String]) throws(DomainError) {
        switch account.status {
        case .closed: throw .accountClosed
        case .paused: throw .accountPaused
        case .active, .pendingVerification: break
        }
        if amountFen < 0 { throw .amountNegative }
        if amountFen == 0 { throw .amountZero }
        let current = today.period
        switch kind {
        case .monthly:
            guard periods.count == 1, let period = periods.first else { throw .periodFormat(periods.map(\.iso).joined(separator: ",")) }
            let latest = current.adding(months: policy.advanceMonths)
            guard period <= latest else { throw .periodInFuture(period: period, latest: latest) }
            guard period >= account.firstPeriod else { throw .periodBeforeAccount(period: period, first: account.firstPeriod) }
            guard period >= current else { throw .monthlyForPastPeriod(period) }
            if let reference = paid[period] { throw .periodAlreadyPaid(period: period, reference: reference) }
            let expected = account.agreement.monthlyFen
            if amountFen > policy.depositCapFen { throw .amountAboveCap(capFen: policy.depositCapFen) }
            guard amountFen == expected else { throw .amountNotAgreed(expectedFen: expected, actualFen: amountFen) }
        case .catchUp:
            guard !periods.isEmpty else { throw .catchUpEmpty }
            var seen = Set<Period>()
            for period in periods where !seen.insert(period).inserted { throw .periodRepeated(period) }
            guard periods.count <= policy.catchUpMaxMonths else {
                throw .tooManyCatchUpMonths(count: periods.count, maximum: policy.catchUpMaxMonths)
            }
            for period in periods.sorted() {
                guard period < current else { throw .catchUpNotPast(period) }
                guard period >= account.firstPeriod else { throw .periodBeforeAccount(period: period, first: account.firstPeriod) }
                if let reference = paid[period] { throw .periodAlreadyPaid(period: period, reference: reference) }
            }
            let expected = account.agreement.monthlyFen * Int64(periods.count)
            guard expected <= policy.depositCapFen, amountFen <= policy.depositCapFen else {
                throw .amountAboveCap(capFen: policy.depositCapFen)
            }
            guard amountFen == expected else { throw .amountNotAgreed(expectedFen: expected, actualFen: amountFen) }
        case .lump:
            guard policy.lumpAllowed else { throw .lumpNotAllowed }
            guard periods.isEmpty else { throw .periodFormat(periods.map(\.iso).joined(separator: ",")) }
            if amountFen > policy.depositCapFen { throw .amountAboveCap(capFen: policy.depositCapFen) }
        }
    }
}

/// The reversal of a mistaken deposit: an insert-only fact of type `depositReversal` whose id
/// is derived from the deposit's, so a deposit is reversed at most once.
public struct DepositReversal: Hashable, Sendable {
    /// The record type.
    public static let recordType = "depositReversal"

    public let depositID: String
    public let reason: String
    public let recordedAt: Instant

    /// The reversal's record id for a deposit.
    public static func id(for depositID: String) -> String { "rev-\(depositID)" }

    /// The record key.
    public var recordKey: RecordKey { RecordKey(type: Self.recordType, id: Self.id(for: depositID)) }

    /// Checks the reason and builds a reversal.
    public static func make(depositID: String, reason: String, at instant: Instant) throws(DomainError) -> DepositReversal {
        let reason = reason.trimmingASCIIWhitespace.precomposedNFC
        guard !reason.isEmpty else { throw .reasonEmpty }
        return DepositReversal(depositID: depositID, reason: reason, recordedAt: instant)
    }

    public init(depositID: String, reason: String, recordedAt: Instant) {
        self.depositID = depositID
        self.reason = reason
        self.recordedAt = recordedAt
    }

    /// The fact's fields.
    public var fields: [String: CanonicalValue] {
        ["deposit": .string(depositID), "reason": .string(reason), "recordedAt": .string(recordedAt.utcISO)]
    }

    /// Reads a reversal from a fact's fields; nil when malformed.
    public init?(values: [String: CanonicalValue]) {
        guard let deposit = values["deposit"]?.stringValue, let reason = values["reason"]?.stringValue,
              let at = values["recordedAt"]?.stringValue.flatMap(Instant.init(utcISO:)) else { return nil }
        self.init(depositID: deposit, reason: reason, recordedAt: at)
    }
}

/// The office's finding on a deposit after matching it against the bank statement: an
/// insert-only fact of type `depositOutcome`, signed by an office device.
public struct DepositOutcome: Hashable, Sendable {
    /// The record type.
    public static let recordType = "depositOutcome"

    /// Confirmed (the money arrived) or rejected (with a reason).
    public enum Decision: String, Hashable, Sendable {
        case confirmed
        case rejected
    }

    public let depositID: String
    public let decision: Decision
    public let reason: String?
    /// The day the bank received the money (the value date for interest), when confirmed.
    public let bankDate: CivilDate?
    public let decidedAt: Instant

    public init(depositID: String, decision: Decision, reason: String?, bankDate: CivilDate?, decidedAt: Instant) {
        self.depositID = depositID
        self.decision = decision
        self.reason = reason
        self.bankDate = bankDate
        self.decidedAt = decidedAt
    }

    /// The outcome's record id for a deposit: one finding per deposit.
    public static func id(for depositID: String) -> String { "out-\(depositID)" }

    /// The fact's fields.
    public var fields: [String: CanonicalValue] {
        var fields: [String: CanonicalValue] = ["deposit": .string(depositID), "decision": .string(decision.rawValue),
                                                "decidedAt": .string(decidedAt.utcISO)]
        if let reason { fields["reason"] = .string(reason) }
        if let bankDate { fields["bankDate"] = .string(bankDate.iso) }
        return fields
    }

    /// Reads an outcome from a fact's fields; nil when malformed.
    public init?(values: [String: CanonicalValue]) {
        guard let deposit = values["deposit"]?.stringValue,
              let decision = values["decision"]?.stringValue.flatMap(Decision.init(rawValue:)),
              let at = values["decidedAt"]?.stringValue.flatMap(Instant.init(utcISO:)) else { return nil }
        self.init(depositID: deposit, decision: decision, reason: values["reason"]?.stringValue,
                  bankDate: values["bankDate"]?.stringValue.flatMap(CivilDate.init(iso:)), decidedAt: at)
    }
}
