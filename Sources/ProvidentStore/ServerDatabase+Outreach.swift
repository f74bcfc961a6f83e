import Foundation
import GRDB
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

extension ServerDatabase {
    /// Imports an employer list as the office, in one transaction: each good row registers a new
    /// employer or updates the fields that changed (one change-set per employer, so each goes
    /// only to its branch); a row that breaks a rule is reported with its line and reason and
    /// changes nothing; a row whose values are all already held changes nothing, so importing
    /// the same file twice changes nothing. With `dryRun`, everything is checked and nothing kept.
    public func importEmployers(_ rows: [EmployerRow], admission: Admission, now: Instant, language: Language,
                                dryRun: Bool = false) async throws -> EmployerImportReport {
        try await replica.asyncWrite { db in
            var report = EmployerImportReport()
            var seen: [String: Int] = [:]
            try db.inSavepoint {
                for row in rows {
                    do {
                        let code = try CreditCode(row.form.creditCode).value
                        if let first = seen[code] {
                            report.errors.append(.init(line: row.line, code: "import.duplicate_row",
                                                       message: language.pick("the credit code \(code) appears again (first at line \(first)); merge the two rows",
                                                                              "统一社会信用代码 \(code) 重复出现(首次在第 \(first) 行);请合并这两行")))
                            continue
                        }
                        seen[code] = row.line
                        let server = try ReplicaDatabase.deviceState(db)
                        let reader = ReplicaReader(db: db, device: server)
                        let existing = try reader.unit(id: Employer.id(creditCode: code))
                        let employer = try row.form.apply(to: existing)
                        if let existing {
                            let fields = employer.changedFields(from: existing)
                            guard !fields.isEmpty else {
                                report.unchanged += 1
                                continue
                            }
                            try self.submitOwn(action: "unit.update", operations: [
                                Operation(record: employer.recordKey, kind: .update, fields: fields),
                            ], admission: admission, now: now, in: db)
                            report.updated += 1
                            if existing.branch != employer.branch { report.moved += 1 }
                        } else {
                            try self.submitOwn(action: "unit.register", operations: [
                                Operation(record: employer.recordKey, kind: .create, fields: employer.createFields),
                            ], admission: admission, now: now, in: db)
                            report.created += 1
                        }
                    } catch let error as DomainError {
                        report.errors.append(.init(line: row.line, code: error.code, message: error.message(language)))
                    }
                }
                return dryRun ? .rollback : .commit
            }
            return report
        }
    }

    /// Creates a campaign as the office: the campaign, seen by every staff device, then each
    /// branch's targets — the employers in arrears or stopped on the cut-off date, judged from
    /// the employers held now — each in its branch's scope only. One transaction.
    public func createCampaign(name: String, cutoff: CivilDate, phases: [CampaignPhase], admission: Admission,
                               now: Instant) async throws -> (campaign: Campaign, targets: [String: [String]]) {
        try await replica.asyncWrite { db in
            let reader = ReplicaReader(db: db, device: try ReplicaDatabase.deviceState(db))
            let millis = String(UInt64(max(0, now.millisSinceEpoch)), radix: 16)
            let campaign = Campaign(id: "cmp-\(millis)\(Hex.encode(SecureRandom.bytes(count: 4)))",
                                    name: name.trimmingCharacters(in: .whitespaces), cutoff: cutoff, phases: phases, createdAt: now)
            try campaign.check()
            let targets = Campaign.targets(units: try reader.units(), reliefs: try reader.approvedReliefs(), cutoff: cutoff,
                                           policy: admission.policy)
            try self.submitOwn(action: "campaign.create", operations: [
                Operation(record: campaign.recordKey, kind: .fact, fields: campaign.fields),
            ], admission: admission, now: now, in: db)
            for branch in targets.keys.sorted() {
                for record in CampaignTargets.records(campaignID: campaign.id, branch: branch, units: targets[branch] ?? []) {
                    try self.submitOwn(action: "campaign.targets", operations: [
                        Operation(record: record.recordKey, kind: .fact, fields: record.fields),
                    ], admission: admission, now: now, in: db)
                }
            }
            return (campaign, targets)
        }
    }

    /// Approves or rejects an application as the office: a decision that syncs to the branch's
    /// laptops; an approval sets the employer's status for the application's months.
    public func decideApplication(_ id: String, verdict: ApplicationDecision.Verdict, reason: String, admission: Admission,
                                  now: Instant) async throws -> (ReliefApplication, ApplicationDecision) {
        let decision = try ApplicationDecision.make(applicationID: id, verdict: verdict, reason: reason, at: now)
        return try await replica.asyncWrite { db in
            let reader = ReplicaReader(db: db, device: try ReplicaDatabase.deviceState(db))
            guard let application = try reader.application(id: id) else { throw DomainError.applicationNotFound(id) }
            guard try reader.decision(applicationID: id) == nil else { throw DomainError.applicationAlreadyDecided }
            try self.submitOwn(action: "application.decide", operations: [
                Operation(record: decision.recordKey, kind: .fact, fields: decision.fields),
            ], admission: admission, now: now, in: db)
            return (application, decision)
        }
    }

    /// Every campaign with each branch's progress as of `today`.
    public func campaignProgress(policy: Policy, today: CivilDate) throws -> [(Campaign, [CampaignProgress])] {
        try replica.reading { reader in try reader.campaignProgress(policy: policy, today: today) }
    }
}
