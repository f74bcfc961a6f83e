import Foundation
import GRDB
import ProvidentDomain
import ProvidentSync

/// Typed reads of the replica inside one transaction or snapshot.
public struct ReplicaReader: ReplicaLookup {
    let db: Database
    /// This device.
    public let device: DeviceState

    /// The account with this id, if the replica holds it.
    public func account(id: String) throws -> Account? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM accounts WHERE id = ?"), arguments: [id]).flatMap(Projection.account)
    }

    /// The account this device is bound to.
    public func boundAccount() throws -> Account? {
        guard let id = device.accountID else { return nil }
        return try account(id: id)
    }

    /// Open (not closed) accounts held for a resident ID number.
    public func openAccounts(idNumber: String) throws -> [Account] {
        try Row.fetchAll(db, sql: "SELECT * FROM accounts WHERE id_number = ? AND closed_on IS NULL", arguments: [idNumber])
            .compactMap(Projection.account)
    }

    /// Every account in the replica, by id.
    public func accountCount() throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM accounts") ?? 0
    }

    /// An account's deposits, oldest first.
    public func deposits(accountID: String) throws -> [Deposit] {
        try Row.fetchAll(db, sql: "SELECT * FROM deposits WHERE account_id = ? ORDER BY recorded_at, reference",
                         arguments: [accountID]).compactMap(Projection.deposit)
    }

    /// The deposit with this reference code on this account, if any.
    public func deposit(reference: String, accountID: String) throws -> Deposit? {
        try Row.fetchOne(db, sql: "SELECT * FROM deposits WHERE reference = ? AND account_id = ?",
                         arguments: [reference, accountID]).flatMap(Projection.deposit)
    }

    /// Reversals of an account's deposits, by deposit id.
    public func reversals(accountID: String) throws -> [String: DepositReversal] {
        let rows = try Row.fetchAll(db, sql: """
            SELECT r.deposit_id, r.reason, r.recorded_at FROM deposit_reversals r
            JOIN deposits d ON d.id = r.deposit_id WHERE d.account_id = ?
            """, arguments: [accountID])
        var result: [String: DepositReversal] = [:]
        for row in rows {
            guard let at = Instant(utcISO: row["recorded_at"]) else { continue }
            result[row["deposit_id"]] = DepositReversal(depositID: row["deposit_id"], reason: row["reason"], recordedAt: at)
        }
        return result
    }

    /// The office's outcomes for an account's deposits, by deposit id.
    public func outcomes(accountID: String) throws -> [String: DepositOutcome] {
        let rows = try Row.fetchAll(db, sql: """
            SELECT o.deposit_id, o.decision, o.reason, o.bank_date, o.decided_at FROM deposit_outcomes o
            JOIN deposits d ON d.id = o.deposit_id WHERE d.account_id = ?
            """, arguments: [accountID])
        var result: [String: DepositOutcome] = [:]
        for row in rows {
            guard let decision = DepositOutcome.Decision(rawValue: row["decision"]),
                  let at = Instant(utcISO: row["decided_at"]) else { continue }
            let bankDate: String? = row["bank_date"]
            result[row["deposit_id"]] = DepositOutcome(depositID: row["deposit_id"], decision: decision, reason: row["reason"],
                                                       bankDate: bankDate.flatMap(CivilDate.init(iso:)), decidedAt: at)
        }
        return result
    }

    /// The months an account has paid, each with the reference of the deposit that paid it;
    /// reversed and rejected deposits do not count.
    public func paidPeriods(accountID: String) throws -> [Period: String] {
        let rows = try Row.fetchAll(db.cachedStatement(sql: """
            SELECT p.period, d.reference FROM deposit_periods p
            JOIN deposits d ON d.id = p.deposit_id
            LEFT JOIN deposit_reversals r ON r.deposit_id = d.id
            LEFT JOIN deposit_outcomes o ON o.deposit_id = d.id
            WHERE p.account_id = ? AND r.deposit_id IS NULL AND (o.decision IS NULL OR o.decision = 'confirmed')
            """), arguments: [accountID])
        var paid: [Period: String] = [:]
        for row in rows {
            if let period = Period(row["period"] as String) { paid[period] = row["reference"] }
        }
        return paid
    }

    /// Interest credited to an account, oldest first.
    public func interestCredits(accountID: String) throws -> [InterestCredit] {
        try String.fetchAll(db.cachedStatement(sql: "SELECT id FROM interest_credits WHERE account_id = ? ORDER BY year"), arguments: [accountID])
            .compactMap { try ReplicaDatabase.recordState(db, RecordKey(type: InterestCredit.recordType, id: $0)) }
            .compactMap { InterestCredit(values: $0.values) }
    }

    /// The deposit with this id, if held.
    public func deposit(id: String) throws -> Deposit? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM deposits WHERE id = ?"), arguments: [id]).flatMap(Projection.deposit)
    }

    /// The id of the deposit with this reference code, on any account.
    public func depositID(reference: String) throws -> String? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT id FROM deposits WHERE reference = ?"), arguments: [reference])
    }

    /// Whether the office has given its outcome for a deposit.
    public func hasOutcome(depositID: String) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM deposit_outcomes WHERE deposit_id = ?"), arguments: [depositID]) ?? false
    }

    /// Whether a deposit has been reversed.
    public func isReversed(depositID: String) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM deposit_reversals WHERE deposit_id = ?"), arguments: [depositID]) ?? false
    }

    /// The merged state of a record, if held.
    public func record(_ key: RecordKey) throws -> RecordState? {
        try ReplicaDatabase.recordState(db, key)
    }

    // MARK: Employers, visits, applications, campaigns

    /// The employer with this record id (`unit-<credit code>`), if held.
    public func unit(id: String) throws -> Employer? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM units WHERE id = ?"), arguments: [id]).flatMap(Self.unit)
    }

    /// Employers, of one branch or all, by branch and name.
    public func units(branch: String? = nil) throws -> [Employer] {
        if let branch {
            return try Row.fetchAll(db, sql: "SELECT * FROM units WHERE branch = ? ORDER BY name, credit_code", arguments: [branch])
                .compactMap(Self.unit)
        }
        return try Row.fetchAll(db, sql: "SELECT * FROM units ORDER BY branch, name, credit_code").compactMap(Self.unit)
    }

    /// Employers whose name or address contains `text`, or whose credit code starts with it.
    public func searchUnits(_ text: String, limit: Int = 50) throws -> [Employer] {
        let escaped = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
        return try Row.fetchAll(db, sql: """
            SELECT * FROM units WHERE name LIKE ? ESCAPE '\\' OR address LIKE ? ESCAPE '\\' OR credit_code LIKE ? ESCAPE '\\'
            ORDER BY name, credit_code LIMIT ?
            """, arguments: ["%\(escaped)%", "%\(escaped)%", "\(escaped.uppercased())%", limit]).compactMap(Self.unit)
    }

    static func unit(_ row: Row) -> Employer? {
        guard let kind = EmployerKind(rawValue: row["kind"]) else { return nil }
        let contactName: String? = row["contact_name"], contactPhone: String? = row["contact_phone"]
        let lastPaid: String? = row["last_paid"]
        return Employer(creditCode: row["credit_code"], name: row["name"], branch: row["branch"], kind: kind, address: row["address"],
                    contact: contactName == nil && contactPhone == nil ? nil : EmployerContact(name: contactName, phone: contactPhone),
                    established: row["established"], employees: row["employees"], contributors: row["contributors"],
                    pensionInsured: row["pension_insured"], lastPaid: lastPaid.flatMap(Period.init), monthsInArrears: row["months_in_arrears"])
    }

    /// The visit with this id, if held.
    public func visit(id: String) throws -> Visit? {
        try ReplicaDatabase.recordState(db, RecordKey(type: Visit.recordType, id: id)).flatMap { Visit(id: id, values: $0.values) }
    }

    /// Visits, newest first: to one employer, of one branch, and on or after a day, as asked.
    public func visits(unitID: String? = nil, branch: String? = nil, since: CivilDate? = nil) throws -> [Visit] {
        var conditions: [String] = [], arguments: [any DatabaseValueConvertible] = []
        if let unitID { conditions.append("unit_id = ?"); arguments.append(unitID) }
        if let branch { conditions.append("branch = ?"); arguments.append(branch) }
        if let since { conditions.append("date >= ?"); arguments.append(since.iso) }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let ids = try String.fetchAll(db, sql: "SELECT id FROM visits \(filter) ORDER BY date DESC, recorded_at DESC",
                                      arguments: StatementArguments(arguments))
        return try ids.compactMap { try visit(id: $0) }
    }

    /// Whether a visit has been voided.
    public func isVoided(visitID: String) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM visit_voids WHERE visit_id = ?"), arguments: [visitID]) ?? false
    }

    /// The voiding of a visit, if it was voided.
    public func voiding(visitID: String) throws -> VisitVoid? {
        try Row.fetchOne(db, sql: "SELECT * FROM visit_voids WHERE visit_id = ?", arguments: [visitID]).flatMap { row in
            Instant(utcISO: row["recorded_at"]).map { VisitVoid(visitID: visitID, reason: row["reason"], recordedAt: $0) }
        }
    }

    /// The ids of every voided visit.
    public func voidedVisitIDs() throws -> Set<String> {
        Set(try String.fetchAll(db, sql: "SELECT visit_id FROM visit_voids"))
    }

    /// The application with this id, if held.
    public func application(id: String) throws -> ReliefApplication? {
        try ReplicaDatabase.recordState(db, RecordKey(type: ReliefApplication.recordType, id: id))
            .flatMap { ReliefApplication(id: id, values: $0.values) }
    }

    /// Applications, newest first, of one employer or all.
    public func applications(unitID: String? = nil) throws -> [ReliefApplication] {
        let ids = try unitID.map {
            try String.fetchAll(db, sql: "SELECT id FROM applications WHERE unit_id = ? ORDER BY submitted_on DESC, id", arguments: [$0])
        } ?? String.fetchAll(db, sql: "SELECT id FROM applications ORDER BY submitted_on DESC, id")
        return try ids.compactMap { try application(id: $0) }
    }

    /// The office's decision on an application, if it has decided.
    public func decision(applicationID: String) throws -> ApplicationDecision? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM application_decisions WHERE application_id = ?"),
                         arguments: [applicationID]).flatMap(Self.decision)
    }

    /// Every decision, by application id.
    public func decisions() throws -> [String: ApplicationDecision] {
        var result: [String: ApplicationDecision] = [:]
        for decision in try Row.fetchAll(db, sql: "SELECT * FROM application_decisions").compactMap(Self.decision) {
            result[decision.applicationID] = decision
        }
        return result
    }

    static func decision(_ row: Row) -> ApplicationDecision? {
        guard let verdict = ApplicationDecision.Verdict(rawValue: row["verdict"]), let at = Instant(utcISO: row["decided_at"]) else { return nil }
        return ApplicationDecision(applicationID: row["application_id"], verdict: verdict, reason: row["reason"], decidedAt: at)
    }

    /// Approved deferrals and reduced rates, by employer id.
    public func approvedReliefs(unitID: String? = nil) throws -> [String: [ApprovedRelief]] {
        let rows = try Row.fetchAll(db, sql: """
            SELECT a.unit_id, a.kind, a.from_period, a.through_period FROM applications a
            JOIN application_decisions d ON d.application_id = a.id
            WHERE d.verdict = 'approved' \(unitID == nil ? "" : "AND a.unit_id = ?")
            """, arguments: StatementArguments(unitID.map { [$0] } ?? []))
        var result: [String: [ApprovedRelief]] = [:]
        for row in rows {
            guard let kind = ReliefKind(rawValue: row["kind"]), let from = Period(row["from_period"] as String),
                  let through = Period(row["through_period"] as String) else { continue }
            result[row["unit_id"], default: []].append(ApprovedRelief(kind: kind, from: from, through: through))
        }
        return result
    }

    /// The campaign with this id, if held.
    public func campaign(id: String) throws -> Campaign? {
        try ReplicaDatabase.recordState(db, RecordKey(type: Campaign.recordType, id: id)).flatMap { Campaign(id: id, values: $0.values) }
    }

    /// Every campaign held, newest first.
    public func campaigns() throws -> [Campaign] {
        try String.fetchAll(db, sql: "SELECT id FROM campaigns ORDER BY created_at DESC, id").compactMap { try campaign(id: $0) }
    }

    /// A campaign's targets held here, by branch, in credit-code order.
    public func campaignTargets(campaignID: String) throws -> [String: [String]] {
        var result: [String: [String]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT branch, unit_id FROM campaign_targets WHERE campaign_id = ? ORDER BY unit_id",
                                    arguments: [campaignID]) {
            result[row["branch"], default: []].append(row["unit_id"])
        }
        return result
    }

    /// Every campaign held, newest first, with the progress of each branch whose targets are
    /// held, counted from the visits, applications and employers held, as of `today`.
    public func campaignProgress(policy: Policy, today: CivilDate) throws -> [(Campaign, [CampaignProgress])] {
        let reliefs = try approvedReliefs()
        let voided = try voidedVisitIDs()
        let visits = try visits()
        let applications = try applications()
        return try campaigns().map { campaign in
            let targets = try campaignTargets(campaignID: campaign.id)
            var employers: [String: Employer] = [:]
            for id in targets.values.joined() { employers[id] = try unit(id: id) }
            return (campaign, targets.keys.sorted().map { branch in
                CampaignProgress.compute(campaign: campaign, branch: branch, targets: targets[branch] ?? [], visits: visits,
                                         voided: voided, applications: applications) { id in
                    employers[id].map { $0.compliance(asOf: today, reliefs: reliefs[id] ?? [], policy: policy) }
                }
            })
        }
    }
}
