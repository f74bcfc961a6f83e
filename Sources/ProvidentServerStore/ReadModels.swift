import ProvidentDomain
import ProvidentServerCore
import ProvidentSync

/// The read models kept in step with the merged records, in the same transaction, for the
/// server's queries: accounts, deposits and the months they pay, reversals, outcomes, interest,
/// employers, visits and their voidings, applications and decisions, campaigns and their
/// targets. Records of other types are kept in `records` only. Facts never change, so their
/// rows are inserted once; accounts and employers are rewritten, and removed while not created.
struct ReadModels {
    private var accounts: [Account] = []
    private var removedAccounts: [String] = []
    private var deposits: [Deposit] = []
    private var reversals: [DepositReversal] = []
    private var outcomes: [DepositOutcome] = []
    private var credits: [(String, InterestCredit)] = []
    private var units: [Employer] = []
    private var removedUnits: [String] = []
    private var visits: [Visit] = []
    private var voids: [VisitVoid] = []
    private var applications: [ReliefApplication] = []
    private var decisions: [ApplicationDecision] = []
    private var campaigns: [Campaign] = []
    private var targets: [(String, CampaignTargets)] = []

    init(states: [RecordState]) throws {
        for state in states {
            let key = state.key, values = state.values
            func unreadable() -> StoreFailure { StoreFailure.damaged("the record \(key) does not read as a \(key.type)") }
            switch key.type {
            case Account.recordType:
                guard state.created else {
                    removedAccounts.append(key.id)
                    continue
                }
                guard let account = Account(id: key.id, values: values) else { throw unreadable() }
                accounts.append(account)
            case Deposit.recordType:
                guard let deposit = Deposit(id: key.id, values: values) else { throw unreadable() }
                deposits.append(deposit)
            case DepositReversal.recordType:
                guard let reversal = DepositReversal(values: values) else { throw unreadable() }
                reversals.append(reversal)
            case DepositOutcome.recordType:
                guard let outcome = DepositOutcome(values: values) else { throw unreadable() }
                outcomes.append(outcome)
            case InterestCredit.recordType:
                guard let credit = InterestCredit(values: values) else { throw unreadable() }
                credits.append((key.id, credit))
            case Employer.recordType:
                guard state.created else {
                    removedUnits.append(key.id)
                    continue
                }
                guard let unit = Employer(id: key.id, values: values) else { throw unreadable() }
                units.append(unit)
            case Visit.recordType:
                guard let visit = Visit(id: key.id, values: values) else { throw unreadable() }
                visits.append(visit)
            case VisitVoid.recordType:
                guard let voiding = VisitVoid(values: values) else { throw unreadable() }
                voids.append(voiding)
            case ReliefApplication.recordType:
                guard let application = ReliefApplication(id: key.id, values: values) else { throw unreadable() }
                applications.append(application)
            case ApplicationDecision.recordType:
                guard let decision = ApplicationDecision(values: values) else { throw unreadable() }
                decisions.append(decision)
            case Campaign.recordType:
                guard let campaign = Campaign(id: key.id, values: values) else { throw unreadable() }
                campaigns.append(campaign)
            case CampaignTargets.recordType:
                guard let record = CampaignTargets(values: values) else { throw unreadable() }
                targets.append((key.id, record))
            default:
                continue
            }
        }
    }

    static let accountColumns = ["id", "name", "id_number", "phone", "category", "agreement_mode", "base_fen", "rate_basis_points",
                                 "monthly_fen", "channel", "enrolled_on", "verified", "paused", "closed_on", "close_reason", "branch",
                                 "claim_code_hash"]
    static let unitColumns = ["id", "credit_code", "name", "branch", "kind", "address", "contact_name", "contact_phone", "established",
                              "employees", "contributors", "pension_insured", "last_paid", "months_in_arrears"]

    func save(in tx: SQLServerTransaction) async throws {
        try await tx.deleteRows("accounts", keyColumn: "id", removedAccounts)
        try await tx.upsert("accounts", columns: Self.accountColumns, accounts) { account in
            [.text(account.id), .text(account.name), .text(account.idNumber), .text(account.phone), .text(account.category.rawValue),
             .text(account.agreement.mode.rawValue), .optional(account.agreement.baseFen), .optional(account.agreement.rateBasisPoints.map(Int64.init)),
             .integer(account.agreement.monthlyFen), .text(account.channel.rawValue), .text(account.enrolledOn.iso), .flag(account.verified),
             .flag(account.paused), .optional(account.closedOn?.iso), .optional(account.closeReason), .optional(account.branch),
             .optional(account.claimCodeHash)]
        }
        try await tx.insertNew("deposits", columns: ["id", "account_id", "amount_fen", "kind", "periods", "method", "reference", "recorded_at"],
                               deposits) { deposit in
            [.text(deposit.id), .text(deposit.accountID), .integer(deposit.amountFen), .text(deposit.kind.rawValue),
             .text(deposit.periods.map(\.iso).joined(separator: ",")), .text(deposit.method.rawValue), .text(deposit.reference),
             .text(deposit.recordedAt.utcISO)]
        }
        try await tx.insertNew("deposit_periods", columns: ["account_id", "period", "deposit_id"],
                               deposits.flatMap { deposit in deposit.periods.map { (deposit, $0) } }) { deposit, period in
            [.text(deposit.accountID), .text(period.iso), .text(deposit.id)]
        }
        try await tx.insertNew("deposit_reversals", columns: ["deposit_id", "reason", "recorded_at"], reversals) {
            [.text($0.depositID), .text($0.reason), .text($0.recordedAt.utcISO)]
        }
        try await tx.insertNew("deposit_outcomes", columns: ["deposit_id", "decision", "reason", "bank_date", "decided_at"], outcomes) {
            [.text($0.depositID), .text($0.decision.rawValue), .optional($0.reason), .optional($0.bankDate?.iso), .text($0.decidedAt.utcISO)]
        }
        try await tx.insertNew("interest_credits", columns: ["id", "account_id", "year", "amount_fen", "settled_at"], credits) { id, credit in
            [.text(id), .text(credit.accountID), .integer(Int64(credit.year)), .integer(credit.amountFen), .text(credit.settledAt.utcISO)]
        }
        try await tx.deleteRows("units", keyColumn: "id", removedUnits)
        try await tx.upsert("units", columns: Self.unitColumns, units) { unit in
            [.text(unit.id), .text(unit.creditCode), .text(unit.name), .text(unit.branch), .text(unit.kind.rawValue), .optional(unit.address),
             .optional(unit.contact?.name), .optional(unit.contact?.phone), .flag(unit.established), .integer(Int64(unit.employees)),
             .integer(Int64(unit.contributors)), .integer(Int64(unit.pensionInsured)), .optional(unit.lastPaid?.iso),
             .integer(Int64(unit.monthsInArrears))]
        }
        try await tx.insertNew("visits", columns: ["id", "unit_id", "branch", "purpose", "date", "outcome", "recorded_at"], visits) { visit in
            [.text(visit.id), .optional(visit.unitID), .text(visit.branch), .text(visit.purpose.rawValue), .text(visit.date.iso),
             .optional(visit.outcome?.rawValue), .text(visit.recordedAt.utcISO)]
        }
        try await tx.insertNew("visit_voids", columns: ["visit_id", "reason", "recorded_at"], voids) {
            [.text($0.visitID), .text($0.reason), .text($0.recordedAt.utcISO)]
        }
        try await tx.insertNew("applications", columns: ["id", "unit_id", "kind", "from_period", "through_period", "submitted_on", "recorded_at"],
                               applications) { application in
            [.text(application.id), .text(application.unitID), .text(application.kind.rawValue), .text(application.from.iso),
             .text(application.through.iso), .text(application.submittedOn.iso), .text(application.recordedAt.utcISO)]
        }
        try await tx.insertNew("application_decisions", columns: ["application_id", "verdict", "reason", "decided_at"], decisions) {
            [.text($0.applicationID), .text($0.verdict.rawValue), .text($0.reason), .text($0.decidedAt.utcISO)]
        }
        try await tx.insertNew("campaigns", columns: ["id", "name", "cutoff", "start_on", "end_on", "created_at"], campaigns) { campaign in
            [.text(campaign.id), .text(campaign.name), .text(campaign.cutoff.iso), .text(campaign.start.iso), .text(campaign.end.iso),
             .text(campaign.createdAt.utcISO)]
        }
        try await tx.insertNew("campaign_targets", columns: ["campaign_id", "unit_id", "branch", "record_id"],
                               targets.flatMap { id, record in record.units.map { (id, record, $0) } }) { id, record, unit in
            [.text(record.campaignID), .text(unit), .text(record.branch), .text(id)]
        }
    }
}

extension SQLServerTransaction {
    /// Inserts rows, keeping those already there (facts never change).
    func insertNew<Item>(_ table: String, columns: [String], _ items: [Item], _ bind: (Item) -> [SQLValue]) async throws {
        try await chunked(items, columns: columns.count, { count in
            "INSERT INTO \(table) (\(columns.joined(separator: ", "))) \(SQL.values(rows: count, columns: columns.count)) ON CONFLICT DO NOTHING"
        }, bind: bind)
    }

    /// Inserts rows, or rewrites those already there (keyed by the first column).
    func upsert<Item>(_ table: String, columns: [String], _ items: [Item], _ bind: (Item) -> [SQLValue]) async throws {
        let updates = columns.dropFirst().map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
        try await chunked(items, columns: columns.count, { count in
            "INSERT INTO \(table) (\(columns.joined(separator: ", "))) \(SQL.values(rows: count, columns: columns.count)) ON CONFLICT (\(columns[0])) DO UPDATE SET \(updates)"
        }, bind: bind)
    }

    /// Deletes the rows with these keys.
    func deleteRows(_ table: String, keyColumn: String, _ keys: [String]) async throws {
        try await chunked(keys, columns: 1, { "DELETE FROM \(table) WHERE \(keyColumn) IN (\(SQL.list($0)))" }, bind: { [.text($0)] })
    }
}
