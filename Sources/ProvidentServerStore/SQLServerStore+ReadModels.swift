import ProvidentDomain
import ProvidentServerCore
import ProvidentSync

extension SQLServerTransaction {
    // MARK: Accounts and deposits

    func accounts() async throws -> [Account] {
        try await session.query("SELECT * FROM accounts ORDER BY id").map(Self.account)
    }

    static func account(_ row: SQLRow) throws -> Account {
        var values: [String: CanonicalValue] = [
            "name": .string(try row.text("name")), "idNumber": .string(try row.text("id_number")), "phone": .string(try row.text("phone")),
            "category": .string(try row.text("category")), "channel": .string(try row.text("channel")),
            "enrolledOn": .string(try row.text("enrolled_on")), "verified": .bool(try row.flag("verified")), "paused": .bool(try row.flag("paused")),
        ]
        var agreement: [String: CanonicalValue] = ["mode": .string(try row.text("agreement_mode")), "monthlyFen": .integer(try row.integer("monthly_fen"))]
        if let base = try row.optionalInteger("base_fen") { agreement["baseFen"] = .integer(base) }
        if let rate = try row.optionalInteger("rate_basis_points") { agreement["rateBasisPoints"] = .integer(rate) }
        values["agreement"] = .object(agreement)
        if let closed = try row.optionalText("closed_on") {
            values["closed"] = Account.closedValue(on: CivilDate(iso: closed) ?? CivilDate(daysSinceEpoch: 0), reason: try row.optionalText("close_reason") ?? "")
        }
        if let branch = try row.optionalText("branch") { values["branch"] = .string(branch) }
        if let claim = try row.optionalText("claim_code_hash") { values["claimCodeHash"] = .string(claim) }
        let id = try row.text("id")
        guard let account = Account(id: id, values: values) else { throw StoreFailure.damaged("the account \(id) cannot be read") }
        return account
    }

    static func deposit(_ row: SQLRow) throws -> Deposit {
        let id = try row.text("id")
        guard let kind = DepositKind(rawValue: try row.text("kind")), let method = PaymentMethod(rawValue: try row.text("method")),
              let recordedAt = Instant(utcISO: try row.text("recorded_at")) else { throw StoreFailure.damaged("the deposit \(id) cannot be read") }
        return Deposit(id: id, accountID: try row.text("account_id"), amountFen: try row.integer("amount_fen"), kind: kind,
                       periods: try row.text("periods").split(separator: ",").compactMap { Period(String($0)) }, method: method,
                       reference: try row.text("reference"), recordedAt: recordedAt)
    }

    func accountHistory(_ accountID: String) async throws -> AccountHistory {
        var history = AccountHistory()
        history.deposits = try await session.query("SELECT * FROM deposits WHERE account_id = ? ORDER BY recorded_at, reference",
                                                    [.text(accountID)]).map(Self.deposit)
        for row in try await session.query("""
            SELECT r.deposit_id, r.reason, r.recorded_at FROM deposit_reversals r JOIN deposits d ON d.id = r.deposit_id WHERE d.account_id = ?
            """, [.text(accountID)]) {
            guard let at = Instant(utcISO: try row.text("recorded_at")) else { continue }
            let deposit = try row.text("deposit_id")
            history.reversals[deposit] = DepositReversal(depositID: deposit, reason: try row.text("reason"), recordedAt: at)
        }
        for row in try await session.query("""
            SELECT o.deposit_id, o.decision, o.reason, o.bank_date, o.decided_at FROM deposit_outcomes o
            JOIN deposits d ON d.id = o.deposit_id WHERE d.account_id = ?
            """, [.text(accountID)]) {
            guard let decision = DepositOutcome.Decision(rawValue: try row.text("decision")), let at = Instant(utcISO: try row.text("decided_at")) else { continue }
            let deposit = try row.text("deposit_id")
            history.outcomes[deposit] = DepositOutcome(depositID: deposit, decision: decision, reason: try row.optionalText("reason"),
                                                       bankDate: try row.optionalText("bank_date").flatMap(CivilDate.init(iso:)), decidedAt: at)
        }
        history.interest = try await session.query("""
            SELECT r.type, r.id, r.state FROM interest_credits i JOIN records r ON r.type = ? AND r.id = i.id
            WHERE i.account_id = ? ORDER BY i.year
            """, [.text(InterestCredit.recordType), .text(accountID)]).compactMap { InterestCredit(values: try Self.record($0).values) }
        return history
    }

    func depositsByAccount() async throws -> [String: [(deposit: Deposit, status: DepositStatus)]] {
        var result: [String: [(deposit: Deposit, status: DepositStatus)]] = [:]
        for row in try await session.query("""
            SELECT d.*, o.decision, r.deposit_id AS reversed FROM deposits d
            LEFT JOIN deposit_outcomes o ON o.deposit_id = d.id LEFT JOIN deposit_reversals r ON r.deposit_id = d.id
            ORDER BY d.account_id, d.recorded_at, d.reference
            """) {
            let deposit = try Self.deposit(row)
            let decision = try row.optionalText("decision"), reversed = try row.optionalText("reversed")
            let status: DepositStatus = reversed != nil ? .reversed : decision == "confirmed" ? .confirmed : decision == "rejected" ? .rejected : .pending
            result[deposit.accountID, default: []].append((deposit, status))
        }
        return result
    }

    // MARK: Employers, visits, applications, campaigns

    static func unit(_ row: SQLRow) throws -> Employer {
        guard let kind = EmployerKind(rawValue: try row.text("kind")) else { throw StoreFailure.damaged("an employer row cannot be read") }
        let contactName = try row.optionalText("contact_name"), contactPhone = try row.optionalText("contact_phone")
        return Employer(creditCode: try row.text("credit_code"), name: try row.text("name"), branch: try row.text("branch"), kind: kind,
                        address: try row.optionalText("address"),
                        contact: contactName == nil && contactPhone == nil ? nil : EmployerContact(name: contactName, phone: contactPhone),
                        established: try row.flag("established"), employees: Int(try row.integer("employees")),
                        contributors: Int(try row.integer("contributors")), pensionInsured: Int(try row.integer("pension_insured")),
                        lastPaid: try row.optionalText("last_paid").flatMap(Period.init), monthsInArrears: Int(try row.integer("months_in_arrears")))
    }

    func units(branch: String?) async throws -> [Employer] {
        if let branch {
            return try await session.query("SELECT * FROM units WHERE branch = ? ORDER BY name, credit_code", [.text(branch)]).map(Self.unit)
        }
        return try await session.query("SELECT * FROM units ORDER BY branch, name, credit_code").map(Self.unit)
    }

    func searchUnits(_ text: String, limit: Int) async throws -> [Employer] {
        let escaped = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
        return try await session.query("""
            SELECT * FROM units WHERE name LIKE ? ESCAPE '\\' OR address LIKE ? ESCAPE '\\' OR credit_code LIKE ? ESCAPE '\\'
            ORDER BY name, credit_code LIMIT ?
            """, [.text("%\(escaped)%"), .text("%\(escaped)%"), .text("\(escaped.uppercased())%"), .integer(Int64(limit))]).map(Self.unit)
    }

    func approvedReliefs() async throws -> [String: [ApprovedRelief]] {
        var result: [String: [ApprovedRelief]] = [:]
        for row in try await session.query("""
            SELECT a.unit_id, a.kind, a.from_period, a.through_period FROM applications a
            JOIN application_decisions d ON d.application_id = a.id WHERE d.verdict = 'approved'
            """) {
            guard let kind = ReliefKind(rawValue: try row.text("kind")), let from = Period(try row.text("from_period")),
                  let through = Period(try row.text("through_period")) else { continue }
            result[try row.text("unit_id"), default: []].append(ApprovedRelief(kind: kind, from: from, through: through))
        }
        return result
    }

    /// Records of one type whose ids a read-model query gives, decoded from their merged state.
    private func states(_ type: String, _ sql: String, _ arguments: [SQLValue]) async throws -> [RecordState] {
        try await session.query("SELECT r.type, r.id, r.state FROM (\(sql)) k JOIN records r ON r.type = ? AND r.id = k.id ORDER BY k.rank",
                                arguments + [.text(type)]).map(Self.record)
    }

    func visits(unitID: String?, branch: String?, since: CivilDate?) async throws -> [Visit] {
        var conditions: [String] = [], arguments: [SQLValue] = []
        if let unitID { conditions.append("unit_id = ?"); arguments.append(.text(unitID)) }
        if let branch { conditions.append("branch = ?"); arguments.append(.text(branch)) }
        if let since { conditions.append("date >= ?"); arguments.append(.text(since.iso)) }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try await states(Visit.recordType, """
            SELECT id, row_number() OVER (ORDER BY date DESC, recorded_at DESC, id) AS rank FROM visits \(filter)
            """, arguments).compactMap { Visit(id: $0.key.id, values: $0.values) }
    }

    func voidedVisitIDs() async throws -> Set<String> {
        Set(try await session.query("SELECT visit_id FROM visit_voids").map { try $0.text("visit_id") })
    }

    func applications(unitID: String?) async throws -> [ReliefApplication] {
        let filter = unitID == nil ? "" : "WHERE unit_id = ?"
        return try await states(ReliefApplication.recordType, """
            SELECT id, row_number() OVER (ORDER BY submitted_on DESC, id) AS rank FROM applications \(filter)
            """, unitID.map { [.text($0)] } ?? []).compactMap { ReliefApplication(id: $0.key.id, values: $0.values) }
    }

    func decisions() async throws -> [String: ApplicationDecision] {
        var result: [String: ApplicationDecision] = [:]
        for row in try await session.query("SELECT application_id, verdict, reason, decided_at FROM application_decisions") {
            guard let verdict = ApplicationDecision.Verdict(rawValue: try row.text("verdict")),
                  let at = Instant(utcISO: try row.text("decided_at")) else { continue }
            let id = try row.text("application_id")
            result[id] = ApplicationDecision(applicationID: id, verdict: verdict, reason: try row.text("reason"), decidedAt: at)
        }
        return result
    }

    func campaigns() async throws -> [Campaign] {
        try await states(Campaign.recordType, "SELECT id, row_number() OVER (ORDER BY created_at DESC, id) AS rank FROM campaigns", [])
            .compactMap { Campaign(id: $0.key.id, values: $0.values) }
    }

    func campaignTargets(campaignID: String) async throws -> [String: [String]] {
        var result: [String: [String]] = [:]
        for row in try await session.query("SELECT branch, unit_id FROM campaign_targets WHERE campaign_id = ? ORDER BY unit_id", [.text(campaignID)]) {
            result[try row.text("branch"), default: []].append(try row.text("unit_id"))
        }
        return result
    }
}
