import ProvidentServerCore

/// A value bound to a statement or read from a row. The server's schema uses only these four
/// storage classes on both databases (flags are 0/1 integers), so a row reads the same from
/// SQLite and PostgreSQL and copies from one to the other unchanged.
public enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case text(String)
    case blob([UInt8])

    public static func optional(_ text: String?) -> SQLValue { text.map(SQLValue.text) ?? .null }
    public static func optional(_ value: Int64?) -> SQLValue { value.map(SQLValue.integer) ?? .null }
    public static func flag(_ value: Bool) -> SQLValue { .integer(value ? 1 : 0) }
}

extension SQLValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
}

/// A row of a result, its values read by column name.
public struct SQLRow: Sendable {
    public let columns: [String]
    public let values: [SQLValue]

    public init(columns: [String], values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    /// The value of a column; a missing column is a bug in the query, reported as damage.
    public subscript(_ name: String) -> SQLValue {
        guard let index = columns.firstIndex(of: name) else { return .null }
        return values[index]
    }

    public func text(_ name: String) throws -> String {
        guard case let .text(value) = self[name] else { throw StoreFailure.damaged("column \(name) is not text") }
        return value
    }

    public func optionalText(_ name: String) throws -> String? {
        switch self[name] {
        case .null: nil
        case let .text(value): value
        default: throw StoreFailure.damaged("column \(name) is not text")
        }
    }

    public func integer(_ name: String) throws -> Int64 {
        guard case let .integer(value) = self[name] else { throw StoreFailure.damaged("column \(name) is not an integer") }
        return value
    }

    public func optionalInteger(_ name: String) throws -> Int64? {
        switch self[name] {
        case .null: nil
        case let .integer(value): value
        default: throw StoreFailure.damaged("column \(name) is not an integer")
        }
    }

    public func blob(_ name: String) throws -> [UInt8] {
        guard case let .blob(value) = self[name] else { throw StoreFailure.damaged("column \(name) is not a blob") }
        return value
    }

    public func optionalBlob(_ name: String) throws -> [UInt8]? {
        switch self[name] {
        case .null: nil
        case let .blob(value): value
        default: throw StoreFailure.damaged("column \(name) is not a blob")
        }
    }

    public func flag(_ name: String) throws -> Bool {
        try integer(name) != 0
    }
}

/// The SQL a database speaks where the two differ.
public enum SQLDialect: Sendable {
    case sqlite
    case postgres

    /// Appended to a SELECT that must lock its rows until the transaction ends; SQLite's write
    /// transactions are exclusive already.
    public var forUpdate: String {
        self == .postgres ? " FOR UPDATE" : ""
    }

    /// A FROM item that yields each string of the JSON array in `column` as `alias.value`.
    func jsonStrings(_ column: String, as alias: String) -> String {
        switch self {
        case .postgres: "json_array_elements_text(\(column)::json) AS \(alias)(value)"
        case .sqlite: "json_each(\(column)) AS \(alias)"
        }
    }

    /// A condition that holds for `rows` keys of `columns`, bound in that order, written so the
    /// database answers it from the key's index: PostgreSQL joins `(a, b) IN (VALUES …)`
    /// against it; SQLite plans that as a scan of the whole table, and answers
    /// `(a = ? AND b = ?) OR …` from the index.
    func matching(_ columns: [String], rows: Int) -> String {
        switch self {
        case .postgres:
            return "(" + columns.joined(separator: ", ") + ") IN (" + SQL.values(rows: rows, columns: columns.count) + ")"
        case .sqlite:
            let one = "(" + columns.map { "\($0) = ?" }.joined(separator: " AND ") + ")"
            return Array(repeating: one, count: rows).joined(separator: " OR ")
        }
    }
}

/// One transaction's connection. Statements are written with `?` placeholders.
public protocol SQLSession: Sendable {
    /// Runs a statement that returns rows (a SELECT, or a write with RETURNING).
    func query(_ sql: String, _ arguments: [SQLValue]) async throws -> [SQLRow]
    /// Runs a statement for its effect.
    func execute(_ sql: String, _ arguments: [SQLValue]) async throws
}

extension SQLSession {
    public func query(_ sql: String) async throws -> [SQLRow] { try await query(sql, []) }
    public func execute(_ sql: String) async throws { try await execute(sql, []) }
}

/// A database the server's store runs on: SQLite through GRDB, or PostgreSQL through postgres-nio.
public protocol SQLDatabase: Sendable {
    var dialect: SQLDialect { get }
    /// Where it is, without any secret.
    var location: String { get }
    /// How many parameters one statement may bind.
    var maxParameters: Int { get }
    /// Runs `body` in a read transaction that sees one consistent snapshot.
    func read<T: Sendable>(_ body: @Sendable (any SQLSession) async throws -> T) async throws -> T
    /// Runs `body` in a write transaction, committed before it returns, and run again from the
    /// start when concurrent writers collide. The commit waits for the disk unless told not to:
    /// then a crash may lose the transaction, never damage the database.
    func write<T: Sendable>(waitingForTheDisk: Bool, _ body: @Sendable (any SQLSession) async throws -> T) async throws -> T
    /// Runs `body` outside any transaction: each statement sees the database as it finds it,
    /// not one snapshot for all. On PostgreSQL that saves a BEGIN and a COMMIT, two round trips;
    /// SQLite reads in a transaction anyway.
    func readEach<T: Sendable>(_ body: @Sendable (any SQLSession) async throws -> T) async throws -> T
    /// Runs one writing statement as a transaction of its own, committed durably before it
    /// returns unless the statement itself says otherwise, and run again when concurrent writers
    /// collide. On PostgreSQL that is one round trip, where `write` adds a BEGIN and a COMMIT.
    func writeStatement(_ sql: String, _ arguments: [SQLValue]) async throws -> [SQLRow]
    /// What the database says of its own integrity.
    func integrityCheck() async throws -> [String]
    /// Whether it answers now.
    func ping() async -> Bool
    /// Regular upkeep while serving: SQLite copies its write-ahead log into the database.
    func maintain() async throws
    func close() async
}

extension SQLDatabase {
    /// Runs `body` in a write transaction, committed durably before it returns.
    public func write<T: Sendable>(_ body: @Sendable (any SQLSession) async throws -> T) async throws -> T {
        try await write(waitingForTheDisk: true, body)
    }
}

public enum SQL {
    /// The chunks a list of `count` items is sent in, one statement each, binding at most
    /// `parameters` values of `columns` per item.
    ///
    /// For SQLite (`fewShapes`): whole chunks of the largest power of two that fits (at most 256
    /// items), then the rest by its binary digits (100 items: 64, 32 and 4). A statement's text
    /// changes with its number of items and the SQLite connection prepares and keeps every text
    /// it meets, so the chunks come in at most nine sizes; a remainder of any size prepared up
    /// to 500 texts per statement, each kept for the connection's life. For PostgreSQL, which
    /// parses every statement it is sent and where each statement is a round trip: chunks of up
    /// to 500 items, the last one holding the rest.
    public static func chunks(of count: Int, columns: Int, parameters: Int, fewShapes: Bool) -> [Range<Int>] {
        guard fewShapes else {
            let size = max(1, min(500, parameters / max(columns, 1)))
            return stride(from: 0, to: count, by: size).map { $0..<min($0 + size, count) }
        }
        let fits = max(1, min(256, parameters / max(columns, 1)))
        var largest = 1
        while largest * 2 <= fits { largest *= 2 }
        var chunks: [Range<Int>] = []
        var start = 0
        while count - start >= largest {
            chunks.append(start..<start + largest)
            start += largest
        }
        var size = largest / 2
        while start < count {
            if count - start >= size {
                chunks.append(start..<start + size)
                start += size
            }
            size /= 2
        }
        return chunks
    }

    /// `(?, ?, …)` for one row of `columns` values.
    static func tuple(_ columns: Int) -> String {
        "(" + Array(repeating: "?", count: columns).joined(separator: ", ") + ")"
    }

    /// `?, ?, …` for a list of `count` values.
    static func list(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }

    /// `VALUES (?, ?), (?, ?)…` for `rows` rows of `columns` values.
    static func values(rows: Int, columns: Int) -> String {
        "VALUES " + Array(repeating: tuple(columns), count: rows).joined(separator: ", ")
    }
}
