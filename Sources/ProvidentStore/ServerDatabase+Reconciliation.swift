import Foundation
import GRDB
import ProvidentCrypto
import ProvidentDomain
import ProvidentSync

/// A bank line as the office reviews it.
public struct ReconciliationLine: Sendable {
    /// Where a line stands.
    public enum Status: String, Sendable, CaseIterable {
        /// Matched to its deposit, which is confirmed.
        case confirmed
        /// The memo names a deposit of another amount: the office confirms by hand or rejects the deposit.
        case amountMismatch
        /// No deposit found (or several fit): the office matches by hand, or dismisses (refunds) it.
        case noDeposit
        /// Pays a deposit already paid: money to refund.
        case duplicate
        /// The deposit it named was rejected by the office.
        case rejected
        /// Set aside by the office, with a reason (refunded, not an HPF payment…).
        case dismissed

        public func label(_ l: Language) -> String {
            switch self {
            case .confirmed: l.pick("matched, confirmed", "已匹配确认")
            case .amountMismatch: l.pick("amount mismatch", "金额不符")
            case .noDeposit: l.pick("no deposit", "无对应缴存")
            case .duplicate: l.pick("duplicate payment", "重复缴款")
            case .rejected: l.pick("deposit rejected", "缴存已退回")
            case .dismissed: l.pick("dismissed", "已处理")
            }
        }

        /// Whether the office still has to act.
        public var open: Bool { self == .amountMismatch || self == .noDeposit || self == .duplicate }
    }

    public let id: Int64
    public let bankLine: BankLine
    public let statementID: Int64
    public let status: Status
    public let depositID: String?
    public let reference: String?
    public let method: MatchMethod?
    public let candidates: [String]
    public let note: String?
}

/// A deposit that waited longer than the window for its bank line.
public struct MissingPayment: Sendable {
    public let deposit: Deposit
    public let holder: String
}

/// What importing a statement did.
public struct StatementImportReport: Sendable {
    public var lines = 0
    public var alreadyImported = 0
    public var confirmed = 0
    public var amountMismatch = 0
    public var noDeposit = 0
    public var duplicate = 0
    public var statementID: Int64?
}

extension ServerDatabase {
    /// Imports a bank statement in one transaction: lines already imported (the same file
    /// again, or an overlapping statement) are skipped; each new line is matched by the rules
    /// of `Matching` and kept with its result; each match confirms its deposit with an outcome
    /// signed by the office key (one change-set per deposit, so it reaches that account's
    /// devices only), dated with the bank's date.
    public func importStatement(_ lines: [BankLine], fileName: String, windowDays: Int, admission: Admission,
                                now: Instant) async throws -> StatementImportReport {
        try await replica.asyncWrite { db in
            var report = StatementImportReport()
            report.lines = lines.count
            var fresh: [BankLine] = []
            for line in lines {
                if try Bool.fetchOne(db, sql: "SELECT 1 FROM bank_lines WHERE fingerprint = ?", arguments: [line.fingerprint]) == true {
                    report.alreadyImported += 1
                } else {
                    fresh.append(line)
                }
            }
            guard !fresh.isEmpty else { return report }
            try db.execute(sql: "INSERT INTO bank_statements (file_name, imported_at, line_count) VALUES (?, ?, ?)",
                           arguments: [fileName, now.utcISO, lines.count])
            let statementID = db.lastInsertedRowID
            report.statementID = statementID
            // The deposits that may fit by amount, read once for the statement's dates; those
            // this import matches are set aside as it goes.
            var byAmount: [Int64: [DepositCandidate]] = [:]
            if let first = fresh.map(\.date).min(), let last = fresh.map(\.date).max() {
                for candidate in try Self.candidates(from: first.adding(days: -windowDays - 1), to: last.adding(days: windowDays + 2), db) {
                    byAmount[candidate.deposit.amountFen, default: []].append(candidate)
                }
            }
            var matchedHere = Set<String>()
            for line in fresh {
                var lookupFailure: (any Error)?
                let result = Matching.match(line, windowDays: windowDays, byReference: { reference in
                    do {
                        return try Self.candidate(reference: reference, db)
                    } catch {
                        lookupFailure = error
                        return nil
                    }
                }, byAmount: { amount in (byAmount[amount] ?? []).filter { !matchedHere.contains($0.deposit.id) } })
                if let lookupFailure { throw lookupFailure }
                var status: ReconciliationLine.Status, depositID: String?, method: MatchMethod?, candidates: [String] = [], note: String?
                switch result {
                case let .matched(id, how):
                    (status, depositID, method) = (.confirmed, id, how)
                    try self.confirm(depositID: id, bankDate: line.date, admission: admission, now: now, in: db)
                    matchedHere.insert(id)
                    report.confirmed += 1
                case let .amountMismatch(id):
                    (status, depositID) = (.amountMismatch, id)
                    matchedHere.insert(id)
                    report.amountMismatch += 1
                case let .duplicate(id):
                    (status, depositID) = (.duplicate, id)
                    report.duplicate += 1
                case let .noDeposit(found, why):
                    (status, candidates) = (.noDeposit, found)
                    note = why == .none ? nil : why.rawValue
                    report.noDeposit += 1
                }
                try db.execute(sql: """
                    INSERT INTO bank_lines (fingerprint, statement_id, line, date, amount_fen, payer_name, payer_account, memo, serial,
                        status, deposit_id, method, candidates, note, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [line.fingerprint, statementID, line.line, line.date.iso, line.amountFen, line.payerName,
                                     line.payerAccount, line.memo, line.serial, status.rawValue, depositID, method?.rawValue,
                                     candidates.isEmpty ? nil : candidates.joined(separator: ","), note, now.utcISO])
            }
            return report
        }
    }

    /// Confirms by hand the deposit a bank line pays (the one its memo names, or `reference`):
    /// the amounts must be equal.
    public func confirmLine(_ lineID: Int64, reference: String?, admission: Admission, now: Instant) async throws -> (ReconciliationLine, Deposit) {
        try await replica.asyncWrite { db in
            guard let line = try Self.line(lineID, db) else { throw ReconciliationError.lineUnknown(lineID) }
            guard line.status == .noDeposit || line.status == .amountMismatch else { throw ReconciliationError.lineClosed(line.status) }
            let deposit: Deposit
            if let reference {
                let code = try ReferenceCode(reference).value
                guard let id = try ReplicaReader(db: db, device: try ReplicaDatabase.deviceState(db)).depositID(reference: code),
                      let found = try Self.deposit(id, db) else { throw DomainError.depositNotFound(code) }
                deposit = found
            } else {
                guard let id = line.depositID, let found = try Self.deposit(id, db) else { throw ReconciliationError.depositNeeded }
                deposit = found
            }
            guard deposit.amountFen == line.bankLine.amountFen else {
                throw ReconciliationError.amountsDiffer(bankFen: line.bankLine.amountFen, depositFen: deposit.amountFen)
            }
            guard let candidate = try Self.candidate(reference: deposit.reference, db), candidate.open else {
                throw DomainError.depositAlreadyDecided(deposit.reference)
            }
            try self.confirm(depositID: deposit.id, bankDate: line.bankLine.date, admission: admission, now: now, in: db)
            try db.execute(sql: "UPDATE bank_lines SET status = 'confirmed', deposit_id = ?, method = 'manual', updated_at = ? WHERE id = ?",
                           arguments: [deposit.id, now.utcISO, lineID])
            return (try Self.line(lineID, db) ?? line, deposit)
        }
    }

    /// Rejects a deposit with the reason (no payment came, or the wrong amount): an outcome
    /// signed by the office key; bank lines that named it are marked accordingly.
    public func rejectDeposit(reference: String, reason: String, admission: Admission, now: Instant) async throws -> Deposit {
        let code = try ReferenceCode(reference).value
        let reason = reason.trimmingCharacters(in: .whitespaces)
        guard !reason.isEmpty else { throw DomainError.reasonEmpty }
        return try await replica.asyncWrite { db in
            guard let id = try ReplicaReader(db: db, device: try ReplicaDatabase.deviceState(db)).depositID(reference: code),
                  let deposit = try Self.deposit(id, db) else { throw DomainError.depositNotFound(code) }
            let outcome = DepositOutcome(depositID: deposit.id, decision: .rejected, reason: reason, bankDate: nil, decidedAt: now)
            try self.submitOwn(action: "reconcile.reject", operations: [
                Operation(record: RecordKey(type: DepositOutcome.recordType, id: DepositOutcome.id(for: deposit.id)), kind: .fact,
                          fields: outcome.fields),
            ], admission: admission, now: now, in: db)
            try db.execute(sql: "UPDATE bank_lines SET status = 'rejected', note = ?, updated_at = ? WHERE deposit_id = ? AND status = 'amountMismatch'",
                           arguments: [reason, now.utcISO, deposit.id])
            return deposit
        }
    }

    /// Sets a line aside with the reason (refunded to the payer, not an HPF payment…).
    public func dismissLine(_ lineID: Int64, reason: String, now: Instant) async throws -> ReconciliationLine {
        let reason = reason.trimmingCharacters(in: .whitespaces)
        guard !reason.isEmpty else { throw DomainError.reasonEmpty }
        return try await replica.asyncWrite { db in
            guard let line = try Self.line(lineID, db) else { throw ReconciliationError.lineUnknown(lineID) }
            guard line.status.open else { throw ReconciliationError.lineClosed(line.status) }
            try db.execute(sql: "UPDATE bank_lines SET status = 'dismissed', note = ?, updated_at = ? WHERE id = ?",
                           arguments: [reason, now.utcISO, lineID])
            return try Self.line(lineID, db) ?? line
        }
    }

    /// Bank lines, newest first, of one status or all.
    public func reconciliationLines(status: ReconciliationLine.Status? = nil, limit: Int = 10_000) throws -> [ReconciliationLine] {
        try replica.reading { reader in
            try Row.fetchAll(reader.db, sql: """
                SELECT b.*, d.reference FROM bank_lines b LEFT JOIN deposits d ON d.id = b.deposit_id
                \(status == nil ? "" : "WHERE b.status = ?") ORDER BY b.date DESC, b.id DESC LIMIT ?
                """, arguments: StatementArguments((status.map { [$0.rawValue] } ?? []) + [String(limit)])).compactMap(Self.line)
        }
    }

    /// One bank line.
    public func reconciliationLine(_ id: Int64) throws -> ReconciliationLine? {
        try replica.reading { reader in try Self.line(id, reader.db) }
    }

    /// Deposits still pending more than `windowDays` after they were recorded, counted up to
    /// the latest bank date imported: their bank line should have come by now.
    public func missingPayments(windowDays: Int) throws -> [MissingPayment] {
        try replica.reading { reader in
            let db = reader.db
            guard let latestText = try String.fetchOne(db, sql: "SELECT MAX(date) FROM bank_lines"), let latest = CivilDate(iso: latestText) else {
                return []
            }
            // Recorded (in Beijing time) on or before latest − window: before the next day's start, in UTC.
            let cutoff = Instant(millisSinceEpoch: Int64(latest.adding(days: -windowDays + 1).daysSinceEpoch) * 86_400_000
                                 - Instant.shanghaiOffsetMillis)
            return try Row.fetchAll(db, sql: """
                SELECT d.*, a.name AS holder FROM deposits d JOIN accounts a ON a.id = d.account_id
                LEFT JOIN deposit_outcomes o ON o.deposit_id = d.id LEFT JOIN deposit_reversals r ON r.deposit_id = d.id
                WHERE o.deposit_id IS NULL AND r.deposit_id IS NULL AND d.recorded_at < ?
                  AND NOT EXISTS (SELECT 1 FROM bank_lines b WHERE b.deposit_id = d.id AND b.status IN ('confirmed', 'amountMismatch'))
                ORDER BY d.recorded_at
                """, arguments: [cutoff.utcISO]).compactMap { row in
                Projection.deposit(row).map { MissingPayment(deposit: $0, holder: row["holder"]) }
            }
        }
    }

    // MARK: Internals

    func confirm(depositID: String, bankDate: CivilDate, admission: Admission, now: Instant, in db: Database) throws {
        let outcome = DepositOutcome(depositID: depositID, decision: .confirmed, reason: nil, bankDate: bankDate, decidedAt: now)
        try submitOwn(action: "reconcile.confirm", operations: [
            Operation(record: RecordKey(type: DepositOutcome.recordType, id: DepositOutcome.id(for: depositID)), kind: .fact,
                      fields: outcome.fields),
        ], admission: admission, now: now, in: db)
    }

    static func deposit(_ id: String, _ db: Database) throws -> Deposit? {
        try Row.fetchOne(db, sql: "SELECT * FROM deposits WHERE id = ?", arguments: [id]).flatMap(Projection.deposit)
    }

    static let candidateSelect = """
        SELECT d.*, a.name AS holder, o.decision, r.deposit_id AS reversed,
            (SELECT count(*) FROM bank_lines b WHERE b.deposit_id = d.id AND b.status = 'confirmed') AS paid
        FROM deposits d JOIN accounts a ON a.id = d.account_id
        LEFT JOIN deposit_outcomes o ON o.deposit_id = d.id LEFT JOIN deposit_reversals r ON r.deposit_id = d.id
        """

    static func candidate(_ row: Row) -> DepositCandidate? {
        guard let deposit = Projection.deposit(row) else { return nil }
        let decision: String? = row["decision"], reversed: String? = row["reversed"]
        let paid: Int = row["paid"]
        return DepositCandidate(deposit: deposit, holder: row["holder"], open: decision == nil && reversed == nil && paid == 0,
                                taken: decision == "confirmed" || paid > 0)
    }

    static func candidate(reference: String, _ db: Database) throws -> DepositCandidate? {
        try Row.fetchOne(db, sql: "\(candidateSelect) WHERE d.reference = ?", arguments: [reference]).flatMap(candidate)
    }

    /// Deposits recorded from the start of `from` to the start of `to` (UTC days, a day wider
    /// than needed: `Matching` compares Beijing dates exactly).
    static func candidates(from: CivilDate, to: CivilDate, _ db: Database) throws -> [DepositCandidate] {
        let start = Instant(millisSinceEpoch: Int64(from.daysSinceEpoch) * 86_400_000)
        let end = Instant(millisSinceEpoch: Int64(to.daysSinceEpoch) * 86_400_000)
        return try Row.fetchAll(db, sql: "\(candidateSelect) WHERE d.recorded_at >= ? AND d.recorded_at < ?",
                                arguments: [start.utcISO, end.utcISO]).compactMap(candidate)
    }

    static func line(_ id: Int64, _ db: Database) throws -> ReconciliationLine? {
        try Row.fetchOne(db, sql: "SELECT b.*, d.reference FROM bank_lines b LEFT JOIN deposits d ON d.id = b.deposit_id WHERE b.id = ?",
                         arguments: [id]).flatMap(line)
    }

    static func line(_ row: Row) -> ReconciliationLine? {
        guard let date = CivilDate(iso: row["date"]), let status = ReconciliationLine.Status(rawValue: row["status"]) else { return nil }
        let method: String? = row["method"], candidates: String? = row["candidates"]
        let bankLine = BankLine(line: row["line"], date: date, amountFen: row["amount_fen"], payerName: row["payer_name"],
                                payerAccount: row["payer_account"], memo: row["memo"], serial: row["serial"], fingerprint: row["fingerprint"])
        return ReconciliationLine(id: row["id"], bankLine: bankLine, statementID: row["statement_id"], status: status,
                                  depositID: row["deposit_id"], reference: row["reference"], method: method.flatMap(MatchMethod.init),
                                  candidates: candidates.map { $0.split(separator: ",").map(String.init) } ?? [], note: row["note"])
    }
}

/// What the office asked of a bank line that cannot be done.
public enum ReconciliationError: Error, Hashable, Sendable {
    case lineUnknown(Int64)
    case lineClosed(ReconciliationLine.Status)
    case depositNeeded
    case amountsDiffer(bankFen: Int64, depositFen: Int64)

    public var code: String {
        switch self {
        case .lineUnknown: "reconcile.line_unknown"
        case .lineClosed: "reconcile.line_closed"
        case .depositNeeded: "reconcile.deposit_needed"
        case .amountsDiffer: "reconcile.amounts_differ"
        }
    }

    public func message(_ l: Language) -> String {
        switch self {
        case let .lineUnknown(id):
            l.pick("No bank line \(id); see `provident-server reconcile list`.", "没有编号为 \(id) 的银行流水;请查看 `provident-server reconcile list`。")
        case let .lineClosed(status):
            l.pick("Bank line is already settled (\(status.label(l))).", "该银行流水已处理(\(status.label(l)))。")
        case .depositNeeded:
            l.pick("The line names no deposit: give the deposit's reference code with --deposit.", "该流水没有对应的缴存:请用 --deposit 指定缴存识别码。")
        case let .amountsDiffer(bank, deposit):
            l.pick("The bank line is \(Money(fen: bank).formatted) but the deposit is \(Money(fen: deposit).formatted); reject the deposit with the reason instead (`reconcile reject`).",
                   "银行流水金额为 \(Money(fen: bank).formatted),缴存金额为 \(Money(fen: deposit).formatted),不能确认;请改为退回该缴存并说明原因(`reconcile reject`)。")
        }
    }
}

/// What an interest settlement did.
public struct InterestSettlementReport: Sendable {
    public var year = 0
    public var from = CivilDate(daysSinceEpoch: 0)
    public var to = CivilDate(daysSinceEpoch: 0)
    public var credited = 0
    public var totalFen: Int64 = 0
    public var alreadySettled = 0
    public var nothingToCredit = 0
}

extension ServerDatabase {
    /// Settles a year's interest on every account, as the office, in one transaction: one
    /// insert-only `interest` fact per account with interest to credit (one change-set each, so
    /// it reaches that account's devices only), computed by `InterestMethod` from the deposits
    /// confirmed by then. An account already settled for the year is left as it is, so running
    /// it twice changes nothing. Refused before the year's settlement day.
    public func settleInterest(year: Int, admission: Admission, now: Instant) async throws -> InterestSettlementReport {
        let policy = admission.policy
        let (from, to) = InterestMethod.interestYear(year, policy: policy)
        guard to <= now.shanghaiDate else { throw InterestError.yearNotOver(settlementDay: to) }
        return try await replica.asyncWrite { db in
            var report = InterestSettlementReport()
            (report.year, report.from, report.to) = (year, from, to)
            let reader = ReplicaReader(db: db, device: try ReplicaDatabase.deviceState(db))
            for accountID in try String.fetchAll(db, sql: "SELECT id FROM accounts ORDER BY id") {
                let credits = try reader.interestCredits(accountID: accountID)
                if credits.contains(where: { $0.year == year }) {
                    report.alreadySettled += 1
                    continue
                }
                let statement = Statement(deposits: try reader.deposits(accountID: accountID), reversals: try reader.reversals(accountID: accountID),
                                          outcomes: try reader.outcomes(accountID: accountID), today: to)
                let credit = InterestMethod.settle(accountID: accountID, year: year, statement: statement, credits: credits, policy: policy, at: now)
                guard credit.amountFen > 0 else {
                    report.nothingToCredit += 1
                    continue
                }
                try self.submitOwn(action: "interest.settle", operations: [
                    Operation(record: credit.recordKey, kind: .fact, fields: credit.fields),
                ], admission: admission, now: now, in: db)
                report.credited += 1
                report.totalFen += credit.amountFen
            }
            return report
        }
    }
}

/// Why interest cannot be settled.
public enum InterestError: Error, Hashable, Sendable {
    case yearNotOver(settlementDay: CivilDate)

    public var code: String { "interest.year_not_over" }

    public func message(_ l: Language) -> String {
        switch self {
        case let .yearNotOver(day):
            l.pick("That interest year ends on \(day.iso); settle it on or after that day.", "该结息年度于 \(day.iso) 结束;请在当日或之后结息。")
        }
    }
}
