import Foundation
import Logging
import ProvidentCrypto
import ProvidentDomain
import ProvidentServerCore
import ProvidentServerPostgres
import ProvidentServerSQLite
import ProvidentServerStore
import ProvidentSync
import ProvidentTestSupport
import Testing

/// The databases the core runs on; every test of the core runs on both.
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    var testDescription: String { rawValue }
}

/// A clock the test moves by hand.
final class TestClock: @unchecked Sendable {
    private var millis: Int64
    private let lock = NSLock()

    init(_ start: Instant = Instant(millisSinceEpoch: Int64(Date().timeIntervalSince1970 * 1_000))) {
        millis = start.millisSinceEpoch
    }

    var now: Instant {
        lock.lock()
        defer { lock.unlock() }
        return Instant(millisSinceEpoch: millis)
    }

    func advance(seconds: Int64) {
        lock.lock()
        millis += seconds * 1_000
        lock.unlock()
    }
}

/// A database of its own for one test, on SQLite (a temporary file) or PostgreSQL (a database
/// in the test run's cluster), removed at the end.
final class TestDatabase: @unchecked Sendable {
    let backend: Backend
    /// The file path or the postgres:// URL.
    let location: String
    private let folder: String
    private let cluster: PostgresCluster?

    init(_ backend: Backend) throws {
        self.backend = backend
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("provident-core-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        switch backend {
        case .sqlite:
            cluster = nil
            location = folder + "/provident.sqlite"
        case .postgres:
            let cluster = try PostgresCluster.current()
            self.cluster = cluster
            location = try cluster.createDatabase()
        }
    }

    deinit {
        if let cluster { cluster.dropDatabase(location) }
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Opens a store on the database, as one server process would: call twice for two servers.
    func open(create: Bool = true, password: String? = nil) async throws -> SQLServerStore {
        switch backend {
        case .sqlite:
            return SQLServerStore(database: try SQLiteDatabase.open(path: location, create: create))
        case .postgres:
            let cluster = try PostgresCluster.current()
            let name = String(location.split(separator: "/").last ?? "")
            return SQLServerStore(database: try await PostgresDatabase.open(
                // A generous wait for a connection: the suites load two cores; the lease timeout has tests of its own.
                PostgresDatabase.Settings(host: "127.0.0.1", port: cluster.port, user: "provident", password: password ?? cluster.password,
                                          database: name, leaseTimeout: .seconds(60)),
                create: create, logger: Logger(label: "test")))
        }
    }
}

/// A server core on a test database, with its own key and a hand-moved clock.
struct TestServer: Sendable {
    let core: ServerCore
    let clock: TestClock
    let database: TestDatabase

    static let quiet: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }()

    /// The policy of the tests: the defaults, with lump deposits allowed so that a test can record many.
    static let policy: Policy = {
        var policy = Policy.defaults
        policy.lumpAllowed = true
        return policy
    }()

    /// A server on a new database of `backend`.
    static func make(_ backend: Backend, policy: Policy = TestServer.policy, settings: ServerSettings = ServerSettings()) async throws -> TestServer {
        let database = try TestDatabase(backend)
        let clock = TestClock()
        let core = try await ServerCore.start(store: try await database.open(), key: SigningKey.generate(), policy: policy,
                                              policyText: policy.yaml, settings: settings, clock: { clock.now }, logger: quiet)
        return TestServer(core: core, clock: clock, database: database)
    }

    /// A device enrolled with an invite for `role` (of `branch`), its clock the server's.
    func invitedDevice(_ role: DeviceRole, branch: String? = nil) async throws -> TestDevice {
        let (_, code) = try await core.createInvite(role: role, branch: branch, validFor: 3_600)
        let device = TestDevice(now: { clock.now })
        _ = try await core.enrol(device, "invite", code: code.value)
        return device
    }

    /// A second server process on the same database, with the same key.
    func another() async throws -> TestServer {
        let core = try await ServerCore.start(store: try await database.open(), key: core.key, policy: core.policy, policyText: core.policyText,
                                              settings: core.settings, clock: { clock.now }, logger: Self.quiet)
        return TestServer(core: core, clock: clock, database: database)
    }

    func close() async {
        await core.store.close()
    }
}
