import ArgumentParser
import Configuration
import Foundation
import Logging
import ProvidentCrypto
import ProvidentDomain
import ProvidentServer
import ProvidentStore
import ProvidentSync
import SystemPackage

@main
struct ProvidentServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "provident-server",
        abstract: "Run the Provident sync service and administer its devices, employers, campaigns, applications and conflicts.",
        discussion: """
            Every command reads the same configuration: defaults, then the YAML file given by --config, \
            then PROVIDENT_-prefixed environment variables (PROVIDENT_SERVER_PORT, PROVIDENT_DATABASE_PATH, …), \
            then the flags. Administration commands work on the database while the service runs.

            Exit status: 0 done; 1 unexpected failure; 3 invalid value; 4 refused (unknown device, conflict or invite); \
            6 no database yet; 7 damaged database or key; 64 usage.
            """,
        version: ServerVersion.current,
        subcommands: [Serve.self, DeviceCommand.self, UnitsCommand.self, CampaignCommand.self, ApplicationCommand.self,
                      ReconcileCommand.self, InterestCommand.self, ReportCommand.self, OfficeCommand.self,
                      ConflictsCommand.self, AlertsCommand.self, CheckCommand.self])

    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            guard let failure = AdminFailure(error) else { exit(withError: error) }
            FileHandle.standardError.write(Data((t("Error: ", "错误:") + failure.message + "\n").utf8))
            Foundation.exit(failure.status)
        }
    }
}

/// Where the database is and how the service is set up, from file, environment and flags.
struct ConfigurationOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A YAML configuration file.", valueName: "file")) var config: String?
    @Option(name: .customLong("db"), help: ArgumentHelp("The SQLite database (default ./var/provident.sqlite).", valueName: "path"))
    var database: String?

    func load(flags extra: [String: ConfigValue] = [:]) async throws -> ServerConfiguration {
        var flags = extra
        if let database { flags["database.path"] = ConfigValue(.string(database), isSecret: false) }
        var providers: [any ConfigProvider] = [
            InMemoryProvider(name: "flags", values: Dictionary(uniqueKeysWithValues: flags.map { (AbsoluteConfigKey(ConfigKey($0.key)), $0.value) })),
            EnvironmentVariablesProvider().prefixKeys(with: ConfigKey(["provident"])),
        ]
        if let config {
            guard FileManager.default.fileExists(atPath: config) else {
                throw AdminFailure(status: 3, message: t("The configuration file \(config) does not exist.", "配置文件 \(config) 不存在。"))
            }
            do {
                providers.append(try await FileProvider<YAMLSnapshot>(filePath: FilePath(config)))
            } catch {
                throw AdminFailure(status: 3, message: t("The configuration file \(config) is not valid YAML.", "配置文件 \(config) 不是有效的 YAML。"))
            }
        }
        return ServerConfiguration(reader: ConfigReader(providers: providers))
    }

    /// Opens the service's database for administration (it must exist).
    func open() async throws -> SyncService {
        let configuration = try await load()
        guard FileManager.default.fileExists(atPath: configuration.databasePath) else {
            throw AdminFailure(status: 6, message: t("There is no database at \(configuration.databasePath); start the service once with `provident-server serve`, or give --db.",
                                                         "\(configuration.databasePath) 处没有数据库;请先运行一次 `provident-server serve`,或用 --db 指定。"))
        }
        return try SyncService(configuration: configuration, now: SyncService.systemNow())
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the sync endpoints on the embedded SQLite database.",
        discussion: "Creates the database, its folder and the server key on first start. Stops cleanly on SIGTERM or Ctrl-C.")

    @OptionGroup var options: ConfigurationOptions
    @Option(help: ArgumentHelp("The address to listen on (default 127.0.0.1).", valueName: "address")) var host: String?
    @Option(help: ArgumentHelp("The port (default 8080; 0 picks a free one).", valueName: "port")) var port: Int?
    @Option(help: ArgumentHelp("The city's policy file (default: built-in defaults).", valueName: "file")) var policy: String?

    func run() async throws {
        var flags: [String: ConfigValue] = [:]
        if let host { flags["server.host"] = ConfigValue(.string(host), isSecret: false) }
        if let port { flags["server.port"] = ConfigValue(.int(port), isSecret: false) }
        if let policy { flags["policy.path"] = ConfigValue(.string(policy), isSecret: false) }
        let configuration = try await options.load(flags: flags)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
            return handler
        }
        let logger = Logger(label: "provident-server")
        let service = try SyncService(configuration: configuration, now: SyncService.systemNow(), serving: true)
        let app = service.application(logger: logger, onServerRunning: { port in
            let url = "http://\(configuration.host):\(port)"
            let banner = """
                Provident sync service listening on \(url)
                  database: \(configuration.databasePath)   server device: \(service.database.id)
                Next:
                  provident-server device invite --role field --branch 西工区 --db \(configuration.databasePath)
                  provident init --server \(url)            (a worker's own laptop)
                  provident init --server \(url) --invite CODE   (a staff laptop)
                  provident-server office add-user NAME --db \(configuration.databasePath)   then open \(url)/office

                """
            // Written straight to the file descriptor: unbuffered, so scripts waiting for it see it at once.
            FileHandle.standardOutput.write(Data(banner.utf8))
        })
        try await app.runService()
    }
}

struct DeviceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "device", abstract: "Invite, list and revoke devices.",
        subcommands: [Invite.self, List.self, Revoke.self])

    struct Invite: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue a one-time, expiring invite code for a staff laptop.")
        @OptionGroup var options: ConfigurationOptions
        @Option(help: "field (an outreach laptop of a branch) or office.") var role: String
        @Option(help: "The branch (管理部) of a field laptop.") var branch: String?
        @Option(help: "Days before the code expires (default 7).") var days: Int = 7

        func validate() throws {
            guard role == "field" || role == "office" else { throw ValidationError("--role must be field or office.") }
            if role == "field", branch == nil { throw ValidationError("A field laptop needs --branch.") }
            if let branch, !Branch.isValid(branch) { throw ValidationError("A branch name is 1–64 characters without “/” or “:”.") }
            guard (1...90).contains(days) else { throw ValidationError("--days must be 1 to 90.") }
        }

        func run() async throws {
            let service = try await options.open()
            let now = SyncService.systemNow()
            let (id, code) = try await service.database.createInvite(role: role == "office" ? .office : .field,
                                                                     branch: role == "field" ? branch : nil,
                                                                     validFor: Int64(days) * 86_400, now: now)
            print(t("Invite \(id) for a\(role == "office" ? "n office" : " field") laptop\(branch.map { " of \($0)" } ?? ""), valid \(days) days:",
                    "邀请 \(id):\(role == "office" ? "中心电脑" : "\(branch ?? "")外勤电脑"),\(days) 天内有效:"))
            print("  \(code)")
            print(t("On the laptop: provident init --server URL --invite \(code)", "在该电脑上运行:provident init --server URL --invite \(code)"))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the devices the server knows.")
        @OptionGroup var options: ConfigurationOptions
        @Flag(help: "Print JSON for scripts.") var json = false

        func run() async throws {
            let devices = try await options.open().database.devices()
            if json {
                let rows: [[String: String]] = devices.map { device in
                    var row = ["device": device.id.rawValue, "role": device.grant.role.rawValue, "status": device.status.rawValue,
                               "enrolledAt": device.enrolledAt.utcISO, "enrolledVia": device.enrolledVia]
                    row["branch"] = device.grant.branch
                    row["account"] = device.grant.accountID
                    row["lastSeenAt"] = device.lastSeenAt?.utcISO
                    row["statusReason"] = device.statusReason
                    return row
                }
                let data = try JSONSerialization.data(withJSONObject: rows, options: [.prettyPrinted, .sortedKeys])
                print(String(decoding: data, as: UTF8.self))
                return
            }
            let rows = [["device", "role", "branch", "account", "status", "last seen (Beijing)"]] + devices.map { device in
                [device.id.rawValue, device.grant.role.rawValue, device.grant.branch ?? "-", device.grant.accountID ?? "-",
                 device.status.rawValue + (device.statusReason.map { ": \($0)" } ?? ""), device.lastSeenAt?.shanghaiDisplay ?? "never"]
            }
            printTable(rows)
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a device: it can no longer sync.")
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: "The device id.") var device: String
        @Option(help: "Why.") var reason: String

        func run() async throws {
            guard let id = DeviceID(device) else { throw AdminFailure(status: 3, message: t("“\(device)” is not a device id (32 hex digits).", "“\(device)”不是设备 ID(32 位十六进制)。")) }
            try await options.open().database.revoke(id, reason: reason, now: SyncService.systemNow())
            print(t("Device \(id) revoked.", "设备 \(id) 已停用。"))
        }
    }
}

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Check the database's integrity and print the state digest of everything it holds.")
    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        let service = try await options.open()
        let integrity = try service.database.replica.integrityCheck()
        guard integrity == ["ok"] else { throw AdminFailure(status: 7, message: t("SQLite reports: ", "SQLite 报告:") + integrity.joined(separator: "; ")) }
        print(t("Database is sound; feed at position \(try await service.database.head()).", "数据库完好;数据流位置 \(try await service.database.head())。"))
        print(t("State digest: ", "状态摘要:") + (try service.database.replica.stateDigest().hex))
    }
}

struct AlertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "alerts", abstract: "List what the office should look at (forked devices).")
    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        let alerts = try await options.open().database.alerts()
        if alerts.isEmpty { print(t("No alerts.", "没有警报。")) }
        for alert in alerts {
            print("\(alert.at.shanghaiDisplay)  \(alert.kind)  \(alert.device?.rawValue ?? "-")  \(alert.detail)")
        }
    }
}

struct ConflictsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conflicts", abstract: "Review and resolve concurrent edits.",
        subcommands: [List.self, Show.self, Resolve.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List conflicts awaiting review (all with --all).")
        @OptionGroup var options: ConfigurationOptions
        @Flag(help: "Include resolved conflicts.") var all = false

        func run() async throws {
            let conflicts = try await options.open().database.replica.conflicts().filter { all || !$0.resolved }
            if conflicts.isEmpty { print(all ? t("No conflicts.", "没有冲突。") : t("No conflicts await review.", "没有待处理的冲突。")) }
            for (conflict, resolved) in conflicts {
                print("\(conflict.id.hex.prefix(16))  \(conflict.record)  \(conflict.field)  \(resolved ? t("resolved", "已处理") : t("open", "待处理"))")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show both values of a conflict and the devices that wrote them.")
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: "The conflict id (or its first 8+ hex digits).") var conflict: String

        func run() async throws {
            let (found, resolved) = try await find(conflict, in: options.open())
            print(t("Conflict ", "冲突 ") + found.id.hex)
            print(t("Record:  \(found.record)   field: \(found.field)   ", "记录:\(found.record)   字段:\(found.field)   ") + (resolved ? t("resolved", "已处理") : t("open", "待处理")))
            for (label, write) in [("a", found.first), ("b", found.second)] {
                let winner = write.dot == found.winner.dot ? t("  ← applied (later)", "  ← 当前生效(较晚)") : ""
                let written = Instant(millisSinceEpoch: Int64(write.time.wallMillis)).shanghaiDisplay
                print("  \(label): \(describe(write.value))  " + t("by \(write.dot.device) #\(write.dot.sequence), written \(written) (Beijing)", "设备 \(write.dot.device) #\(write.dot.sequence),写入于 \(written)(北京时间)") + winner)
            }
            print(t("Resolve with: ", "处理:") + "provident-server conflicts resolve \(found.id.hex.prefix(16)) --keep a|b")
        }
    }

    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Resolve a conflict: the office writes the chosen value, which syncs out to every device holding the record.")
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: "The conflict id (or its first 8+ hex digits).") var conflict: String
        @Option(help: "Keep side a or b.") var keep: String?
        @Option(help: "Write this value instead (canonical JSON, e.g. \"13800138000\").") var value: String?

        func validate() throws {
            guard (keep == nil) != (value == nil) else { throw ValidationError("Give --keep a|b or --value.") }
            if let keep, keep != "a", keep != "b" { throw ValidationError("--keep must be a or b.") }
        }

        func run() async throws {
            let service = try await options.open()
            let (found, _) = try await find(conflict, in: service)
            let chosen: CanonicalValue
            if let keep {
                chosen = keep == "a" ? found.first.value : found.second.value
            } else {
                guard let value, let parsed = try? CanonicalDecoder.decode(Array(value.utf8), limit: 65_536) else {
                    throw AdminFailure(status: 3, message: t("--value must be canonical JSON, like \"13800138000\" (with the quotes) or 600.",
                                                             "--value 须为规范 JSON,例如 \"13800138000\"(含引号)或 600。"))
                }
                chosen = parsed
            }
            let signed = try await service.database.resolveConflict(found.id, value: chosen, admission: Admission(policy: service.policy),
                                                                    now: SyncService.systemNow())
            print(t("Resolved: \(found.record) \(found.field) = \(describe(chosen)) (change-set \(signed.id.hex.prefix(16)), syncs out to the devices holding the record).",
                    "已处理:\(found.record) \(found.field) = \(describe(chosen))(变更集 \(signed.id.hex.prefix(16)),将同步到持有该记录的设备)。"))
        }
    }

    static func find(_ prefix: String, in service: SyncService) async throws -> (Conflict, Bool) {
        let matches = try service.database.replica.conflicts().filter { $0.conflict.id.hex.hasPrefix(prefix.lowercased()) }
        guard prefix.count >= 8, matches.count == 1, let match = matches.first else {
            throw AdminFailure(status: 4, message: matches.count > 1 ? "“\(prefix)” matches several conflicts; give more digits."
                                                                    : "No conflict with id \(prefix); see `provident-server conflicts list --all`.")
        }
        return match
    }
}

/// Prints rows as columns aligned by display width (Chinese characters take two columns).
func printTable(_ rows: [[String]]) {
    func width(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { $0 + (($1.value >= 0x2E80 && $1.value <= 0x9FFF) || ($1.value >= 0xFF00 && $1.value <= 0xFF60) ? 2 : 1) }
    }
    let widths = (0..<(rows.first?.count ?? 0)).map { column in rows.map { width($0[column]) }.max() ?? 0 }
    for row in rows {
        print(row.enumerated().map { $1 + String(repeating: " ", count: widths[$0] - width($1)) }.joined(separator: "  ")
            .replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
    }
}

/// Field values for the office's eyes: phone numbers and ID numbers masked.
func describe(_ value: CanonicalValue) -> String {
    if let text = value.stringValue {
        if text.count == 11, text.allSatisfy(\.isNumber) { return MobileNumber.mask(text) }
        if text.count == 18 { return ResidentID.mask(text) }
        return text
    }
    return String(decoding: (try? CanonicalEncoder.encode(value)) ?? [], as: UTF8.self)
}

/// An administration error for the person at the keyboard, with an exit status.
struct AdminFailure: Error {
    let status: Int32
    let message: String

    init(status: Int32, message: String) {
        self.status = status
        self.message = message
    }

    init?(_ error: any Error) {
        switch error {
        case let failure as AdminFailure: self = failure
        case let error as ServerError:
            let damaged = if case .keyFileProblem = error { true } else { false }
            self.init(status: damaged ? 7 : 4, message: error.message(language))
        case let error as StoreError:
            self.init(status: 7, message: error.message(language))
        case let error as PolicyError:
            self.init(status: 3, message: error.message(language))
        case let error as CryptoError:
            self.init(status: 7, message: t("The server key file: ", "服务器密钥文件:") + error.message)
        case let error as DomainError:
            self.init(status: error.kind == .invalidInput ? 3 : 4, message: error.message(language))
        case let error as ReconciliationError:
            let invalid = if case .amountsDiffer = error { true } else { false }
            self.init(status: invalid ? 3 : 4, message: error.message(language))
        case let error as InterestError:
            self.init(status: 4, message: error.message(language))
        case let error as OfficeUserError:
            let invalid = switch error {
            case .nameInvalid, .passwordTooShort: true
            case .exists, .unknown: false
            }
            self.init(status: invalid ? 3 : 4, message: error.message(language))
        default:
            return nil
        }
    }
}
