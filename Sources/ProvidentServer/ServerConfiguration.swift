import Configuration
import Foundation

/// How the sync service runs. Every value has a default, so it starts with no set-up at all;
/// a YAML file and `PROVIDENT_`-prefixed environment variables override them (the variable for
/// `sync.maxDriftSeconds` is `PROVIDENT_SYNC_MAX_DRIFT_SECONDS`), and command-line flags override both.
public struct ServerConfiguration: Sendable, Equatable {
    /// `server.host`: the address to listen on.
    public var host = "127.0.0.1"
    /// `server.port`.
    public var port = 8080
    /// `database.path`: the SQLite database (created with its folder if missing).
    public var databasePath = "./var/provident.sqlite"
    /// `server.keyPath`: the server's signing key; default `server.key` beside the database.
    public var keyPath: String?
    /// `policy.path`: the city's policy file; the built-in defaults when unset.
    public var policyPath: String?
    /// `sync.maxDriftSeconds`: how far ahead of the server's clock a change-set's time may be.
    public var maxDriftSeconds = 86_400
    /// `sync.requestWindowSeconds`: how far a signed request's time may be from the server's.
    public var requestWindowSeconds = 300
    /// `enrolment.selfPerHour`: self-enrolments and claims allowed per source address per hour.
    public var selfEnrolmentsPerHour = 20
    /// `reconciliation.windowDays`: how many days a bank line's date may be from the day a deposit
    /// was recorded for them to match by amount and name, and how long a deposit may wait for its
    /// bank line before it is listed as missing.
    public var reconciliationWindowDays = 10
    /// `office.sessionHours`: how long a dashboard login lasts.
    public var officeSessionHours = 8
    /// `office.loginAttemptsPerHour`: failed dashboard logins allowed per address per hour.
    public var loginAttemptsPerHour = 10

    public init() {}

    /// Reads the configuration from `reader`, keeping the defaults for what it does not set.
    public init(reader: ConfigReader) {
        host = reader.string(forKey: "server.host", default: host)
        port = reader.int(forKey: "server.port", default: port)
        databasePath = reader.string(forKey: "database.path", default: databasePath)
        keyPath = reader.string(forKey: "server.keyPath")
        policyPath = reader.string(forKey: "policy.path")
        maxDriftSeconds = reader.int(forKey: "sync.maxDriftSeconds", default: maxDriftSeconds)
        requestWindowSeconds = reader.int(forKey: "sync.requestWindowSeconds", default: requestWindowSeconds)
        selfEnrolmentsPerHour = reader.int(forKey: "enrolment.selfPerHour", default: selfEnrolmentsPerHour)
        reconciliationWindowDays = reader.int(forKey: "reconciliation.windowDays", default: reconciliationWindowDays)
        officeSessionHours = reader.int(forKey: "office.sessionHours", default: officeSessionHours)
        loginAttemptsPerHour = reader.int(forKey: "office.loginAttemptsPerHour", default: loginAttemptsPerHour)
    }

    /// The key file in use.
    public var resolvedKeyPath: String {
        keyPath ?? (URL(fileURLWithPath: databasePath).deletingLastPathComponent().appendingPathComponent("server.key").path)
    }
}
