import GRDB

/// The read models' secondary indexes, set aside while a snapshot fills an empty replica.
///
/// A first sync inserts every record in key order, but the read models' indexes (deposits by
/// account, by reference, by day …) receive those rows in random order: each page of the
/// snapshot dirtied most of their pages again, and kept them in the write-ahead log. Building an
/// index once from the finished table is a sort, several times cheaper. The indexes set aside are
/// kept in `deferred_indexes` with their text, in the transaction that drops them, and built
/// again in the transaction that applies the snapshot's last page, or that gives the snapshot up
/// (`restartFeed`). Until then queries are slower, not different: only indexes that enforce
/// nothing are set aside.
enum DeferredIndexes {
    /// The read models' tables (see `Projection`).
    static let tables = ["accounts", "deposits", "deposit_periods", "deposit_reversals", "deposit_outcomes", "interest_credits",
                         "units", "visits", "visit_voids", "applications", "application_decisions", "campaigns", "campaign_targets"]

    /// Drops the read models' non-unique indexes made by `CREATE INDEX`, keeping their text.
    static func setAside(_ db: Database) throws {
        for table in tables {
            let rows = try Row.fetchAll(db, sql: """
                SELECT l.name, m.sql FROM pragma_index_list(?) AS l JOIN sqlite_schema AS m ON m.type = 'index' AND m.name = l.name
                WHERE l.origin = 'c' AND l."unique" = 0 AND m.sql IS NOT NULL
                """, arguments: [table])
            for row in rows {
                let name: String = row["name"]
                try db.execute(sql: "INSERT OR REPLACE INTO deferred_indexes (name, sql) VALUES (?, ?)", arguments: [name, row["sql"] as String])
                try db.execute(sql: "DROP INDEX \(name.quotedDatabaseIdentifier)")
            }
        }
    }

    /// Builds every index set aside again, sorting in temporary files: the replica keeps its
    /// temporary storage in memory (for savepoints' journals), where an index's sort of a million
    /// deposits would take about 90 MB, a first sync's peak memory growing with N; on files it
    /// stays flat, and is faster. Should SQLite refuse the switch in this transaction, the
    /// indexes are built in memory all the same.
    static func restore(_ db: Database) throws {
        let rows = try Row.fetchAll(db, sql: "SELECT name, sql FROM deferred_indexes ORDER BY name")
        guard !rows.isEmpty else { return }
        let storage = try Int.fetchOne(db, sql: "PRAGMA temp_store") ?? 0
        try? db.execute(sql: "PRAGMA temp_store = FILE")
        defer { try? db.execute(sql: "PRAGMA temp_store = \(storage)") }
        for row in rows {
            let name: String = row["name"]
            let exists = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = ?)",
                                           arguments: [name]) ?? false
            if !exists { try db.execute(sql: row["sql"]) }
            try db.execute(sql: "DELETE FROM deferred_indexes WHERE name = ?", arguments: [name])
        }
    }

    /// Sets the indexes aside if the replica holds no record: a snapshot is about to fill it.
    static func setAsideIfEmpty(_ db: Database) throws {
        guard try !(Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM records)") ?? false) else { return }
        try setAside(db)
    }
}
