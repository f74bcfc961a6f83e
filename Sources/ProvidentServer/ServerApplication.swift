import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import NIOCore
import NIOSSL
import Logging
import Prometheus
import ProvidentCrypto
import ProvidentDomain
import ProvidentServerCore
import ProvidentSync
import ServiceLifecycle

/// The sync service: its configuration and its core, ready to build the HTTP application.
public struct SyncService: Sendable {
    public let configuration: ServerConfiguration
    public let core: ServerCore

    /// A service around a core already started (as `open` does, or a test).
    public init(configuration: ServerConfiguration, core: ServerCore) {
        self.configuration = configuration
        self.core = core
    }

    /// Opens the database named by the configuration (creating a SQLite one, its folder and the
    /// server key when `create` is set), loads the policy and checks that the key belongs to
    /// the database.
    public static func open(_ configuration: ServerConfiguration, create: Bool, logger: Logger,
                            clock: @escaping @Sendable () -> Instant = SyncService.systemNow) async throws -> SyncService {
        let location = try configuration.location()
        let keyPath = try configuration.resolvedKeyPath()
        let (policy, policyText) = try Self.policy(configuration.policyPath)
        let store = try await ServerStores.open(location, passwordFile: configuration.databasePasswordFile, create: create, logger: logger)
        do {
            if !FileManager.default.fileExists(atPath: keyPath) {
                // A new key only for a new deployment: a database that already has its key was
                // moved or restored without it, and a new key would only be refused.
                let deployed = try await store.read { try await $0.serverKey() } != nil
                if !create || deployed { throw ServiceFailure.keyMissing(keyPath) }
            }
            if create {
                let folder = URL(fileURLWithPath: keyPath).deletingLastPathComponent().path
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            }
            let (key, _) = try HostKeyFile.loadOrCreate(at: keyPath)
            let core = try await ServerCore.start(store: store, key: key, policy: policy, policyText: policyText, settings: configuration.settings,
                                                  clock: clock, logger: logger)
            return SyncService(configuration: configuration, core: core)
        } catch {
            await store.close()
            throw error
        }
    }

    /// The city's policy from its file, or the built-in defaults.
    static func policy(_ path: String?) throws -> (Policy, String) {
        guard let path else { return (.defaults, Policy.defaults.yaml) }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ServiceFailure.policyUnreadable(path)
        }
        return (try Policy(yaml: text), text)
    }

    /// The Hummingbird application serving the sync endpoints and the dashboard, with the
    /// store's upkeep running beside it.
    /// With `metrics` (the registry swift-metrics was bootstrapped with) and `metrics.token`
    /// set, it also serves `/metrics`.
    /// The open-files limit (`OpenFiles.raiseToHardLimit()` at start) sets the connection cap
    /// when `server.maxConnections` is 0.
    public func application(logger: Logger, metrics: PrometheusCollectorRegistry? = nil, openFiles: Int = 1024,
                            onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
        let limits = configuration.limits
        let table = ConnectionTable(perAddress: max(1, limits.maxConnectionsPerAddress))
        let http = HTTP1Channel.Configuration(
            additionalChannelHandlers: [ConnectionGuard(table: table, requestTimeout: .seconds(Int64(max(1, limits.requestTimeoutSeconds))), logger: logger)],
            idleTimeout: .seconds(Int64(max(1, limits.idleTimeoutSeconds))))
        let server: HTTPServerBuilder = if let tls = try Self.tlsConfiguration(configuration) {
            try .tls(.http1(configuration: http), tlsConfiguration: tls)
        } else {
            .http1(configuration: http)
        }
        let router = Router(context: ProvidentRequestContext.self)
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: ErrorShapeMiddleware())
        if let metrics, let token = configuration.metricsToken {
            MetricsEndpoint(core: core, registry: metrics, token: token, connections: table).addRoutes(to: router)
        }
        SyncController(core: core).addRoutes(to: router)
        OfficeDashboard(core: core).addRoutes(to: router)
        return Application(router: router, server: server,
                           configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "provident-server",
                                                availableConnectionsDelegate: MaximumAvailableConnections(limits.effectiveMaxConnections(openFiles: openFiles))),
                           services: [StoreUpkeep(core: core, logger: logger)],
                           onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
                           logger: logger)
    }

    /// The TLS set-up from `server.tlsCertificate` and `server.tlsKey`, or nil for plain HTTP.
    /// One without the other, or a file that cannot be read, is refused before listening.
    static func tlsConfiguration(_ configuration: ServerConfiguration) throws -> TLSConfiguration? {
        switch (configuration.tlsCertificate, configuration.tlsKey) {
        case (nil, nil):
            return nil
        case let (certificate?, key?):
            do {
                let chain = try NIOSSLCertificate.fromPEMFile(certificate).map { NIOSSLCertificateSource.certificate($0) }
                guard !chain.isEmpty else { throw ServiceFailure.tlsUnreadable(certificate) }
                let privateKey: NIOSSLPrivateKey
                do { privateKey = try NIOSSLPrivateKey(file: key, format: .pem) } catch { throw ServiceFailure.tlsUnreadable(key) }
                var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(privateKey))
                tls.minimumTLSVersion = .tlsv12
                return tls
            } catch let failure as ServiceFailure {
                throw failure
            } catch {
                throw ServiceFailure.tlsUnreadable(certificate)
            }
        default:
            throw ServiceFailure.tlsIncomplete
        }
    }

    /// Closes the database.
    public func close() async {
        await core.store.close()
    }

    /// The system clock.
    @Sendable public static func systemNow() -> Instant {
        Instant(millisSinceEpoch: Int64((Date().timeIntervalSince1970 * 1_000).rounded(.down)))
    }
}

/// The store's upkeep while serving, off the request path: SQLite's log copied into the
/// database ten times a second (so the writer's own checkpoint, when the log reaches its limit,
/// finds little left to copy: that copy holds up every push behind it), expired nonces,
/// sessions and rate-limit counts forgotten every minute. It starts and stops with the server.
struct StoreUpkeep: Service {
    let core: ServerCore
    let logger: Logger

    func run() async throws {
        var ticks = 0
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: .milliseconds(100))
            ticks += 1
            do {
                try await core.store.maintain()
                if ticks % 600 == 1 { try await core.prune() }
            } catch {
                logger.warning("store upkeep failed; retrying", metadata: ["error.code": .string((error as? any ProvidentError)?.code ?? "unexpected")])
            }
        }
    }
}

/// Why the service cannot start.
public enum ServiceFailure: ProvidentError, Hashable {
    case policyUnreadable(String)
    case keyMissing(String)
    case tlsUnreadable(String)
    case tlsIncomplete

    public var code: String {
        switch self {
        case .policyUnreadable: "policy_file.unreadable"
        case .keyMissing: "server.key_missing"
        case .tlsUnreadable: "tls.unreadable"
        case .tlsIncomplete: "tls.incomplete"
        }
    }

    public var kind: ErrorKind {
        switch self {
        case .policyUnreadable: .configuration
        case .keyMissing: .damaged
        case .tlsUnreadable, .tlsIncomplete: .configuration
        }
    }

    public func message(_ l: Language) -> String {
        switch self {
        case let .policyUnreadable(path):
            l.pick("The policy file \(path) cannot be read.", "无法读取政策文件 \(path)。")
        case let .keyMissing(path):
            l.pick("The server key file \(path) is missing; restore it from the backup taken with the database, or give its place with server.keyPath.",
                   "服务器密钥文件 \(path) 不存在；请从与数据库一同备份的副本恢复，或用 server.keyPath 指定其位置。")
        case let .tlsUnreadable(path):
            l.pick("The TLS file \(path) cannot be read as PEM; give a certificate chain with --tls-cert and its private key with --tls-key.",
                   "无法按 PEM 读取 TLS 文件 \(path)；请用 --tls-cert 给出证书链，用 --tls-key 给出其私钥。")
        case .tlsIncomplete:
            l.pick("TLS needs both a certificate (--tls-cert, server.tlsCertificate) and its key (--tls-key, server.tlsKey).",
                   "TLS 需要同时给出证书（--tls-cert，server.tlsCertificate）和私钥（--tls-key，server.tlsKey）。")
        }
    }
}
