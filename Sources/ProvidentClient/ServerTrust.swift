import AsyncHTTPClient
import Foundation
import NIOSSL
import Synchronization

/// Which certificate authorities the client trusts for an `https://` server: the system's, or
/// the ones in a CA file — the device's `ca.pem` (placed by `provident init --ca-file`) or
/// `PROVIDENT_CA_FILE`. The server's signing key is pinned either way; TLS adds privacy on the wire.
public enum ServerTrust {
    /// The CA file chosen and a client for every CA file used in this process: clients live as
    /// long as the process, as the shared one does (none is ever released unshut).
    private static let state = Mutex<(chosen: String?, clients: [String: HTTPClient])>((nil, [:]))

    /// The HTTP client requests go through: one that trusts the chosen CA file, or the shared one.
    public static var client: HTTPClient {
        state.withLock { state in state.chosen.flatMap { state.clients[$0] } } ?? .shared
    }

    /// Chooses the CA file for this process: `PROVIDENT_CA_FILE` when set, else the device's
    /// `ca.pem` when there is one. Called once a command knows its data folder.
    public static func choose(for directory: DataDirectory, environment: [String: String] = ProcessInfo.processInfo.environment) {
        let path = environment["PROVIDENT_CA_FILE"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (FileManager.default.fileExists(atPath: directory.caFilePath) ? directory.caFilePath : nil)
        guard let path else { return }
        choose(caFile: path)
    }

    /// Trusts the CA file at `path` for the rest of this process.
    public static func choose(caFile path: String) {
        state.withLock { state in
            state.chosen = path
            guard state.clients[path] == nil else { return }
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .file(path)
            var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
            configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 8
            state.clients[path] = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        }
    }

    /// Checks that `path` holds at least one PEM certificate; the CA file is refused otherwise.
    public static func validate(caFile path: String) throws {
        let certificates: [NIOSSLCertificate]
        do { certificates = try NIOSSLCertificate.fromPEMFile(path) } catch { throw ClientError.caFileUnreadable(path: path) }
        if certificates.isEmpty { throw ClientError.caFileUnreadable(path: path) }
    }

    /// Copies a CA file into the device's folder (owner-only), where later commands find it.
    public static func install(caFile path: String, in directory: DataDirectory) throws {
        try validate(caFile: path)
        guard let data = FileManager.default.contents(atPath: path) else { throw ClientError.caFileUnreadable(path: path) }
        try data.write(to: URL(fileURLWithPath: directory.caFilePath), options: .atomic)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: directory.caFilePath)
        choose(caFile: directory.caFilePath)
    }
}
