import Foundation
import GRDB
import ProvidentDomain
import ProvidentSync

/// The reports the office can ask for.
public enum ReportName: String, CaseIterable, Sendable {
    case coverage
    case arrears
    case campaign
    case enrolment
    case conflicts
}

extension ServerDatabase {
    /// A report, from one consistent read of the server's replica.
    public func report(_ name: ReportName, asOf: CivilDate, policy: Policy, language: Language) throws -> Report {
        switch name {
        case .coverage, .arrears:
            let (employers, reliefs) = try replica.reading { reader in (try reader.units(), try reader.approvedReliefs()) }
            return name == .coverage
                ? Reports.coverage(employers: employers, reliefs: reliefs, policy: policy, asOf: asOf, language: language)
                : Reports.arrears(employers: employers, reliefs: reliefs, policy: policy, asOf: asOf, language: language)
        case .campaign:
            return Reports.campaigns(try campaignProgress(policy: policy, today: asOf), asOf: asOf, language: language)
        case .enrolment:
            return Reports.enrolment(try accountFacts(), asOf: asOf, language: language)
        case .conflicts:
            return Reports.conflicts(try replica.conflicts().filter { !$0.resolved }.map(\.conflict), asOf: asOf, language: language)
        }
    }

    /// Every account with its deposits' status, read in two queries.
    func accountFacts() throws -> [Reports.AccountFacts] {
        try replica.reading { reader in
            let db = reader.db
            let accounts = try Row.fetchAll(db, sql: "SELECT * FROM accounts ORDER BY id").compactMap(Projection.account)
            var deposits: [String: [(Deposit, DepositStatus)]] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT d.*, o.decision, r.deposit_id AS reversed FROM deposits d
                LEFT JOIN deposit_outcomes o ON o.deposit_id = d.id LEFT JOIN deposit_reversals r ON r.deposit_id = d.id
                """) {
                guard let deposit = Projection.deposit(row) else { continue }
                let decision: String? = row["decision"], reversed: String? = row["reversed"]
                let status: DepositStatus = reversed != nil ? .reversed : decision == "confirmed" ? .confirmed : decision == "rejected" ? .rejected : .pending
                deposits[deposit.accountID, default: []].append((deposit, status))
            }
            return accounts.map { Reports.AccountFacts(account: $0, deposits: deposits[$0.id] ?? []) }
        }
    }
}
