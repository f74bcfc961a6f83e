import Foundation
import GRDB
import ProvidentDomain
import ProvidentSync

/// Keeps the read models (accounts, deposits, reversals, outcomes) in step with the merged
/// records, in the same transaction. Record types without a read model are kept in `records` only.
enum Projection {
    static func update(_ db: Database, with state: RecordState) throws {
        let key = state.key
        switch key.type {
        case Account.recordType:
            guard state.created else { return }
            guard let account = Account(id: key.id, values: state.values) else { throw StoreError.unreadableRecord(key) }
            try db.execute(sql: """
                INSERT OR REPLACE INTO accounts (id, name, id_number, phone, category, agreement_mode, base_fen,
                    rate_basis_points, monthly_fen, channel, enrolled_on, verified, paused, closed_on, close_reason)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [account.id, account.name, account.idNumber, account.phone, account.category.rawValue,
                                 account.agreement.mode.rawValue, account.agreement.baseFen, account.agreement.rateBasisPoints,
                                 account.agreement.monthlyFen, account.channel.rawValue, account.enrolledOn.iso,
                                 account.verified, account.paused, account.closedOn?.iso, account.closeReason])
        case Deposit.recordType:
            guard let deposit = Deposit(id: key.id, values: state.values) else { throw StoreError.unreadableRecord(key) }
            try db.execute(sql: """
                INSERT OR IGNORE INTO deposits (id, account_id, amount_fen, kind, periods, method, reference, recorded_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [deposit.id, deposit.accountID, deposit.amountFen, deposit.kind.rawValue,
                                 deposit.periods.map(\.iso).joined(separator: ","), deposit.method.rawValue,
                                 deposit.reference, deposit.recordedAt.utcISO])
            for period in deposit.periods {
                try db.execute(sql: "INSERT OR IGNORE INTO deposit_periods (account_id, period, deposit_id) VALUES (?, ?, ?)",
                               arguments: [deposit.accountID, period.iso, deposit.id])
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
