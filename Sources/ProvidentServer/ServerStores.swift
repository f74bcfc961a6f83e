import Foundation
import Logging
import ProvidentServerCore
import ProvidentServerPostgres
import ProvidentServerSQLite
import ProvidentServerStore

/// Opens the server's store where the configuration says: SQLite by default, PostgreSQL when
/// one machine is not enough.
public enum ServerStores {
    public static func open(_ location: DatabaseLocation, passwordFile: String?, create: Bool, logger: Logger) async throws -> SQLServerStore {
        switch location {
        case let .sqlite(path):
            return SQLServerStore(database: try SQLiteDatabase.open(path: path, create: create))
        case let .postgres(user, host, port, database):
            let password = try Self.password(file: passwordFile)
            return SQLServerStore(database: try await PostgresDatabase.open(
                PostgresDatabase.Settings(host: host, port: port, user: user, password: password, database: database),
                create: create, logger: logger))
        }
    }

    /// The PostgreSQL password: the first line of `file`, else `PGPASSWORD`, else none (trust,
    /// peer or certificate authentication).
    static func password(file: String?) throws -> String? {
        if let file {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw StoreFailure.passwordFile(file) }
            return String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
        }
        return ProcessInfo.processInfo.environment["PGPASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
    }
}
