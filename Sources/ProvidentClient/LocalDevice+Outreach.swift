import Foundation
import ProvidentCrypto
import ProvidentDomain
import ProvidentStore
import ProvidentSync

/// What outreach staff fill in for a visit, as typed.
public struct VisitForm: Hashable, Sendable {
    /// The employer's credit code, or nil for a place.
    public var unit: String?
    public var placeName: String?
    public var placeKind: String?
    public var placeAddress: String?
    /// The branch of a place visit made by the office (a field laptop uses its own).
    public var branch: String?
    public var purpose: String
    /// The day of the visit (YYYY-MM-DD); today when nil.
    public var date: String?
    public var staff: [String]
    /// "name,role[,phone]" each.
    public var persons: [String]
    public var notes: String
    /// "kind,number[,deadline[,proof]]" each.
    public var documents: [String]
    public var outcome: String?
    public var followUp: String?

    public init(unit: String?, placeName: String? = nil, placeKind: String? = nil, placeAddress: String? = nil, branch: String? = nil,
                purpose: String, date: String? = nil, staff: [String], persons: [String] = [], notes: String = "",
                documents: [String] = [], outcome: String? = nil, followUp: String? = nil) {
        self.unit = unit
        self.placeName = placeName
        self.placeKind = placeKind
        self.placeAddress = placeAddress
        self.branch = branch
        self.purpose = purpose
        self.date = date
        self.staff = staff
        self.persons = persons
        self.notes = notes
        self.documents = documents
        self.outcome = outcome
        self.followUp = followUp
    }
}

/// What an application to defer or lower the rate says, as typed.
public struct ApplicationForm: Hashable, Sendable {
    public var unit: String
    public var kind: String
    public var employerRate: String?
    public var employeeRate: String?
    /// The first month (YYYY-MM) and the number of months.
    public var from: String
    public var months: String
    public var resolutionBody: String
    public var resolutionDate: String
    public var votesFor: String
    public var votesCast: String
    public var noticeFrom: String
    public var noticeTo: String
    public var documents: [String]
    /// The day the employer submitted it; today when nil.
    public var submittedOn: String?

    public init(unit: String, kind: String, employerRate: String?, employeeRate: String?, from: String, months: String,
                resolutionBody: String, resolutionDate: String, votesFor: String, votesCast: String, noticeFrom: String,
                noticeTo: String, documents: [String], submittedOn: String?) {
        self.unit = unit
        self.kind = kind
        self.employerRate = employerRate
        self.employeeRate = employeeRate
        self.from = from
        self.months = months
        self.resolutionBody = resolutionBody
        self.resolutionDate = resolutionDate
        self.votesFor = votesFor
        self.votesCast = votesCast
        self.noticeFrom = noticeFrom
        self.noticeTo = noticeTo
        self.documents = documents
        self.submittedOn = submittedOn
    }
}

/// An employer as a field laptop shows it: its record, its status today and what is on file.
public struct EmployerFile: Sendable {
    public let employer: Employer
    public let status: ComplianceStatus
    public let visits: [Visit]
    public let voided: Set<String>
    public let applications: [ReliefApplication]
    public let decisions: [String: ApplicationDecision]
}

/// A campaign as a device sees it: the campaign and the progress of each branch whose targets it holds.
public struct CampaignView: Sendable {
    public let campaign: Campaign
    public let progress: [CampaignProgress]
}

extension LocalDevice {
    // MARK: Employers

    /// Registers an employer found in the field (or by the office), in this laptop's branch.
    public func registerEmployer(_ form: EmployerForm, unlock: () throws -> SigningKey, now: Instant) throws -> Employer {
        var form = form
        let state = try replica.deviceState()
        switch state.role {
        case .selfService, .auditor: throw DomainError.notPermitted
        case .field: form.branch = state.branch
        case .office: break
        }
        let employer = try form.apply(to: nil)
        try replica.commitLocalChange(unlock: unlock, now: now) { reader in
            guard try reader.record(employer.recordKey) == nil else { throw DomainError.unitExists }
            return LocalChange(action: .unitRegister, operations: [
                Operation(record: employer.recordKey, kind: .create, fields: employer.createFields),
            ])
        }
        return employer
    }

    /// The employers this device holds (a field laptop: its branch's), by name.
    public func employers(branch: String? = nil) throws -> [(employer: Employer, status: ComplianceStatus)] {
        let today = ServerConnection.now().shanghaiDate
        return try replica.reading { reader in
            let reliefs = try reader.approvedReliefs()
            return try reader.units(branch: branch).map { ($0, $0.compliance(asOf: today, reliefs: reliefs[$0.id] ?? [], policy: policy)) }
        }
    }

    /// Employers whose name or address contains `text`, or whose credit code starts with it.
    public func searchEmployers(_ text: String) throws -> [(employer: Employer, status: ComplianceStatus)] {
        let today = ServerConnection.now().shanghaiDate
        return try replica.reading { reader in
            let reliefs = try reader.approvedReliefs()
            return try reader.searchUnits(text).map { ($0, $0.compliance(asOf: today, reliefs: reliefs[$0.id] ?? [], policy: policy)) }
        }
    }

    /// An employer and everything on file for it, found by credit code.
    public func employerFile(creditCode: String, today: CivilDate) throws -> EmployerFile {
        let code = try CreditCode(creditCode).value
        return try replica.reading { reader in
            guard let employer = try reader.unit(id: Employer.id(creditCode: code)) else { throw DomainError.unitUnknown(code) }
            let reliefs = try reader.approvedReliefs(unitID: employer.id)[employer.id] ?? []
            let visits = try reader.visits(unitID: employer.id)
            let voided = Set(try visits.filter { try reader.isVoided(visitID: $0.id) }.map(\.id))
            let applications = try reader.applications(unitID: employer.id)
            var decisions: [String: ApplicationDecision] = [:]
            for application in applications { decisions[application.id] = try reader.decision(applicationID: application.id) }
            return EmployerFile(employer: employer, status: employer.compliance(asOf: today, reliefs: reliefs, policy: policy),
                                visits: visits, voided: voided, applications: applications, decisions: decisions)
        }
    }

    // MARK: Visits

    /// Records a visit, checked against the policy and this device's branch: a field laptop may
    /// record visits only to its own branch's employers (which are all it holds).
    public func recordVisit(_ form: VisitForm, unlock: () throws -> SigningKey, now: Instant) throws -> Visit {
        let today = now.shanghaiDate
        let state = try replica.deviceState()
        guard state.role.recordsWork else { throw DomainError.notPermitted }
        let purpose = try VisitPurpose(typed: form.purpose)
        let unitCode = try form.unit.map { text throws(DomainError) in try CreditCode(text).value }
        var place: Place?
        if let name = form.placeName?.trimmingCharacters(in: .whitespaces), !name.isEmpty {
            if unitCode != nil { throw DomainError.visitTargetAmbiguous }
            place = Place(name: try Self.text(name, "name", 100), kind: try PlaceKind(typed: form.placeKind ?? "other"),
                          address: try form.placeAddress.flatMap { $0.isEmpty ? nil : try Self.text($0, "address", 200) })
        }
        let date = try form.date.map { text throws(DomainError) in try CivilDate.typed(text) } ?? today
        let staff = form.staff.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let persons = try form.persons.map { text throws(DomainError) in try PersonMet(typed: text) }
        let documents = try form.documents.map { text throws(DomainError) in try ServedDocument(typed: text) }
        let outcome = try form.outcome.flatMap { text throws(DomainError) in text.isEmpty ? nil : try VisitOutcome(typed: text) }
        let followUp = try form.followUp.flatMap { text throws(DomainError) in text.isEmpty ? nil : try CivilDate.typed(text) }
        let notes = try Self.text(form.notes, "notes", 4_000)
        var made: Visit?
        try replica.commitLocalChange(unlock: unlock, now: now) { reader in
            var branch: String
            var unitID: String?
            if let unitCode {
                guard let employer = try reader.unit(id: Employer.id(creditCode: unitCode)) else { throw DomainError.unitUnknown(unitCode) }
                if reader.device.role == .field, employer.branch != reader.device.branch { throw DomainError.outOfScope }
                branch = employer.branch
                unitID = employer.id
            } else if reader.device.role == .field, let own = reader.device.branch {
                branch = own
            } else {
                guard let given = form.branch, Branch.isValid(given) else { throw DomainError.branchInvalid }
                branch = given
            }
            if reader.device.role == .field, let own = reader.device.branch, branch != own { throw DomainError.outOfScope }
            let visit = Visit(id: Self.newID("vis", now: now), unitID: unitID, place: place, branch: branch, purpose: purpose,
                              date: date, staff: staff, persons: persons, notes: notes, documents: documents, outcome: outcome,
                              followUpOn: followUp, recordedAt: now)
            try visit.check(policy: policy, today: today)
            made = visit
            return LocalChange(action: .visitRecord, operations: [Operation(record: visit.recordKey, kind: .fact, fields: visit.fields)])
        }
        guard let made else { throw StoreError.noIdentity }
        return made
    }

    /// Voids a mistaken visit, with the reason.
    public func voidVisit(id: String, reason: String, unlock: () throws -> SigningKey, now: Instant) throws -> Visit {
        var voided: Visit?
        try replica.commitLocalChange(unlock: unlock, now: now) { reader in
            guard let visit = try reader.visit(id: id) else { throw DomainError.visitNotFound(id) }
            guard !(try reader.isVoided(visitID: id)) else { throw DomainError.visitAlreadyVoided }
            let voiding = try VisitVoid.make(visitID: id, reason: reason, at: now)
            voided = visit
            return LocalChange(action: .visitVoid, operations: [Operation(record: voiding.recordKey, kind: .fact, fields: voiding.fields)])
        }
        guard let voided else { throw StoreError.noIdentity }
        return voided
    }

    /// Visits held here, newest first, with the ids of the voided ones.
    public func visits(unitCreditCode: String? = nil, since: CivilDate? = nil) throws -> (visits: [Visit], voided: Set<String>, names: [String: String]) {
        let unitID = try unitCreditCode.map { text throws(DomainError) in Employer.id(creditCode: try CreditCode(text).value) }
        return try replica.reading { reader in
            let visits = try reader.visits(unitID: unitID, since: since)
            var names: [String: String] = [:]
            for id in Set(visits.compactMap(\.unitID)) { names[id] = try reader.unit(id: id)?.name }
            return (visits, try reader.voidedVisitIDs(), names)
        }
    }

    /// One visit, with its voiding if it was voided and the employer's name.
    public func visit(id: String) throws -> (visit: Visit, voiding: VisitVoid?, employer: Employer?) {
        try replica.reading { reader in
            guard let visit = try reader.visit(id: id) else { throw DomainError.visitNotFound(id) }
            return (visit, try reader.voiding(visitID: id), try visit.unitID.flatMap { try reader.unit(id: $0) })
        }
    }

    // MARK: Applications

    /// Records an employer's application to defer or lower its rate.
    public func recordApplication(_ form: ApplicationForm, unlock: () throws -> SigningKey, now: Instant) throws -> ReliefApplication {
        let today = now.shanghaiDate
        guard try replica.deviceState().role.recordsWork else { throw DomainError.notPermitted }
        let code = try CreditCode(form.unit).value
        let kind = try ReliefKind(typed: form.kind)
        func rate(_ text: String?) throws -> Int? {
            guard let text, !text.isEmpty else { return nil }
            return try Agreement.parseRatePercent(text) * 100
        }
        guard let from = Period(form.from.trimmingCharacters(in: .whitespaces)) else { throw DomainError.periodFormat(form.from) }
        let months = try EmployerForm.count(form.months, field: "months")
        let votesFor = try EmployerForm.count(form.votesFor, field: "votes")
        let votesCast = try EmployerForm.count(form.votesCast, field: "votes")
        let resolution = Resolution(body: try ResolutionBody(typed: form.resolutionBody), date: try CivilDate.typed(form.resolutionDate),
                                    votesFor: votesFor, votesCast: votesCast)
        let submitted = try form.submittedOn.map { text throws(DomainError) in try CivilDate.typed(text) } ?? today
        let documents = try form.documents.map { try Self.text($0, "documents", 100) }.filter { !$0.isEmpty }
        let employerRate = try rate(form.employerRate), employeeRate = try rate(form.employeeRate)
        let noticeFrom = try CivilDate.typed(form.noticeFrom), noticeTo = try CivilDate.typed(form.noticeTo)
        var made: ReliefApplication?
        try replica.commitLocalChange(unlock: unlock, now: now) { reader in
            guard let employer = try reader.unit(id: Employer.id(creditCode: code)) else { throw DomainError.unitUnknown(code) }
            if reader.device.role == .field, employer.branch != reader.device.branch { throw DomainError.outOfScope }
            guard employer.established else { throw DomainError.unitNotEstablished }
            let application = ReliefApplication(
                id: Self.newID("app", now: now), unitID: employer.id, kind: kind, employerRateBasisPoints: employerRate,
                employeeRateBasisPoints: employeeRate, from: from, months: months, resolution: resolution, noticeFrom: noticeFrom,
                noticeTo: noticeTo, documents: documents, submittedOn: submitted, recordedAt: now)
            try application.check(policy: policy, today: today)
            made = application
            return LocalChange(action: .applicationRecord, operations: [
                Operation(record: application.recordKey, kind: .fact, fields: application.fields),
            ])
        }
        guard let made else { throw StoreError.noIdentity }
        return made
    }

    /// Applications held here, newest first, with the office's decisions and the employers' names.
    public func applications() throws -> [(application: ReliefApplication, decision: ApplicationDecision?, employer: String?)] {
        try replica.reading { reader in
            try reader.applications().map { ($0, try reader.decision(applicationID: $0.id), try reader.unit(id: $0.unitID)?.name) }
        }
    }

    // MARK: Campaigns

    /// The campaigns held here with each branch's progress, computed from the records held here
    /// as of `today`.
    public func campaigns(today: CivilDate) throws -> [CampaignView] {
        try replica.reading { reader in
            try reader.campaignProgress(policy: policy, today: today).map { CampaignView(campaign: $0.0, progress: $0.1) }
        }
    }

    static func text(_ text: String, _ field: String, _ maximum: Int) throws(DomainError) -> String {
        try EmployerForm.text(text, field: field, maximum: maximum)
    }
}
