import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL cluster for tests, started by `tools/postgres` on 127.0.0.1 with a
/// generated password. `make test` starts one for the whole run and names its folder in
/// `PROVIDENT_TEST_POSTGRES_DIR`; without it, the first test that asks starts one of its own,
/// stopped when the test process exits. Each test takes a database of its own and drops it.
public final class PostgresCluster: Sendable {
    /// The folder `tools/postgres` keeps the cluster in.
    public let folder: String
    /// `postgres://provident@127.0.0.1:PORT/provident`.
    public let url: String
    public let port: Int
    /// The password of the user `provident`.
    public let password: String

    /// Why no cluster is at hand.
    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    /// The repository's root, found from this file's place.
    public static let repository: String = {
        var folder = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { folder.deleteLastPathComponent() }
        return folder.path
    }()

    private static let shared: Result<PostgresCluster, Unavailable> = {
        if let folder = ProcessInfo.processInfo.environment["PROVIDENT_TEST_POSTGRES_DIR"], !folder.isEmpty {
            return Result(catching: { try PostgresCluster(folder: folder) }).mapError { Unavailable(description: "\($0)") }
        }
        let folder = "/tmp/provident-pg-\(UUID().uuidString.prefix(8))"
        let status = run(repository + "/tools/postgres", ["start", folder])
        guard status.code == 0 else {
            return .failure(Unavailable(description: "tools/postgres could not start a cluster: \(status.output)"))
        }
        atexit { PostgresCluster.stopOwn() }
        ownFolder.withLock { $0 = folder }
        return Result(catching: { try PostgresCluster(folder: folder) }).mapError { Unavailable(description: "\($0)") }
    }()

    private static let ownFolder = Mutex<String?>(nil)

    private static func stopOwn() {
        if let folder = ownFolder.withLock({ $0 }) { _ = run(repository + "/tools/postgres", ["stop", folder]) }
    }

    /// The cluster of this test run, started on first use.
    public static func current() throws -> PostgresCluster {
        try shared.get()
    }

    /// A cluster of one test's own, for what would disturb others (restarting it); `stop` it.
    public static func startPrivate() throws -> PostgresCluster {
        let folder = "/tmp/provident-pg-\(UUID().uuidString.prefix(8))"
        let status = run(repository + "/tools/postgres", ["start", folder])
        guard status.code == 0 else { throw Unavailable(description: "tools/postgres could not start a cluster: \(status.output)") }
        return try PostgresCluster(folder: folder)
    }

    /// Stops a private cluster and removes its folder.
    public func stop() {
        _ = Self.run(Self.repository + "/tools/postgres", ["stop", folder])
    }

    private init(folder: String) throws {
        self.folder = folder
        func read(_ name: String) throws -> String {
            try String(contentsOfFile: folder + "/" + name, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        url = try read("url")
        password = try read("password")
        guard let port = Int(try read("port")) else { throw Unavailable(description: "no port in \(folder)") }
        self.port = port
    }

    /// Creates an empty database for one test; returns its URL.
    public func createDatabase() throws -> String {
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        try psql("CREATE DATABASE \(name)")
        return "postgres://provident@127.0.0.1:\(port)/\(name)"
    }

    /// Drops a test's database, closing whatever connections are left.
    public func dropDatabase(_ url: String) {
        guard let name = url.split(separator: "/").last else { return }
        try? psql("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    /// Runs SQL as the cluster's superuser, in database `database`.
    public func psql(_ sql: String, database: String = "postgres") throws {
        let result = Self.run("/usr/bin/psql", ["-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", String(port), "-U", "provident",
                                                "-d", database, "-c", sql], environment: ["PGPASSWORD": password])
        guard result.code == 0 else { throw Unavailable(description: "psql failed: \(result.output)") }
    }

    /// The first column of the first row a query returns, as text.
    public func value(_ sql: String, database: String = "postgres") throws -> String {
        let result = Self.run("/usr/bin/psql", ["-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", String(port), "-U", "provident",
                                                "-d", database, "-c", sql], environment: ["PGPASSWORD": password])
        guard result.code == 0 else { throw Unavailable(description: "psql failed: \(result.output)") }
        return String(result.output.split(separator: "\n").first ?? "")
    }

    /// Stops the server abruptly and leaves it stopped, keeping its data (`resume` starts it again).
    public func halt() throws {
        let result = Self.run(Self.repository + "/tools/postgres", ["halt", folder])
        guard result.code == 0 else { throw Unavailable(description: "halt failed: \(result.output)") }
    }

    /// Starts a halted server again, on the same port.
    public func resume() throws {
        let result = Self.run(Self.repository + "/tools/postgres", ["resume", folder])
        guard result.code == 0 else { throw Unavailable(description: "resume failed: \(result.output)") }
    }

    /// Restarts the cluster abruptly (immediate shutdown, as a crash would), on the same port.
    public func restartAbruptly() throws {
        let result = Self.run(Self.repository + "/tools/postgres", ["restart", folder])
        guard result.code == 0 else { throw Unavailable(description: "restart failed: \(result.output)") }
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) -> (code: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        // Output goes to a file, not a pipe: the server `tools/postgres` starts outlives it and
        // would hold a pipe open, so that reading it to its end would never return.
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("provident-run-\(UUID().uuidString).log")
        guard FileManager.default.createFile(atPath: output.path, contents: nil), let handle = try? FileHandle(forWritingTo: output) else {
            return (127, "cannot write \(output.path)")
        }
        defer { try? FileManager.default.removeItem(at: output) }
        process.standardOutput = handle
        process.standardError = handle
        do {
            try process.run()
        } catch {
            try? handle.close()
            return (127, "\(error)")
        }
        process.waitUntilExit()
        try? handle.close()
        let data = (try? Data(contentsOf: output)) ?? Data()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// A TCP port on 127.0.0.1 that nothing listens on now.
public func freePort() throws -> Int {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
    }
    guard bound else { throw PostgresCluster.Unavailable(description: "no free port") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// A value behind a lock.
final class Mutex<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()

    init(_ value: Value) {
        self.value = value
    }

    func withLock<T>(_ body: (inout Value) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
