import ProvidentSync

/// What an employer in difficulty may apply for: to defer payment (缓缴) or to lower its rate (降低缴存比例).
public enum ReliefKind: String, Hashable, Sendable, CaseIterable {
    case `defer`
    case reduceRate

    public init(typed text: String) throws(DomainError) {
        switch text.trimmingASCIIWhitespace.lowercased() {
        case "defer", "deferral", "缓缴": self = .defer
        case "reduce-rate", "reducerate", "reduce_rate", "lower-rate", "降比例", "降低缴存比例", "降低比例": self = .reduceRate
        default: throw .reliefKindUnknown(text)
        }
    }

    public var typed: String { self == .defer ? "defer" : "reduce-rate" }

    public func label(_ l: Language) -> String {
        self == .defer ? l.pick("deferral", "缓缴") : l.pick("reduced rate", "降低缴存比例")
    }
}

/// Who passed the resolution behind an application.
public enum ResolutionBody: String, Hashable, Sendable, CaseIterable {
    case staffCongress
    case union

    public init(typed text: String) throws(DomainError) {
        switch text.trimmingASCIIWhitespace.lowercased() {
        case "staff-congress", "staffcongress", "congress", "职工代表大会", "职代会": self = .staffCongress
        case "union", "trade-union", "工会": self = .union
        default: throw .resolutionBodyUnknown(text)
        }
    }

    public var typed: String { self == .staffCongress ? "staff-congress" : "union" }

    public func label(_ l: Language) -> String {
        self == .staffCongress ? l.pick("staff congress", "职工代表大会") : l.pick("trade union", "工会")
    }
}

/// The staff congress's or union's resolution: when it was passed and the vote.
public struct Resolution: Hashable, Sendable {
    public var body: ResolutionBody
    public var date: CivilDate
    public var votesFor: Int
    public var votesCast: Int

    public init(body: ResolutionBody, date: CivilDate, votesFor: Int, votesCast: Int) {
        self.body = body
        self.date = date
        self.votesFor = votesFor
        self.votesCast = votesCast
    }

    var canonicalValue: CanonicalValue {
        .object(["body": .string(body.rawValue), "date": .string(date.iso), "votesFor": .integer(Int64(votesFor)),
                 "votesCast": .integer(Int64(votesCast))])
    }

    init?(canonicalValue value: CanonicalValue) {
        guard let object = value.objectValue, let body = object["body"]?.stringValue.flatMap(ResolutionBody.init(rawValue:)),
              let date = object["date"]?.stringValue.flatMap(CivilDate.init(iso:)),
              let votesFor = object["votesFor"]?.integerValue, let cast = object["votesCast"]?.integerValue else { return nil }
        self.init(body: body, date: date, votesFor: Int(votesFor), votesCast: Int(cast))
    }
}

/// An employer's application to defer or lower its rate, recorded by outreach staff or the
/// office: an insert-only fact of type `application`. The office decides it with an
/// `applicationDecision` fact; an approved application sets the employer's status for its months.
public struct ReliefApplication: Hashable, Sendable {
    /// The record type.
    public static let recordType = "application"

    public let id: String
    public var unitID: String
    public var kind: ReliefKind
    /// The rates asked for, in basis points (a whole percent × 100), for a reduced rate.
    public var employerRateBasisPoints: Int?
    public var employeeRateBasisPoints: Int?
    /// The first month the relief would cover, and how many months.
    public var from: Period
    public var months: Int
    public var resolution: Resolution
    /// The public notice in the unit (公示): first and last day.
    public var noticeFrom: CivilDate
    public var noticeTo: CivilDate
    /// References of the attached documents (financial statements, the resolution…).
    public var documents: [String]
    public var submittedOn: CivilDate
    public var recordedAt: Instant

    public var recordKey: RecordKey { RecordKey(type: Self.recordType, id: id) }

    /// The last month covered.
    public var through: Period { from.adding(months: months - 1) }

    public init(id: String, unitID: String, kind: ReliefKind, employerRateBasisPoints: Int?, employeeRateBasisPoints: Int?,
                from: Period, months: Int, resolution: Resolution, noticeFrom: CivilDate, noticeTo: CivilDate, documents: [String],
                submittedOn: CivilDate, recordedAt: Instant) {
        self.id = id
        self.unitID = unitID
        self.kind = kind
        self.employerRateBasisPoints = employerRateBasisPoints
        self.employeeRateBasisPoints = employeeRateBasisPoints
        self.from = from
        self.months = months
        self.resolution = resolution
        self.noticeFrom = noticeFrom
        self.noticeTo = noticeTo
        self.documents = documents
        self.submittedOn = submittedOn
        self.recordedAt = recordedAt
    }

    /// Checks an application by the rules of the domain reference: a lower rate names both
    /// rates, each within the policy's employer bounds (never under 5%); a deferral names none;
    /// at most the policy's months (12); the resolution passed by a majority of the votes cast;
    /// the public notice after the resolution and finished by the submission; not submitted in
    /// the future.
    /// One answer of an application form, as typed: the field's own rule (format, the policy's
    /// bounds), so a terminal can ask again at once. Rules across fields wait for `check`.
    public static func checkAnswer(_ field: String, _ text: String, policy: Policy) throws(DomainError) {
        switch field {
        case "unit": _ = try CreditCode(text)
        case "kind": _ = try ReliefKind(typed: text)
        case "from": guard Period(text.trimmingASCIIWhitespace) != nil else { throw .periodFormat(text) }
        case "months":
            guard let months = Int(text.trimmingASCIIWhitespace) else { throw .countInvalid(field: "months") }
            guard (1...policy.reliefMaxMonths).contains(months) else { throw .reliefMonths(given: months, maximum: policy.reliefMaxMonths) }
        case "resolution": _ = try ResolutionBody(typed: text)
        case "resolution-date", "notice-from", "notice-to": _ = try CivilDate.typed(text)
        case "votes-for", "votes-cast":
            guard let votes = Int(text.trimmingASCIIWhitespace), votes >= 0 else { throw .countInvalid(field: field) }
        case "employer-rate", "employee-rate":
            let percent = try Agreement.parseRatePercent(text)
            let bounds = policy.employerRatePercent
            guard bounds.contains(percent) else {
                throw .reliefRateOutsidePolicy(side: field == "employer-rate" ? "employer" : "employee", percent: percent,
                                               minimum: bounds.lowerBound, maximum: bounds.upperBound)
            }
        default: break
        }
    }

    public func check(policy: Policy, today: CivilDate) throws(DomainError) {
        switch kind {
        case .reduceRate:
            guard let employer = employerRateBasisPoints, let employee = employeeRateBasisPoints else { throw .reliefRatesMissing }
            let bounds = policy.employerRatePercent
            for (side, rate) in [("employer", employer), ("employee", employee)] {
                guard rate % 100 == 0 else { throw .rateNotWholePercent }
                guard bounds.contains(rate / 100) else {
                    throw .reliefRateOutsidePolicy(side: side, percent: rate / 100, minimum: bounds.lowerBound, maximum: bounds.upperBound)
                }
            }
        case .defer:
            guard employerRateBasisPoints == nil, employeeRateBasisPoints == nil else { throw .reliefRatesNotForDeferral }
        }
        guard (1...policy.reliefMaxMonths).contains(months) else { throw .reliefMonths(given: months, maximum: policy.reliefMaxMonths) }
        guard resolution.votesCast > 0, resolution.votesFor <= resolution.votesCast, resolution.votesFor * 2 > resolution.votesCast else {
            throw .resolutionVotes
        }
        guard submittedOn <= today else { throw .submissionInFuture }
        guard noticeFrom <= noticeTo else { throw .noticeEndsBeforeStart }
        guard resolution.date <= noticeFrom else { throw .noticeBeforeResolution }
        guard noticeTo <= submittedOn else { throw .noticeAfterSubmission }
        for document in documents where document.isEmpty || document.count > 100 {
            throw .textTooLong(field: "documents", maxCharacters: 100)
        }
    }

    public var fields: [String: CanonicalValue] {
        var fields: [String: CanonicalValue] = [
            "unit": .string(unitID), "kind": .string(kind.rawValue), "from": .string(from.iso), "months": .integer(Int64(months)),
            "resolution": resolution.canonicalValue,
            "notice": .object(["from": .string(noticeFrom.iso), "to": .string(noticeTo.iso)]),
            "documents": .array(documents.map(CanonicalValue.string)), "submittedOn": .string(submittedOn.iso),
            "recordedAt": .string(recordedAt.utcISO),
        ]
        if let employerRateBasisPoints { fields["employerRateBasisPoints"] = .integer(Int64(employerRateBasisPoints)) }
        if let employeeRateBasisPoints { fields["employeeRateBasisPoints"] = .integer(Int64(employeeRateBasisPoints)) }
        return fields
    }

    public init?(id: String, values: [String: CanonicalValue]) {
        guard let unit = values["unit"]?.stringValue, let kind = values["kind"]?.stringValue.flatMap(ReliefKind.init(rawValue:)),
              let from = values["from"]?.stringValue.flatMap(Period.init), let months = values["months"]?.integerValue,
              let resolution = values["resolution"].flatMap(Resolution.init(canonicalValue:)),
              let notice = values["notice"]?.objectValue, let noticeFrom = notice["from"]?.stringValue.flatMap(CivilDate.init(iso:)),
              let noticeTo = notice["to"]?.stringValue.flatMap(CivilDate.init(iso:)), let documents = values["documents"]?.arrayValue,
              let submitted = values["submittedOn"]?.stringValue.flatMap(CivilDate.init(iso:)),
              let recordedAt = values["recordedAt"]?.stringValue.flatMap(Instant.init(utcISO:)),
              (1...120).contains(months) else { return nil }
        let references = documents.compactMap(\.stringValue)
        guard references.count == documents.count else { return nil }
        self.init(id: id, unitID: unit, kind: kind,
                  employerRateBasisPoints: values["employerRateBasisPoints"]?.integerValue.map { Int($0) },
                  employeeRateBasisPoints: values["employeeRateBasisPoints"]?.integerValue.map { Int($0) },
                  from: from, months: Int(months), resolution: resolution, noticeFrom: noticeFrom, noticeTo: noticeTo,
                  documents: references, submittedOn: submitted, recordedAt: recordedAt)
    }
}

/// The office's decision on an application: an insert-only fact whose id is derived from the
/// application's, so an application is decided once.
public struct ApplicationDecision: Hashable, Sendable {
    /// The record type.
    public static let recordType = "applicationDecision"

    public enum Verdict: String, Hashable, Sendable {
        case approved
        case rejected

        public func label(_ l: Language) -> String {
            self == .approved ? l.pick("approved", "已批准") : l.pick("rejected", "未批准")
        }
    }

    public let applicationID: String
    public let verdict: Verdict
    public let reason: String
    public let decidedAt: Instant

    public static func id(for applicationID: String) -> String { "dec-\(applicationID)" }

    public var recordKey: RecordKey { RecordKey(type: Self.recordType, id: Self.id(for: applicationID)) }

    public init(applicationID: String, verdict: Verdict, reason: String, decidedAt: Instant) {
        self.applicationID = applicationID
        self.verdict = verdict
        self.reason = reason
        self.decidedAt = decidedAt
    }

    /// A decision with its reason (required either way: the employer is told why).
    public static func make(applicationID: String, verdict: Verdict, reason: String, at instant: Instant) throws(DomainError) -> ApplicationDecision {
        let reason = reason.trimmingASCIIWhitespace.precomposedNFC
        guard !reason.isEmpty else { throw .reasonEmpty }
        guard reason.count <= 500 else { throw .textTooLong(field: "reason", maxCharacters: 500) }
        return ApplicationDecision(applicationID: applicationID, verdict: verdict, reason: reason, decidedAt: instant)
    }

    public var fields: [String: CanonicalValue] {
        ["application": .string(applicationID), "verdict": .string(verdict.rawValue), "reason": .string(reason),
         "decidedAt": .string(decidedAt.utcISO)]
    }

    public init?(values: [String: CanonicalValue]) {
        guard let application = values["application"]?.stringValue,
              let verdict = values["verdict"]?.stringValue.flatMap(Verdict.init(rawValue:)),
              let reason = values["reason"]?.stringValue,
              let at = values["decidedAt"]?.stringValue.flatMap(Instant.init(utcISO:)) else { return nil }
        self.init(applicationID: application, verdict: verdict, reason: reason, decidedAt: at)
    }

    /// The relief an approved decision grants.
    public func relief(for application: ReliefApplication) -> ApprovedRelief? {
        verdict == .approved ? ApprovedRelief(kind: application.kind, from: application.from, through: application.through) : nil
    }
}
