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
        do throws(Unavailable) {
            try tool("start", folder)
        } catch {
            return .failure(error)
        }
        atexit { PostgresCluster.stopOwn() }
        ownFolder.withLock { $0 = folder }
        return Result(catching: { try PostgresCluster(folder: folder) }).mapError { Unavailable(description: "\($0)") }
    }()

    private static let ownFolder = Mutex<String?>(nil)

    private static func stopOwn() {
        if let folder = ownFolder.withLock({ $0 }) { try? tool("stop", folder) }
    }

    /// The cluster of this test run, started on first use.
    public static func current() throws -> PostgresCluster {
        try shared.get()
    }

    /// A cluster of one test's own, for what would disturb others (restarting it); `stop` it.
    public static func startPrivate() throws -> PostgresCluster {
        let folder = "/tmp/provident-pg-\(UUID().uuidString.prefix(8))"
        try tool("start", folder)
        return try PostgresCluster(folder: folder)
    }

    /// Stops a private cluster and removes its folder.
    public func stop() {
        try? Self.tool("stop", folder)
    }

    /// Runs `tools/postgres COMMAND FOLDER`.
    private static func tool(_ command: String, _ folder: String) throws(Unavailable) {
        let result = run(repository + "/tools/postgres", [command, folder])
        guard result.code == 0 else { throw Unavailable(description: "tools/postgres \(command) failed: \(result.output)") }
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
        _ = try value(sql, database: database)
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
        try Self.tool("halt", folder)
    }

    /// Starts a halted server again, on the same port.
    public func resume() throws {
        try Self.tool("resume", folder)
    }

    /// Restarts the cluster abruptly (immediate shutdown, as a crash would), on the same port.
    public func restartAbruptly() throws {
        try Self.tool("restart", folder)
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) -> (code: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do {
            try process.run()
        } catch {
            return (127, "\(error)")
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
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
