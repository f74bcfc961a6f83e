import AsyncHTTPClient
import Foundation
import GRDB
import NIOCore
import NIOHTTP1
import ProvidentCrypto
import ProvidentSync
import ProvidentTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Which database the end-to-end suites run on, from PROVIDENT_TEST_BACKEND: `sqlite` (the
/// default), `postgres`, or `postgres-2`: two servers on one PostgreSQL database behind a
/// round-robin haproxy, so that a device's requests alternate between them.
enum TestBackend: String {
    case sqlite
    case postgres
    case postgresTwoServers = "postgres-2"

    static let current = TestBackend(rawValue: ProcessInfo.processInfo.environment["PROVIDENT_TEST_BACKEND"] ?? "") ?? .sqlite
}

/// The real `provident-server` binary, serving on 127.0.0.1 from a temporary database: a SQLite
/// file, or a PostgreSQL database of its own in the test run's cluster (see `TestBackend`).
final class ServerProcess: @unchecked Sendable {
    static var binary: String {
        URL(fileURLWithPath: CLI.binary).deletingLastPathComponent().appendingPathComponent("provident-server").path
    }

    let folder: String
    let policyFile: String?
    let extraEnvironment: [String: String]
    let backend: TestBackend
    /// The database every server of this test serves: a file path or a postgres:// URL.
    let database: String
    private let cluster: PostgresCluster?
    /// The port clients use: the server's, or the proxy's in front of two.
    private(set) var port = 0
    private var instances: [(process: Process?, port: Int)] = []
    private var proxy: Process?
    /// PostgreSQL databases `backup` made, dropped with the test's.
    private var backups: [String] = []

    /// The address clients use.
    var url: String { "\(scheme)://127.0.0.1:\(port)" }
    /// `https` when the environment gives the server a certificate.
    var scheme: String { extraEnvironment["PROVIDENT_SERVER_TLS_CERTIFICATE"] == nil ? "http" : "https" }

    /// `sqlitePath` puts the SQLite database elsewhere than in the server's own folder (on a
    /// small disk, say).
    init(policy: String? = nil, environment: [String: String] = [:], backend: TestBackend = .current, sqlitePath: String? = nil) throws {
        extraEnvironment = environment
        self.backend = backend
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("provident-server-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if let policy {
            policyFile = folder + "/policy.yaml"
            try policy.write(toFile: folder + "/policy.yaml", atomically: true, encoding: .utf8)
        } else {
            policyFile = nil
        }
        switch backend {
        case .sqlite:
            cluster = nil
            database = sqlitePath ?? folder + "/provident.sqlite"
        case .postgres, .postgresTwoServers:
            let cluster = try PostgresCluster.current()
            self.cluster = cluster
            database = try cluster.createDatabase()
        }
        instances = Array(repeating: (nil, 0), count: backend == .postgresTwoServers ? 2 : 1)
        try start()
    }

    deinit {
        for instance in instances { instance.process.map { kill($0.processIdentifier, SIGKILL); $0.waitUntilExit() } }
        proxy.map { kill($0.processIdentifier, SIGKILL); $0.waitUntilExit() }
        if let cluster {
            cluster.dropDatabase(database)
            for copy in backups { cluster.dropDatabase("/" + copy) }
        }
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// What every command of this test's server needs: the database's password, the shared key.
    var serverEnvironment: [String: String] {
        var environment = ["PATH": "/usr/bin:/bin", "PROVIDENT_SERVER_KEY_PATH": folder + "/server.key"]
        if let cluster { environment["PGPASSWORD"] = cluster.password }
        return environment
    }

    /// Starts the servers that are not running (on the same ports as before, after a crash) and
    /// waits until they listen; with two, the proxy in front of them the first time.
    func start() throws {
        for index in instances.indices where instances[index].process == nil {
            instances[index] = try launch(port: instances[index].port)
        }
        if backend == .postgresTwoServers {
            if proxy == nil { try startProxy() }
        } else {
            port = instances[0].port
        }
    }

    private func launch(port: Int) throws -> (Process, Int) {
        let output = folder + "/stdout-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: output, contents: nil)
        if !FileManager.default.fileExists(atPath: folder + "/stderr") { FileManager.default.createFile(atPath: folder + "/stderr", contents: nil) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["serve", "--database", database, "--port", String(port)] + (policyFile.map { ["--policy", $0] } ?? [])
        process.environment = serverEnvironment.merging(["LOG_LEVEL": "warning"]) { _, new in new }.merging(extraEnvironment) { _, new in new }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        let errors = try FileHandle(forWritingTo: URL(fileURLWithPath: folder + "/stderr"))
        errors.seekToEndOfFile()
        process.standardError = errors
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            if let match = text.firstMatch(of: /listening on https?:\/\/127\.0\.0\.1:([0-9]+)/), let port = Int(match.output.1) {
                return (process, port)
            }
            guard process.isRunning else { break }
            usleep(20_000)
        }
        let errorsText = (try? String(contentsOfFile: folder + "/stderr", encoding: .utf8)) ?? ""
        throw ServerFailure.didNotStart(errorsText)
    }

    /// A round-robin haproxy in front of the servers: each request goes to the next server, and a
    /// request that cannot reach one is sent to the other.
    private func startProxy() throws {
        port = try ProvidentTestSupport.freePort()
        let configuration = folder + "/haproxy.cfg"
        try """
            global
              maxconn 2000
            defaults
              mode http
              timeout connect 2s
              timeout client 120s
              timeout server 120s
              retries 3
              option redispatch
              option http-server-close
            frontend provident
              bind 127.0.0.1:\(port)
              default_backend servers
            backend servers
              balance roundrobin
              option httpchk GET /health
              server one 127.0.0.1:\(instances[0].port) check inter 300 fall 1 rise 1
              server two 127.0.0.1:\(instances[1].port) check inter 300 fall 1 rise 1

            """.write(toFile: configuration, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/haproxy")
        process.arguments = ["-f", configuration, "-db"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        proxy = process
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if (try? Self.get(url + "/health")) == 200 { return }
            usleep(50_000)
        }
        throw ServerFailure.didNotStart("haproxy did not start")
    }

    static func get(_ url: String) throws -> Int {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2", url]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Int(String(decoding: data, as: UTF8.self)) ?? 0
    }

    /// Kills every server at once (SIGKILL), as a crash or power cut would.
    func crash() {
        for index in instances.indices { crash(index) }
    }

    /// Kills one server (SIGKILL); with two, the other goes on serving.
    func crash(_ index: Int) {
        guard let process = instances[index].process else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        instances[index].process = nil
    }

    /// A copy of the database as it is now, as a backup would take it: the servers are stopped
    /// for the copy and started again. Returns what `restore` takes.
    func backup() throws -> String {
        crash()
        defer { try? start() }
        let name = "backup-\(UUID().uuidString.prefix(8))"
        if let cluster {
            try Self.closeSessions(cluster, database)
            let copy = "b_" + name.dropFirst(7)
            try cluster.psql("CREATE DATABASE \(copy) TEMPLATE \(Self.name(of: database))")
            backups.append(copy)
            return copy
        }
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: database + suffix) {
            try FileManager.default.copyItem(atPath: database + suffix, toPath: folder + "/" + name + suffix)
        }
        return name
    }

    /// Puts a copy taken by `backup` back in place of the database and starts the servers on it,
    /// with the same key and address, as an operator restoring a backup would.
    func restore(_ copy: String) throws {
        crash()
        if let cluster {
            try Self.closeSessions(cluster, database)
            try cluster.psql("DROP DATABASE \(Self.name(of: database)) WITH (FORCE)")
            try cluster.psql("CREATE DATABASE \(Self.name(of: database)) TEMPLATE \(copy)")
        } else {
            for suffix in ["", "-wal", "-shm"] {
                try? FileManager.default.removeItem(atPath: database + suffix)
                if FileManager.default.fileExists(atPath: folder + "/" + copy + suffix) {
                    try FileManager.default.copyItem(atPath: folder + "/" + copy + suffix, toPath: database + suffix)
                }
            }
        }
        try start()
    }

    private static func name(of url: String) -> String {
        String(url.split(separator: "/").last ?? "")
    }

    /// Ends what sessions a killed server left on its database, so it can be copied.
    private static func closeSessions(_ cluster: PostgresCluster, _ url: String) throws {
        try cluster.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(name(of: url))' AND pid <> pg_backend_pid()")
    }

    /// Changes the database behind the servers' backs, as someone with access to it could, in
    /// one transaction; `query` answers the first column of the first row.
    func tamper(_ statements: [String]) throws {
        if let cluster {
            try cluster.psql("BEGIN; " + statements.joined(separator: "; ") + "; COMMIT", database: Self.name(of: database))
        } else {
            let queue = try DatabaseQueue(path: database)
            try queue.write { db in for statement in statements { try db.execute(sql: statement) } }
        }
    }

    func query(_ sql: String) throws -> String {
        if let cluster { return try cluster.value(sql, database: Self.name(of: database)) }
        let queue = try DatabaseQueue(path: database)
        return try queue.read { db in
            switch try DatabaseValue.fetchOne(db, sql: sql)?.storage {
            case let .int64(value): String(value)
            case let .string(text): text
            default: ""
            }
        }
    }

    /// Runs an administration command against the database.
    @discardableResult
    func admin(_ arguments: [String], environment extra: [String: String] = [:]) throws -> CLI.Result {
        try runProgram(Self.binary, arguments + ["--database", database], environment: serverEnvironment.merging(extra) { _, new in new })
    }

    /// A one-time invite code for a staff laptop.
    func invite(role: String, branch: String? = nil) throws -> String {
        let result = try admin(["device", "invite", "--role", role] + (branch.map { ["--branch", $0] } ?? []))
        #expect(result.status == 0, "\(result.stderr)")
        return String(try #require(result.stdout.firstMatch(of: /[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{5}/)).output)
    }

    /// The state digest of everything the server holds.
    func digest() throws -> String {
        let result = try admin(["check"])
        return String(try #require(result.stdout.firstMatch(of: /State digest: ([0-9a-f]{64})/)).output.1)
    }

    enum ServerFailure: Error {
        case didNotStart(String)
    }
}

extension CLI {
    /// The state digest of the device's replica, after checking it is consistent.
    func digest() throws -> String {
        let result = try run(["check", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: result.output) as? [String: Any])
        return try #require(object["digest"] as? String)
    }

    /// Syncs, expecting success.
    @discardableResult
    func sync() throws -> CLI.Result {
        let result = try sign(["sync"])
        #expect(result.status == 0, "sync failed: \(result.stderr)")
        return result
    }

    /// The device's signing key, unsealed with the test passphrase.
    func signingKey() throws -> SigningKey {
        try SealedKeyFile.open(try SealedKeyFile.read(from: dataDirectory + "/device.key"),
                               passphrase: SecretBytes(utf8: "correct horse 电池 staple"))
    }
}

/// A client of the sync protocol written only from the spec's building blocks (canonical
/// encoding, envelopes, request signatures), the way an independent implementation would be.
struct RawClient {
    let url: String
    let key: SigningKey

    var device: DeviceID { DeviceID(publicKey: key.publicKey) }

    struct Answer {
        let status: Int
        let body: CanonicalValue?
        var code: String? { body?.objectValue?["code"]?.stringValue }
    }

    /// Sends a signed request; `nonce` and `date` may be fixed to build replays and skews.
    func send(_ method: HTTPMethod, _ path: String, query: String = "", body: CanonicalValue? = nil,
              nonce: String = Hex.encode(SecureRandom.bytes(count: 16)), dateMillis: Int64? = nil) async throws -> Answer {
        let bytes = try body.map { try CanonicalEncoder.encode($0) } ?? []
        let date = dateMillis ?? Int64(Date().timeIntervalSince1970 * 1_000)
        let signature = RequestSignature(method: method.rawValue, path: path, query: query, device: device, dateMillis: date,
                                         nonce: nonce, body: bytes)
        var request = HTTPClientRequest(url: url + path + query)
        request.method = method
        for header in signature.headers(signedWith: key) { request.headers.add(name: header.name, value: header.value) }
        if method == .POST { request.body = .bytes(ByteBuffer(bytes: bytes)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let answer = Array(try await response.body.collect(upTo: 64 * 1_048_576).readableBytesView)
        return Answer(status: Int(response.status.code), body: try? CanonicalDecoder.decode(answer, limit: 64 * 1_048_576))
    }

    func push(_ changeSets: [SignedChangeSet]) async throws -> Answer {
        try await send(.POST, "/v1/push", body: .object(["changeSets": .array(changeSets.map(\.envelopeValue))]))
    }
}
