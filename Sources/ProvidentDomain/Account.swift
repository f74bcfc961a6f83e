import ProvidentSync

/// Who a voluntary account holder is, by way of work.
public enum AccountCategory: String, Hashable, Sendable, CaseIterable {
    /// New-form gig workers (新就业形态): delivery riders, ride-hailing drivers.
    case gig
    /// Individual traders (个体工商户).
    case trader
    /// Part-time migrant workers (非全日制).
    case partTime
    /// Anyone else in flexible employment.
    case other

    /// Reads the spelling people type: `gig`, `trader`, `part-time` (or `partTime`), `other`,
    /// or the Chinese names.
    public init(typed text: String) throws(DomainError) {
        switch text.trimmingASCIIWhitespace.lowercased() {
        case "gig", "新就业形态", "新就业形态劳动者": self = .gig
        case "trader", "个体工商户", "个体": self = .trader
        case "part-time", "parttime", "part_time", "非全日制", "非全日制用工": self = .partTime
        case "other", "其他", "其他灵活就业": self = .other
        default: throw .categoryUnknown(text)
        }
    }

    /// The spelling on the command line.
    public var typed: String { self == .partTime ? "part-time" : rawValue }

    /// A label for people.
    public func label(_ language: Language) -> String {
        switch self {
        case .gig: language.pick("gig worker", "新就业形态劳动者")
        case .trader: language.pick("individual trader", "个体工商户")
        case .partTime: language.pick("part-time worker", "非全日制从业人员")
        case .other: language.pick("other flexible work", "其他灵活就业人员")
        }
    }
}

/// How the account was opened.
public enum EnrollmentChannel: String, Hashable, Sendable {
    /// By the worker on their own device.
    case selfService = "self"
    /// By outreach staff on a field laptop, during a promotion visit.
    case outreach
}

/// The agreement a worker signs with the centre: what a month's deposit is.
public struct Agreement: Hashable, Sendable {
    /// Base and rate, or fixed amount.
    public let mode: AgreementMode
    /// The contribution base, for `.baseAndRate`.
    public let baseFen: Int64?
    /// The combined rate, for `.baseAndRate`, in basis points (a whole percent × 100).
    public let rateBasisPoints: Int?
    /// The monthly deposit, in fen: base × rate rounded half-up to the yuan, or the fixed amount.
    public let monthlyFen: Int64

    /// An agreement by base and combined rate, checked against the policy.
    public static func baseAndRate(baseFen: Int64, ratePercent: Int, policy: Policy) throws(DomainError) -> Agreement {
        guard policy.agreementModes.contains(.baseAndRate) else { throw .agreementModeNotAllowed(.baseAndRate) }
        guard policy.baseFen.contains(baseFen) else {
            throw .baseOutsidePolicy(baseFen: baseFen, minimumFen: policy.baseFen.lowerBound, maximumFen: policy.baseFen.upperBound)
        }
        guard policy.ratePercent.contains(ratePercent) else {
            throw .rateOutsidePolicy(basisPoints: ratePercent * 100, minimumPercent: policy.ratePercent.lowerBound,
                                     maximumPercent: policy.ratePercent.upperBound)
        }
        let rate = ratePercent * 100
        return Agreement(mode: .baseAndRate, baseFen: baseFen, rateBasisPoints: rate,
                         monthlyFen: Policy.monthlyAmount(baseFen: baseFen, rateBasisPoints: rate))
    }

    /// An agreement for a fixed monthly amount, checked against the policy.
    public static func fixed(monthlyFen: Int64, policy: Policy) throws(DomainError) -> Agreement {
        guard policy.agreementModes.contains(.fixedAmount) else { throw .agreementModeNotAllowed(.fixedAmount) }
        guard policy.fixedMonthlyFen.contains(monthlyFen) else {
            throw .fixedOutsidePolicy(amountFen: monthlyFen, minimumFen: policy.fixedMonthlyFen.lowerBound,
                                      maximumFen: policy.fixedMonthlyFen.upperBound)
        }
        return Agreement(mode: .fixedAmount, baseFen: nil, rateBasisPoints: nil, monthlyFen: monthlyFen)
    }

    /// Reads what a person typed: `--base` and `--rate`, or `--monthly` (amounts in yuan, rate in
    /// whole percent, "12" or "12%").
    public static func typed(base: String?, rate: String?, monthly: String?, policy: Policy) throws(DomainError) -> Agreement {
        switch (base, rate, monthly) {
        case let (base?, rate?, nil):
            let baseFen = try Money.parseYuan(base).fen
            guard baseFen > 0 else { throw baseFen == 0 ? .amountZero : .amountNegative }
            return try baseAndRate(baseFen: baseFen, ratePercent: try parseRatePercent(rate), policy: policy)
        case let (nil, nil, monthly?):
            let fen = try Money.parseYuan(monthly).fen
            guard fen > 0 else { throw fen == 0 ? .amountZero : .amountNegative }
            return try fixed(monthlyFen: fen, policy: policy)
        default:
            throw .agreementIncomplete
        }
    }

    /// A whole percent: "12" or "12%".
    public static func parseRatePercent(_ text: String) throws(DomainError) -> Int {
        var t = text.trimmingASCIIWhitespace
        if t.hasSuffix("%") || t.hasSuffix("％") { t.removeLast() }
        guard !t.isEmpty, t.allSatisfy({ $0.isASCIIDigit || $0 == "." }) else { throw .rateNotWholePercent }
        guard let value = Int(t) else {
            // "12.0" is a whole percent; "12.5" is not.
            let parts = t.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 2, parts[1].allSatisfy({ $0 == "0" }), let whole = Int(parts[0]) else { throw .rateNotWholePercent }
            return whole
        }
        return value
    }

    /// Checks an agreement as replicated: it must be one the policy offers, with the monthly
    /// amount its rule gives.
    public func check(policy: Policy) throws(DomainError) {
        let expected: Agreement
        switch mode {
        case .baseAndRate:
            guard let baseFen, let rateBasisPoints, rateBasisPoints % 100 == 0 else { throw .rateNotWholePercent }
            expected = try .baseAndRate(baseFen: baseFen, ratePercent: rateBasisPoints / 100, policy: policy)
        case .fixedAmount:
            expected = try .fixed(monthlyFen: monthlyFen, policy: policy)
        }
        guard expected == self else { throw .agreementAmountWrong(expectedFen: expected.monthlyFen, actualFen: monthlyFen) }
    }

    /// The agreement as one field value, so its parts change together under merge.
    public var canonicalValue: CanonicalValue {
        var object: [String: CanonicalValue] = ["mode": .string(mode.rawValue), "monthlyFen": .integer(monthlyFen)]
        if let baseFen { object["baseFen"] = .integer(baseFen) }
        if let rateBasisPoints { object["rateBasisPoints"] = .integer(Int64(rateBasisPoints)) }
        return .object(object)
    }

    /// Reads the field value back.
    public init?(canonicalValue value: CanonicalValue) {
        guard let object = value.objectValue, let mode = object["mode"]?.stringValue.flatMap(AgreementMode.init),
              let monthly = object["monthlyFen"]?.integerValue else { return nil }
        self.mode = mode
        monthlyFen = monthly
        baseFen = object["baseFen"]?.integerValue
        rateBasisPoints = object["rateBasisPoints"]?.integerValue.map { Int($0) }
        if mode == .baseAndRate, baseFen == nil || rateBasisPoints == nil { return nil }
    }

    init(mode: AgreementMode, baseFen: Int64?, rateBasisPoints: Int?, monthlyFen: Int64) {
        self.mode = mode
        self.baseFen = baseFen
        self.rateBasisPoints = rateBasisPoints
        self.monthlyFen = monthlyFen
    }
}

/// Where an account stands, derived from its fields.
public enum AccountStatus: String, Hashable, Sendable {
    /// Open, but the person is not yet verified by the office or an outreach visit.
    case pendingVerification
    /// Open and verified.
    case active
    /// Monthly deposits paused by the worker.
    case paused
    /// Closed (sealed): nothing more is recorded.
    case closed

    /// A label for people.
    public func label(_ language: Language) -> String {
        switch self {
        case .pendingVerification: language.pick("pending verification", "待核验")
        case .active: language.pick("active", "正常")
        case .paused: language.pick("paused", "暂停缴存")
        case .closed: language.pick("closed", "已封存")
        }
    }
}

/// A voluntary personal HPF account (个人自愿缴存账户).
///
/// Replicated as a mutable record of type `account`. Fields that must change together (the
/// agreement) are one field; closing is its own write-once field, so a close is never undone by a
/// concurrent resume, whatever the clocks say.
public struct Account: Hashable, Sendable {
    /// The record type.
    public static let recordType = "account"

    public let id: String
    public var name: String
    public var idNumber: String
    public var phone: String
    public var category: AccountCategory
    public var agreement: Agreement
    public var channel: EnrollmentChannel
    public var enrolledOn: CivilDate
    public var verified: Bool
    public var paused: Bool
    public var closedOn: CivilDate?
    public var closeReason: String?
    /// The branch (管理部) whose outreach staff look after the account; nil for a worker's own enrolment.
    public var branch: String?
    /// The digest of the claim code printed when outreach staff opened the account.
    public var claimCodeHash: String?

    /// The derived status.
    public var status: AccountStatus {
        if closedOn != nil { return .closed }
        if paused { return .paused }
        return verified ? .active : .pendingVerification
    }

    /// The first month a deposit is due: the month of enrolment.
    public var firstPeriod: Period { enrolledOn.period }

    /// The record key.
    public var recordKey: RecordKey { RecordKey(type: Self.recordType, id: id) }

    /// Checks an enrolment as typed and builds the account, pending verification.
    public static func enroll(id: String, name: String, idNumber: String, phone: String, category: AccountCategory,
                              agreement: Agreement, channel: EnrollmentChannel, today: CivilDate,
                              policy: Policy) throws(DomainError) -> Account {
        let name = try validName(name)
        let resident = try ResidentID(idNumber, today: today)
        let age = resident.age(on: today)
        guard (policy.minimumAge...policy.maximumAge).contains(age) else {
            throw .ageOutsidePolicy(age: age, minimum: policy.minimumAge, maximum: policy.maximumAge)
        }
        let mobile = try MobileNumber(phone)
        return Account(id: id, name: name, idNumber: resident.value, phone: mobile.value, category: category,
                       agreement: agreement, channel: channel, enrolledOn: today, verified: false, paused: false,
                       closedOn: nil, closeReason: nil)
    }

    /// Checks an account as replicated, by the rules its enrolment had to meet on the day it was
    /// recorded: what the server does with every enrolment it receives.
    public func checkRecorded(policy: Policy) throws(DomainError) {
        guard try Self.validName(name) == name else { throw .nameEmpty }
        let resident = try ResidentID(idNumber, today: enrolledOn)
        guard resident.value == idNumber else { throw .idNumberFormat }
        let age = resident.age(on: enrolledOn)
        guard (policy.minimumAge...policy.maximumAge).contains(age) else {
            throw .ageOutsidePolicy(age: age, minimum: policy.minimumAge, maximum: policy.maximumAge)
        }
        guard try MobileNumber(phone).value == phone else { throw .mobileInvalid }
        try agreement.check(policy: policy)
        if let branch, !Branch.isValid(branch) { throw .branchInvalid }
        if let claimCodeHash, !ClaimCode.isDigest(claimCodeHash) { throw .malformedRecord(Self.recordType) }
    }

    /// One answer of an enrolment form, as a person types it.
    public enum FormField: Sendable {
        case name, idNumber, phone, category, monthly
        /// The base, in yuan.
        case base
        /// The rate, for the base already given (in yuan).
        case rate(base: String)
    }

    /// Checks one answer by the rules `enroll` applies to the whole form, so a terminal can ask
    /// again at once for an answer that breaks one.
    public static func checkAnswer(_ field: FormField, _ text: String, today: CivilDate, policy: Policy) throws(DomainError) {
        switch field {
        case .name:
            _ = try validName(text)
        case .idNumber:
            let resident = try ResidentID(text, today: today)
            let age = resident.age(on: today)
            guard (policy.minimumAge...policy.maximumAge).contains(age) else {
                throw .ageOutsidePolicy(age: age, minimum: policy.minimumAge, maximum: policy.maximumAge)
            }
        case .phone:
            _ = try MobileNumber(text)
        case .category:
            _ = try AccountCategory(typed: text)
        case .base:
            // Any rate the policy allows: only the base is being judged.
            _ = try Agreement.typed(base: text, rate: String(policy.ratePercent.lowerBound), monthly: nil, policy: policy)
        case let .rate(base):
            _ = try Agreement.typed(base: base, rate: text, monthly: nil, policy: policy)
        case .monthly:
            _ = try Agreement.typed(base: nil, rate: nil, monthly: text, policy: policy)
        }
    }

    /// A name as on the ID card: trimmed, not empty, at most 50 characters, none of them a
    /// control character (an arrow key pressed at a terminal's prompt types one: ESC [ D).
    static func validName(_ text: String) throws(DomainError) -> String {
        let name = text.trimmingASCIIWhitespace.precomposedNFC
        guard !name.isEmpty else { throw .nameEmpty }
        guard name.count <= 50 else { throw .nameTooLong(maxCharacters: 50) }
        guard !name.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) else {
            throw .nameControlCharacter
        }
        return name
    }

    /// The fields a `create` writes.
    public var createFields: [String: CanonicalValue] {
        var fields: [String: CanonicalValue] = [
            "name": .string(name), "idNumber": .string(idNumber), "phone": .string(phone),
            "category": .string(category.rawValue), "agreement": agreement.canonicalValue,
            "channel": .string(channel.rawValue), "enrolledOn": .string(enrolledOn.iso),
            "verified": .bool(verified), "paused": .bool(paused),
        ]
        if let closedOn { fields["closed"] = Self.closedValue(on: closedOn, reason: closeReason ?? "") }
        if let branch { fields["branch"] = .string(branch) }
        if let claimCodeHash { fields["claimCodeHash"] = .string(claimCodeHash) }
        return fields
    }

    /// The value of the write-once `closed` field.
    public static func closedValue(on date: CivilDate, reason: String) -> CanonicalValue {
        .object(["on": .string(date.iso), "reason": .string(reason)])
    }

    /// Reads an account from a record's current field values; nil when a field is missing or
    /// malformed (a record this version cannot read is left out, never guessed at).
    public init?(id: String, values: [String: CanonicalValue]) {
        guard let name = values["name"]?.stringValue, let idNumber = values["idNumber"]?.stringValue,
              let phone = values["phone"]?.stringValue,
              let category = values["category"]?.stringValue.flatMap(AccountCategory.init(rawValue:)),
              let agreement = values["agreement"].flatMap(Agreement.init(canonicalValue:)),
              let channel = values["channel"]?.stringValue.flatMap(EnrollmentChannel.init(rawValue:)),
              let enrolledOn = values["enrolledOn"]?.stringValue.flatMap(CivilDate.init(iso:)) else { return nil }
        self.id = id
        self.name = name
        self.idNumber = idNumber
        self.phone = phone
        self.category = category
        self.agreement = agreement
        self.channel = channel
        self.enrolledOn = enrolledOn
        verified = values["verified"]?.boolValue ?? false
        paused = values["paused"]?.boolValue ?? false
        if let closed = values["closed"]?.objectValue {
            closedOn = closed["on"]?.stringValue.flatMap(CivilDate.init(iso:)) ?? enrolledOn
            closeReason = closed["reason"]?.stringValue
        } else {
            closedOn = nil
            closeReason = nil
        }
        branch = values["branch"]?.stringValue
        claimCodeHash = values["claimCodeHash"]?.stringValue
    }

    init(id: String, name: String, idNumber: String, phone: String, category: AccountCategory, agreement: Agreement,
         channel: EnrollmentChannel, enrolledOn: CivilDate, verified: Bool, paused: Bool, closedOn: CivilDate?,
         closeReason: String?) {
        self.id = id
        self.name = name
        self.idNumber = idNumber
        self.phone = phone
        self.category = category
        self.agreement = agreement
        self.channel = channel
        self.enrolledOn = enrolledOn
        self.verified = verified
        self.paused = paused
        self.closedOn = closedOn
        self.closeReason = closeReason
        branch = nil
        claimCodeHash = nil
    }

    // MARK: Changes

    /// The fields an update of the phone number and/or agreement writes; refuses an update that
    /// changes nothing or an account that is closed.
    public func updateFields(phone: String?, agreement: Agreement?) throws(DomainError) -> [String: CanonicalValue] {
        guard status != .closed else { throw .accountClosed }
        var fields: [String: CanonicalValue] = [:]
        if let phone {
            let mobile = try MobileNumber(phone)
            if mobile.value != self.phone { fields["phone"] = .string(mobile.value) }
        }
        if let agreement, agreement != self.agreement { fields["agreement"] = agreement.canonicalValue }
        guard !fields.isEmpty else { throw .nothingToUpdate }
        return fields
    }

    /// The fields a pause writes.
    public func pauseFields() throws(DomainError) -> [String: CanonicalValue] {
        switch status {
        case .closed: throw .accountClosed
        case .paused: throw .accountAlreadyPaused
        case .active, .pendingVerification: return ["paused": .bool(true)]
        }
    }

    /// The fields a resume writes.
    public func resumeFields() throws(DomainError) -> [String: CanonicalValue] {
        switch status {
        case .closed: throw .accountClosed
        case .paused: return ["paused": .bool(false)]
        case .active, .pendingVerification: throw .accountNotPaused
        }
    }

    /// The fields a close writes.
    public func closeFields(reason: String, today: CivilDate) throws(DomainError) -> [String: CanonicalValue] {
        guard status != .closed else { throw .accountClosed }
        let reason = reason.trimmingASCIIWhitespace.precomposedNFC
        guard !reason.isEmpty else { throw .reasonEmpty }
        return ["closed": Self.closedValue(on: today, reason: reason)]
    }
}

extension String {
    /// The text in Unicode NFC, as the canonical encoding requires.
    var precomposedNFC: String {
        CanonicalText.nfc(self)
    }
}
