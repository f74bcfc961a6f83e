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
}
