import Foundation
import GRDB
import ProvidentDomain
import ProvidentSync

/// Keeps the read models (accounts, deposits, reversals, outcomes, employers, visits,
/// applications, decisions, campaigns and their targets) in step with the merged
/// records, in the same transaction. Record types without a read model are kept in `records` only.
enum Projection {
    static func update(_ db: Database, with state: RecordState) throws {
        let key = state.key
        switch key.type {
        case Account.recordType:
            guard state.created else {
                try remove(db, key)
                return
            }
            guard let account = Account(id: key.id, values: state.values) else { throw StoreError.unreadableRecord(key) }
            try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO accounts (id, name, id_number, phone, category, agreement_mode, base_fen,
                    rate_basis_points, monthly_fen, channel, enrolled_on, verified, paused, closed_on, close_reason,
                    branch, claim_code_hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [account.id, account.name, account.idNumber, account.phone, account.category.rawValue,
                                         account.agreement.mode.rawValue, account.agreement.baseFen, account.agreement.rateBasisPoints,
                                         account.agreement.monthlyFen, account.channel.rawValue, account.enrolledOn.iso,
                                         account.verified, account.paused, account.closedOn?.iso, account.closeReason,
                                         account.branch, account.claimCodeHash])
        case Deposit.recordType:
            guard let deposit = Deposit(id: key.id, values: state.values) else { throw StoreError.unreadableRecord(key) }
            try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO deposits (id, account_id, amount_fen, kind, periods, method, reference, recorded_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [deposit.id, deposit.accountID, deposit.amountFen, deposit.kind.rawValue,
                                         deposit.periods.map(\.iso).joined(separator: ","), deposit.method.rawValue,
                                         deposit.reference, deposit.recordedAt.utcISO])
            for period in deposit.periods {
                try db.cachedStatement(sql: "INSERT OR IGNORE INTO deposit_periods (account_id, period, deposit_id) VALUES (?, ?, ?)")
                    .execute(arguments: [deposit.accountID, period.iso, deposit.id])
            }
        case DepositReversal.recordType:
            guard let reversal = DepositReversal(values: state.values) else { throw StoreError.unreadableRecord(key) }
            try db.execute(sql: "INSERT OR IGNORE INTO deposit_reversals (deposit_id, reason, recorded_at) VALUES (?, ?, ?)",
                           arguments: [reversal.depositID, reversal.reason, reversal.recordedAt.utcISO])
        case DepositOutcome.recordType:
            guard let outcome = DepositOutcome(values: state.values) else { throw StoreError.unreadableRecord(key) }
            try db.execute(sql: """
                INSERT OR IGNORE INTO deposit_outcomes (deposit_id, decision, reason, bank_date, decided_at) VALUES (?, ?, ?, ?, ?)
                """, arguments: [outcome.depositID, outcome.decision.rawValue, outcome.reason, outcome.bankDate?.iso,
                                 outcome.decidedAt.utcISO])
        case InterestCredit.recordType:
            guard let credit = InterestCredit(values: state.values) else { throw StoreError.unreadableRecord(key) }
            try db.execute(sql: "INSERT OR IGNORE INTO interest_credits (id, account_id, year, amount_fen, settled_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [key.id, credit.accountID, credit.year, credit.amountFen, credit.settledAt.utcISO])
        case Employer.recordType:
            guard state.created else {
                try remove(db, key)
                return
            }
            guard let unit = Employer(id: key.id, values: state.values) else { throw StoreError.unreadableRecord(key) }
            try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO units (id, credit_code, name, branch, kind, address, contact_name, contact_phone, established,
                    employees, contributors, pension_insured, last_paid, months_in_arrears)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [unit.id, unit.creditCode, unit.name, unit.branch, unit.kind.rawValue, unit.address,
                                         unit.contact?.name, unit.contact?.phone, unit.established, unit.employees, unit.contributors,
                                         unit.pensionInsured, unit.lastPaid?.iso, unit.monthsInArrears])
        case Visit.recordType:
            guard let visit = Visit(id: key.id, values: state.values) else { throw StoreError.unreadableRecord(key) }
            try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO visits (id, unit_id, branch, purpose, date, outcome, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [visit.id, visit.unitID, visit.branch, visit.purpose.rawValue, visit.date.iso,
                                         visit.outcome?.rawValue, visit.recordedAt.utcISO])
        case VisitVoid.recordType:
            guard let voiding = VisitVoid(values: state.values) else { throw StoreError.unreadableRecord(key) }
            try db.execute(sql: "INSERT OR IGNORE INTO visit_voids (visit_id, reason, recorded_at) VALUES (?, ?, ?)",
                           arguments: [voiding.visitID, voiding.reason, voiding.recordedAt.utcISO])
        case ReliefApplication.recordType:
            guard let application = ReliefApplication(id: key.id, values: state.values) else { throw StoreError.unreadableRecord(key) }
            try db.execute(sql: """
                INSERT OR IGNORE INTO applications (id, unit_id, kind, from_period, through_period, submitted_on, recorded_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [application.id, application.unitID, application.kind.rawValue, application.from.iso,
                                 application.through.iso, application.submittedOn.iso, application.recordedAt.utcISO])
        case ApplicationDecision.recordType:
            guard let decision = ApplicationDecision(values: state.values) else { throw StoreError.unreadableRecord(key) }
            try db.execute(sql: """
                INSERT OR IGNORE INTO application_decisions (application_id, verdict, reason, decided_at) VALUES (?, ?, ?, ?)
                """, arguments: [decision.applicationID, decision.verdict.rawValue, decision.reason, decision.decidedAt.utcISO])
        case Campaign.recordType:
            guard let campaign = Campaign(id: key.id, values: state.values) else { throw StoreError.unreadableRecord(key) }
            try db.execute(sql: """
                INSERT OR IGNORE INTO campaigns (id, name, cutoff, start_on, end_on, created_at) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [campaign.id, campaign.name, campaign.cutoff.iso, campaign.start.iso, campaign.end.iso,
                                 campaign.createdAt.utcISO])
        case CampaignTargets.recordType:
            guard let targets = CampaignTargets(values: state.values) else { throw StoreError.unreadableRecord(key) }
            for unit in targets.units {
                try db.cachedStatement(sql: """
                    INSERT OR IGNORE INTO campaign_targets (campaign_id, unit_id, branch, record_id) VALUES (?, ?, ?, ?)
                    """).execute(arguments: [targets.campaignID, unit, targets.branch, key.id])
            }
        default:
            return
        }
    }

    /// Removes a record's read model: it was withdrawn, or it left this device's scope.
    static func remove(_ db: Database, _ key: RecordKey) throws {
        switch key.type {
        case Account.recordType:
            try db.execute(sql: "DELETE FROM accounts WHERE id = ?", arguments: [key.id])
        case Deposit.recordType:
            try db.execute(sql: "DELETE FROM deposit_periods WHERE deposit_id = ?", arguments: [key.id])
            try db.execute(sql: "DELETE FROM deposits WHERE id = ?", arguments: [key.id])
        case DepositReversal.recordType:
            try db.execute(sql: "DELETE FROM deposit_reversals WHERE deposit_id = ?", arguments: [String(key.id.dropFirst(4))])
        case DepositOutcome.recordType:
            try db.execute(sql: "DELETE FROM deposit_outcomes WHERE deposit_id = ?", arguments: [String(key.id.dropFirst(4))])
        case InterestCredit.recordType:
            try db.execute(sql: "DELETE FROM interest_credits WHERE id = ?", arguments: [key.id])
        case Employer.recordType:
            try db.execute(sql: "DELETE FROM units WHERE id = ?", arguments: [key.id])
        case Visit.recordType:
            try db.execute(sql: "DELETE FROM visits WHERE id = ?", arguments: [key.id])
        case VisitVoid.recordType:
            try db.execute(sql: "DELETE FROM visit_voids WHERE visit_id = ?", arguments: [String(key.id.dropFirst(5))])
        case ReliefApplication.recordType:
            try db.execute(sql: "DELETE FROM applications WHERE id = ?", arguments: [key.id])
        case ApplicationDecision.recordType:
            try db.execute(sql: "DELETE FROM application_decisions WHERE application_id = ?", arguments: [String(key.id.dropFirst(4))])
        case Campaign.recordType:
            try db.execute(sql: "DELETE FROM campaigns WHERE id = ?", arguments: [key.id])
        case CampaignTargets.recordType:
            try db.execute(sql: "DELETE FROM campaign_targets WHERE record_id = ?", arguments: [key.id])
        default:
            return
        }
    }

    static func account(_ row: Row) -> Account? {
        var values: [String: CanonicalValue] = [
            "name": .string(row["name"]), "idNumber": .string(row["id_number"]), "phone": .string(row["phone"]),
            "category": .string(row["category"]), "channel": .string(row["channel"]),
            "enrolledOn": .string(row["enrolled_on"]), "verified": .bool(row["verified"]), "paused": .bool(row["paused"]),
        ]
        var agreement: [String: CanonicalValue] = ["mode": .string(row["agreement_mode"]),
                                                   "monthlyFen": .integer(row["monthly_fen"])]
        if let base: Int64 = row["base_fen"] { agreement["baseFen"] = .integer(base) }
        if let rate: Int64 = row["rate_basis_points"] { agreement["rateBasisPoints"] = .integer(rate) }
        values["agreement"] = .object(agreement)
        if let closed: String = row["closed_on"] {
            values["closed"] = Account.closedValue(on: CivilDate(iso: closed) ?? CivilDate(daysSinceEpoch: 0),
                                                   reason: row["close_reason"] ?? "")
        }
        if let branch: String = row["branch"] { values["branch"] = .string(branch) }
        if let claim: String = row["claim_code_hash"] { values["claimCodeHash"] = .string(claim) }
        return Account(id: row["id"], values: values)
    }

    static func deposit(_ row: Row) -> Deposit? {
        let periodsText: String = row["periods"]
        let periods = periodsText.split(separator: ",").compactMap { Period(String($0)) }
        guard let kind = DepositKind(rawValue: row["kind"]), let method = PaymentMethod(rawValue: row["method"]),
              let recordedAt = Instant(utcISO: row["recorded_at"]) else { return nil }
        return Deposit(id: row["id"], accountID: row["account_id"], amountFen: row["amount_fen"], kind: kind,
                       periods: periods, method: method, reference: row["reference"], recordedAt: recordedAt)
    }
}
