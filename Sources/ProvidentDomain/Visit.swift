import ProvidentSync

/// Why outreach staff went: promotion (宣传), survey (摸底), collection (催缴) or follow-up (回访).
public enum VisitPurpose: String, Hashable, Sendable, CaseIterable {
    case promotion
    case survey
    case collection
    case followUp

    public init(typed text: String) throws(DomainError) {
        switch text.trimmingASCIIWhitespace.lowercased() {
        case "promotion", "宣传", "宣传走访": self = .promotion
        case "survey", "摸底", "摸底调查": self = .survey
        case "collection", "催缴", "催缴走访": self = .collection
        case "follow-up", "followup", "follow_up", "回访": self = .followUp
        default: throw .visitPurposeUnknown(text)
        }
    }

    public var typed: String { self == .followUp ? "follow-up" : rawValue }

    public func label(_ l: Language) -> String {
        switch self {
        case .promotion: l.pick("promotion", "宣传")
        case .survey: l.pick("survey", "摸底")
        case .collection: l.pick("collection", "催缴")
        case .followUp: l.pick("follow-up", "回访")
        }
    }
}

/// What came of a visit.
public enum VisitOutcome: String, Hashable, Sendable, CaseIterable {
    /// The policy was explained (promotion, survey).
    case informed
    case agreedToPay
    case paid
    /// The employer will apply to defer or lower its rate.
    case applying
    case refused
    case unitClosed
    case notFound

    public init(typed text: String) throws(DomainError) {
        switch text.trimmingASCIIWhitespace.lowercased().replacingOccurrences(of: "_", with: "-") {
        case "informed", "已告知", "已宣传": self = .informed
        case "agreed-to-pay", "agreedtopay", "agreed", "同意缴存", "同意补缴": self = .agreedToPay
        case "paid", "已缴存", "已补缴": self = .paid
        case "applying", "拟申请", "申请缓缴", "申请降比例": self = .applying
        case "refused", "拒绝", "拒绝缴存": self = .refused
        case "unit-closed", "unitclosed", "closed", "单位已关闭", "已注销", "已关闭": self = .unitClosed
        case "not-found", "notfound", "未找到", "查无此单位": self = .notFound
        default: throw .visitOutcomeUnknown(text)
        }
    }

    public var typed: String {
        switch self {
        case .agreedToPay: "agreed-to-pay"
        case .unitClosed: "unit-closed"
        case .notFound: "not-found"
        default: rawValue
        }
    }

    public func label(_ l: Language) -> String {
        switch self {
        case .informed: l.pick("informed", "已告知政策")
        case .agreedToPay: l.pick("agreed to pay", "同意缴存")
        case .paid: l.pick("paid", "已缴存")
        case .applying: l.pick("will apply to defer or lower the rate", "拟申请缓缴或降比例")
        case .refused: l.pick("refused", "拒绝缴存")
        case .unitClosed: l.pick("employer closed", "单位已关闭")
        case .notFound: l.pick("not found", "未找到单位")
        }
    }
}

/// A place visited to promote voluntary accounts to flexible workers.
public enum PlaceKind: String, Hashable, Sendable, CaseIterable {
    case market
    case depot
    case site
    case park
    case other

    public init(typed text: String) throws(DomainError) {
        switch text.trimmingASCIIWhitespace.lowercased() {
        case "market", "市场", "集市": self = .market
        case "depot", "站点", "配送站", "骑手站点": self = .depot
        case "site", "工地", "建筑工地": self = .site
        case "park", "园区", "产业园": self = .park
        case "other", "其他": self = .other
        default: throw .placeKindUnknown(text)
        }
    }

    public var typed: String { rawValue }

    public func label(_ l: Language) -> String {
        switch self {
        case .market: l.pick("market", "市场")
        case .depot: l.pick("delivery depot", "配送站点")
        case .site: l.pick("building site", "工地")
        case .park: l.pick("industrial park", "园区")
        case .other: l.pick("other place", "其他场所")
        }
    }
}

/// A place: its name, kind and address.
public struct Place: Hashable, Sendable {
    public var name: String
    public var kind: PlaceKind
    public var address: String?

    public init(name: String, kind: PlaceKind, address: String?) {
        self.name = name
        self.kind = kind
        self.address = address
    }

    var canonicalValue: CanonicalValue {
        var object: [String: CanonicalValue] = ["name": .string(name), "kind": .string(kind.rawValue)]
        if let address { object["address"] = .string(address) }
        return .object(object)
    }

    init?(canonicalValue value: CanonicalValue) {
        guard let object = value.objectValue, let name = object["name"]?.stringValue,
              let kind = object["kind"]?.stringValue.flatMap(PlaceKind.init(rawValue:)) else { return nil }
        self.init(name: name, kind: kind, address: object["address"]?.stringValue)
    }
}

/// Someone the staff spoke to.
public struct PersonMet: Hashable, Sendable {
    public var name: String
    public var role: String
    public var phone: String?

    public init(name: String, role: String, phone: String?) {
        self.name = name
        self.role = role
        self.phone = phone
    }

    /// Reads "name,role[,phone]" (a Chinese comma works too).
    public init(typed text: String) throws(DomainError) {
        let parts = text.replacingOccurrences(of: "，", with: ",").split(separator: ",", omittingEmptySubsequences: false)
            .map { String($0).trimmingASCIIWhitespace }
        guard (2...3).contains(parts.count), !parts[0].isEmpty, !parts[1].isEmpty else { throw .personIncomplete }
        let phone = parts.count == 3 && !parts[2].isEmpty ? try ContactPhone(parts[2]).value : nil
        self.init(name: try EmployerForm.text(parts[0], field: "name", maximum: 50), role: try EmployerForm.text(parts[1], field: "role", maximum: 50),
                  phone: phone)
    }

    var canonicalValue: CanonicalValue {
        var object: [String: CanonicalValue] = ["name": .string(name), "role": .string(role)]
        if let phone { object["phone"] = .string(phone) }
        return .object(object)
    }

    init?(canonicalValue value: CanonicalValue) {
        guard let object = value.objectValue, let name = object["name"]?.stringValue, let role = object["role"]?.stringValue else { return nil }
        self.init(name: name, role: role, phone: object["phone"]?.stringValue)
    }
}

/// The documents staff serve on an employer.
public enum DocumentKind: String, Hashable, Sendable, CaseIterable {
    /// 行政指导意见书.
    case guidanceLetter
    /// 责令限期缴存通知书.
    case orderToPay

    public init(typed text: String) throws(DomainError) {
        switch text.trimmingASCIIWhitespace.lowercased() {
        case "guidance-letter", "guidanceletter", "guidance", "行政指导意见书", "指导意见书": self = .guidanceLetter
        case "order-to-pay", "ordertopay", "order", "责令限期缴存通知书", "限期缴存通知书": self = .orderToPay
        default: throw .documentKindUnknown(text)
        }
    }

    public var typed: String { self == .guidanceLetter ? "guidance-letter" : "order-to-pay" }

    public func label(_ l: Language) -> String {
        switch self {
        case .guidanceLetter: l.pick("administrative guidance letter", "行政指导意见书")
        case .orderToPay: l.pick("order to pay within a deadline", "责令限期缴存通知书")
        }
    }
}

/// A document served on the visit: its kind, number, deadline (required for an order to pay, at
/// most the policy's days after the visit) and how service was proved (a signed receipt…).
public struct ServedDocument: Hashable, Sendable {
    public var kind: DocumentKind
    public var number: String
    public var deadline: CivilDate?
    public var proof: String?

    public init(kind: DocumentKind, number: String, deadline: CivilDate?, proof: String?) {
        self.kind = kind
        self.number = number
        self.deadline = deadline
        self.proof = proof
    }

    /// Reads "kind,number[,deadline[,proof]]", like "order-to-pay，洛公积金催〔2026〕17号，2026-05-10，签收".
    public init(typed text: String) throws(DomainError) {
        let parts = text.replacingOccurrences(of: "，", with: ",").split(separator: ",", omittingEmptySubsequences: false)
            .map { String($0).trimmingASCIIWhitespace }
        guard (2...4).contains(parts.count) else { throw .documentNumberEmpty }
        let kind = try DocumentKind(typed: parts[0])
        guard !parts[1].isEmpty else { throw .documentNumberEmpty }
        let deadline = parts.count >= 3 && !parts[2].isEmpty ? try CivilDate.typed(parts[2]) : nil
        let proof = parts.count == 4 && !parts[3].isEmpty ? parts[3] : nil
        self.init(kind: kind, number: try EmployerForm.text(parts[1], field: "number", maximum: 60), deadline: deadline,
                  proof: try proof.map { text throws(DomainError) in try EmployerForm.text(text, field: "proof", maximum: 100) })
    }

    var canonicalValue: CanonicalValue {
        var object: [String: CanonicalValue] = ["kind": .string(kind.rawValue), "number": .string(number)]
        if let deadline { object["deadline"] = .string(deadline.iso) }
        if let proof { object["proof"] = .string(proof) }
        return .object(object)
    }

    init?(canonicalValue value: CanonicalValue) {
        guard let object = value.objectValue, let kind = object["kind"]?.stringValue.flatMap(DocumentKind.init(rawValue:)),
              let number = object["number"]?.stringValue else { return nil }
        var deadline: CivilDate?
        if let text = object["deadline"]?.stringValue {
            guard let date = CivilDate(iso: text) else { return nil }
            deadline = date
        }
        self.init(kind: kind, number: number, deadline: deadline, proof: object["proof"]?.stringValue)
    }
}

/// A visit by outreach staff, recorded offline: an insert-only fact of type `visit`. A mistaken
/// visit is voided by a `visitVoid` fact with a reason, never edited or deleted.
public struct Visit: Hashable, Sendable {
    /// The record type.
    public static let recordType = "visit"

    public let id: String
    /// The employer visited, by record id (`unit-<credit code>`), or nil for a place.
    public var unitID: String?
    /// The place visited, for a promotion visit to flexible workers.
    public var place: Place?
    /// The branch whose staff made the visit (and, for an employer, which looks after it).
    public var branch: String
    public var purpose: VisitPurpose
    public var date: CivilDate
    public var staff: [String]
    public var persons: [PersonMet]
    public var notes: String
    public var documents: [ServedDocument]
    public var outcome: VisitOutcome?
    public var followUpOn: CivilDate?
    public var recordedAt: Instant

    public var recordKey: RecordKey { RecordKey(type: Self.recordType, id: id) }

    public init(id: String, unitID: String?, place: Place?, branch: String, purpose: VisitPurpose, date: CivilDate, staff: [String],
                persons: [PersonMet], notes: String, documents: [ServedDocument], outcome: VisitOutcome?, followUpOn: CivilDate?,
                recordedAt: Instant) {
        self.id = id
        self.unitID = unitID
        self.place = place
        self.branch = branch
        self.purpose = purpose
        self.date = date
        self.staff = staff
        self.persons = persons
        self.notes = notes
        self.documents = documents
        self.outcome = outcome
        self.followUpOn = followUpOn
        self.recordedAt = recordedAt
    }

    /// Checks a visit by the rules of the domain reference:
    ///
    /// - an employer or a place, not both; survey, collection and follow-up visits are to an employer;
    /// - the date is not in the future;
    /// - staff named, each once; a collection visit needs the policy's minimum (2);
    /// - each person met has a name and a role;
    /// - documents only on collection and follow-up visits; an order to pay has a deadline; a
    ///   deadline is after the visit and at most the policy's days (30) later;
    /// - a collection visit has an outcome; a follow-up date is after the visit.
    public func check(policy: Policy, today: CivilDate) throws(DomainError) {
        if unitID != nil, place != nil { throw .visitTargetAmbiguous }
        if unitID == nil {
            guard purpose == .promotion else { throw .visitNeedsUnit }
            guard let place, !place.name.isEmpty else { throw .visitNeedsUnit }
        }
        guard Branch.isValid(branch) else { throw .branchInvalid }
        guard date <= today else { throw .visitDateInFuture }
        try Self.checkStaff(staff, purpose: purpose, policy: policy)
        for person in persons where person.name.isEmpty || person.role.isEmpty { throw .personIncomplete }
        if !documents.isEmpty, purpose != .collection, purpose != .followUp { throw .documentsOnlyOnCollection }
        for document in documents { try Self.checkDocument(document, visitDate: date, policy: policy) }
        if purpose == .collection, outcome == nil { throw .outcomeMissing }
        if let followUpOn, followUpOn <= date { throw .followUpNotAfterVisit }
        guard notes.count <= 4_000 else { throw .textTooLong(field: "notes", maxCharacters: 4_000) }
    }

    /// The staff on a visit: at least one, none twice, and on a collection visit at least the
    /// policy's `collectionMinimumStaff`. Also for a form being filled in, answer by answer.
    public static func checkStaff(_ staff: [String], purpose: VisitPurpose, policy: Policy) throws(DomainError) {
        guard !staff.isEmpty, staff.allSatisfy({ !$0.isEmpty }) else { throw .staffMissing }
        var seen = Set<String>()
        for name in staff where !seen.insert(name).inserted { throw .staffRepeated(name) }
        if purpose == .collection, staff.count < policy.collectionMinimumStaff {
            throw .collectionStaff(minimum: policy.collectionMinimumStaff, given: staff.count)
        }
    }

    /// A document served on a visit of `visitDate`: a number, and for an order to pay a deadline
    /// after the visit and at most the policy's `deadlineMaxDays` later.
    public static func checkDocument(_ document: ServedDocument, visitDate: CivilDate, policy: Policy) throws(DomainError) {
        guard !document.number.isEmpty else { throw .documentNumberEmpty }
        if document.kind == .orderToPay, document.deadline == nil { throw .deadlineMissing }
        if let deadline = document.deadline {
            let days = deadline.daysSinceEpoch - visitDate.daysSinceEpoch
            guard days > 0 else { throw .deadlineNotAfterVisit }
            guard days <= policy.deadlineMaxDays else { throw .deadlineTooFar(days: days, maximum: policy.deadlineMaxDays) }
        }
    }

    /// Whether a guidance letter or an order to pay was served.
    public var servedLetter: Bool { !documents.isEmpty }

    /// Whether the visit records a collection interview (催缴情况笔录): notes and someone met.
    public var recordsInterview: Bool {
        (purpose == .collection || purpose == .followUp) && !notes.isEmpty && !persons.isEmpty
    }

    /// The fact's fields.
    public var fields: [String: CanonicalValue] {
        var fields: [String: CanonicalValue] = [
            "branch": .string(branch), "purpose": .string(purpose.rawValue), "date": .string(date.iso),
            "staff": .array(staff.map(CanonicalValue.string)), "persons": .array(persons.map(\.canonicalValue)),
            "notes": .string(notes), "documents": .array(documents.map(\.canonicalValue)),
            "recordedAt": .string(recordedAt.utcISO),
        ]
        if let unitID { fields["unit"] = .string(unitID) }
        if let place { fields["place"] = place.canonicalValue }
        if let outcome { fields["outcome"] = .string(outcome.rawValue) }
        if let followUpOn { fields["followUpOn"] = .string(followUpOn.iso) }
        return fields
    }

    /// Reads a visit from a fact's fields; nil when malformed.
    public init?(id: String, values: [String: CanonicalValue]) {
        guard let branch = values["branch"]?.stringValue,
              let purpose = values["purpose"]?.stringValue.flatMap(VisitPurpose.init(rawValue:)),
              let date = values["date"]?.stringValue.flatMap(CivilDate.init(iso:)),
              let staff = values["staff"]?.arrayValue, let persons = values["persons"]?.arrayValue,
              let notes = values["notes"]?.stringValue, let documents = values["documents"]?.arrayValue,
              let recordedAt = values["recordedAt"]?.stringValue.flatMap(Instant.init(utcISO:)) else { return nil }
        let staffNames = staff.compactMap(\.stringValue)
        let people = persons.compactMap(PersonMet.init(canonicalValue:))
        let served = documents.compactMap(ServedDocument.init(canonicalValue:))
        guard staffNames.count == staff.count, people.count == persons.count, served.count == documents.count else { return nil }
        var place: Place?
        if let value = values["place"] {
            guard let parsed = Place(canonicalValue: value) else { return nil }
            place = parsed
        }
        var outcome: VisitOutcome?
        if let text = values["outcome"]?.stringValue {
            guard let parsed = VisitOutcome(rawValue: text) else { return nil }
            outcome = parsed
        }
        var followUp: CivilDate?
        if let text = values["followUpOn"]?.stringValue {
            guard let parsed = CivilDate(iso: text) else { return nil }
            followUp = parsed
        }
        self.init(id: id, unitID: values["unit"]?.stringValue, place: place, branch: branch, purpose: purpose, date: date,
                  staff: staffNames, persons: people, notes: notes, documents: served, outcome: outcome, followUpOn: followUp,
                  recordedAt: recordedAt)
    }
}

/// The voiding of a mistaken visit: an insert-only fact whose id is derived from the visit's, so
/// a visit is voided at most once.
public struct VisitVoid: Hashable, Sendable {
    /// The record type.
    public static let recordType = "visitVoid"

    public let visitID: String
    public let reason: String
    public let recordedAt: Instant

    public static func id(for visitID: String) -> String { "void-\(visitID)" }

    public var recordKey: RecordKey { RecordKey(type: Self.recordType, id: Self.id(for: visitID)) }

    public init(visitID: String, reason: String, recordedAt: Instant) {
        self.visitID = visitID
        self.reason = reason
        self.recordedAt = recordedAt
    }

    /// Checks the reason and builds a voiding.
    public static func make(visitID: String, reason: String, at instant: Instant) throws(DomainError) -> VisitVoid {
        let reason = reason.trimmingASCIIWhitespace.precomposedNFC
        guard !reason.isEmpty else { throw .reasonEmpty }
        guard reason.count <= 500 else { throw .textTooLong(field: "reason", maxCharacters: 500) }
        return VisitVoid(visitID: visitID, reason: reason, recordedAt: instant)
    }

    public var fields: [String: CanonicalValue] {
        ["visit": .string(visitID), "reason": .string(reason), "recordedAt": .string(recordedAt.utcISO)]
    }

    public init?(values: [String: CanonicalValue]) {
        guard let visit = values["visit"]?.stringValue, let reason = values["reason"]?.stringValue,
              let at = values["recordedAt"]?.stringValue.flatMap(Instant.init(utcISO:)) else { return nil }
        self.init(visitID: visit, reason: reason, recordedAt: at)
    }
}
