import Configuration
import Foundation
import ProvidentServerCore

/// How the sync service runs. Every value has a default, so it starts with no set-up at all;
/// a YAML file and `PROVIDENT_`-prefixed environment variables override them (the variable for
/// `sync.maxDriftSeconds` is `PROVIDENT_SYNC_MAX_DRIFT_SECONDS`), and command-line flags override both.
public struct ServerConfiguration: Sendable, Equatable {
    /// `server.host`: the address to listen on.
    public var host = "127.0.0.1"
    /// `server.port`.
    public var port = 8080
    /// `database.url`: a file path or `sqlite:PATH` (created with its folder if missing), or
    /// `postgres://USER@HOST:PORT/DB`. `database.path`, the older key, names a SQLite file.
    public var databaseURL = "./var/provident.sqlite"
    /// `database.passwordFile`: a file whose first line is the PostgreSQL password; otherwise
    /// `PGPASSWORD`. A password is never taken from the URL or the command line.
    public var databasePasswordFile: String?
    /// `server.keyPath`: the server's signing key; default `server.key` beside a SQLite
    /// database, or `./var/server.key` with PostgreSQL (every server of a deployment uses one key).
    public var keyPath: String?
    /// `policy.path`: the city's policy file; the built-in defaults when unset.
    public var policyPath: String?
    /// The limits and windows of the service (`sync.*`, `enrolment.*`, `reconciliation.*`, `office.*`).
    public var settings = ServerSettings()
    /// `log.format`: `text` (the default) or `json`, one object a line.
    public var logFormat = "text"
    /// `metrics.token`: when set, `GET /metrics` answers with this bearer token (Prometheus
    /// text format); unset, there is no `/metrics`.
    public var metricsToken: String?
    /// `server.tlsCertificate` and `server.tlsKey`: PEM files; with both set the server speaks
    /// HTTPS itself (otherwise terminate TLS in front of it, as in deploy/nginx.conf).
    public var tlsCertificate: String?
    public var tlsKey: String?
    /// `server.idleTimeoutSeconds`, `server.requestTimeoutSeconds`, `server.maxConnectionsPerAddress`,
    /// `server.maxConnections`.
    public var limits = ConnectionLimits()

    public init() {}

    /// Reads the configuration from `reader`, keeping the defaults for what it does not set.
    public init(reader: ConfigReader) {
        host = reader.string(forKey: "server.host", default: host)
        port = reader.int(forKey: "server.port", default: port)
        databaseURL = reader.string(forKey: "database.url") ?? reader.string(forKey: "database.path") ?? databaseURL
        databasePasswordFile = reader.string(forKey: "database.passwordFile")
        keyPath = reader.string(forKey: "server.keyPath")
        policyPath = reader.string(forKey: "policy.path")
        logFormat = reader.string(forKey: "log.format", default: logFormat)
        metricsToken = reader.string(forKey: "metrics.token", isSecret: true).flatMap { $0.isEmpty ? nil : $0 }
        tlsCertificate = reader.string(forKey: "server.tlsCertificate").flatMap { $0.isEmpty ? nil : $0 }
        tlsKey = reader.string(forKey: "server.tlsKey").flatMap { $0.isEmpty ? nil : $0 }
        limits.idleTimeoutSeconds = reader.int(forKey: "server.idleTimeoutSeconds", default: limits.idleTimeoutSeconds)
        limits.requestTimeoutSeconds = reader.int(forKey: "server.requestTimeoutSeconds", default: limits.requestTimeoutSeconds)
        limits.maxConnectionsPerAddress = reader.int(forKey: "server.maxConnectionsPerAddress", default: limits.maxConnectionsPerAddress)
        limits.maxConnections = reader.int(forKey: "server.maxConnections", default: limits.maxConnections)
        settings.maxDriftSeconds = reader.int(forKey: "sync.maxDriftSeconds", default: settings.maxDriftSeconds)
        settings.requestWindowSeconds = reader.int(forKey: "sync.requestWindowSeconds", default: settings.requestWindowSeconds)
        settings.selfEnrolmentsPerHour = reader.int(forKey: "enrolment.selfPerHour", default: settings.selfEnrolmentsPerHour)
        settings.reconciliationWindowDays = reader.int(forKey: "reconciliation.windowDays", default: settings.reconciliationWindowDays)
        settings.officeSessionHours = reader.int(forKey: "office.sessionHours", default: settings.officeSessionHours)
        settings.loginAttemptsPerHour = reader.int(forKey: "office.loginAttemptsPerHour", default: settings.loginAttemptsPerHour)
    }

    /// The database location in force.
    public func location() throws -> DatabaseLocation {
        try DatabaseLocation(databaseURL)
    }

    /// The key file in use.
    public func resolvedKeyPath() throws -> String {
        if let keyPath { return keyPath }
        switch try location() {
        case let .sqlite(path): return URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("server.key").path
        case .postgres: return "./var/server.key"
        }
    }
}

/// Where the server's database is.
public enum DatabaseLocation: Sendable, Equatable {
    /// A SQLite file.
    case sqlite(path: String)
    /// A PostgreSQL database; the password comes from elsewhere.
    case postgres(user: String, host: String, port: Int, database: String)

    /// Reads a location: a file path, `sqlite:PATH`, or `postgres://USER@HOST:PORT/DB`
    /// (`postgresql://` too; the port defaults to 5432). A URL with a password is refused, so a
    /// password never sits in shell history or a process list.
    public init(_ text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("postgres://") || trimmed.hasPrefix("postgresql://") {
            guard let components = URLComponents(string: trimmed), let host = components.host, !host.isEmpty,
                  let user = components.user, !user.isEmpty, components.password == nil,
                  components.path.count > 1, !components.path.dropFirst().contains("/"), components.query == nil else {
                throw StoreFailure.badLocation(Self.redacted(trimmed))
            }
            self = .postgres(user: user, host: host, port: components.port ?? 5432, database: String(components.path.dropFirst()))
        } else if trimmed.hasPrefix("sqlite:") {
            let path = String(trimmed.dropFirst("sqlite:".count)).replacingOccurrences(of: "//", with: "/", options: .anchored)
            guard !path.isEmpty else { throw StoreFailure.badLocation(trimmed) }
            self = .sqlite(path: path)
        } else if !trimmed.isEmpty, !trimmed.contains("://") {
            self = .sqlite(path: trimmed)
        } else {
            throw StoreFailure.badLocation(Self.redacted(trimmed))
        }
    }

    /// The location as people may see it: never a password.
    public var description: String {
        switch self {
        case let .sqlite(path): path
        case let .postgres(user, host, port, database): "postgres://\(user)@\(host):\(port)/\(database)"
        }
    }

    /// A URL as given, with anything between `:` and `@` (a password) blanked out.
    static func redacted(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@"), let scheme = text.range(of: "://") else { return text }
        let userInfo = text[scheme.upperBound..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[at...])
    }
}
