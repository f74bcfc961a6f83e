import GRDB
import ProvidentStore

/// The server's SQLite schema: named, append-only migrations. The database began as a replica
/// of everything, with the server's tables on top, so it registers the replica migrations
/// released before the two schemas parted under their names; from `server v3` on, it is its own.
package enum SQLiteSchema {
    static var migrator: DatabaseMigrator { migrator(through: nil) }

    /// The migrations up to and including the one named (all of them with nil): for tests
    /// that make a database as an earlier version left it.
    package static func migrator(through last: String?) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        var done = false
        func register(_ name: String, _ migrate: @escaping @Sendable (Database) throws -> Void) {
            guard !done else { return }
            migrator.registerMigration(name, migrate: migrate)
            done = name == last
        }
        for (name, migrate) in Schema.released.prefix(Schema.releasedBeforeServerSplit) { register(name, migrate) }
        register("server v1 devices, log, feed") { db in
            try db.execute(sql: """
                CREATE TABLE server_devices (
                    device_id TEXT PRIMARY KEY,
                    public_key BLOB NOT NULL,
                    role TEXT NOT NULL CHECK (role IN ('self', 'field', 'office')),
                    branch TEXT,
                    account_id TEXT,
                    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked', 'quarantined')),
                    status_reason TEXT,
                    enrolled_at TEXT NOT NULL,
                    enrolled_via TEXT NOT NULL,
                    last_seen_at TEXT
                );
                CREATE TABLE invites (
                    id TEXT PRIMARY KEY,
                    code_hash BLOB NOT NULL UNIQUE,
                    role TEXT NOT NULL,
                    branch TEXT,
                    created_at TEXT NOT NULL,
                    expires_at TEXT NOT NULL,
                    used_by TEXT,
                    used_at TEXT
                );
                CREATE TABLE claims (
                    account_id TEXT PRIMARY KEY,
                    device_id TEXT NOT NULL,
                    claimed_at TEXT NOT NULL
                );
                -- Every change-set a device pushed that passed the chain rules, accepted or rejected,
                -- kept in chain order so a device's pushes are written together.
                CREATE TABLE change_sets (
                    device TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    id BLOB NOT NULL,
                    hlc INTEGER NOT NULL,
                    bytes BLOB NOT NULL,
                    signature BLOB NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('accepted', 'rejected')),
                    code TEXT,
                    message TEXT,
                    feed_seq INTEGER,
                    received_at TEXT NOT NULL,
                    PRIMARY KEY (device, seq)
                ) WITHOUT ROWID;
                CREATE TABLE chain_heads (
                    device TEXT PRIMARY KEY,
                    seq INTEGER NOT NULL,
                    id BLOB NOT NULL,
                    hlc INTEGER NOT NULL
                );
                -- The feed: accepted change-sets and server documents, each at a gap-free position.
                CREATE TABLE feed (
                    seq INTEGER PRIMARY KEY,
                    device TEXT,
                    device_seq INTEGER,
                    document BLOB,
                    signature BLOB
                );
                CREATE TABLE feed_scopes (
                    scope TEXT NOT NULL,
                    feed_seq INTEGER NOT NULL,
                    PRIMARY KEY (scope, feed_seq)
                ) WITHOUT ROWID;
                CREATE TABLE record_scopes (
                    scope TEXT NOT NULL,
                    type TEXT NOT NULL,
                    id TEXT NOT NULL,
                    PRIMARY KEY (scope, type, id)
                ) WITHOUT ROWID;
                CREATE INDEX record_scopes_record ON record_scopes (type, id);
                CREATE TABLE nonces (
                    device TEXT NOT NULL,
                    nonce TEXT NOT NULL,
                    expires_at INTEGER NOT NULL,
                    PRIMARY KEY (device, nonce)
                ) WITHOUT ROWID;
                CREATE INDEX nonces_expiry ON nonces (expires_at);
                CREATE TABLE alerts (
                    id INTEGER PRIMARY KEY,
                    kind TEXT NOT NULL,
                    device TEXT,
                    detail TEXT NOT NULL,
                    at TEXT NOT NULL
                );
                """)
        }
        register("server v2 reconciliation and office users") { db in
            try db.execute(sql: """
                -- Bank statements imported, and their lines: the office's own data, never replicated.
                CREATE TABLE bank_statements (
                    id INTEGER PRIMARY KEY,
                    file_name TEXT NOT NULL,
                    imported_at TEXT NOT NULL,
                    line_count INTEGER NOT NULL
                );
                CREATE TABLE bank_lines (
                    id INTEGER PRIMARY KEY,
                    fingerprint TEXT NOT NULL UNIQUE,
                    statement_id INTEGER NOT NULL,
                    line INTEGER NOT NULL,
                    date TEXT NOT NULL,
                    amount_fen INTEGER NOT NULL,
                    payer_name TEXT NOT NULL,
                    payer_account TEXT NOT NULL,
                    memo TEXT NOT NULL,
                    serial TEXT,
                    status TEXT NOT NULL CHECK (status IN ('confirmed', 'amountMismatch', 'noDeposit', 'duplicate', 'rejected', 'dismissed')),
                    deposit_id TEXT,
                    method TEXT,
                    candidates TEXT,
                    note TEXT,
                    updated_at TEXT NOT NULL
                );
                CREATE INDEX bank_lines_status ON bank_lines (status, date);
                CREATE INDEX bank_lines_deposit ON bank_lines (deposit_id);
                -- People who sign in to the dashboard, and their sessions (only digests of tokens are kept).
                CREATE TABLE office_users (
                    name TEXT PRIMARY KEY,
                    password_hash TEXT NOT NULL,
                    created_at TEXT NOT NULL
                );
                CREATE TABLE office_sessions (
                    token_digest TEXT PRIMARY KEY,
                    user_name TEXT NOT NULL,
                    csrf_token TEXT NOT NULL,
                    language TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL
                );
                """)
        }
        register("server v3 feed head, rate limits, the server's own tables only") { db in
            try db.execute(sql: """
                -- The feed's end, taken under a lock by each writer, so positions become visible in order.
                CREATE TABLE feed_head (
                    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                    position INTEGER NOT NULL
                );
                INSERT INTO feed_head (singleton, position) SELECT 1, COALESCE(MAX(seq), 0) FROM feed;
                CREATE INDEX feed_change_set ON feed (device, device_seq);
                -- Attempts counted per address (self-enrolments, dashboard sign-ins), shared by every server.
                CREATE TABLE rate_events (
                    bucket TEXT NOT NULL,
                    address TEXT NOT NULL,
                    at INTEGER NOT NULL
                );
                CREATE INDEX rate_events_address ON rate_events (bucket, address, at);
                CREATE INDEX rate_events_at ON rate_events (at);
                CREATE INDEX office_sessions_expiry ON office_sessions (expires_at);
                -- A device's own tables: the server's identity lives in server_devices, its chain in chain_heads.
                DROP TABLE device;
                DROP TABLE outbox;
                """)
        }
        register("server v4 transport keys") { db in
            try db.execute(sql: """
                -- A device's transport key (sync-protocol.md §5.1), with the delegation that certifies it.
                CREATE TABLE transport_keys (
                    device TEXT PRIMARY KEY,
                    public_key BLOB NOT NULL,
                    issued_at INTEGER NOT NULL,
                    delegation BLOB NOT NULL,
                    signature BLOB NOT NULL,
                    registered_at TEXT NOT NULL
                );
                """)
        }
        register("server v5 feed marks") { db in
            try db.execute(sql: """
                -- The hash chain over the feed (sync-protocol.md §11.6): each entry's mark, and the
                -- last one's on the feed's end. Entries written before this version have none.
                ALTER TABLE feed ADD COLUMN mark BLOB;
                ALTER TABLE feed_head ADD COLUMN mark BLOB;
                """)
        }
        register("server v6 feed log") { db in
            try db.execute(sql: """
                -- The feed's log (sync-protocol.md §11.14): the hash of every whole-power-of-two
                -- subtree, and how many entries it holds (it catches up with an older feed).
                CREATE TABLE log_nodes (
                    level INTEGER NOT NULL,
                    idx INTEGER NOT NULL,
                    hash BLOB NOT NULL,
                    PRIMARY KEY (level, idx)
                ) WITHOUT ROWID;
                ALTER TABLE feed_head ADD COLUMN logged INTEGER NOT NULL DEFAULT 0;
                """)
        }
        register("server v7 witnesses and epochs") { db in
            // The role `auditor` (sync-protocol.md §11.15): SQLite cannot change a CHECK, so the
            // devices' table is made again with the wider one, as its own text says, and filled.
            guard let sql = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'server_devices'") else {
                throw DatabaseError(message: "the database has no server_devices table")
            }
            let narrow = "CHECK (role IN ('self', 'field', 'office'))"
            guard sql.contains(narrow) else { throw DatabaseError(message: "server_devices has an unexpected role check") }
            let widened = sql.replacing(narrow, with: "CHECK (role IN ('self', 'field', 'office', 'auditor'))")
                .replacing("CREATE TABLE server_devices", with: "CREATE TABLE server_devices_widened")
            let indexes = try String.fetchAll(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'server_devices' AND sql IS NOT NULL")
            try db.execute(sql: widened)
            try db.execute(sql: "INSERT INTO server_devices_widened SELECT * FROM server_devices")
            try db.execute(sql: "DROP TABLE server_devices")
            try db.execute(sql: "ALTER TABLE server_devices_widened RENAME TO server_devices")
            for index in indexes { try db.execute(sql: index) }
            try db.execute(sql: """
                -- Auditors' cosignatures of the log's checkpoints: the size and root each cosigned,
                -- and its C2SP cosignature line.
                CREATE TABLE log_cosignatures (
                    witness TEXT NOT NULL,
                    size INTEGER NOT NULL,
                    root BLOB NOT NULL,
                    line TEXT NOT NULL,
                    received_at TEXT NOT NULL,
                    PRIMARY KEY (witness, size)
                ) WITHOUT ROWID;
                CREATE INDEX log_cosignatures_size ON log_cosignatures (size);
                -- The office's announcements that the log begins again after a restore (§11.16).
                CREATE TABLE log_epochs (
                    id INTEGER PRIMARY KEY,
                    note TEXT NOT NULL UNIQUE,
                    starts_size INTEGER NOT NULL,
                    announced_by TEXT NOT NULL,
                    announced_at TEXT NOT NULL
                );
                """)
        }
        register("server v8 record history and disabled users") { db in
            try db.execute(sql: """
                -- Which feed entries wrote each record, for its history on the dashboard; filled
                -- from the change-sets already in the feed, then by every push.
                CREATE TABLE record_changes (
                    type TEXT NOT NULL,
                    id TEXT NOT NULL,
                    feed_seq INTEGER NOT NULL,
                    PRIMARY KEY (type, id, feed_seq)
                ) WITHOUT ROWID;
                INSERT OR IGNORE INTO record_changes (type, id, feed_seq)
                    SELECT json_extract(op.value, '$.type'), json_extract(op.value, '$.id'), f.seq
                    FROM feed f JOIN change_sets c ON c.device = f.device AND c.seq = f.device_seq,
                         json_each(CAST(c.bytes AS TEXT), '$.ops') op
                    WHERE f.device IS NOT NULL;
                -- An office user who may no longer sign in, kept with their name.
                ALTER TABLE office_users ADD COLUMN disabled_at TEXT;
                """)
        }
        register("server v9 records in order of arrival") { db in
            // A table WITHOUT ROWID keeps whole rows in its interior pages, so records (about
            // 300 bytes each) landing all over the key range split pages and rewrote two or three
            // of them per record; a rowid table appends each new record at its end, and only
            // the small entry of its key lands in the key's index.
            try db.execute(sql: """
                CREATE TABLE records_by_arrival (
                    type TEXT NOT NULL,
                    id TEXT NOT NULL,
                    state BLOB NOT NULL
                );
                INSERT INTO records_by_arrival (type, id, state) SELECT type, id, state FROM records ORDER BY type, id;
                DROP TABLE records;
                ALTER TABLE records_by_arrival RENAME TO records;
                CREATE UNIQUE INDEX records_key ON records (type, id);
                """)
        }
        register("server v10 record scopes on the record") { db in
            // Each record lists its scopes, so replacing them deletes those rows of
            // record_scopes by their key; the index of record_scopes by record, which every new
            // record entered at a random place (a page written per record a push brought), goes.
            try db.execute(sql: """
                ALTER TABLE records ADD COLUMN scopes TEXT NOT NULL DEFAULT '[]';
                UPDATE records SET scopes = (
                    SELECT json_group_array(scope) FROM (
                        SELECT scope FROM record_scopes s WHERE s.type = records.type AND s.id = records.id ORDER BY scope));
                DROP INDEX record_scopes_record;
                """)
        }
        register("server v11 a record's first writer on the record") { db in
            // The change-set that created a record (its device and sequence) is kept on the
            // record, in the insert that creates it; record_changes lists the change-sets that
            // wrote it after. A row of record_changes per new record landed at a random place
            // of its key and cost a page written per record a push brought. Records from before
            // keep every change-set in record_changes.
            try db.execute(sql: """
                ALTER TABLE records ADD COLUMN first_device TEXT;
                ALTER TABLE records ADD COLUMN first_sequence INTEGER;
                """)
        }
        return migrator
    }
}
