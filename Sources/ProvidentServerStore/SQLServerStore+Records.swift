import ProvidentCrypto
import ProvidentDomain
import ProvidentServerCore
import ProvidentSync

extension SQLServerTransaction {
    // MARK: Records

    func records(_ keys: [RecordKey]) async throws -> [RecordKey: RecordState] {
        try await fetchRecords(keys, lock: false)
    }

    func recordTransferForms(_ keys: [RecordKey]) async throws -> [RecordKey: [UInt8]] {
        let rows = try await chunkedQuery(keys, columns: 2, { count in
            "SELECT type, id, state FROM records WHERE \(dialect.matching(["type", "id"], rows: count))"
        }, bind: { [.text($0.type), .text($0.id)] })
        var result: [RecordKey: [UInt8]] = [:]
        for row in rows {
            let key = RecordKey(type: try row.text("type"), id: try row.text("id"))
            result[key] = try Self.transferForm(try row.blob("state"), of: key)
        }
        return result
    }

    /// A stored state, to be copied into documents as it is: one that is not an object is damage.
    static func transferForm(_ form: [UInt8], of key: RecordKey) throws -> [UInt8] {
        guard form.first == UInt8(ascii: "{"), form.last == UInt8(ascii: "}") else {
            throw StoreFailure.damaged("the stored record \(key) cannot be read by this version")
        }
        return form
    }

    func lockRecords(_ keys: [RecordKey]) async throws -> [RecordKey: RecordState] {
        try await fetchRecords(keys, lock: true)
    }

    private func fetchRecords(_ keys: [RecordKey], lock: Bool) async throws -> [RecordKey: RecordState] {
        // In key order, so that two servers locking overlapping records take them in one order.
        let rows = try await chunkedQuery(keys.sorted(), columns: 2, { count in
            "SELECT type, id, state FROM records WHERE \(dialect.matching(["type", "id"], rows: count)) ORDER BY type, id"
                + (lock ? dialect.forUpdate : "")
        }, bind: { [.text($0.type), .text($0.id)] })
        var result: [RecordKey: RecordState] = [:]
        for row in rows {
            let state = try Self.record(row)
            result[state.key] = state
        }
        return result
    }

    func records(after: RecordKey?, limit: Int) async throws -> [RecordState] {
        let rows = if let after {
            try await session.query("SELECT type, id, state FROM records WHERE (type, id) > (?, ?) ORDER BY type, id LIMIT ?",
                                    [.text(after.type), .text(after.id), .integer(Int64(limit))])
        } else {
            try await session.query("SELECT type, id, state FROM records ORDER BY type, id LIMIT ?", [.integer(Int64(limit))])
        }
        return try rows.map(Self.record)
    }

    static func record(_ row: SQLRow) throws -> RecordState {
        let key = RecordKey(type: try row.text("type"), id: try row.text("id"))
        guard let state = RecordState(key: key, transferBytes: try row.blob("state")) else {
            throw StoreFailure.damaged("the stored record \(key) cannot be read by this version")
        }
        return state
    }

    func saveRecords(_ states: [RecordState], scopes: [RecordKey: Set<Scope>], new: Set<RecordKey>, createdBy: [RecordKey: Dot],
                     conflicts: [Conflict]) async throws {
        let rescoped = scopes.keys.sorted()
        // Each record lists its scopes (`records.scopes`), so the rows of record_scopes it had
        // are deleted by their key, before its list is rewritten: an index of record_scopes by
        // record, which every new record entered at a random place, cost a page written per
        // record a push brought.
        try await chunked(rescoped.filter { !new.contains($0) }, columns: 2, { count in
            """
            DELETE FROM record_scopes WHERE (scope, type, id) IN (
                SELECT s.value, r.type, r.id FROM records r, \(dialect.jsonStrings("r.scopes", as: "s"))
                WHERE \(dialect.matching(["r.type", "r.id"], rows: count)))
            """
        }, bind: { [.text($0.type), .text($0.id)] })
        let lists = try scopes.mapValues(Self.scopeList)
        let rows = try states.map { (key: $0.key, state: try $0.transferBytes()) }
        // No ON CONFLICT for the new: a key another server inserted since is a unique violation,
        // which runs the transaction again with that record read. A new record no scope names
        // keeps the column's default, no scopes; it names the change-set that created it.
        try await chunked(rows.filter { new.contains($0.key) }, columns: 6, { count in
            "INSERT INTO records (type, id, state, scopes, first_device, first_sequence) \(SQL.values(rows: count, columns: 6))"
        }, bind: { row in
            let creator = createdBy[row.key]
            return [.text(row.key.type), .text(row.key.id), .blob(row.state), .text(lists[row.key] ?? "[]"),
                    creator.map { .text($0.device.rawValue) } ?? .null, creator.map { .integer(Int64($0.sequence)) } ?? .null]
        })
        // Stored records: their state, and their list where their scopes moved too.
        try await chunked(rows.filter { !new.contains($0.key) && lists[$0.key] != nil }, columns: 4, { count in
            """
            INSERT INTO records (type, id, state, scopes) \(SQL.values(rows: count, columns: 4))
            ON CONFLICT (type, id) DO UPDATE SET state = excluded.state, scopes = excluded.scopes
            """
        }, bind: { [.text($0.key.type), .text($0.key.id), .blob($0.state), .text(lists[$0.key] ?? "[]")] })
        try await chunked(rows.filter { !new.contains($0.key) && lists[$0.key] == nil }, columns: 3, { count in
            "INSERT INTO records (type, id, state) \(SQL.values(rows: count, columns: 3)) ON CONFLICT (type, id) DO UPDATE SET state = excluded.state"
        }, bind: { [.text($0.key.type), .text($0.key.id), .blob($0.state)] })
        // Records whose scopes changed with their state unchanged (what hangs off an account or
        // an employer that moved).
        let saved = Set(states.map(\.key))
        try await chunked(rescoped.filter { !saved.contains($0) }, columns: 3, { count in
            """
            WITH v (type, id, scopes) AS (\(SQL.values(rows: count, columns: 3)))
            UPDATE records SET scopes = v.scopes FROM v WHERE records.type = v.type AND records.id = v.id
            """
        }, bind: { [.text($0.type), .text($0.id), .text(lists[$0] ?? "[]")] })
        let scopeRows = rescoped.flatMap { key in (scopes[key] ?? []).sorted().map { (key, $0) } }
        try await chunked(scopeRows, columns: 3, { count in
            "INSERT INTO record_scopes (scope, type, id) \(SQL.values(rows: count, columns: 3)) ON CONFLICT DO NOTHING"
        }, bind: { [.text($0.1.description), .text($0.0.type), .text($0.0.id)] })
        try await chunked(try conflicts.map { ($0, try CanonicalEncoder.encode($0.canonicalValue)) }, columns: 5, { count in
            "INSERT INTO conflicts (id, type, record_id, field, state) \(SQL.values(rows: count, columns: 5)) ON CONFLICT DO NOTHING"
        }, bind: { [.blob($0.0.id.bytes), .text($0.0.record.type), .text($0.0.record.id), .text($0.0.field), .blob($0.1)] })
        try await ReadModels(states: states).save(in: self)
    }

    /// Scopes as a record lists them: a JSON array of their spellings, in order.
    static func scopeList(_ scopes: Set<Scope>) throws -> String {
        String(decoding: try CanonicalEncoder.encode(.array(scopes.sorted().map { .string($0.description) })), as: UTF8.self)
    }

    func depositIDs(references: [String]) async throws -> [String: String] {
        let rows = try await chunkedQuery(references, columns: 1, { "SELECT id, reference FROM deposits WHERE reference IN (\(SQL.list($0)))" },
                                          bind: { [.text($0)] })
        var result: [String: String] = [:]
        for row in rows { result[try row.text("reference")] = try row.text("id") }
        return result
    }

    func paidPeriods(accountIDs: [String]) async throws -> [String: [Period: PaidPeriod]] {
        let rows = try await chunkedQuery(accountIDs, columns: 1, { count in
            """
            SELECT p.account_id, p.period, d.id, d.reference FROM deposit_periods p
            JOIN deposits d ON d.id = p.deposit_id
            LEFT JOIN deposit_reversals r ON r.deposit_id = d.id
            LEFT JOIN deposit_outcomes o ON o.deposit_id = d.id
            WHERE p.account_id IN (\(SQL.list(count))) AND r.deposit_id IS NULL AND (o.decision IS NULL OR o.decision = 'confirmed')
            """
        }, bind: { [.text($0)] })
        var result: [String: [Period: PaidPeriod]] = [:]
        for row in rows {
            guard let period = Period(try row.text("period")) else { continue }
            result[try row.text("account_id"), default: [:]][period] = PaidPeriod(reference: try row.text("reference"), depositID: try row.text("id"))
        }
        return result
    }

    func openAccountIDs(idNumbers: [String]) async throws -> [String: [String]] {
        let rows = try await chunkedQuery(idNumbers, columns: 1, {
            "SELECT id, id_number FROM accounts WHERE id_number IN (\(SQL.list($0))) AND closed_on IS NULL ORDER BY id"
        }, bind: { [.text($0)] })
        var result: [String: [String]] = [:]
        for row in rows { result[try row.text("id_number"), default: []].append(try row.text("id")) }
        return result
    }

    func keys(ofAccount id: String) async throws -> [RecordKey] {
        var keys = [RecordKey(type: Account.recordType, id: id)]
        let deposits = try await session.query("""
            SELECT d.id, r.deposit_id AS reversed, o.deposit_id AS decided FROM deposits d
            LEFT JOIN deposit_reversals r ON r.deposit_id = d.id LEFT JOIN deposit_outcomes o ON o.deposit_id = d.id
            WHERE d.account_id = ? ORDER BY d.id
            """, [.text(id)])
        for row in deposits {
            let deposit = try row.text("id")
            keys.append(RecordKey(type: Deposit.recordType, id: deposit))
            if try row.optionalText("reversed") != nil { keys.append(RecordKey(type: DepositReversal.recordType, id: DepositReversal.id(for: deposit))) }
            if try row.optionalText("decided") != nil { keys.append(RecordKey(type: DepositOutcome.recordType, id: DepositOutcome.id(for: deposit))) }
        }
        for row in try await session.query("SELECT id FROM interest_credits WHERE account_id = ? ORDER BY id", [.text(id)]) {
            keys.append(RecordKey(type: InterestCredit.recordType, id: try row.text("id")))
        }
        return keys
    }

    func keys(ofUnit id: String) async throws -> [RecordKey] {
        var keys = [RecordKey(type: Employer.recordType, id: id)]
        for row in try await session.query("""
            SELECT v.id, x.visit_id AS voided FROM visits v LEFT JOIN visit_voids x ON x.visit_id = v.id WHERE v.unit_id = ? ORDER BY v.id
            """, [.text(id)]) {
            let visit = try row.text("id")
            keys.append(RecordKey(type: Visit.recordType, id: visit))
            if try row.optionalText("voided") != nil { keys.append(RecordKey(type: VisitVoid.recordType, id: VisitVoid.id(for: visit))) }
        }
        for row in try await session.query("""
            SELECT a.id, d.application_id AS decided FROM applications a LEFT JOIN application_decisions d ON d.application_id = a.id
            WHERE a.unit_id = ? ORDER BY a.id
            """, [.text(id)]) {
            let application = try row.text("id")
            keys.append(RecordKey(type: ReliefApplication.recordType, id: application))
            if try row.optionalText("decided") != nil {
                keys.append(RecordKey(type: ApplicationDecision.recordType, id: ApplicationDecision.id(for: application)))
            }
        }
        return keys
    }

    func conflicts(after: Digest256?, limit: Int) async throws -> [StoredConflict] {
        let rows = if let after {
            try await session.query("SELECT id, type, record_id, field, state FROM conflicts WHERE id > ? ORDER BY id LIMIT ?",
                                    [.blob(after.bytes), .integer(Int64(limit))])
        } else {
            try await session.query("SELECT id, type, record_id, field, state FROM conflicts ORDER BY id LIMIT ?", [.integer(Int64(limit))])
        }
        return try rows.map { row in
            guard let id = Digest256(bytes: try row.blob("id")) else { throw StoreFailure.damaged("a conflict row cannot be read") }
            return StoredConflict(id: id, record: RecordKey(type: try row.text("type"), id: try row.text("record_id")),
                                  field: try row.text("field"), digestForm: try row.blob("state"))
        }
    }
}
