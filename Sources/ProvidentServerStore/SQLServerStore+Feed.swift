import ProvidentCrypto
import ProvidentDomain
import ProvidentServerCore
import ProvidentSync

extension SQLServerTransaction {
    // MARK: Feed

    func feedHead() async throws -> UInt64 {
        UInt64(try await session.query("SELECT position FROM feed_head WHERE singleton = 1").first?.integer("position") ?? 0)
    }

    func feedPage(of device: DeviceID, after cursor: UInt64, scopes: Set<Scope>?, limit: Int,
                  markAtCursor: Bool) async throws -> (view: FeedView, entries: [FeedEntry]) {
        // Where the feed stands: one row.
        let header = """
            SELECT 0 AS part, h.position AS seq, (SELECT mark FROM feed WHERE seq = h.position) AS mark, h.logged,
                   (SELECT seq FROM chain_heads WHERE device = ?) AS chain, (SELECT mark FROM feed WHERE seq = ?) AS cursor_mark,
                   NULL AS document, NULL AS document_signature, NULL AS bytes, NULL AS signature, NULL AS author
            FROM feed_head h WHERE h.singleton = 1
            """
        let arguments: [SQLValue] = [.text(device.rawValue), .integer(markAtCursor ? Int64(cursor) : 0)]
        let first: SQLRow?
        var entries: [FeedEntry] = []
        if dialect == .sqlite || scopes?.isEmpty == true {
            // In the server's process, two statements cost nothing more than one, and SQLite
            // serves the page faster on its own (2.4 ms for 2,000 entries, in a union 3.0 ms).
            first = try await session.query(header, arguments).first
            if scopes?.isEmpty != true { entries = try await feed(after: cursor, scopes: scopes, limit: limit) }
        } else {
            // One statement, one round trip: the header, then the page (part 1). The page's own
            // columns are chosen inside its subquery and the empty ones added outside it, so that
            // each column of the union has one type.
            let (filter, page) = Self.feedFilter(after: cursor, scopes: scopes)
            var rows = try await session.query("""
                \(header)
                UNION ALL
                SELECT 1, e.seq, e.mark, NULL, NULL, NULL, e.document, e.document_signature, e.bytes, e.signature, e.author
                FROM (\(Self.feedSelect(.postgres)) WHERE \(filter) ORDER BY f.seq LIMIT ?) e
                """, arguments + page + [.integer(Int64(limit))])
            // A union's rows come in no promised order; sorting them here spares the database
            // a sort of the whole page.
            first = try rows.firstIndex { try $0.integer("part") == 0 }.map { rows.remove(at: $0) }
            entries = try await self.entries(rows)
            if !zip(entries, entries.dropFirst()).allSatisfy({ $0.position < $1.position }) { entries.sort { $0.position < $1.position } }
        }
        guard let first else { throw StoreFailure.damaged("the feed has no head") }
        let head = UInt64(try first.integer("seq"))
        let view = FeedView(head: head, markAtHead: try Self.mark(try first.optionalBlob("mark"), at: head), logged: UInt64(try first.integer("logged")),
                            chainHead: UInt64(try first.optionalInteger("chain") ?? 0),
                            markAtCursor: markAtCursor ? try Self.mark(try first.optionalBlob("cursor_mark"), at: cursor) : nil)
        return (view, entries)
    }

    /// The feed's entries with their change-sets and what names their authors: on SQLite the
    /// author's key, joined; on PostgreSQL the author's id, whose key `entries` takes from
    /// `AuthorKeys` (joined, PostgreSQL planned a page of 10 entries as a scan of every device,
    /// and looked up per entry, the keys took a quarter of its time for a page of 2,000).
    static func feedSelect(_ dialect: SQLDialect) -> String {
        dialect == .sqlite ? """
            SELECT f.seq, f.mark, f.document, f.signature AS document_signature, c.bytes, c.signature, d.public_key
            FROM feed f LEFT JOIN change_sets c ON c.device = f.device AND c.seq = f.device_seq
            LEFT JOIN server_devices d ON d.device_id = c.device
            """ : """
            SELECT f.seq, f.mark, f.document, f.signature AS document_signature, c.bytes, c.signature, c.device AS author
            FROM feed f LEFT JOIN change_sets c ON c.device = f.device AND c.seq = f.device_seq
            """
    }

    /// The condition for the entries after `cursor` that these scopes hold (nil: every entry).
    static func feedFilter(after cursor: UInt64, scopes: Set<Scope>?) -> (sql: String, arguments: [SQLValue]) {
        guard let scopes else { return ("f.seq > ?", [.integer(Int64(cursor))]) }
        let names = scopes.sorted().map { SQLValue.text($0.description) }
        return ("f.seq IN (SELECT feed_seq FROM feed_scopes WHERE scope IN (\(SQL.list(names.count))) AND feed_seq > ?)",
                names + [.integer(Int64(cursor))])
    }

    /// A stored mark, which must be 32 bytes.
    static func mark(_ bytes: [UInt8]?, at position: UInt64) throws -> Digest256? {
        guard let bytes else { return nil }
        guard let mark = Digest256(bytes: bytes) else { throw StoreFailure.damaged("feed entry \(position) has a mark of \(bytes.count) bytes") }
        return mark
    }

    func feed(after cursor: UInt64, scopes: Set<Scope>?, limit: Int) async throws -> [FeedEntry] {
        let (filter, arguments) = Self.feedFilter(after: cursor, scopes: scopes)
        return try await entries(try await session.query("\(Self.feedSelect(dialect)) WHERE \(filter) ORDER BY f.seq LIMIT ?",
                                                         arguments + [.integer(Int64(limit))]))
    }

    /// Feed entries as `feed` and `feedPage` read them (`feedSelect`), each change-set with its
    /// author's key; on PostgreSQL the keys not yet met are read in one statement.
    func entries(_ rows: [SQLRow]) async throws -> [FeedEntry] {
        guard dialect == .postgres else {
            return try rows.map { row in try Self.entry(row) { _ in try row.optionalBlob("public_key").map(PublicKey.init(bytes:)) } }
        }
        var (keys, missing) = authors(try rows.compactMap { try $0.optionalText("author") })
        if !missing.isEmpty {
            var read: [String: PublicKey] = [:]
            for row in try await chunkedQuery(missing, columns: 1, { count in
                "SELECT device_id, public_key FROM server_devices WHERE device_id IN (\(SQL.list(count)))"
            }, bind: { [.text($0)] }) {
                read[try row.text("device_id")] = try PublicKey(bytes: try row.blob("public_key"))
            }
            authors.remember(read)
            keys.merge(read) { known, _ in known }
        }
        return try rows.map { row in try Self.entry(row) { _ in try row.optionalText("author").flatMap { keys[$0] } } }
    }

    /// One feed entry; `author` gives its change-set's author's key.
    static func entry(_ row: SQLRow, author: (SQLRow) throws -> PublicKey?) throws -> FeedEntry {
        let position = UInt64(try row.integer("seq"))
        let mark = try Self.mark(try row.optionalBlob("mark"), at: position)
        if let document = try row.optionalBlob("document") {
            return FeedEntry(position: position, content: .document(bytes: document, signature: try row.blob("document_signature")), mark: mark)
        }
        guard let bytes = try row.optionalBlob("bytes"), let signature = try row.optionalBlob("signature"), let key = try author(row) else {
            throw StoreFailure.damaged("feed entry \(position) names no change-set")
        }
        return FeedEntry(position: position, content: .changeSet(bytes: bytes, signature: signature, author: key), mark: mark)
    }

    func feedMark(at position: UInt64) async throws -> Digest256? {
        guard position > 0, let row = try await session.query("SELECT mark FROM feed WHERE seq = ?", [.integer(Int64(position))]).first else { return nil }
        return try Self.mark(try row.optionalBlob("mark"), at: position)
    }

    func reserveFeedPositions(_ count: Int) async throws -> FeedReservation {
        // The row stays locked until the transaction ends: positions are taken, and become
        // visible, one transaction after another; the mark is the last committed writer's.
        guard let head = try await session.query("UPDATE feed_head SET position = position + ? WHERE singleton = 1 RETURNING position, mark, logged",
                                                 [.integer(Int64(count))]).first else { throw StoreFailure.damaged("the feed has no head") }
        let first = UInt64(try head.integer("position")) - UInt64(count) + 1
        let mark = try head.optionalBlob("mark")
        return FeedReservation(first: first, previousMark: first > 1 ? mark.flatMap { Digest256(bytes: $0) } : nil,
                               logged: UInt64(try head.integer("logged")))
    }

    func addFeedEntries(_ entries: [NewFeedEntry]) async throws {
        try await chunked(entries, columns: 6, { count in
            "INSERT INTO feed (seq, device, device_seq, document, signature, mark) \(SQL.values(rows: count, columns: 6))"
        }, bind: { entry in
            switch entry.content {
            case let .changeSet(dot):
                [.integer(Int64(entry.position)), .text(dot.device.rawValue), .integer(Int64(dot.sequence)), .null, .null, .blob(entry.mark.bytes)]
            case let .document(document):
                [.integer(Int64(entry.position)), .null, .null, .blob(document.bytes), .blob(document.signature.bytes), .blob(entry.mark.bytes)]
            }
        })
        if let last = entries.max(by: { $0.position < $1.position }) {
            try await session.execute("UPDATE feed_head SET mark = ? WHERE singleton = 1", [.blob(last.mark.bytes)])
        }
        let scopes = entries.flatMap { entry in entry.scopes.sorted().map { ($0, entry.position) } }
        try await chunked(scopes, columns: 2, { count in
            "INSERT INTO feed_scopes (scope, feed_seq) \(SQL.values(rows: count, columns: 2)) ON CONFLICT DO NOTHING"
        }, bind: { [.text($0.0.description), .integer(Int64($0.1))] })
        let changes = entries.flatMap { entry in Set(entry.records).sorted().map { ($0, entry.position) } }
        try await chunked(changes, columns: 3, { count in
            "INSERT INTO record_changes (type, id, feed_seq) \(SQL.values(rows: count, columns: 3)) ON CONFLICT DO NOTHING"
        }, bind: { [.text($0.0.type), .text($0.0.id), .integer(Int64($0.1))] })
    }

    // MARK: The feed's log

    func logSize() async throws -> UInt64 {
        UInt64(try await session.query("SELECT logged FROM feed_head WHERE singleton = 1").first?.integer("logged") ?? 0)
    }

    func logNodes(_ nodes: [LogNode]) async throws -> [LogNode: Digest256] {
        let rows = try await chunkedQuery(nodes, columns: 2, { count in
            "SELECT level, idx, hash FROM log_nodes WHERE \(dialect.matching(["level", "idx"], rows: count))"
        }, bind: { [.integer(Int64($0.level)), .integer(Int64($0.index))] })
        var found: [LogNode: Digest256] = [:]
        for row in rows {
            let node = LogNode(level: Int(try row.integer("level")), index: UInt64(try row.integer("idx")))
            guard let hash = Digest256(bytes: try row.blob("hash")) else { throw StoreFailure.damaged("log node \(node.level)/\(node.index) is not 32 bytes") }
            found[node] = hash
        }
        return found
    }

    func appendLog(_ nodes: [(LogNode, Digest256)], size: UInt64) async throws {
        try await chunked(nodes, columns: 3, { count in
            "INSERT INTO log_nodes (level, idx, hash) \(SQL.values(rows: count, columns: 3))"
        }, bind: { [.integer(Int64($0.0.level)), .integer(Int64($0.0.index)), .blob($0.1.bytes)] })
        try await session.execute("UPDATE feed_head SET logged = ? WHERE singleton = 1", [.integer(Int64(size))])
    }

    func logEpochs(limit: Int) async throws -> [String] {
        try await session.query("SELECT note FROM log_epochs ORDER BY id DESC LIMIT ?", [.integer(Int64(limit))]).map { try $0.text("note") }
    }

    func addLogEpoch(note: String, startsSize: UInt64, by device: DeviceID, at: Instant) async throws {
        try await session.execute("""
            INSERT INTO log_epochs (note, starts_size, announced_by, announced_at) VALUES (?, ?, ?, ?) ON CONFLICT (note) DO NOTHING
            """, [.text(note), .integer(Int64(startsSize)), .text(device.rawValue), .text(at.utcISO)])
    }

    /// Cosignatures by active auditors.
    private static let activeCosignatures = """
        log_cosignatures c JOIN server_devices d ON d.device_id = c.witness AND d.role = 'auditor' AND d.status = 'active'
        """

    func logParties(quorum: Int) async throws -> (devices: [RegisteredDevice], witnessed: WitnessedCheckpoint?) {
        // Each active auditor or office device, with the auditor's cosignature of the largest
        // checkpoint a quorum of active auditors cosigned, if it is one of them. No parameters
        // (the quorum is the policy's): PostgreSQL plans the statement once per connection.
        let rows = try await session.query("""
            WITH best AS (SELECT c.size, c.root FROM \(Self.activeCosignatures) GROUP BY c.size, c.root HAVING count(*) >= \(max(quorum, 1))
                          ORDER BY c.size DESC LIMIT 1)
            SELECT \(Self.joinedDeviceColumns), w.size AS cosigned_size, w.root AS cosigned_root, w.line AS cosigned_line
            FROM server_devices d
            LEFT JOIN (SELECT c.witness, c.size, c.root, c.line FROM log_cosignatures c JOIN best b ON b.size = c.size AND b.root = c.root) w
                ON w.witness = d.device_id AND d.role = 'auditor'
            WHERE d.role IN ('auditor', 'office') AND d.status = 'active' ORDER BY d.device_id
            """)
        var witnessed: WitnessedCheckpoint?
        for row in rows {
            guard let size = try row.optionalInteger("cosigned_size") else { continue }
            guard let root = Digest256(bytes: try row.blob("cosigned_root")) else { throw StoreFailure.damaged("a cosigned root is not 32 bytes") }
            witnessed = WitnessedCheckpoint(size: UInt64(size), root: root, lines: (witnessed?.lines ?? []) + [try row.text("cosigned_line")])
        }
        return (try rows.map(Self.device), witnessed)
    }

    func addCosignature(witness: DeviceID, size: UInt64, root: Digest256, line: String, at: Instant) async throws -> Int {
        try await session.execute("""
            INSERT INTO log_cosignatures (witness, size, root, line, received_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (witness, size) DO UPDATE SET root = excluded.root, line = excluded.line, received_at = excluded.received_at
            """, [.text(witness.rawValue), .integer(Int64(size)), .blob(root.bytes), .text(line), .text(at.utcISO)])
        return Int(try await session.query("SELECT count(*) AS n FROM \(Self.activeCosignatures) WHERE c.size = ? AND c.root = ?",
                                           [.integer(Int64(size)), .blob(root.bytes)]).first?.integer("n") ?? 0)
    }

    private static let entryIDSelect = "SELECT f.seq, f.document, c.id FROM feed f LEFT JOIN change_sets c ON c.device = f.device AND c.seq = f.device_seq"

    func feedEntryIDs(at positions: [UInt64]) async throws -> [UInt64: Digest256] {
        let rows = try await chunkedQuery(positions, columns: 1, { count in
            "\(Self.entryIDSelect) WHERE f.seq IN (\(SQL.list(count)))"
        }, bind: { [.integer(Int64($0))] })
        return Dictionary(try rows.map(Self.entryID), uniquingKeysWith: { first, _ in first })
    }

    func feedEntryIDs(after: UInt64, through: UInt64) async throws -> [(position: UInt64, id: Digest256)] {
        try await session.query("\(Self.entryIDSelect) WHERE f.seq > ? AND f.seq <= ? ORDER BY f.seq",
                                [.integer(Int64(after)), .integer(Int64(through))]).map(Self.entryID)
    }

    /// A feed row's entry id: its change-set's id, or the hash of its document.
    static func entryID(_ row: SQLRow) throws -> (position: UInt64, id: Digest256) {
        let position = UInt64(try row.integer("seq"))
        if let document = try row.optionalBlob("document") { return (position, FeedMark.entryID(document: document)) }
        guard let bytes = try row.optionalBlob("id"), let id = Digest256(bytes: bytes) else {
            throw StoreFailure.damaged("feed entry \(position) names no change-set")
        }
        return (position, id)
    }

    func scopedTransferForms(after: RecordKey?, scopes: Set<Scope>?, limit: Int) async throws -> [(key: RecordKey, form: [UInt8]?)] {
        let keyset: (String, [SQLValue]) = after.map { (" AND (type, id) > (?, ?)", [.text($0.type), .text($0.id)]) } ?? ("", [])
        let rows: [SQLRow]
        if let scopes {
            // A key whose record is not held keeps its place, with no state.
            let names = scopes.sorted().map { SQLValue.text($0.description) }
            rows = try await session.query("""
                SELECT k.type, k.id, r.state FROM (
                    SELECT DISTINCT type, id FROM record_scopes WHERE scope IN (\(SQL.list(names.count)))\(keyset.0) ORDER BY type, id LIMIT ?
                ) k LEFT JOIN records r ON r.type = k.type AND r.id = k.id ORDER BY k.type, k.id
                """, names + keyset.1 + [.integer(Int64(limit))])
        } else {
            rows = try await session.query("SELECT type, id, state FROM records WHERE 1 = 1\(keyset.0) ORDER BY type, id LIMIT ?",
                                           keyset.1 + [.integer(Int64(limit))])
        }
        return try rows.map { row in
            let key = RecordKey(type: try row.text("type"), id: try row.text("id"))
            return (key, try row.optionalBlob("state").map { try Self.transferForm($0, of: key) })
        }
    }

    func scopedRecordCount(scopes: Set<Scope>?) async throws -> Int {
        let row: SQLRow?
        if let scopes {
            let names = scopes.sorted().map { SQLValue.text($0.description) }
            row = try await session.query("""
                SELECT count(*) AS n FROM (SELECT DISTINCT type, id FROM record_scopes WHERE scope IN (\(SQL.list(names.count)))) s
                """, names).first
        } else {
            row = try await session.query("SELECT count(*) AS n FROM records").first
        }
        return Int(try row?.integer("n") ?? 0)
    }
}
