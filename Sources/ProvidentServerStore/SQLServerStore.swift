import ProvidentCrypto
import ProvidentDomain
import ProvidentServerCore
import ProvidentSync
import Synchronization

/// The server's store in SQL, over SQLite or PostgreSQL: one implementation of every
/// operation, so both databases behave alike and pass the same tests. The schema is the same
/// on both (the drivers' migrations create it); where the two speak differently, `SQLDialect`
/// says so.
public struct SQLServerStore: ServerStore {
    public let database: any SQLDatabase
    /// The keys of the devices the feed's entries name, as read so far.
    let authors = AuthorKeys()

    public init(database: any SQLDatabase) {
        self.database = database
    }

    public var backend: String { database.dialect == .postgres ? "postgres" : "sqlite" }
    public var location: String { database.location }
    public var isRemote: Bool { database.dialect == .postgres }

    public func read<T: Sendable>(_ body: @Sendable (any ServerReading) async throws -> T) async throws -> T {
        try await database.read { session in try await body(transaction(session)) }
    }

    public func write<T: Sendable>(waitingForTheDisk: Bool, _ body: @Sendable (any ServerWriting) async throws -> T) async throws -> T {
        try await database.write(waitingForTheDisk: waitingForTheDisk) { session in try await body(transaction(session)) }
    }

    public func readEach<T: Sendable>(_ body: @Sendable (any ServerReading) async throws -> T) async throws -> T {
        try await database.readEach { session in try await body(transaction(session)) }
    }

    /// The store's operations on one of the database's sessions.
    private func transaction(_ session: any SQLSession) -> SQLServerTransaction {
        SQLServerTransaction(session: session, dialect: database.dialect, maxParameters: database.maxParameters, authors: authors)
    }

    public func useNonce(_ nonce: String, device: DeviceID, at: Instant, expiresAt: Instant, durably: Bool) async throws -> Bool {
        guard database.dialect == .postgres else {
            return try await write(waitingForTheDisk: durably) { tx in
                try await tx.touch(device, at: at)
                return try await tx.useNonce(nonce, device: device, expiresAt: expiresAt)
            }
        }
        // One statement, one round trip. `set_config(…, true)` holds for the statement's own
        // transaction, whose commit then returns before the WAL is flushed.
        let relaxed = durably ? "" : "relaxed AS (SELECT set_config('synchronous_commit', 'off', true)), "
        return try await !database.writeStatement("""
            WITH \(relaxed)seen AS (UPDATE server_devices SET last_seen_at = ? WHERE device_id = ?)
            INSERT INTO nonces (device, nonce, expires_at) SELECT ?, ?, ?\(durably ? "" : " FROM relaxed") ON CONFLICT DO NOTHING RETURNING nonce
            """, [.text(at.utcISO), .text(device.rawValue), .text(device.rawValue), .text(nonce), .integer(expiresAt.millisSinceEpoch)]).isEmpty
    }

    public func integrityCheck() async throws -> [String] {
        try await database.integrityCheck()
    }

    public func databaseBytes() async throws -> Int64 {
        let sql = database.dialect == .postgres
            ? "SELECT pg_database_size(current_database()) AS bytes"
            : "SELECT page_count * page_size AS bytes FROM pragma_page_count(), pragma_page_size()"
        return try await database.read { session in try await session.query(sql).first?.integer("bytes") ?? 0 }
    }

    public func ping() async -> Bool {
        await database.ping()
    }

    public func maintain() async throws {
        try await database.maintain()
    }

    public func close() async {
        await database.close()
    }
}

/// One transaction of the server's store.
struct SQLServerTransaction: ServerWriting {
    let session: any SQLSession
    let dialect: SQLDialect
    let maxParameters: Int
    let authors: AuthorKeys

    /// Runs one statement per chunk of `items` (`SQL.chunks(of:columns:parameters:fewShapes:)`): `build` gives
    /// the SQL for a chunk's size, `bind` each item's values.
    func chunked<Item>(_ items: [Item], columns: Int, _ build: (Int) -> String, bind: (Item) -> [SQLValue]) async throws {
        for chunk in SQL.chunks(of: items.count, columns: columns, parameters: maxParameters, fewShapes: dialect == .sqlite) {
            try await session.execute(build(chunk.count), items[chunk].flatMap(bind))
        }
    }

    /// Runs one query per chunk of `items` and gathers the rows.
    func chunkedQuery<Item>(_ items: [Item], columns: Int, _ build: (Int) -> String, bind: (Item) -> [SQLValue]) async throws -> [SQLRow] {
        var rows: [SQLRow] = []
        for chunk in SQL.chunks(of: items.count, columns: columns, parameters: maxParameters - 4, fewShapes: dialect == .sqlite) {
            rows += try await session.query(build(chunk.count), items[chunk].flatMap(bind))
        }
        return rows
    }
}

extension SQLServerTransaction {
    // MARK: The server itself

    func serverKey() async throws -> PublicKey? {
        try await session.query("SELECT public_key FROM server_devices WHERE enrolled_via = 'server'").first
            .map { try PublicKey(bytes: try $0.blob("public_key")) }
    }

    func setServerKey(_ key: PublicKey, now: Instant) async throws {
        try await addDevice(RegisteredDevice(id: DeviceID(publicKey: key), publicKey: key, grant: DeviceGrant(role: .office),
                                             enrolledAt: now, enrolledVia: "server"))
    }

    // MARK: Devices

    static let deviceColumns = "device_id, public_key, role, branch, account_id, status, status_reason, enrolled_at, enrolled_via, last_seen_at"
    /// The same columns of `server_devices d`, for statements that join it.
    static let joinedDeviceColumns = deviceColumns.split(separator: ", ").map { "d.\($0)" }.joined(separator: ", ")

    func device(_ id: DeviceID) async throws -> RegisteredDevice? {
        try await session.query("SELECT \(Self.deviceColumns) FROM server_devices WHERE device_id = ?", [.text(id.rawValue)])
            .first.map(Self.device)
    }

    func transportKey(of device: DeviceID) async throws -> PublicKey? {
        try await session.query("SELECT public_key FROM transport_keys WHERE device = ?", [.text(device.rawValue)]).first
            .map { try PublicKey(bytes: try $0.blob("public_key")) }
    }

    func signer(_ device: DeviceID, transport: Bool) async throws -> (device: RegisteredDevice?, transportKey: PublicKey?) {
        let rows = try await session.query(transport ? """
            SELECT \(Self.joinedDeviceColumns), t.public_key AS transport_key FROM server_devices d LEFT JOIN transport_keys t ON t.device = d.device_id
            WHERE d.device_id = ?
            """ : "SELECT \(Self.joinedDeviceColumns) FROM server_devices d WHERE d.device_id = ?", [.text(device.rawValue)])
        guard let row = rows.first else { return (nil, nil) }
        return (try Self.device(row), try transport ? row.optionalBlob("transport_key").map(PublicKey.init(bytes:)) : nil)
    }

    func setTransportKey(_ delegation: TransportDelegation, at: Instant) async throws {
        try await session.execute("""
            INSERT INTO transport_keys (device, public_key, issued_at, delegation, signature, registered_at) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (device) DO UPDATE SET public_key = excluded.public_key, issued_at = excluded.issued_at,
                delegation = excluded.delegation, signature = excluded.signature, registered_at = excluded.registered_at
            """, [.text(delegation.device.rawValue), .blob(delegation.transportKey.bytes), .integer(delegation.issuedAt),
                  .blob(delegation.bytes), .blob(delegation.signature.bytes), .text(at.utcISO)])
    }

    func devices() async throws -> [RegisteredDevice] {
        try await session.query("SELECT \(Self.deviceColumns) FROM server_devices ORDER BY enrolled_at DESC, device_id").map(Self.device)
    }

    static func device(_ row: SQLRow) throws -> RegisteredDevice {
        guard let id = DeviceID(try row.text("device_id")), let role = DeviceRole(rawValue: try row.text("role")),
              let status = RegisteredDevice.Status(rawValue: try row.text("status")),
              let enrolled = Instant(utcISO: try row.text("enrolled_at")) else { throw StoreFailure.damaged("a device row cannot be read") }
        return RegisteredDevice(id: id, publicKey: try PublicKey(bytes: try row.blob("public_key")),
                                grant: DeviceGrant(role: role, branch: try row.optionalText("branch"), accountID: try row.optionalText("account_id")),
                                status: status, statusReason: try row.optionalText("status_reason"), enrolledAt: enrolled,
                                enrolledVia: try row.text("enrolled_via"), lastSeenAt: try row.optionalText("last_seen_at").flatMap(Instant.init(utcISO:)))
    }

    func addDevice(_ device: RegisteredDevice) async throws {
        try await session.execute("INSERT INTO server_devices (\(Self.deviceColumns)) VALUES \(SQL.tuple(10))", [
            .text(device.id.rawValue), .blob(device.publicKey.bytes), .text(device.grant.role.rawValue), .optional(device.grant.branch),
            .optional(device.grant.accountID), .text(device.status.rawValue), .optional(device.statusReason), .text(device.enrolledAt.utcISO),
            .text(device.enrolledVia), .optional(device.lastSeenAt?.utcISO),
        ])
    }

    func setStatus(of device: DeviceID, _ status: RegisteredDevice.Status, reason: String) async throws {
        try await session.execute("UPDATE server_devices SET status = ?, status_reason = ? WHERE device_id = ?",
                                  [.text(status.rawValue), .text(reason), .text(device.rawValue)])
    }

    func bind(_ device: DeviceID, toAccount accountID: String) async throws {
        try await session.execute("UPDATE server_devices SET account_id = ? WHERE device_id = ?", [.text(accountID), .text(device.rawValue)])
    }

    func savepoint(_ name: String) async throws {
        try await session.execute("SAVEPOINT \(name)")
    }

    func rollback(toSavepoint name: String) async throws {
        try await session.execute("ROLLBACK TO SAVEPOINT \(name)")
    }

    func release(savepoint name: String) async throws {
        try await session.execute("RELEASE SAVEPOINT \(name)")
    }

    func touch(_ device: DeviceID, at: Instant) async throws {
        try await session.execute("UPDATE server_devices SET last_seen_at = ? WHERE device_id = ?", [.text(at.utcISO), .text(device.rawValue)])
    }

    func invites() async throws -> [Invite] {
        try await session.query("SELECT id, role, branch, expires_at, used_by FROM invites ORDER BY created_at DESC").map(Self.invite)
    }

    func invite(codeDigest: [UInt8]) async throws -> Invite? {
        try await session.query("SELECT id, role, branch, expires_at, used_by FROM invites WHERE code_hash = ?", [.blob(codeDigest)])
            .first.map(Self.invite)
    }

    static func invite(_ row: SQLRow) throws -> Invite {
        guard let role = DeviceRole(rawValue: try row.text("role")), let expires = Instant(utcISO: try row.text("expires_at")) else {
            throw StoreFailure.damaged("an invite row cannot be read")
        }
        return Invite(id: try row.text("id"), role: role, branch: try row.optionalText("branch"), expiresAt: expires,
                      usedBy: try row.optionalText("used_by").flatMap(DeviceID.init))
    }

    func addInvite(_ invite: Invite, codeDigest: [UInt8], createdAt: Instant) async throws {
        try await session.execute("INSERT INTO invites (id, code_hash, role, branch, created_at, expires_at) VALUES \(SQL.tuple(6))", [
            .text(invite.id), .blob(codeDigest), .text(invite.role.rawValue), .optional(invite.branch), .text(createdAt.utcISO),
            .text(invite.expiresAt.utcISO),
        ])
    }

    func useInvite(codeDigest: [UInt8], by device: DeviceID, at: Instant) async throws -> Bool {
        try await !session.query("UPDATE invites SET used_by = ?, used_at = ? WHERE code_hash = ? AND used_by IS NULL RETURNING id",
                                 [.text(device.rawValue), .text(at.utcISO), .blob(codeDigest)]).isEmpty
    }

    func claimableAccount(codeDigest: String) async throws -> (accountID: String, claimedBy: DeviceID?)? {
        try await session.query("""
            SELECT a.id, c.device_id FROM accounts a LEFT JOIN claims c ON c.account_id = a.id WHERE a.claim_code_hash = ?
            """, [.text(codeDigest)]).first.map { row in
            (try row.text("id"), try row.optionalText("device_id").flatMap(DeviceID.init))
        }
    }

    func claim(account: String, by device: DeviceID, at: Instant) async throws -> Bool {
        try await !session.query("INSERT INTO claims (account_id, device_id, claimed_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING RETURNING account_id",
                                 [.text(account), .text(device.rawValue), .text(at.utcISO)]).isEmpty
    }

    func alerts() async throws -> [Alert] {
        try await session.query("SELECT kind, device, detail, at FROM alerts ORDER BY id DESC").map { row in
            guard let at = Instant(utcISO: try row.text("at")) else { throw StoreFailure.damaged("an alert row cannot be read") }
            return Alert(kind: try row.text("kind"), device: try row.optionalText("device").flatMap(DeviceID.init), detail: try row.text("detail"), at: at)
        }
    }

    func addAlert(_ alert: Alert) async throws {
        try await session.execute("INSERT INTO alerts (kind, device, detail, at) VALUES (?, ?, ?, ?)",
                                  [.text(alert.kind), .optional(alert.device?.rawValue), .text(alert.detail), .text(alert.at.utcISO)])
    }

    func hasAlert(kind: String, device: DeviceID, since: Instant) async throws -> Bool {
        // `at` is fixed-width UTC ISO text, so text order is time order.
        try await !session.query("SELECT 1 FROM alerts WHERE kind = ? AND device = ? AND at >= ? LIMIT 1",
                                 [.text(kind), .text(device.rawValue), .text(since.utcISO)]).isEmpty
    }

    func useNonce(_ nonce: String, device: DeviceID, expiresAt: Instant) async throws -> Bool {
        try await !session.query("INSERT INTO nonces (device, nonce, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING RETURNING nonce",
                                 [.text(device.rawValue), .text(nonce), .integer(expiresAt.millisSinceEpoch)]).isEmpty
    }

    func pruneNonces(before now: Instant) async throws {
        try await session.execute("DELETE FROM nonces WHERE expires_at < ?", [.integer(now.millisSinceEpoch)])
    }

    // MARK: Chains

    func chainHead(of device: DeviceID) async throws -> ChainHead? {
        try await session.query("SELECT seq, id, hlc FROM chain_heads WHERE device = ?", [.text(device.rawValue)]).first.map(Self.head)
    }

    func lockChain(of device: DeviceID) async throws -> ChainHead? {
        try await session.query("SELECT seq, id, hlc FROM chain_heads WHERE device = ?" + dialect.forUpdate, [.text(device.rawValue)])
            .first.map(Self.head)
    }

    static func head(_ row: SQLRow) throws -> ChainHead {
        guard let id = Digest256(bytes: try row.blob("id")) else { throw StoreFailure.damaged("a chain head cannot be read") }
        return ChainHead(sequence: UInt64(try row.integer("seq")), id: id, time: HLCTimestamp(packed: UInt64(bitPattern: try row.integer("hlc"))))
    }

    func setChainHead(of device: DeviceID, _ head: ChainHead) async throws {
        try await session.execute("""
            INSERT INTO chain_heads (device, seq, id, hlc) VALUES (?, ?, ?, ?)
            ON CONFLICT (device) DO UPDATE SET seq = excluded.seq, id = excluded.id, hlc = excluded.hlc
            """, [.text(device.rawValue), .integer(Int64(head.sequence)), .blob(head.id.bytes), .integer(Int64(bitPattern: head.time.packed))])
    }

    func storedChangeSets(of device: DeviceID, sequences: [UInt64]) async throws -> [UInt64: StoredChangeSet] {
        var result: [UInt64: StoredChangeSet] = [:]
        for row in try await queryChangeSets(device, sequences) {
            let stored = try Self.changeSet(row)
            result[stored.sequence] = stored
        }
        return result
    }

    private func queryChangeSets(_ device: DeviceID, _ sequences: [UInt64]) async throws -> [SQLRow] {
        var rows: [SQLRow] = []
        for chunk in SQL.chunks(of: sequences.count, columns: 1, parameters: maxParameters - 1, fewShapes: dialect == .sqlite) {
            rows += try await session.query("""
                SELECT device, seq, id, hlc, bytes, signature, status, code, message, received_at, feed_seq FROM change_sets
                WHERE device = ? AND seq IN (\(SQL.list(chunk.count)))
                """, [.text(device.rawValue)] + sequences[chunk].map { .integer(Int64($0)) })
        }
        return rows
    }

    static func changeSet(_ row: SQLRow) throws -> StoredChangeSet {
        guard let device = DeviceID(try row.text("device")), let id = Digest256(bytes: try row.blob("id")),
              let received = Instant(utcISO: try row.text("received_at")) else { throw StoreFailure.damaged("a change-set row cannot be read") }
        return StoredChangeSet(device: device, sequence: UInt64(try row.integer("seq")), id: id,
                               time: HLCTimestamp(packed: UInt64(bitPattern: try row.integer("hlc"))), bytes: try row.blob("bytes"),
                               signature: try Signature(bytes: try row.blob("signature")), accepted: try row.text("status") == "accepted",
                               code: try row.optionalText("code"), message: try row.optionalText("message"), receivedAt: received,
                               feedPosition: try row.optionalInteger("feed_seq").map { UInt64($0) })
    }

    func addChangeSets(_ rows: [StoredChangeSet]) async throws {
        try await chunked(rows, columns: 11, { count in
            "INSERT INTO change_sets (device, seq, id, hlc, bytes, signature, status, code, message, received_at, feed_seq) \(SQL.values(rows: count, columns: 11))"
        }, bind: { row in
            [.text(row.device.rawValue), .integer(Int64(row.sequence)), .blob(row.id.bytes), .integer(Int64(bitPattern: row.time.packed)),
             .blob(row.bytes), .blob(row.signature.bytes), .text(row.accepted ? "accepted" : "rejected"), .optional(row.code),
             .optional(row.message), .text(row.receivedAt.utcISO), row.feedPosition.map { .integer(Int64($0)) } ?? .null]
        })
    }
}

/// The public keys of the devices whose change-sets the feed carries, as the store has read
/// them. A device's id is its key's fingerprint (`DeviceID(publicKey:)`), so an id names one key
/// for good and a key once read stays true: a page of the feed reads each entry's author by id
/// and takes its key from here, reading only the keys not yet met. Looked up in the database
/// for every entry, the keys took a quarter of PostgreSQL's time for a page of 2,000.
final class AuthorKeys: Sendable {
    private let known = Mutex<[String: PublicKey]>([:])
    /// Beyond this many devices, keys not yet met are read each time they are needed.
    static let capacity = 200_000

    func callAsFunction(_ ids: some Sequence<String>) -> (known: [String: PublicKey], missing: [String]) {
        known.withLock { known in
            var found: [String: PublicKey] = [:]
            var missing: Set<String> = []
            for id in ids {
                if let key = known[id] { found[id] = key } else { missing.insert(id) }
            }
            return (found, missing.sorted())
        }
    }

    func remember(_ keys: [String: PublicKey]) {
        known.withLock { known in
            for (id, key) in keys where known.count < Self.capacity { known[id] = key }
        }
    }
}
