import ProvidentDomain
import ProvidentSync

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

/// What the office asked of a bank line that cannot be done.
public enum ReconciliationError: ProvidentError, Hashable {
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

    public var kind: ErrorKind {
        switch self {
        case .lineUnknown: .notFound
        case .lineClosed: .refused
        case .depositNeeded, .amountsDiffer: .invalidInput
        }
    }

    public func message(_ l: Language) -> String {
        switch self {
        case let .lineUnknown(id):
            l.pick("No bank line \(id); see `provident-server reconcile list`.", "没有编号为 \(id) 的银行流水；请查看 `provident-server reconcile list`。")
        case let .lineClosed(status):
            l.pick("Bank line is already settled (\(status.label(l))).", "该银行流水已处理（\(status.label(l))）。")
        case .depositNeeded:
            l.pick("The line names no deposit: give the deposit's reference code.", "该流水没有对应的缴存：请指定缴存识别码。")
        case let .amountsDiffer(bank, deposit):
            l.pick("The bank line is \(Money(fen: bank).formatted) but the deposit is \(Money(fen: deposit).formatted); reject the deposit with the reason instead.",
                   "银行流水金额为 \(Money(fen: bank).formatted)，缴存金额为 \(Money(fen: deposit).formatted)，不能确认；请改为退回该缴存并说明原因。")
        }
    }
}

extension ServerCore {
    /// Imports a bank statement in one transaction: lines already imported (the same file
    /// again, or an overlapping statement) are skipped; each new line is matched by the rules
    /// of `Matching` and kept with its result; each match confirms its deposit with an outcome
    /// signed by the office key (one change-set per deposit, so it reaches that account's
    /// devices only), dated with the bank's date.
    /// With `dryRun`, everything is done and counted in the transaction, which is then rolled back.
    public func importStatement(_ lines: [BankLine], fileName: String, windowDays: Int, dryRun: Bool = false) async throws -> StatementImportReport {
        try await ingest(now: clock(), dryRun: dryRun) { ingest in
            let tx = ingest.tx
            var report = StatementImportReport()
            report.lines = lines.count
            let known = try await tx.importedFingerprints(lines.map(\.fingerprint))
            let fresh = lines.filter { !known.contains($0.fingerprint) }
            report.alreadyImported = lines.count - fresh.count
            guard !fresh.isEmpty else { return report }
            let statementID = try await tx.addStatement(fileName: fileName, importedAt: ingest.now, lineCount: lines.count)
            report.statementID = statementID
            // The deposits that may fit by amount, read once for the statement's dates; those
            // this import matches are set aside as it goes.
            var byAmount: [Int64: [DepositCandidate]] = [:]
            if let first = fresh.map(\.date).min(), let last = fresh.map(\.date).max() {
                for candidate in try await tx.depositCandidates(recordedFrom: Self.dayStart(first.adding(days: -windowDays - 1)),
                                                                to: Self.dayStart(last.adding(days: windowDays + 2))) {
                    byAmount[candidate.deposit.amountFen, default: []].append(candidate)
                }
            }
            var matchedHere = Set<String>()
            for line in fresh {
                // Read after what earlier lines did, so a second payment of one deposit is a duplicate.
                try await ingest.flush()
                var named: [String: DepositCandidate] = [:]
                for code in line.references.valid { named[code] = try await tx.depositCandidate(reference: code) }
                let result = Matching.match(line, windowDays: windowDays, byReference: { named[$0] },
                                            byAmount: { amount in (byAmount[amount] ?? []).filter { !matchedHere.contains($0.deposit.id) } })
                var outcome: LineResult
                switch result {
                case let .matched(id, how):
                    outcome = LineResult(status: .confirmed, depositID: id, method: how)
                    try await ingest.submitOwn(.reconcileConfirm, [Self.outcome(depositID: id, .confirmed, reason: nil, bankDate: line.date, at: ingest.now)])
                    matchedHere.insert(id)
                    report.confirmed += 1
                case let .amountMismatch(id):
                    outcome = LineResult(status: .amountMismatch, depositID: id)
                    matchedHere.insert(id)
                    report.amountMismatch += 1
                case let .duplicate(id):
                    outcome = LineResult(status: .duplicate, depositID: id)
                    report.duplicate += 1
                case let .noDeposit(_, why):
                    // Kept best first, for the office to pick from.
                    let pool = byAmount.values.joined().filter { !matchedHere.contains($0.deposit.id) }
                    let found = Matching.suggestions(for: line, windowDays: windowDays, pool: Array(pool)).map(\.candidate.deposit.id)
                    outcome = LineResult(status: .noDeposit, candidates: found, note: why == .none ? nil : why.rawValue)
                    report.noDeposit += 1
                }
                try await tx.addBankLine(line, statementID: statementID, result: outcome, at: ingest.now)
            }
            return report
        }
    }

    /// Confirms by hand the deposit a bank line pays (the one its memo names, or `reference`):
    /// the amounts must be equal.
    public func confirmLine(_ lineID: Int64, reference: String?) async throws -> (ReconciliationLine, Deposit) {
        let code = try reference.map { text throws(DomainError) in try ReferenceCode(text).value }
        return try await ingest(now: clock()) { ingest in
            let tx = ingest.tx
            guard let line = try await tx.bankLine(lineID) else { throw ReconciliationError.lineUnknown(lineID) }
            guard line.status == .noDeposit || line.status == .amountMismatch else { throw ReconciliationError.lineClosed(line.status) }
            let candidate: DepositCandidate
            if let code {
                guard let found = try await tx.depositCandidate(reference: code) else { throw DomainError.depositNotFound(code) }
                candidate = found
            } else {
                guard let id = line.depositID, let reference = line.reference, let found = try await tx.depositCandidate(reference: reference),
                      found.deposit.id == id else { throw ReconciliationError.depositNeeded }
                candidate = found
            }
            let deposit = candidate.deposit
            guard deposit.amountFen == line.bankLine.amountFen else {
                throw ReconciliationError.amountsDiffer(bankFen: line.bankLine.amountFen, depositFen: deposit.amountFen)
            }
            guard candidate.open else { throw DomainError.depositAlreadyDecided(deposit.reference) }
            try await ingest.submitOwn(.reconcileConfirm, [Self.outcome(depositID: deposit.id, .confirmed, reason: nil, bankDate: line.bankLine.date, at: ingest.now)])
            try await tx.setBankLine(lineID, result: LineResult(status: .confirmed, depositID: deposit.id, method: .manual), at: ingest.now)
            return (try await tx.bankLine(lineID) ?? line, deposit)
        }
    }

    /// Rejects a deposit with the reason (no payment came, or the wrong amount): an outcome
    /// signed by the office key; bank lines that named it with another amount are marked so.
    public func rejectDeposit(reference: String, reason: String) async throws -> Deposit {
        let code = try ReferenceCode(reference).value
        let reason = reason.trimmingCharacters(in: .whitespaces)
        guard !reason.isEmpty else { throw DomainError.reasonEmpty }
        return try await ingest(now: clock()) { ingest in
            guard let deposit = try await ingest.tx.depositCandidate(reference: code)?.deposit else { throw DomainError.depositNotFound(code) }
            try await ingest.submitOwn(.reconcileReject, [Self.outcome(depositID: deposit.id, .rejected, reason: reason, bankDate: nil, at: ingest.now)])
            try await ingest.tx.rejectMismatchedLines(depositID: deposit.id, note: reason, at: ingest.now)
            return deposit
        }
    }

    /// Sets a line aside with the reason (refunded to the payer, not an HPF payment…).
    public func dismissLine(_ lineID: Int64, reason: String) async throws -> ReconciliationLine {
        let reason = reason.trimmingCharacters(in: .whitespaces)
        guard !reason.isEmpty else { throw DomainError.reasonEmpty }
        let now = clock()
        return try await store.write { tx in
            guard let line = try await tx.bankLine(lineID) else { throw ReconciliationError.lineUnknown(lineID) }
            guard line.status.open else { throw ReconciliationError.lineClosed(line.status) }
            try await tx.setBankLine(lineID, result: LineResult(status: .dismissed, depositID: line.depositID, method: line.method,
                                                                candidates: line.candidates, note: reason), at: now)
            return try await tx.bankLine(lineID) ?? line
        }
    }

    /// Bank lines, newest first, of one status or all.
    public func reconciliationLines(status: ReconciliationLine.Status? = nil, limit: Int = 10_000) async throws -> [ReconciliationLine] {
        try await store.read { try await $0.bankLines(status: status, limit: limit) }
    }

    /// One bank line.
    public func reconciliationLine(_ id: Int64) async throws -> ReconciliationLine? {
        try await store.read { try await $0.bankLine(id) }
    }

    /// The deposits a bank line may pay, best first, as they stand now (taken ones left out).
    public func suggestions(forLine id: Int64) async throws -> [Suggestion] {
        let window = settings.reconciliationWindowDays
        return try await store.read { tx in
            guard let line = try await tx.bankLine(id), line.status.open else { return [] }
            let date = line.bankLine.date
            let pool = try await tx.depositCandidates(recordedFrom: Self.dayStart(date.adding(days: -window - 1)),
                                                      to: Self.dayStart(date.adding(days: window + 2)))
            return Matching.suggestions(for: line.bankLine, windowDays: window, pool: pool)
        }
    }

    /// The reference codes of deposits, by id.
    public func references(ofDeposits ids: [String]) async throws -> [String] {
        let keys = ids.map { RecordKey(type: Deposit.recordType, id: $0) }
        let states = try await store.read { try await $0.records(keys) }
        return keys.compactMap { states[$0].flatMap { Deposit(id: $0.key.id, values: $0.values)?.reference } }
    }

    /// Deposits still pending more than `windowDays` after they were recorded, counted up to
    /// the latest bank date imported: their bank line should have come by now.
    public func missingPayments(windowDays: Int) async throws -> [MissingPayment] {
        try await store.read { tx in
            guard let latest = try await tx.latestBankDate() else { return [] }
            // Recorded (in Beijing time) on or before latest − window: before the next day's start.
            let cutoff = Instant(millisSinceEpoch: Int64(latest.adding(days: -windowDays + 1).daysSinceEpoch) * 86_400_000
                                 - Instant.shanghaiOffsetMillis)
            return try await tx.depositsAwaitingPayment(recordedBefore: cutoff)
        }
    }

    static func outcome(depositID: String, _ decision: DepositOutcome.Decision, reason: String?, bankDate: CivilDate?, at now: Instant) -> Operation {
        let outcome = DepositOutcome(depositID: depositID, decision: decision, reason: reason, bankDate: bankDate, decidedAt: now)
        return Operation(record: RecordKey(type: DepositOutcome.recordType, id: DepositOutcome.id(for: depositID)), kind: .fact,
                         fields: outcome.fields)
    }

    /// The start of a day in UTC (a day wider than needed: `Matching` compares Beijing dates exactly).
    static func dayStart(_ day: CivilDate) -> Instant {
        Instant(millisSinceEpoch: Int64(day.daysSinceEpoch) * 86_400_000)
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

/// Why interest cannot be settled.
public enum InterestError: ProvidentError, Hashable {
    case yearNotOver(settlementDay: CivilDate)

    public var code: String { "interest.year_not_over" }
    public var kind: ErrorKind { .refused }

    public func message(_ l: Language) -> String {
        switch self {
        case let .yearNotOver(day):
            l.pick("That interest year ends on \(day.iso); settle it on or after that day.", "该结息年度于 \(day.iso) 结束；请在当日或之后结息。")
        }
    }
}

extension ServerCore {
    /// Settles a year's interest on every account, as the office, in one transaction: one
    /// insert-only `interest` fact per account with interest to credit (one change-set each, so
    /// it reaches that account's devices only), computed by `InterestMethod` from the deposits
    /// confirmed by then. An account already settled for the year is left as it is, so running
    /// it twice changes nothing. Refused before the year's settlement day.
    public func settleInterest(year: Int) async throws -> InterestSettlementReport {
        let policy = self.policy
        let (from, to) = InterestMethod.interestYear(year, policy: policy)
        let now = clock()
        guard to <= now.shanghaiDate else { throw InterestError.yearNotOver(settlementDay: to) }
        return try await ingest(now: now) { ingest in
            var report = InterestSettlementReport()
            (report.year, report.from, report.to) = (year, from, to)
            for account in try await ingest.tx.accounts() {
                let history = try await ingest.tx.accountHistory(account.id)
                if history.interest.contains(where: { $0.year == year }) {
                    report.alreadySettled += 1
                    continue
                }
                let statement = Statement(deposits: history.deposits, reversals: history.reversals, outcomes: history.outcomes, today: to)
                let credit = InterestMethod.settle(accountID: account.id, year: year, statement: statement, credits: history.interest,
                                                   policy: policy, at: now)
                guard credit.amountFen > 0 else {
                    report.nothingToCredit += 1
                    continue
                }
                try await ingest.submitOwn(.interestSettle, [Operation(record: credit.recordKey, kind: .fact, fields: credit.fields)])
                report.credited += 1
                report.totalFen += credit.amountFen
            }
            return report
        }
    }
}
