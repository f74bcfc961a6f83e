import ProvidentDomain
import ProvidentServerCore
import ProvidentSync

extension SQLServerTransaction {
    // MARK: Reconciliation

    func importedFingerprints(_ fingerprints: [String]) async throws -> Set<String> {
        Set(try await chunkedQuery(fingerprints, columns: 1, { "SELECT fingerprint FROM bank_lines WHERE fingerprint IN (\(SQL.list($0)))" },
                                   bind: { [.text($0)] }).map { try $0.text("fingerprint") })
    }

    static let candidateSelect = """
        SELECT d.*, a.name AS holder, o.decision, r.deposit_id AS reversed,
            (SELECT count(*) FROM bank_lines b WHERE b.deposit_id = d.id AND b.status = 'confirmed') AS paid
        FROM deposits d JOIN accounts a ON a.id = d.account_id
        LEFT JOIN deposit_outcomes o ON o.deposit_id = d.id LEFT JOIN deposit_reversals r ON r.deposit_id = d.id
        """

    static func candidate(_ row: SQLRow) throws -> DepositCandidate {
        let decision = try row.optionalText("decision"), reversed = try row.optionalText("reversed")
        let paid = try row.integer("paid")
        return DepositCandidate(deposit: try deposit(row), holder: try row.text("holder"), open: decision == nil && reversed == nil && paid == 0,
                                taken: decision == "confirmed" || paid > 0)
    }

    func depositCandidate(reference: String) async throws -> DepositCandidate? {
        try await session.query("\(Self.candidateSelect) WHERE d.reference = ?", [.text(reference)]).first.map(Self.candidate)
    }

    func depositCandidates(recordedFrom: Instant, to: Instant) async throws -> [DepositCandidate] {
        try await session.query("\(Self.candidateSelect) WHERE d.recorded_at >= ? AND d.recorded_at < ? ORDER BY d.recorded_at, d.id",
                                [.text(recordedFrom.utcISO), .text(to.utcISO)]).map(Self.candidate)
    }

    static let lineSelect = "SELECT b.*, d.reference FROM bank_lines b LEFT JOIN deposits d ON d.id = b.deposit_id"

    static func line(_ row: SQLRow) throws -> ReconciliationLine {
        guard let date = CivilDate(iso: try row.text("date")), let status = ReconciliationLine.Status(rawValue: try row.text("status")) else {
            throw StoreFailure.damaged("a bank line cannot be read")
        }
        let bankLine = BankLine(line: Int(try row.integer("line")), date: date, amountFen: try row.integer("amount_fen"),
                                payerName: try row.text("payer_name"), payerAccount: try row.text("payer_account"), memo: try row.text("memo"),
                                serial: try row.optionalText("serial"), fingerprint: try row.text("fingerprint"))
        return ReconciliationLine(id: try row.integer("id"), bankLine: bankLine, statementID: try row.integer("statement_id"), status: status,
                                  depositID: try row.optionalText("deposit_id"), reference: try row.optionalText("reference"),
                                  method: try row.optionalText("method").flatMap(MatchMethod.init),
                                  candidates: try row.optionalText("candidates").map { $0.split(separator: ",").map(String.init) } ?? [],
                                  note: try row.optionalText("note"))
    }

    func bankLines(status: ReconciliationLine.Status?, limit: Int) async throws -> [ReconciliationLine] {
        try await session.query("\(Self.lineSelect) \(status == nil ? "" : "WHERE b.status = ?") ORDER BY b.date DESC, b.id DESC LIMIT ?",
                                (status.map { [.text($0.rawValue)] } ?? []) + [.integer(Int64(limit))]).map(Self.line)
    }

    func bankLine(_ id: Int64) async throws -> ReconciliationLine? {
        try await session.query("\(Self.lineSelect) WHERE b.id = ?", [.integer(id)]).first.map(Self.line)
    }

    func latestBankDate() async throws -> CivilDate? {
        try await session.query("SELECT MAX(date) AS latest FROM bank_lines").first.flatMap { try $0.optionalText("latest") }.flatMap(CivilDate.init(iso:))
    }

    func depositsAwaitingPayment(recordedBefore: Instant) async throws -> [MissingPayment] {
        try await session.query("""
            SELECT d.*, a.name AS holder FROM deposits d JOIN accounts a ON a.id = d.account_id
            LEFT JOIN deposit_outcomes o ON o.deposit_id = d.id LEFT JOIN deposit_reversals r ON r.deposit_id = d.id
            WHERE o.deposit_id IS NULL AND r.deposit_id IS NULL AND d.recorded_at < ?
              AND NOT EXISTS (SELECT 1 FROM bank_lines b WHERE b.deposit_id = d.id AND b.status IN ('confirmed', 'amountMismatch'))
            ORDER BY d.recorded_at, d.id
            """, [.text(recordedBefore.utcISO)]).map { MissingPayment(deposit: try Self.deposit($0), holder: try $0.text("holder")) }
    }

    func addStatement(fileName: String, importedAt: Instant, lineCount: Int) async throws -> Int64 {
        guard let row = try await session.query("INSERT INTO bank_statements (file_name, imported_at, line_count) VALUES (?, ?, ?) RETURNING id",
                                                [.text(fileName), .text(importedAt.utcISO), .integer(Int64(lineCount))]).first else {
            throw StoreFailure.damaged("a statement was not given an id")
        }
        return try row.integer("id")
    }

    func addBankLine(_ line: BankLine, statementID: Int64, result: LineResult, at: Instant) async throws {
        try await session.execute("""
            INSERT INTO bank_lines (fingerprint, statement_id, line, date, amount_fen, payer_name, payer_account, memo, serial,
                status, deposit_id, method, candidates, note, updated_at) VALUES \(SQL.tuple(15))
            """, [.text(line.fingerprint), .integer(statementID), .integer(Int64(line.line)), .text(line.date.iso), .integer(line.amountFen),
                  .text(line.payerName), .text(line.payerAccount), .text(line.memo), .optional(line.serial)] + Self.result(result) + [.text(at.utcISO)])
    }

    static func result(_ result: LineResult) -> [SQLValue] {
        [.text(result.status.rawValue), .optional(result.depositID), .optional(result.method?.rawValue),
         result.candidates.isEmpty ? .null : .text(result.candidates.joined(separator: ",")), .optional(result.note)]
    }

    func setBankLine(_ id: Int64, result: LineResult, at: Instant) async throws {
        try await session.execute("""
            UPDATE bank_lines SET status = ?, deposit_id = ?, method = ?, candidates = ?, note = ?, updated_at = ? WHERE id = ?
            """, Self.result(result) + [.text(at.utcISO), .integer(id)])
    }

    func rejectMismatchedLines(depositID: String, note: String, at: Instant) async throws {
        try await session.execute("UPDATE bank_lines SET status = 'rejected', note = ?, updated_at = ? WHERE deposit_id = ? AND status = 'amountMismatch'",
                                  [.text(note), .text(at.utcISO), .text(depositID)])
    }

    // MARK: Office users and sessions

    func officeUsers() async throws -> [OfficeUser] {
        try await session.query("SELECT name, created_at, disabled_at FROM office_users ORDER BY name").map { row in
            OfficeUser(name: try row.text("name"), createdAt: Instant(utcISO: try row.text("created_at")) ?? Instant(millisSinceEpoch: 0),
                       disabledAt: try row.optionalText("disabled_at").flatMap(Instant.init(utcISO:)))
        }
    }

    func recordChanges(_ key: RecordKey, limit: Int, offset: Int) async throws -> (changes: [StoredRecordChange], total: Int) {
        // The change-set that created the record, named on the record (none for records from
        // before that, whose every change-set is in record_changes), and those that wrote it after.
        let written = """
            WITH w (feed_seq) AS (
                SELECT feed_seq FROM record_changes WHERE type = ? AND id = ?
                UNION
                SELECT f.seq FROM records r JOIN feed f ON f.device = r.first_device AND f.device_seq = r.first_sequence
                WHERE r.type = ? AND r.id = ?)
            """
        let named: [SQLValue] = [.text(key.type), .text(key.id), .text(key.type), .text(key.id)]
        let total = try await session.query("\(written) SELECT count(*) AS n FROM w", named).first?.integer("n") ?? 0
        let rows = try await session.query("""
            \(written)
            SELECT w.feed_seq, c.device, c.bytes, c.received_at, d.role, d.branch, d.enrolled_via FROM w
            JOIN feed f ON f.seq = w.feed_seq JOIN change_sets c ON c.device = f.device AND c.seq = f.device_seq
            LEFT JOIN server_devices d ON d.device_id = c.device
            ORDER BY w.feed_seq DESC LIMIT ? OFFSET ?
            """, named + [.integer(Int64(limit)), .integer(Int64(offset))])
        let changes = try rows.map { row in
            guard let device = DeviceID(try row.text("device")), let received = Instant(utcISO: try row.text("received_at")) else {
                throw StoreFailure.damaged("a change-set of the record \(key) cannot be read")
            }
            return StoredRecordChange(position: UInt64(try row.integer("feed_seq")), changeSet: try row.blob("bytes"), receivedAt: received,
                                      device: device, role: try row.optionalText("role").flatMap(DeviceRole.init(rawValue:)),
                                      branch: try row.optionalText("branch"), enrolledVia: try row.optionalText("enrolled_via"))
        }
        return (changes, Int(total))
    }

    func passwordHash(user: String) async throws -> String? {
        try await session.query("SELECT password_hash FROM office_users WHERE name = ? AND disabled_at IS NULL", [.text(user)]).first.map { try $0.text("password_hash") }
    }

    func session(tokenDigest: String, now: Instant) async throws -> OfficeSession? {
        try await session.query("""
            SELECT s.user_name, s.csrf_token, s.language, s.expires_at FROM office_sessions s JOIN office_users u ON u.name = s.user_name
            WHERE s.token_digest = ? AND s.expires_at >= ? AND u.disabled_at IS NULL
            """, [.text(tokenDigest), .integer(now.millisSinceEpoch)]).first.map { row in
            OfficeSession(userName: try row.text("user_name"), csrfToken: try row.text("csrf_token"),
                          language: Language(rawValue: try row.text("language")) ?? .chinese,
                          expiresAt: Instant(millisSinceEpoch: try row.integer("expires_at")))
        }
    }

    func addOfficeUser(_ name: String, passwordHash: String, at: Instant) async throws -> Bool {
        try await !session.query("INSERT INTO office_users (name, password_hash, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING RETURNING name",
                                 [.text(name), .text(passwordHash), .text(at.utcISO)]).isEmpty
    }

    func removeOfficeUser(_ name: String) async throws -> Bool {
        try await session.execute("DELETE FROM office_sessions WHERE user_name = ?", [.text(name)])
        return try await !session.query("DELETE FROM office_users WHERE name = ? RETURNING name", [.text(name)]).isEmpty
    }

    func setOfficeUserDisabled(_ name: String, at: Instant?) async throws -> Bool {
        guard try await !session.query("UPDATE office_users SET disabled_at = ? WHERE name = ? RETURNING name",
                                       [at.map { .text($0.utcISO) } ?? .null, .text(name)]).isEmpty else { return false }
        if at != nil { try await session.execute("DELETE FROM office_sessions WHERE user_name = ?", [.text(name)]) }
        return true
    }

    func setPasswordHash(user: String, _ passwordHash: String, keepingSession keeping: String?) async throws -> Bool {
        guard try await !session.query("UPDATE office_users SET password_hash = ? WHERE name = ? RETURNING name",
                                       [.text(passwordHash), .text(user)]).isEmpty else { return false }
        try await session.execute("DELETE FROM office_sessions WHERE user_name = ? AND token_digest <> ?", [.text(user), .text(keeping ?? "")])
        return true
    }

    func addSession(tokenDigest: String, session: OfficeSession, at: Instant) async throws {
        try await self.session.execute("""
            INSERT INTO office_sessions (token_digest, user_name, csrf_token, language, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
            """, [.text(tokenDigest), .text(session.userName), .text(session.csrfToken), .text(session.language.rawValue),
                  .integer(at.millisSinceEpoch), .integer(session.expiresAt.millisSinceEpoch)])
    }

    func setSessionLanguage(tokenDigest: String, _ language: Language) async throws {
        try await session.execute("UPDATE office_sessions SET language = ? WHERE token_digest = ?", [.text(language.rawValue), .text(tokenDigest)])
    }

    func removeSession(tokenDigest: String) async throws {
        try await session.execute("DELETE FROM office_sessions WHERE token_digest = ?", [.text(tokenDigest)])
    }

    func pruneSessions(before now: Instant) async throws {
        try await session.execute("DELETE FROM office_sessions WHERE expires_at < ?", [.integer(now.millisSinceEpoch)])
    }

    // MARK: Rate limits

    func attempts(bucket: String, address: String, since: Instant) async throws -> (count: Int, oldest: Instant?) {
        guard let row = try await session.query("SELECT count(*) AS n, MIN(at) AS oldest FROM rate_events WHERE bucket = ? AND address = ? AND at >= ?",
                                                [.text(bucket), .text(address), .integer(since.millisSinceEpoch)]).first else { return (0, nil) }
        return (Int(try row.integer("n")), try row.optionalInteger("oldest").map(Instant.init(millisSinceEpoch:)))
    }

    func addAttempt(bucket: String, address: String, at: Instant) async throws {
        try await session.execute("INSERT INTO rate_events (bucket, address, at) VALUES (?, ?, ?)", [.text(bucket), .text(address), .integer(at.millisSinceEpoch)])
    }

    func pruneAttempts(before: Instant) async throws {
        try await session.execute("DELETE FROM rate_events WHERE at < ?", [.integer(before.millisSinceEpoch)])
    }
}
