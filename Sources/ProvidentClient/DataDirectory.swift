import Foundation

/// Where a device keeps its key, its replica and, optionally, its policy file.
///
/// The default is `~/.provident`; `PROVIDENT_HOME` overrides it, and `--data-dir` overrides both.
public struct DataDirectory: Hashable, Sendable {
    /// The folder.
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// The folder a command should use.
    public static func resolve(option: String?, environment: [String: String]) -> DataDirectory {
        if let option, !option.isEmpty { return DataDirectory(path: absolute(option)) }
        if let home = environment["PROVIDENT_HOME"], !home.isEmpty { return DataDirectory(path: absolute(home)) }
        let userHome = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return DataDirectory(path: userHome + "/.provident")
    }

    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        if path == "~" || path.hasPrefix("~/") { return NSHomeDirectory() + path.dropFirst() }
        return FileManager.default.currentDirectoryPath + "/" + path
    }

    /// The sealed device key.
    public var keyPath: String { path + "/device.key" }
    /// The replica database.
    public var replicaPath: String { path + "/replica.sqlite" }
    /// A local policy file, used when present.
    public var policyPath: String { path + "/policy.yaml" }
    /// The policy the server sent at enrolment; it takes precedence over a local one.
    public var serverPolicyPath: String { path + "/server-policy.yaml" }

    /// The certificate authorities trusted for an `https://` server, when the office uses its own.
    public var caFilePath: String { path + "/ca.pem" }

    /// Whether a device key is there.
    public var hasKey: Bool { FileManager.default.fileExists(atPath: keyPath) }
    /// Whether a replica is there.
    public var hasReplica: Bool { FileManager.default.fileExists(atPath: replicaPath) }

    /// Refuses a folder others than its owner may read or change: it holds personal data and keys.
    func requirePrivate() throws {
        guard let mode = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? NSNumber else { return }
        let bits = UInt16(mode.intValue & 0o777)
        if bits & 0o077 != 0 { throw ClientError.directoryExposed(path: path, mode: bits) }
    }

    /// Creates the folder (mode 0700) if needed; refuses a path that is a file.
    func prepare() throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw ClientError.directoryUnusable(path: path, reason: "it is a file, not a folder") }
            try requirePrivate()
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw ClientError.directoryUnusable(path: path, reason: "it cannot be created")
        }
    }

    /// Moves the key and replica into a new `backup-<time>` folder inside the directory and
    /// returns its path, so starting over never destroys a key or unsynced work.
    func backUp(stamp: String) throws -> String {
        let backup = path + "/backup-" + stamp
        do {
            try FileManager.default.createDirectory(atPath: backup, withIntermediateDirectories: false,
                                                    attributes: [.posixPermissions: 0o700])
            for name in ["device.key", "transport.key", "transport.delegation", "replica.sqlite", "replica.sqlite-wal", "replica.sqlite-shm"] {
                let source = path + "/" + name
                if FileManager.default.fileExists(atPath: source) {
                    try FileManager.default.moveItem(atPath: source, toPath: backup + "/" + name)
                }
            }
        } catch {
            throw ClientError.directoryUnusable(path: backup, reason: "the backup could not be written")
        }
        return backup
    }
}
