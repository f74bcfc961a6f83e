import Foundation
import GRDB
import GRDBSQLite
import Synchronization
import ProvidentServerCore
import ProvidentStore
import ProvidentServerStore

/// The server's store on one SQLite file (WAL), through GRDB: the embedded default. One
/// writer at a time (GRDB's writer connection), readers in parallel on their own connections,
/// `synchronous=FULL` on the writer so a commit is on disk before the push is answered.
public final class SQLiteDatabase: SQLDatabase {
    public let path: String
    let pool: DatabasePool
    /// A connection of its own that copies the write-ahead log into the database while the
    /// writer goes on, so the writer's checkpoints on commit find little left to copy.
    private let checkpointer: DatabaseQueue

    public var dialect: SQLDialect { .sqlite }
    public var location: String { path }
    public var maxParameters: Int { 32_766 }

    /// Opens the database at `path`, creating it (and its folder, 0700, and the file, 0600)
    /// when `create` is set, and brings its schema up to date.
    public static func open(path: String, create: Bool) throws -> SQLiteDatabase {
        let fileManager = FileManager.default
        if !fileManager.fileExists(atPath: path) {
            guard create else { throw StoreFailure.missing(location: path) }
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
            do {
                try fileManager.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw StoreFailure.badLocation(path)
            }
            // The database holds ID and phone numbers: only its owner may read it. SQLite gives
            // the -wal and -shm files the database file's mode.
            guard fileManager.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw StoreFailure.badLocation(path)
            }
        }
        opened.withLock { _ = $0.insert(path) }
        var configuration = Configuration()
        configuration.journalMode = .wal
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // The server reads the same hot pages over and over, and a push dirties hundreds.
            // `maintain()` copies the log into the database ten times a second from a
            // connection of its own, beside the writer, but only the writer starts the log
            // over, after a checkpoint of its own that finds the log copied to its end: while
            // pushes keep coming that is when the log reaches this limit (about 120 MB). At
            // 10,000 pages the writer's checkpoints took 7 % of its time under load; with no
            // limit the log grows without end.
            try db.execute(sql: "PRAGMA cache_size = -65536")
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 30000")
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        do {
            let pool = try DatabasePool(path: path, configuration: configuration)
            try pool.writeWithoutTransaction { db in
                // GRDB's WAL set-up sets NORMAL; FULL syncs every commit. Read back: what counts
                // is the setting in force.
                try db.execute(sql: "PRAGMA synchronous = FULL")
                let level = try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? 0
                guard level == 2 else { throw StoreFailure.damaged("PRAGMA synchronous is \(level), not FULL") }
            }
            if try pool.read({ try SQLiteSchema.migrator.hasBeenSuperseded($0) }) { throw StoreFailure.newerSchema(location: path) }
            if create {
                try SQLiteSchema.migrator.migrate(pool)
            } else if try !pool.read({ try SQLiteSchema.migrator.hasCompletedMigrations($0) }) {
                throw StoreFailure.olderSchema(location: path)
            }
            var checkpointing = Configuration()
            checkpointing.busyMode = .timeout(10)
            return SQLiteDatabase(path: path, pool: pool, checkpointer: try DatabaseQueue(path: path, configuration: checkpointing))
        } catch let error as StoreFailure {
            throw error
        } catch let error as DatabaseError {
            throw Self.translate(error)
        }
    }

    private init(path: String, pool: DatabasePool, checkpointer: DatabaseQueue) {
        self.path = path
        self.pool = pool
        self.checkpointer = checkpointer
    }

    /// The `synchronous` setting in force on the writer connection (2 is FULL).
    public func synchronousLevel() async throws -> Int {
        try await pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? 0 }
    }

    public func read<T: Sendable>(_ body: @Sendable (any SQLSession) async throws -> T) async throws -> T {
        let session = SQLiteSession(writes: false)
        // GRDB opens a read transaction around the closure: the session sees one snapshot.
        return try await session.run(body) { serve in
            self.pool.asyncRead { connection in serve(connection) }
        }
    }

    public func write<T: Sendable>(waitingForTheDisk: Bool, _ body: @Sendable (any SQLSession) async throws -> T) async throws -> T {
        let session = SQLiteSession(writes: true)
        return try await session.run(body) { serve in
            self.pool.asyncWriteWithoutTransaction { db in
                // SQLite takes the level only outside a transaction, so it is set before each one:
                // FULL syncs the log on commit; NORMAL does not, and the next FULL commit's sync
                // makes the log durable up to it. A crash may lose a NORMAL commit, but never
                // leaves the database damaged (WAL).
                do {
                    try db.execute(sql: waitingForTheDisk ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL")
                    try db.beginTransaction(.immediate)
                } catch {
                    serve(.failure(error))
                    return
                }
                serve(.success(db))
                // Between transactions the level in force stays FULL, as `synchronousLevel` reads
                // it; should this fail, the next durable write sets FULL before it begins anyway.
                if !waitingForTheDisk { try? db.execute(sql: "PRAGMA synchronous = FULL") }
            }
        }
    }

    public func readEach<T: Sendable>(_ body: @Sendable (any SQLSession) async throws -> T) async throws -> T {
        // One snapshot for all the statements: more than `readEach` promises, at no cost here.
        try await read(body)
    }

    public func writeStatement(_ sql: String, _ arguments: [SQLValue]) async throws -> [SQLRow] {
        try await write(waitingForTheDisk: true) { try await $0.query(sql, arguments) }
    }

    /// Copies the database into a new file at `destination`, consistently, while writers go on:
    /// SQLite's online backup, read from one snapshot.
    public func backup(to destination: String) throws {
        do {
            let target = try DatabaseQueue(path: destination)
            try pool.backup(to: target)
            try target.close()
        } catch let error as DatabaseError {
            throw Self.translate(error)
        }
    }

    public func integrityCheck() async throws -> [String] {
        do {
            return try await pool.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
        } catch let error as DatabaseError {
            throw Self.translate(error)
        }
    }

    public func ping() async -> Bool {
        (try? await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }) == 1
    }

    /// Copies what it can of the write-ahead log into the database without waiting for readers
    /// or the writer (a passive checkpoint).
    public func maintain() async throws {
        _ = try await checkpointer.writeWithoutTransaction { db in try db.checkpoint(.passive) }
    }

    public func close() async {
        try? pool.close()
        try? checkpointer.close()
    }

    /// The databases this process opened, to tell a full disk from other I/O errors.
    private static let opened = Mutex<Set<String>>([])

    /// Whether the disk holding one of this process's databases has (almost) no space left.
    static func aDiskIsFull() -> Bool {
        opened.withLock { paths in paths.contains { ReplicaDatabase.diskIsFull(under: $0) } }
    }

    /// What a SQLite error means for the server.
    static func translate(_ error: DatabaseError) -> StoreFailure {
        switch error.resultCode {
        case .SQLITE_FULL: .full
        case .SQLITE_READONLY: .readOnly
        case .SQLITE_BUSY, .SQLITE_LOCKED: .busy
        case .SQLITE_IOERR: aDiskIsFull() ? .full : .io
        case .SQLITE_NOTADB, .SQLITE_CORRUPT: .damaged("not a SQLite database, or corrupt")
        case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_AUTH: .unavailable(location: "the database file")
        default: .damaged("SQLite error \(error.resultCode.rawValue)")
        }
    }
}

/// One transaction on a GRDB connection, used from async code. GRDB runs a database access on
/// its own thread and hands out the connection only inside a closure; the closure here stays
/// open for the transaction's length. While it runs, GRDB's writer is busy: that is the
/// exclusive write transaction.
///
/// The session is also the task executor of the transaction's body: the body's code runs on
/// the connection's thread, inside that closure, so each statement runs at once where it is
/// asked for. Handing every statement to GRDB's thread and its rows back cost two thread
/// switches per statement, about as much as the statements themselves on a pull. A statement
/// asked for from another thread (code of the body that runs elsewhere, an actor's) is still
/// handed over and answered through a continuation.
final class SQLiteSession: SQLSession, TaskExecutor, @unchecked Sendable {
    private enum Work {
        /// A piece of the body's task, to run on the connection's thread.
        case job(UnownedJob)
        case statement(String, [SQLValue], CheckedContinuation<[SQLRow], any Error>)
        case finish(commit: Bool, CheckedContinuation<Void, any Error>)
    }

    /// Whether this session owns a write transaction, which it commits or rolls back at the end;
    /// GRDB ends a read transaction itself.
    private let writes: Bool
    private let condition = NSCondition()
    private var work: [Work] = []
    /// Set once the transaction is finished or the connection's closure has returned (or never
    /// ran): nothing more is served.
    private var closed: (any Error)?
    private var ready: CheckedContinuation<Void, any Error>?
    private var started = false
    /// The thread serving the session and its connection, while it serves.
    private var serving: (thread: pthread_t, db: Database)?

    init(writes: Bool) {
        self.writes = writes
    }

    func query(_ sql: String, _ arguments: [SQLValue]) async throws -> [SQLRow] {
        if let db = connectionHere() { return try Self.answer { try Self.run(sql, arguments, in: db) } }
        return try await withCheckedThrowingContinuation { send(.statement(sql, arguments, $0)) }
    }

    func execute(_ sql: String, _ arguments: [SQLValue]) async throws {
        _ = try await query(sql, arguments)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        send(.job(UnownedJob(job)))
    }

    /// The connection, when the calling code runs on the thread serving it.
    private func connectionHere() -> Database? {
        condition.lock()
        defer { condition.unlock() }
        guard let serving, pthread_equal(serving.thread, pthread_self()) != 0 else { return nil }
        return serving.db
    }

    /// Asks for the connection with `access` (which calls `serve` on GRDB's thread once it has
    /// it, or with why not), runs `body` against this session on that thread, then commits (for
    /// writes) or ends the access.
    ///
    /// The connection is asked for at once, from the calling thread, and the body waits for it
    /// with this session as its executor: when the connection's thread takes the access, the body
    /// is already queued there. Nothing on the way passes through Swift's shared threads, which
    /// under load are busy checking signatures for milliseconds at a time while the writer,
    /// the one thing that cannot run twice at once, would wait for them.
    func run<T: Sendable>(_ body: @Sendable (any SQLSession) async throws -> T,
                          access: (@escaping @Sendable (Result<Database, any Error>) -> Void) -> Void) async throws -> T {
        access { connection in
            switch connection {
            case let .success(db):
                self.serve(db)
                self.close(with: nil)
            case let .failure(error):
                self.close(with: error)
            }
        }
        do {
            return try await withTaskExecutorPreference(self) {
                try await withCheckedThrowingContinuation { continuation in
                    self.condition.lock()
                    if self.started {
                        self.condition.unlock()
                        continuation.resume()
                    } else if let closed = self.closed {
                        self.condition.unlock()
                        continuation.resume(throwing: closed)
                    } else {
                        self.ready = continuation
                        self.condition.unlock()
                    }
                }
                do {
                    let result = try await body(self)
                    try await self.finish(commit: true)
                    return result
                } catch {
                    try? await self.finish(commit: false)
                    throw error
                }
            }
        } catch let error as DatabaseError {
            throw SQLiteDatabase.translate(error)
        }
    }

    /// Commits or rolls back (a read transaction GRDB ends itself) and ends the session: at once
    /// on the connection's thread, otherwise by handing it over. Nothing once it is over.
    private func finish(commit: Bool) async throws {
        guard let db = connectionHere() else {
            try await withCheckedThrowingContinuation { send(.finish(commit: commit, $0)) }
            return
        }
        stopServing()
        try Self.answer { try self.end(db, commit: commit) }
    }

    /// Nothing more is served: the session is finished.
    private func stopServing() {
        condition.lock()
        closed = closed ?? CancellationError()
        serving = nil
        condition.unlock()
    }

    private func end(_ db: Database, commit: Bool) throws {
        do {
            if writes, db.isInsideTransaction {
                if commit { try db.commit() } else { try db.rollback() }
            }
        } catch {
            if writes, db.isInsideTransaction { try? db.rollback() }
            throw error
        }
    }

    /// Runs `statement`, with a database error said as the server's store says it.
    private static func answer<T>(_ statement: () throws -> T) throws -> T {
        do {
            return try statement()
        } catch let error as DatabaseError {
            throw SQLiteDatabase.translate(error).or(error)
        }
    }

    private func send(_ item: Work) {
        condition.lock()
        if let closed {
            condition.unlock()
            switch item {
            case let .statement(_, _, continuation): continuation.resume(throwing: closed)
            case let .finish(_, continuation): continuation.resume()
            // The transaction is over: whatever is left of the task runs elsewhere.
            case let .job(job): globalConcurrentExecutor.enqueue(job)
            }
            return
        }
        work.append(item)
        condition.signal()
        condition.unlock()
    }

    private func close(with error: (any Error)?) {
        condition.lock()
        let waiting = ready
        ready = nil
        if closed == nil { closed = error ?? CancellationError() }
        serving = nil
        let leftover = work
        work = []
        condition.unlock()
        waiting?.resume(throwing: error ?? CancellationError())
        for item in leftover {
            switch item {
            case let .statement(_, _, continuation): continuation.resume(throwing: error ?? CancellationError())
            case let .finish(_, continuation): continuation.resume()
            case let .job(job): globalConcurrentExecutor.enqueue(job)
            }
        }
    }

    /// Runs on GRDB's thread until the session is finished: the body's code, and the statements
    /// and the end handed over from elsewhere.
    private func serve(_ db: Database) {
        condition.lock()
        started = true
        serving = (pthread_self(), db)
        let waiting = ready
        ready = nil
        condition.unlock()
        waiting?.resume()
        while true {
            condition.lock()
            while work.isEmpty && closed == nil { condition.wait() }
            guard !work.isEmpty else {
                // Finished on this thread by the body.
                condition.unlock()
                return
            }
            let item = work.removeFirst()
            condition.unlock()
            switch item {
            case let .job(job):
                job.runSynchronously(on: asUnownedTaskExecutor())
            case let .statement(sql, arguments, continuation):
                do {
                    continuation.resume(returning: try Self.answer { try Self.run(sql, arguments, in: db) })
                } catch {
                    continuation.resume(throwing: error)
                }
            case let .finish(commit, continuation):
                stopServing()
                do {
                    try Self.answer { try self.end(db, commit: commit) }
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
                return
            }
        }
    }

    /// Runs one statement on the connection through SQLite's own interface: the cached statement
    /// is bound, stepped and read directly. GRDB's arguments and rows cost as much as the
    /// statements of a push themselves (a profile put them at an eighth of the writer's time).
    /// The transaction must still be open: a statement that failed with an error SQLite answers
    /// by rolling the transaction back (a full disk, an I/O error) leaves nothing more to do in it,
    /// so the next statement is refused rather than run on its own.
    private static func run(_ sql: String, _ arguments: [SQLValue], in db: Database) throws -> [SQLRow] {
        let connection = db.sqliteConnection
        guard sqlite3_get_autocommit(connection) == 0 else {
            throw DatabaseError(resultCode: .SQLITE_ABORT, message: "the transaction was rolled back by an earlier error", sql: sql)
        }
        let statement = try db.cachedStatement(sql: sql)
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
        guard Int(sqlite3_bind_parameter_count(handle)) == arguments.count else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "\(arguments.count) arguments for \(sqlite3_bind_parameter_count(handle)) parameters", sql: sql)
        }
        for (offset, value) in arguments.enumerated() {
            let index = CInt(offset + 1)
            let code: CInt = switch value {
            case .null: sqlite3_bind_null(handle, index)
            case let .integer(number): sqlite3_bind_int64(handle, index, number)
            case var .text(text):
                // An empty text is text, not NULL: SQLite needs a pointer for it too.
                text.isEmpty ? sqlite3_bind_text(handle, index, "", 0, transient) : text.withUTF8 { utf8 in
                    utf8.withMemoryRebound(to: CChar.self) { sqlite3_bind_text(handle, index, $0.baseAddress, CInt($0.count), transient) }
                }
            case let .blob(bytes):
                bytes.withUnsafeBytes { raw in
                    // An empty blob is a blob, not NULL: SQLite needs a pointer for it.
                    sqlite3_bind_blob(handle, index, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1), CInt(raw.count), transient)
                }
            }
            guard code == SQLITE_OK else { throw failure(connection, sql) }
        }
        let columns = statement.columnNames
        let width = CInt(columns.count)
        var rows: [SQLRow] = []
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { return rows }
            guard code == SQLITE_ROW else { throw failure(connection, sql) }
            var values: [SQLValue] = []
            values.reserveCapacity(columns.count)
            for column in 0..<width {
                switch sqlite3_column_type(handle, column) {
                case SQLITE_INTEGER:
                    values.append(.integer(sqlite3_column_int64(handle, column)))
                case SQLITE_FLOAT:
                    values.append(.integer(Int64(sqlite3_column_double(handle, column))))
                case SQLITE_TEXT:
                    let text = sqlite3_column_text(handle, column)
                    let count = Int(sqlite3_column_bytes(handle, column))
                    values.append(.text(text.map { String(decoding: UnsafeBufferPointer(start: $0, count: count), as: UTF8.self) } ?? ""))
                case SQLITE_BLOB:
                    let blob = sqlite3_column_blob(handle, column)
                    let count = Int(sqlite3_column_bytes(handle, column))
                    values.append(.blob(blob.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? []))
                default:
                    values.append(.null)
                }
            }
            rows.append(SQLRow(columns: columns, values: values))
        }
    }

    /// The connection's last error, with its extended code.
    private static func failure(_ connection: SQLiteConnection?, _ sql: String) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: sqlite3_extended_errcode(connection)), message: String(cString: sqlite3_errmsg(connection)), sql: sql)
    }

    /// SQLite copies a bound text or blob before the bind call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}

extension StoreFailure {
    /// Keeps the original error where SQLite's code says nothing useful (a constraint broken
    /// is a bug, logged as such, not damage).
    func or(_ original: DatabaseError) -> any Error {
        original.resultCode == .SQLITE_CONSTRAINT ? original : self
    }
}
