import Foundation
import Logging
import ProvidentCrypto
import ProvidentDomain
import ProvidentServerCore
import ProvidentServerSQLite
import ProvidentServerStore
import ProvidentSync

/// What a backup folder holds besides the database and the key: enough to check, before
/// restoring, that the copy is whole and belongs with the key.
public struct BackupManifest: Codable, Equatable, Sendable {
    public static let currentFormat = "provident-backup/1"

    public var format: String
    /// When the copy was taken, UTC.
    public var createdAt: String
    public var database: String
    /// The database file in the folder, and BLAKE2b-256 of its bytes.
    public var file: String
    public var fileDigest: String
    /// The copy's feed head and state digest (`provident-server check` prints the same).
    public var feedHead: UInt64
    public var stateDigest: String
    /// The server's public key, base64: the key file in the folder must be its pair.
    public var serverKey: String
}

/// Why a backup cannot be taken, checked or restored.
public enum BackupProblem: ProvidentError, Hashable {
    case folderNotEmpty(String)
    case notABackup(folder: String, missing: String)
    case altered(file: String)
    case notConsistent(detail: String)
    case keyMismatch
    case needsPostgres
    case cannotWrite(path: String, detail: String)
    case toolMissing(String)
    case toolFailed(tool: String, detail: String)

    public var kind: ErrorKind {
        switch self {
        case .folderNotEmpty, .notABackup, .needsPostgres: .invalidInput
        case .toolMissing: .configuration
        case .toolFailed: .unavailable
        case .altered, .notConsistent: .damaged
        case .keyMismatch: .refused
        case .cannotWrite: .invalidInput
        }
    }

    public var code: String {
        switch self {
        case .folderNotEmpty: "backup.folder_not_empty"
        case .notABackup: "backup.incomplete"
        case .altered: "backup.altered"
        case .notConsistent: "backup.inconsistent"
        case .keyMismatch: "backup.key_mismatch"
        case .needsPostgres: "backup.postgres"
        case .toolMissing: "backup.tool_missing"
        case .toolFailed: "backup.tool_failed"
        case .cannotWrite: "backup.write"
        }
    }

    public func message(_ l: Language) -> String {
        switch self {
        case let .folderNotEmpty(folder):
            l.pick("\(folder) is not empty; give a new or empty folder for the backup.", "\(folder) 不是空文件夹；请为备份指定新的或空的文件夹。")
        case let .notABackup(folder, missing):
            l.pick("\(folder) is not a whole Provident backup: \(missing) is missing.", "\(folder) 不是完整的 Provident 备份：缺少 \(missing)。")
        case let .altered(file):
            l.pick("\(file) is not the file the backup was taken as (its digest differs): it was altered or damaged. Nothing was restored.",
                   "\(file) 与备份时的文件不一致（摘要不同）：已被改动或损坏。未恢复任何内容。")
        case let .notConsistent(detail):
            l.pick("The backup does not check out: \(detail). Nothing was restored.", "备份校验未通过：\(detail)。未恢复任何内容。")
        case .keyMismatch:
            l.pick("The backup's server key is not the key this server is configured with (server.keyPath): restoring it would make a server the devices do not trust. Nothing was restored; point server.keyPath elsewhere or move the other key away.",
                   "备份中的服务器密钥与本服务器配置的密钥（server.keyPath）不同：恢复后设备将不信任该服务器。未恢复任何内容；请修改 server.keyPath，或移走另一把密钥。")
        case .needsPostgres:
            l.pick("This is a backup of a PostgreSQL deployment: checking or restoring it needs a PostgreSQL server; give one with --database postgres://USER@HOST:PORT/DB (its password in PGPASSWORD or database.passwordFile).",
                   "这是 PostgreSQL 部署的备份：检查或恢复需要 PostgreSQL 服务器；请用 --database postgres://用户@主机:端口/库名 指定（密码放在 PGPASSWORD 或 database.passwordFile 中）。")
        case let .toolMissing(tool):
            l.pick("\(tool) is not installed; install the PostgreSQL client (apt-get install postgresql-client-15) and try again.",
                   "未安装 \(tool)；请安装 PostgreSQL 客户端（apt-get install postgresql-client-15）后重试。")
        case let .toolFailed(tool, detail):
            l.pick("\(tool) failed: \(detail). Nothing was changed.", "\(tool) 失败：\(detail)。未做任何更改。")
        case let .cannotWrite(path, detail):
            l.pick("\(path) could not be written (\(detail)).", "无法写入 \(path)（\(detail)）。")
        }
    }
}

/// Online, consistent backups: a SQLite database copied from a read snapshot, or a PostgreSQL
/// database dumped by pg_dump (one snapshot), while the service goes on; the server key beside
/// it (0600), and a manifest; checked before any restore.
public enum ServerBackup {
    static let databaseFile = "provident.sqlite"
    static let dumpFile = "provident.pgdump"
    static let keyFile = "server.key"
    static let manifestFile = "manifest.json"

    /// Takes a backup of the configured deployment into `folder` (new or empty).
    public static func take(_ configuration: ServerConfiguration, into folder: String, logger: Logger) async throws -> BackupManifest {
        let location = try configuration.location()
        let keyPath = try configuration.resolvedKeyPath()
        let manager = FileManager.default
        if let entries = try? manager.contentsOfDirectory(atPath: folder), !entries.isEmpty { throw BackupProblem.folderNotEmpty(folder) }
        do {
            try manager.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw BackupProblem.cannotWrite(path: folder, detail: "\(error.localizedDescription)")
        }
        let keyBytes = try AtomicFile.read(keyPath, limit: 4_096)
        let key = try HostKeyFile.decode(keyBytes)
        let copy: String, head: UInt64, digest: Digest256
        switch location {
        case let .sqlite(path):
            let source = try SQLiteDatabase.open(path: path, create: false)
            copy = folder + "/" + databaseFile
            do {
                try source.backup(to: copy)
            } catch {
                await source.close()
                throw error
            }
            await source.close()
            (head, digest) = try await measure(copy, key: key, logger: logger)
        case .postgres:
            // pg_dump reads one snapshot of the database, so the dump is consistent while servers write.
            copy = folder + "/" + dumpFile
            let password = try ServerStores.password(file: configuration.databasePasswordFile)
            try PostgresTools.run("pg_dump", ["--format=custom", "--no-owner", "--no-privileges", "--file", copy] + PostgresTools.target(location),
                                  password: password)
            chmod(copy, 0o600)
            (head, digest) = try await measureDump(copy, on: location, password: password, passwordFile: configuration.databasePasswordFile,
                                                   key: key, logger: logger)
        }
        try AtomicFile.write(keyBytes, to: folder + "/" + keyFile, mode: 0o600)
        let manifest = BackupManifest(format: BackupManifest.currentFormat, createdAt: SyncService.systemNow().utcISO,
                                      database: location.isPostgres ? "postgres" : "sqlite",
                                      file: location.isPostgres ? dumpFile : databaseFile, fileDigest: try fileDigest(copy).hex,
                                      feedHead: head, stateDigest: digest.hex, serverKey: Base64.encode(key.publicKey.bytes))
        try AtomicFile.write(Array(try manifestEncoder.encode(manifest)), to: folder + "/" + manifestFile, mode: 0o600)
        return manifest
    }

    /// Checks a backup folder: every file there, the database's digest as taken, its integrity,
    /// and its feed head, state digest and key as the manifest says. Changes nothing in it.
    /// A PostgreSQL backup is measured by restoring it into a scratch database, dropped after,
    /// on the server `configuration` names.
    public static func verify(_ folder: String, configuration: ServerConfiguration? = nil, logger: Logger) async throws -> BackupManifest {
        let manager = FileManager.default
        for name in [manifestFile, keyFile] where !manager.fileExists(atPath: folder + "/" + name) {
            throw BackupProblem.notABackup(folder: folder, missing: name)
        }
        guard let manifest = try? JSONDecoder().decode(BackupManifest.self, from: Data(try AtomicFile.read(folder + "/" + manifestFile, limit: 65_536))),
              manifest.format == BackupManifest.currentFormat,
              (manifest.database == "sqlite" && manifest.file == databaseFile) || (manifest.database == "postgres" && manifest.file == dumpFile) else {
            throw BackupProblem.notConsistent(detail: "\(manifestFile) is not a manifest of this version")
        }
        let copy = folder + "/" + manifest.file
        if !manager.fileExists(atPath: copy) { throw BackupProblem.notABackup(folder: folder, missing: manifest.file) }
        guard try fileDigest(copy).hex == manifest.fileDigest else { throw BackupProblem.altered(file: copy) }
        let key = try HostKeyFile.decode(try AtomicFile.read(folder + "/" + keyFile, limit: 4_096))
        guard Base64.encode(key.publicKey.bytes) == manifest.serverKey else {
            throw BackupProblem.notConsistent(detail: "\(keyFile) is not the key the manifest names")
        }
        if manifest.database == "postgres" {
            guard let configuration, case .postgres = try configuration.location() else { throw BackupProblem.needsPostgres }
            let password = try ServerStores.password(file: configuration.databasePasswordFile)
            let (head, digest) = try await measureDump(copy, on: try configuration.location(), password: password,
                                                       passwordFile: configuration.databasePasswordFile, key: key, logger: logger)
            guard head == manifest.feedHead, digest.hex == manifest.stateDigest else {
                throw BackupProblem.notConsistent(detail: "the dump holds feed head \(head) and state digest \(digest.hex), not what the manifest says")
            }
            return manifest
        }
        // Measured on a scratch copy: opening a database may write to it.
        let scratch = manager.temporaryDirectory.appendingPathComponent("provident-verify-\(UUID().uuidString)").path
        try manager.createDirectory(atPath: scratch, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? manager.removeItem(atPath: scratch) }
        try manager.copyItem(atPath: copy, toPath: scratch + "/" + databaseFile)
        let (head, digest) = try await measure(scratch + "/" + databaseFile, key: key, logger: logger)
        guard head == manifest.feedHead, digest.hex == manifest.stateDigest else {
            throw BackupProblem.notConsistent(detail: "the copy holds feed head \(head) and state digest \(digest.hex), not what the manifest says")
        }
        return manifest
    }

    /// Puts a checked backup in place of the configured database, with its key where
    /// `server.keyPath` says (refused when another key is there). The service must be stopped.
    /// Devices notice at their next sync that the server's feed is older than what they read,
    /// and send back what it lacks (sync-protocol.md §11.6).
    public static func restore(_ folder: String, configuration: ServerConfiguration, logger: Logger) async throws -> BackupManifest {
        let location = try configuration.location()
        let manifest = try await verify(folder, configuration: configuration, logger: logger)
        guard (manifest.database == "postgres") == location.isPostgres else {
            throw BackupProblem.notConsistent(detail: "the backup is of a \(manifest.database) deployment and the configured database is not")
        }
        let keyPath = try configuration.resolvedKeyPath()
        let manager = FileManager.default
        let backupKey = try AtomicFile.read(folder + "/" + keyFile, limit: 4_096)
        if manager.fileExists(atPath: keyPath) {
            let present = try HostKeyFile.decode(try AtomicFile.read(keyPath, limit: 4_096))
            guard Base64.encode(present.publicKey.bytes) == manifest.serverKey else { throw BackupProblem.keyMismatch }
        } else {
            let keyFolder = URL(fileURLWithPath: keyPath).deletingLastPathComponent().path
            try manager.createDirectory(atPath: keyFolder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try AtomicFile.write(backupKey, to: keyPath, mode: 0o600)
        }
        guard case let .sqlite(path) = location else {
            // One transaction: the database holds either what it held or the whole dump.
            try PostgresTools.run("pg_restore", ["--clean", "--if-exists", "--single-transaction", "--no-owner", "--no-privileges",
                                                 "--exit-on-error"] + PostgresTools.target(location) + [folder + "/" + dumpFile],
                                  password: try ServerStores.password(file: configuration.databasePasswordFile))
            return manifest
        }
        let databaseFolder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try manager.createDirectory(atPath: databaseFolder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // The copy is written beside the database, then renamed over it; the old journal goes.
        let incoming = path + ".restoring"
        try? manager.removeItem(atPath: incoming)
        try copyDurably(folder + "/" + databaseFile, to: incoming)
        for suffix in ["-wal", "-shm"] { try? manager.removeItem(atPath: path + suffix) }
        guard rename(incoming, path) == 0 else { throw BackupProblem.cannotWrite(path: path, detail: "rename failed") }
        return manifest
    }

    /// The feed head and state digest of the database at `path`, opened with `key`.
    static func measure(_ path: String, key: SigningKey, logger: Logger) async throws -> (UInt64, Digest256) {
        try await headAndDigest(of: SQLServerStore(database: try SQLiteDatabase.open(path: path, create: false)), key: key, logger: logger)
    }

    /// The feed head and state digest of an opened store, after its integrity check; closes it.
    static func headAndDigest(of store: SQLServerStore, key: SigningKey, logger: Logger) async throws -> (UInt64, Digest256) {
        do {
            let problems = try await store.integrityCheck()
            guard problems == ["ok"] else { throw BackupProblem.notConsistent(detail: problems.joined(separator: "; ")) }
            let core = try await ServerCore.start(store: store, key: key, policy: .defaults, policyText: "", clock: SyncService.systemNow,
                                                  logger: logger)
            let result = (try await core.feedHead(), try await core.stateDigest())
            await store.close()
            return result
        } catch {
            await store.close()
            throw error
        }
    }

    /// The feed head and state digest of a dump, restored into a scratch database next to the
    /// configured one and dropped after.
    static func measureDump(_ dump: String, on location: DatabaseLocation, password: String?, passwordFile: String?, key: SigningKey,
                            logger: Logger) async throws -> (UInt64, Digest256) {
        guard case let .postgres(user, host, port, database) = location else { throw BackupProblem.needsPostgres }
        let scratchName = "\(database.prefix(30))_verify_\(Hex.encode(SecureRandom.bytes(count: 4)))"
        let scratch = DatabaseLocation.postgres(user: user, host: host, port: port, database: scratchName)
        let server = ["--host", host, "--port", String(port), "--username", user, "--no-password"]
        try PostgresTools.run("createdb", server + ["--template", "template0", scratchName], password: password)
        defer { try? PostgresTools.run("dropdb", server + ["--if-exists", "--force", scratchName], password: password) }
        try PostgresTools.run("pg_restore", ["--no-owner", "--no-privileges", "--exit-on-error"] + PostgresTools.target(scratch) + [dump],
                              password: password)
        return try await headAndDigest(of: try await ServerStores.open(scratch, passwordFile: passwordFile, create: false, logger: logger),
                                       key: key, logger: logger)
    }

    /// Copies a file and flushes it to disk before it is used.
    static func copyDurably(_ source: String, to destination: String) throws {
        do {
            try FileManager.default.copyItem(atPath: source, toPath: destination)
        } catch {
            throw BackupProblem.cannotWrite(path: destination, detail: error.localizedDescription)
        }
        let descriptor = open(destination, O_RDONLY)
        guard descriptor >= 0 else { throw BackupProblem.cannotWrite(path: destination, detail: "open failed") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw BackupProblem.cannotWrite(path: destination, detail: "fsync failed") }
    }

    static func fileDigest(_ path: String) throws -> Digest256 {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw BackupProblem.notABackup(folder: path, missing: path) }
        defer { try? handle.close() }
        var hasher = BLAKE2b.Hasher(outputLength: 32)
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(Array(chunk)) }
        return Digest256(bytes: hasher.finalize()) ?? .zero
    }

    static var manifestEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

extension DatabaseLocation {
    var isPostgres: Bool {
        if case .postgres = self { return true }
        return false
    }
}

/// The PostgreSQL client programs, run with the password in their environment (never on their
/// command line).
enum PostgresTools {
    static func target(_ location: DatabaseLocation) -> [String] {
        guard case let .postgres(user, host, port, database) = location else { return [] }
        return ["--host", host, "--port", String(port), "--username", user, "--no-password", "--dbname", database]
    }

    static func run(_ tool: String, _ arguments: [String], password: String?) throws {
        let path = ["/usr/bin", "/usr/local/bin", "/usr/lib/postgresql/15/bin"].map { $0 + "/" + tool }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let path else { throw BackupProblem.toolMissing(tool) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["PGPASSWORD"] = password
        environment["PGCONNECT_TIMEOUT"] = "10"
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let last = text.split(separator: "\n").last.map(String.init) ?? "exit status \(process.terminationStatus)"
            throw BackupProblem.toolFailed(tool: tool, detail: last)
        }
    }
}
