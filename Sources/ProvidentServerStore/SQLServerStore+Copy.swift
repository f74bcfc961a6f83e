import ProvidentServerCore
import ProvidentSync

/// Why a deployment cannot be copied.
public enum CopyFailure: ProvidentError, Hashable {
    /// The target database already holds a deployment.
    case targetNotEmpty(String)

    public var code: String { "migrate.target_not_empty" }
    public var kind: ErrorKind { .refused }

    public func message(_ l: Language) -> String {
        switch self {
        case let .targetNotEmpty(location):
            l.pick("The target \(location) already holds data; migrate into a new, empty database.",
                   "目标数据库 \(location) 已有数据；请迁移到一个新的空数据库。")
        }
    }
}

extension SQLServerStore {
    /// The tables a deployment consists of, in an order that keeps references valid, each with
    /// the columns of its key (for copying in pages). Nonces, sessions and rate-limit counts are
    /// transient and not copied.
    static let deploymentTables: [(name: String, key: [String])] = [
        ("server_devices", ["device_id"]), ("transport_keys", ["device"]), ("invites", ["id"]), ("claims", ["account_id"]), ("alerts", ["id"]),
        ("chain_heads", ["device"]), ("change_sets", ["device", "seq"]), ("feed_head", ["singleton"]), ("feed", ["seq"]), ("log_nodes", ["level", "idx"]), ("log_cosignatures", ["witness", "size"]), ("log_epochs", ["id"]),
        ("feed_scopes", ["scope", "feed_seq"]), ("records", ["type", "id"]), ("record_scopes", ["scope", "type", "id"]), ("record_changes", ["type", "id", "feed_seq"]),
        ("conflicts", ["id"]), ("accounts", ["id"]), ("deposits", ["id"]), ("deposit_periods", ["account_id", "period", "deposit_id"]),
        ("deposit_reversals", ["deposit_id"]), ("deposit_outcomes", ["deposit_id"]), ("interest_credits", ["id"]), ("units", ["id"]),
        ("visits", ["id"]), ("visit_voids", ["visit_id"]), ("applications", ["id"]), ("application_decisions", ["application_id"]),
        ("campaigns", ["id"]), ("campaign_targets", ["campaign_id", "unit_id"]), ("bank_statements", ["id"]), ("bank_lines", ["id"]),
        ("office_users", ["name"]),
    ]

    /// Copies everything of this deployment into `target`, a new, empty database of either
    /// kind: one consistent read of this one, one transaction on the target (all or nothing).
    /// Feed positions, chains, records, conflicts and the office's data keep their values, so
    /// both state digests are equal afterwards. Returns the rows copied per table.
    public func copyDeployment(to target: SQLServerStore) async throws -> [(table: String, rows: Int)] {
        try await database.read { source in
            try await target.database.write { destination in
                let held = try await destination.query("SELECT count(*) AS n FROM server_devices").first?.integer("n") ?? 0
                guard held == 0 else { throw CopyFailure.targetNotEmpty(target.location) }
                // The new database's feed head starts at 0; the copied one replaces it.
                try await destination.execute("DELETE FROM feed_head")
                var counts: [(table: String, rows: Int)] = []
                for (table, key) in Self.deploymentTables {
                    var copied = 0
                    var after: [SQLValue]?
                    let order = key.joined(separator: ", ")
                    while true {
                        let keyset = after.map { _ in " WHERE (\(order)) > (\(SQL.list(key.count)))" } ?? ""
                        let rows = try await source.query("SELECT * FROM \(table)\(keyset) ORDER BY \(order) LIMIT 1000", after ?? [])
                        guard let first = rows.first else { break }
                        let columns = first.columns
                        let size = max(1, (target.database.maxParameters - 1) / columns.count)
                        var start = 0
                        while start < rows.count {
                            let chunk = rows[start..<min(start + size, rows.count)]
                            try await destination.execute("INSERT INTO \(table) (\(columns.joined(separator: ", "))) \(SQL.values(rows: chunk.count, columns: columns.count))",
                                                          chunk.flatMap(\.values))
                            start += size
                        }
                        copied += rows.count
                        after = key.map { rows[rows.count - 1][$0] }
                        if rows.count < 1000 { break }
                    }
                    counts.append((table, copied))
                }
                if target.database.dialect == .postgres {
                    // Identity columns go on from the highest id copied.
                    for table in ["alerts", "bank_statements", "bank_lines"] {
                        try await destination.execute("SELECT setval(pg_get_serial_sequence('\(table)', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM \(table)")
                    }
                }
                return counts
            }
        }
    }
}
