import ProvidentCrypto
import ProvidentDomain
import ProvidentSync

/// One row of an employer list, as read from a file: the line it starts on and its values.
public struct EmployerRow: Sendable {
    public let line: Int
    public let form: EmployerForm

    public init(line: Int, form: EmployerForm) {
        self.line = line
        self.form = form
    }
}

/// What importing an employer list did.
public struct EmployerImportReport: Sendable {
    /// A row that was not imported: its line and why.
    public struct RowError: Sendable {
        public let line: Int
        public let code: String
        public let message: String

        public init(line: Int, code: String, message: String) {
            self.line = line
            self.code = code
            self.message = message
        }
    }

    public var created = 0
    public var updated = 0
    public var unchanged = 0
    /// Employers that moved to another branch (their records follow them).
    public var moved = 0
    public var errors: [RowError] = []
}

extension ServerCore {
    /// Imports an employer list as the office, in one transaction: each good row registers a new
    /// employer or updates the fields that changed (one change-set per employer, so each goes
    /// only to its branch); a row that breaks a rule is reported with its line and reason and
    /// changes nothing; a row whose values are all already held changes nothing, so importing
    /// the same file twice changes nothing. With `dryRun`, everything is checked and nothing kept.
    public func importEmployers(_ rows: [EmployerRow], language: Language, dryRun: Bool = false) async throws -> EmployerImportReport {
        try await ingest(now: clock(), dryRun: dryRun) { ingest in
            var report = EmployerImportReport()
            var seen: [String: Int] = [:]
            for row in rows {
                do {
                    let code = try CreditCode(row.form.creditCode).value
                    if let first = seen[code] {
                        report.errors.append(.init(line: row.line, code: "import.duplicate_row",
                                                   message: language.pick("the credit code \(code) appears again (first at line \(first)); merge the two rows",
                                                                          "统一社会信用代码 \(code) 重复出现（首次在第 \(first) 行）；请合并这两行")))
                        continue
                    }
                    seen[code] = row.line
                    let key = RecordKey(type: Employer.recordType, id: Employer.id(creditCode: code))
                    let existing = try await ingest.record(key).flatMap { $0.created ? Employer(id: key.id, values: $0.values) : nil }
                    let employer = try row.form.apply(to: existing)
                    if let existing {
                        let fields = employer.changedFields(from: existing)
                        guard !fields.isEmpty else {
                            report.unchanged += 1
                            continue
                        }
                        try await ingest.submitOwn(.unitUpdate, [Operation(record: employer.recordKey, kind: .update, fields: fields)])
                        report.updated += 1
                        if existing.branch != employer.branch { report.moved += 1 }
                    } else {
                        try await ingest.submitOwn(.unitRegister, [Operation(record: employer.recordKey, kind: .create, fields: employer.createFields)])
                        report.created += 1
                    }
                } catch let error as DomainError {
                    report.errors.append(.init(line: row.line, code: error.code, message: error.message(language)))
                }
            }
            return report
        }
    }

    /// Creates a campaign as the office: the campaign, seen by every staff device, then each
    /// branch's targets — the employers in arrears or stopped on the cut-off date, judged from
    /// the employers held now — each in its branch's scope only. One transaction.
    public func createCampaign(name: String, cutoff: CivilDate, phases: [CampaignPhase]) async throws -> (campaign: Campaign, targets: [String: [String]]) {
        let now = clock()
        let millis = String(UInt64(max(0, now.millisSinceEpoch)), radix: 16)
        let campaign = Campaign(id: "cmp-\(millis)\(Hex.encode(SecureRandom.bytes(count: 4)))",
                                name: name.trimmingCharacters(in: .whitespaces), cutoff: cutoff, phases: phases, createdAt: now)
        try campaign.check()
        let policy = self.policy
        return try await ingest(now: now) { ingest in
            let targets = Campaign.targets(units: try await ingest.tx.units(branch: nil), reliefs: try await ingest.tx.approvedReliefs(),
                                           cutoff: cutoff, policy: policy)
            try await ingest.submitOwn(.campaignCreate, [Operation(record: campaign.recordKey, kind: .fact, fields: campaign.fields)])
            for branch in targets.keys.sorted() {
                for record in CampaignTargets.records(campaignID: campaign.id, branch: branch, units: targets[branch] ?? []) {
                    try await ingest.submitOwn(.campaignTargets, [Operation(record: record.recordKey, kind: .fact, fields: record.fields)])
                }
            }
            return (campaign, targets)
        }
    }

    /// Approves or rejects an application as the office: a decision that syncs to the branch's
    /// laptops; an approval sets the employer's status for the application's months.
    public func decideApplication(_ id: String, verdict: ApplicationDecision.Verdict, reason: String) async throws -> (ReliefApplication, ApplicationDecision) {
        let now = clock()
        let decision = try ApplicationDecision.make(applicationID: id, verdict: verdict, reason: reason, at: now)
        return try await ingest(now: now) { ingest in
            let key = RecordKey(type: ReliefApplication.recordType, id: id)
            guard let application = try await ingest.record(key).flatMap({ ReliefApplication(id: id, values: $0.values) }) else {
                throw DomainError.applicationNotFound(id)
            }
            guard try await ingest.record(decision.recordKey) == nil else { throw DomainError.applicationAlreadyDecided }
            try await ingest.submitOwn(.applicationDecide, [Operation(record: decision.recordKey, kind: .fact, fields: decision.fields)])
            return (application, decision)
        }
    }

    /// Every campaign with each branch's progress as of `today`.
    public func campaignProgress(today: CivilDate) async throws -> [(Campaign, [CampaignProgress])] {
        let policy = self.policy
        return try await store.read { tx in
            let reliefs = try await tx.approvedReliefs()
            let voided = try await tx.voidedVisitIDs()
            let visits = try await tx.visits(unitID: nil, branch: nil, since: nil)
            let applications = try await tx.applications(unitID: nil)
            let units = Dictionary(try await tx.units(branch: nil).map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            var result: [(Campaign, [CampaignProgress])] = []
            for campaign in try await tx.campaigns() {
                let targets = try await tx.campaignTargets(campaignID: campaign.id)
                result.append((campaign, targets.keys.sorted().map { branch in
                    CampaignProgress.compute(campaign: campaign, branch: branch, targets: targets[branch] ?? [], visits: visits,
                                             voided: voided, applications: applications) { id in
                        units[id].map { $0.compliance(asOf: today, reliefs: reliefs[id] ?? [], policy: policy) }
                    }
                }))
            }
            return result
        }
    }

    /// Employers, of one branch or all, each with its status as of `today`.
    public func units(branch: String?, today: CivilDate) async throws -> [(Employer, ComplianceStatus)] {
        let policy = self.policy
        return try await store.read { tx in
            let reliefs = try await tx.approvedReliefs()
            return try await tx.units(branch: branch).map { ($0, $0.compliance(asOf: today, reliefs: reliefs[$0.id] ?? [], policy: policy)) }
        }
    }

    /// One application, if there is one with that id.
    public func application(_ id: String) async throws -> ReliefApplication? {
        let key = RecordKey(type: ReliefApplication.recordType, id: id)
        return try await store.read { tx in try await tx.records([key])[key].flatMap { ReliefApplication(id: id, values: $0.values) } }
    }

    /// Applications, newest first, each with its decision and employer.
    /// The field's visits, newest first, of a branch (nil: every branch) on or after `since`,
    /// each with whether it was voided and the name of the employer visited (nil for a place).
    public func visitLog(branch: String?, since: CivilDate?) async throws -> [(visit: Visit, voided: Bool, employer: String?)] {
        try await store.read { tx in
            let voided = try await tx.voidedVisitIDs()
            let names = Dictionary(try await tx.units(branch: nil).map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
            return try await tx.visits(unitID: nil, branch: branch, since: since).sorted { ($0.date, $0.id) > ($1.date, $1.id) }
                .map { visit in (visit, voided.contains(visit.id), visit.unitID.flatMap { names[$0] }) }
        }
    }

    public func applications() async throws -> [(ReliefApplication, ApplicationDecision?, Employer?)] {
        try await store.read { tx in
            let decisions = try await tx.decisions()
            let units = Dictionary(try await tx.units(branch: nil).map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            return try await tx.applications(unitID: nil).map { ($0, decisions[$0.id], units[$0.unitID]) }
        }
    }
}

/// Everything the office sees of one employer: its record, its status and months owed as of a
/// day, the visits the field recorded (voided ones marked), and its applications with their decisions.
public struct EmployerFile: Sendable {
    public let employer: Employer
    public let status: ComplianceStatus
    public let monthsOwed: Int
    /// Newest first, with whether each was voided.
    public let visits: [(visit: Visit, voided: Bool)]
    /// Newest first.
    public let applications: [(application: ReliefApplication, decision: ApplicationDecision?)]
}

extension ServerCore {
    /// One employer's file as of `today`, or nil when there is no such employer.
    public func employerFile(_ id: String, today: CivilDate) async throws -> EmployerFile? {
        let policy = self.policy
        return try await store.read { tx in
            let key = RecordKey(type: Employer.recordType, id: id)
            guard let employer = try await tx.records([key])[key].flatMap({ $0.created ? Employer(id: id, values: $0.values) : nil }) else { return nil }
            let reliefs = try await tx.approvedReliefs()
            let voided = try await tx.voidedVisitIDs()
            let decisions = try await tx.decisions()
            let visits = try await tx.visits(unitID: id, branch: nil, since: nil).sorted { ($0.date, $0.id) > ($1.date, $1.id) }
            let applications = try await tx.applications(unitID: id).sorted { ($0.submittedOn, $0.id) > ($1.submittedOn, $1.id) }
            return EmployerFile(employer: employer, status: employer.compliance(asOf: today, reliefs: reliefs[id] ?? [], policy: policy),
                                monthsOwed: employer.monthsOwed(asOf: today), visits: visits.map { ($0, voided.contains($0.id)) },
                                applications: applications.map { ($0, decisions[$0.id]) })
        }
    }
}
