import Foundation
import Hummingbird
import Logging
import ProvidentCrypto
import ProvidentDomain
import ProvidentStore
import ProvidentSync

/// The sync service: its database, policy and configuration, ready to build the HTTP application.
public struct SyncService: Sendable {
    public let configuration: ServerConfiguration
    public let database: ServerDatabase
    public let policy: Policy
    let policyText: String

    /// Opens the database (creating it, its folder and the server key if missing) and loads the
    /// policy. A `serving` service checkpoints the database's log in the background (see
    /// `application`), so pushes never wait for it.
    public init(configuration: ServerConfiguration, now: Instant, serving: Bool = false) throws {
        self.configuration = configuration
        let folder = URL(fileURLWithPath: configuration.databasePath).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let (key, _) = try HostKeyFile.loadOrCreate(at: configuration.resolvedKeyPath)
        database = try ServerDatabase.open(path: configuration.databasePath, key: key, now: now, backgroundCheckpoints: serving)
        if let path = configuration.policyPath {
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw ServerError.keyFileProblem("the policy file \(path) cannot be read")
            }
            policy = try Policy(yaml: text)
            policyText = text
        } else {
            policy = .defaults
            policyText = Policy.defaults.yaml
        }
    }

    /// The Hummingbird application serving the sync endpoints.
    public func application(logger: Logger, now: @escaping @Sendable () -> Instant = SyncService.systemNow,
                            onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router(context: ProvidentRequestContext.self)
        router.add(middleware: ErrorShapeMiddleware())
        SyncController(database: database, admission: Admission(policy: policy), policyText: policyText, configuration: configuration,
                       limiter: RateLimiter(perHour: configuration.selfEnrolmentsPerHour), now: now)
            .addRoutes(to: router)
        OfficeDashboard(database: database, policy: policy, configuration: configuration,
                        limiter: RateLimiter(perHour: configuration.loginAttemptsPerHour), now: now)
            .addRoutes(to: router)
        let database = database
        return Application(router: router,
                           configuration: .init(address: .hostname(configuration.host, port: configuration.port),
                                                serverName: "provident-server"),
                           onServerRunning: { channel in
                               // Copy the log into the database twice a second, off the writer's path.
                               Task.detached(priority: .utility) {
                                   while !Task.isCancelled {
                                       try? await Task.sleep(for: .milliseconds(500))
                                       do {
                                           try database.checkpoint()
                                       } catch {
                                           logger.warning("checkpoint failed; retrying", metadata: ["error.type": .string(String(describing: type(of: error)))])
                                       }
                                   }
                               }
                               await onServerRunning(channel.localAddress?.port ?? 0)
                           },
                           logger: logger)
    }

    /// The system clock.
    @Sendable public static func systemNow() -> Instant {
        Instant(millisSinceEpoch: Int64((Date().timeIntervalSince1970 * 1_000).rounded(.down)))
    }
}
