import GRDB

/// The replica's schema: named, append-only migrations. A released migration is never edited;
/// a change is a new migration.
package enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for (name, migrate) in released { migrator.registerMigration(name, migrate: migrate) }
        return migrator
    }

    /// Every migration, in order. The server's SQLite database began as a replica of
    /// everything and registers the ones released before the two schemas parted
    /// (`releasedBeforeServerSplit`) under the same names, so databases of either age open.
    package static let released: [(String, @Sendable (Database) throws -> Void)] = [
        ("v1 device and outbox", v1DeviceAndOutbox),
        ("v1 records", v1Records),
        ("v1 account and deposit projections", v1Projections),
        ("v2 sync state and account scope", v2SyncState),
        ("v3 outreach projections", v3Outreach),
        ("v4 interest credits and amount index", v4Interest),
        ("v5 deposits by day recorded", v5DepositsByDay),
        ("v6 feed marks", v6FeedMarks),
        ("v7 feed log", v7FeedLog),
        ("v8 receipt batches and witnesses", v8ReceiptBatchesAndWitnesses),
        ("v9 deferred indexes", v9DeferredIndexes),
    ]

    /// How many of `released` the server's database shares.
    package static let releasedBeforeServerSplit = 7

    static func v1DeviceAndOutbox(_ db: Database) throws {
        // One row: this device's identity, its chain position and its clock.
        try db.execute(sql: """
            CREATE TABLE device (
                singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                device_id TEXT NOT NULL,
                public_key BLOB NOT NULL,
                role TEXT NOT NULL CHECK (role IN ('self', 'field', 'office')),
                branch TEXT,
                account_id TEXT,
                sequence INTEGER NOT NULL DEFAULT 0,
                last_change_set BLOB NOT NULL,
                hlc INTEGER NOT NULL DEFAULT 0,
                created_at TEXT NOT NULL
            );
            CREATE TABLE outbox (
                sequence INTEGER PRIMARY KEY,
                change_set_id BLOB NOT NULL UNIQUE,
                action TEXT NOT NULL,
                hlc INTEGER NOT NULL,
                bytes BLOB NOT NULL,
                signature BLOB NOT NULL,
                state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'accepted', 'rejected')),
                rejection_code TEXT,
                rejection_message TEXT,
                recorded_at TEXT NOT NULL
            );
            """)
    }

    static func v1Records(_ db: Database) throws {
        // Every replicated record's merged state, in the canonical storage form.
        try db.execute(sql: """
            CREATE TABLE records (
                type TEXT NOT NULL,
                id TEXT NOT NULL,
                state BLOB NOT NULL,
                PRIMARY KEY (type, id)
            ) WITHOUT ROWID;
            CREATE TABLE conflicts (
                id BLOB PRIMARY KEY,
                type TEXT NOT NULL,
                record_id TEXT NOT NULL,
                field TEXT NOT NULL,
                state BLOB NOT NULL
            );
            CREATE INDEX conflicts_record ON conflicts (type, record_id);
            """)
    }

    static func v1Projections(_ db: Database) throws {
        // Read models kept in step with `records` in the same transaction, for queries.
        try db.execute(sql: """
            CREATE TABLE accounts (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                id_number TEXT NOT NULL,
                phone TEXT NOT NULL,
                category TEXT NOT NULL,
                agreement_mode TEXT NOT NULL,
                base_fen INTEGER,
                rate_basis_points INTEGER,
                monthly_fen INTEGER NOT NULL,
                channel TEXT NOT NULL,
                enrolled_on TEXT NOT NULL,
                verified INTEGER NOT NULL,
                paused INTEGER NOT NULL,
                closed_on TEXT,
                close_reason TEXT
            );
            CREATE INDEX accounts_id_number ON accounts (id_number);
            CREATE TABLE deposits (
                id TEXT PRIMARY KEY,
                account_id TEXT NOT NULL,
                amount_fen INTEGER NOT NULL,
                kind TEXT NOT NULL,
                periods TEXT NOT NULL,
                method TEXT NOT NULL,
                reference TEXT NOT NULL,
                recorded_at TEXT NOT NULL
            );
            CREATE INDEX deposits_account ON deposits (account_id, recorded_at);
            CREATE INDEX deposits_reference ON deposits (reference);
            CREATE TABLE deposit_periods (
                account_id TEXT NOT NULL,
                period TEXT NOT NULL,
                deposit_id TEXT NOT NULL,
                PRIMARY KEY (account_id, period, deposit_id)
            ) WITHOUT ROWID;
            CREATE TABLE deposit_reversals (
                deposit_id TEXT PRIMARY KEY,
                reason TEXT NOT NULL,
                recorded_at TEXT NOT NULL
            );
            CREATE TABLE deposit_outcomes (
                deposit_id TEXT PRIMARY KEY,
                decision TEXT NOT NULL,
                reason TEXT,
                bank_date TEXT,
                decided_at TEXT NOT NULL
            );
            """)
    }

    static func v2SyncState(_ db: Database) throws {
        // Where this device syncs, the server key it pinned at enrolment, and how far it has
        // read the server's feed (or the snapshot that precedes it).
        try db.execute(sql: """
            ALTER TABLE device ADD COLUMN server_url TEXT;
            ALTER TABLE device ADD COLUMN server_key BLOB;
            ALTER TABLE device ADD COLUMN registered INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE device ADD COLUMN cursor INTEGER;
            ALTER TABLE device ADD COLUMN snapshot_as_of INTEGER;
            ALTER TABLE device ADD COLUMN snapshot_next TEXT;
            ALTER TABLE accounts ADD COLUMN branch TEXT;
            ALTER TABLE accounts ADD COLUMN claim_code_hash TEXT;
            CREATE INDEX accounts_branch ON accounts (branch);
            CREATE INDEX accounts_claim ON accounts (claim_code_hash);
            """)
    }

    static func v3Outreach(_ db: Database) throws {
        // Employers, visits, applications and campaigns, for the field laptops and the office.
        try db.execute(sql: """
            CREATE TABLE units (
                id TEXT PRIMARY KEY,
                credit_code TEXT NOT NULL,
                name TEXT NOT NULL,
                branch TEXT NOT NULL,
                kind TEXT NOT NULL,
                address TEXT,
                contact_name TEXT,
                contact_phone TEXT,
                established INTEGER NOT NULL,
                employees INTEGER NOT NULL,
                contributors INTEGER NOT NULL,
                pension_insured INTEGER NOT NULL,
                last_paid TEXT,
                months_in_arrears INTEGER NOT NULL
            );
            CREATE INDEX units_branch ON units (branch, name);
            CREATE TABLE visits (
                id TEXT PRIMARY KEY,
                unit_id TEXT,
                branch TEXT NOT NULL,
                purpose TEXT NOT NULL,
                date TEXT NOT NULL,
                outcome TEXT,
                recorded_at TEXT NOT NULL
            );
            CREATE INDEX visits_unit ON visits (unit_id, date);
            CREATE INDEX visits_date ON visits (date);
            CREATE TABLE visit_voids (
                visit_id TEXT PRIMARY KEY,
                reason TEXT NOT NULL,
                recorded_at TEXT NOT NULL
            );
            CREATE TABLE applications (
                id TEXT PRIMARY KEY,
                unit_id TEXT NOT NULL,
                kind TEXT NOT NULL,
                from_period TEXT NOT NULL,
                through_period TEXT NOT NULL,
                submitted_on TEXT NOT NULL,
                recorded_at TEXT NOT NULL
            );
            CREATE INDEX applications_unit ON applications (unit_id);
            CREATE TABLE application_decisions (
                application_id TEXT PRIMARY KEY,
                verdict TEXT NOT NULL,
                reason TEXT NOT NULL,
                decided_at TEXT NOT NULL
            );
            CREATE TABLE campaigns (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                cutoff TEXT NOT NULL,
                start_on TEXT NOT NULL,
                end_on TEXT NOT NULL,
                created_at TEXT NOT NULL
            );
            CREATE TABLE campaign_targets (
                campaign_id TEXT NOT NULL,
                unit_id TEXT NOT NULL,
                branch TEXT NOT NULL,
                record_id TEXT NOT NULL,
                PRIMARY KEY (campaign_id, unit_id)
            ) WITHOUT ROWID;
            CREATE INDEX campaign_targets_record ON campaign_targets (record_id);
            """)
    }

    static func v4Interest(_ db: Database) throws {
        // Interest credited at the annual settlement; deposits by amount, for matching bank lines.
        try db.execute(sql: """
            CREATE TABLE interest_credits (
                id TEXT PRIMARY KEY,
                account_id TEXT NOT NULL,
                year INTEGER NOT NULL,
                amount_fen INTEGER NOT NULL,
                settled_at TEXT NOT NULL
            );
            CREATE INDEX interest_credits_account ON interest_credits (account_id, year);
            CREATE INDEX deposits_amount ON deposits (amount_fen, recorded_at);
            """)
    }

    static func v5DepositsByDay(_ db: Database) throws {
        // Matching bank lines reads the deposits of a date window at once; an index on the
        // amount dirtied a random page per deposit written, slowing every push.
        try db.execute(sql: """
            DROP INDEX IF EXISTS deposits_amount;
            CREATE INDEX deposits_recorded ON deposits (recorded_at);
            """)
    }

    static func v6FeedMarks(_ db: Database) throws {
        // The feed's mark at the cursor (sync-protocol.md §11.6), sent with every pull so that a
        // server restored from an older copy is noticed; and the mark of a snapshot in progress.
        try db.execute(sql: """
            ALTER TABLE device ADD COLUMN cursor_mark BLOB;
            ALTER TABLE device ADD COLUMN snapshot_mark BLOB;
            """)
    }

    static func v7FeedLog(_ db: Database) throws {
        // The feed's log (sync-protocol.md §11.14): the last checkpoint this device verified, the
        // server's receipts for its change-sets (`proven_size`: the size of the checkpoint that
        // last proved one, at `checked_at`; 0 when found wrong), and what it found wrong, with
        // the signed material that shows it.
        try db.execute(sql: """
            CREATE TABLE log_checkpoint (
                singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                size INTEGER NOT NULL,
                root BLOB NOT NULL,
                note TEXT NOT NULL,
                verified_at TEXT NOT NULL
            );
            CREATE TABLE log_receipts (
                change_set BLOB PRIMARY KEY,
                sequence INTEGER NOT NULL,
                position INTEGER NOT NULL,
                time INTEGER NOT NULL,
                signature BLOB NOT NULL,
                proven_size INTEGER,
                checked_at TEXT
            );
            CREATE INDEX log_receipts_checked ON log_receipts (checked_at, position);
            CREATE TABLE log_evidence (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                kind TEXT NOT NULL,
                found_at TEXT NOT NULL,
                material TEXT NOT NULL
            );
            """)
    }

    static func v8ReceiptBatchesAndWitnesses(_ db: Database) throws {
        // Since revision 1.6 one signature covers every result of a push (sync-protocol.md
        // §11.14): the list it covers is kept once, by its signature, which the receipts of
        // its entries hold. A receipt whose signature is not here was signed alone.
        // The log's witnesses (§11.15): those this device knows, by name, and the largest
        // checkpoint they cosigned, kept with the checkpoint. The office devices that may announce
        // a new epoch of the log (§11.16), and which receipts were given by the log before it
        // began again (`proven_size` -1: not in the new log, not acknowledged again).
        try db.execute(sql: """
            CREATE TABLE log_receipt_batches (
                signature BLOB PRIMARY KEY,
                entries BLOB NOT NULL
            ) WITHOUT ROWID;
            CREATE TABLE log_witnesses (
                name TEXT PRIMARY KEY,
                public_key BLOB NOT NULL,
                learned_at TEXT NOT NULL
            );
            ALTER TABLE log_checkpoint ADD COLUMN witnessed_size INTEGER;
            ALTER TABLE log_checkpoint ADD COLUMN witnessed_note TEXT;
            ALTER TABLE log_checkpoint ADD COLUMN witnessed_by INTEGER;
            CREATE TABLE log_offices (
                name TEXT PRIMARY KEY,
                public_key BLOB NOT NULL,
                learned_at TEXT NOT NULL
            );
            ALTER TABLE log_receipts ADD COLUMN before_restart INTEGER NOT NULL DEFAULT 0;
            """)
        // The role `auditor`: SQLite cannot change a CHECK, so the device table is made again
        // from its own text with the wider one.
        guard let sql = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'device'") else {
            throw DatabaseError(message: "the replica has no device table")
        }
        let narrow = "CHECK (role IN ('self', 'field', 'office'))"
        guard sql.contains(narrow) else { throw DatabaseError(message: "the device table has an unexpected role check") }
        try db.execute(sql: sql.replacing(narrow, with: "CHECK (role IN ('self', 'field', 'office', 'auditor'))")
            .replacing("CREATE TABLE device", with: "CREATE TABLE device_widened"))
        try db.execute(sql: """
            INSERT INTO device_widened SELECT * FROM device;
            DROP TABLE device;
            ALTER TABLE device_widened RENAME TO device;
            """)
    }

    static func v9DeferredIndexes(_ db: Database) throws {
        // The read models' secondary indexes set aside while a snapshot fills an empty replica
        // (`DeferredIndexes`): each is built again, from this text, once the snapshot is
        // complete. A later migration that drops one of them deletes its row here too.
        try db.execute(sql: """
            CREATE TABLE deferred_indexes (
                name TEXT PRIMARY KEY,
                sql TEXT NOT NULL
            );
            """)
    }
}
