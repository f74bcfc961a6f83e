import ArgumentParser
import Configuration
import Foundation
import Logging
import Metrics
import Prometheus
import ProvidentCLIKit
import ProvidentCrypto
import ProvidentDomain
import ProvidentServer
import ProvidentServerCore
import ProvidentSync
import SystemPackage

@main
struct ProvidentServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "provident-server",
        abstract: t("Run the Provident sync service and administer its devices, employers, campaigns, applications and conflicts.", "运行 Provident 同步服务，并管理其设备、单位、专项行动、申请和冲突。"),
        discussion: t("""
            Every command reads the same configuration: defaults, then the YAML file given by --config, \
            then PROVIDENT_-prefixed environment variables (PROVIDENT_SERVER_PORT, PROVIDENT_DATABASE_URL, …), \
            then the flags. The database is a SQLite file (the default, ./var/provident.sqlite) or \
            postgres://USER@HOST:PORT/DB, with the password in PGPASSWORD or database.passwordFile. \
            Administration commands work on the database while the service runs.

            Exit status: 0 done; 1 unexpected failure; 3 invalid value; 4 refused (unknown device, conflict or invite); \
            5 the database cannot be reached now, or its disk is full (nothing was changed); 6 no database yet; \
            7 damaged database or key, or a database of another deployment or version; 64 usage.
            """, """
            每个命令读取同一套配置：先是默认值，然后是 --config 指定的 YAML 文件，再是以 PROVIDENT_ 开头的环境变量\
            （PROVIDENT_SERVER_PORT、PROVIDENT_DATABASE_URL 等），最后是命令行选项。数据库为 SQLite 文件\
            （默认 ./var/provident.sqlite）或 postgres://USER@HOST:PORT/DB，密码放在 PGPASSWORD 或 database.passwordFile 中。\
            服务运行时也可执行管理命令。

            退出码：0 完成；1 意外错误；3 取值无效；4 被拒绝（未知的设备、冲突或邀请）；\
            5 暂时无法连接数据库，或其磁盘已满（未做任何更改）；6 尚无数据库；\
            7 数据库或密钥已损坏，或属于另一部署或版本；64 用法错误。
            """),
        version: ServerVersion.current,
        subcommands: [Serve.self, DeviceCommand.self, UnitsCommand.self, CampaignCommand.self, ApplicationCommand.self,
                      ReconcileCommand.self, InterestCommand.self, ReportCommand.self, OfficeCommand.self,
                      ConflictsCommand.self, AlertsCommand.self, CheckCommand.self, BundleCommand.self, BackupCommand.self, RestoreCommand.self, MigrateCommand.self])

    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            guard let failure = AdminFailure(error) else { ParserMessages.exit(Self.self, withError: error) }
            FileHandle.standardError.write(Data((t("Error: ", "错误：") + failure.message + "\n").utf8))
            Foundation.exit(failure.status)
        }
    }
}

/// Where the database is and how the service is set up, from file, environment and flags.
struct ConfigurationOptions: ParsableArguments {
    @Option(help: ArgumentHelp(t("A YAML configuration file.", "YAML 配置文件。"), valueName: "file")) var config: String?
    @Option(name: [.customLong("database"), .customLong("db")],
            help: ArgumentHelp(t("The database: a SQLite file (default ./var/provident.sqlite), sqlite:PATH or postgres://USER@HOST:PORT/DB.",
                                 "数据库：SQLite 文件（默认 ./var/provident.sqlite）、sqlite:路径 或 postgres://用户@主机:端口/库名。"),
                               valueName: "url"))
    var database: String?

    func load(flags extra: [String: ConfigValue] = [:]) async throws -> ServerConfiguration {
        var flags = extra
        if let database { flags["database.url"] = ConfigValue(.string(database), isSecret: false) }
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

    /// Runs `body` with the service's database opened for administration (it must exist and be
    /// up to date), and closes it after.
    func withService<T>(_ body: (SyncService) async throws -> T) async throws -> T {
        let service = try await SyncService.open(try await load(), create: false, logger: quietLogger)
        do {
            let result = try await body(service)
            await service.close()
            return result
        } catch {
            await service.close()
            throw error
        }
    }

    /// The core of the service, for commands that only need it.
    func withCore<T>(_ body: (ServerCore) async throws -> T) async throws -> T {
        try await withService { try await body($0.core) }
    }
}

/// Administration commands report to the person at the keyboard, not to a log.
let quietLogger: Logger = {
    var logger = Logger(label: "provident-server")
    logger.logLevel = .critical
    return logger
}()

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve",
        abstract: t("Serve the sync endpoints and the office dashboard.", "提供同步接口和中心看板。"),
        discussion: t("""
            Creates the database (a SQLite file and its folder, or the tables in an empty PostgreSQL database) and \
            the server key on first start, and brings an older schema up to date. Several servers may serve one \
            PostgreSQL database, behind a load balancer, with the same server key. Stops cleanly on SIGTERM or Ctrl-C.
            """, """
            首次启动时创建数据库（SQLite 文件及其文件夹，或空 PostgreSQL 数据库中的表）和服务器密钥，\
            并把旧版表结构升级到最新。多台服务器可用同一服务器密钥、经负载均衡共用一个 PostgreSQL 数据库。\
            收到 SIGTERM 或 Ctrl-C 时正常停止。
            """))

    @OptionGroup var options: ConfigurationOptions
    @Option(help: ArgumentHelp(t("The address to listen on (default 127.0.0.1).", "监听地址（默认 127.0.0.1）。"), valueName: "address")) var host: String?
    @Option(help: ArgumentHelp(t("The port (default 8080; 0 picks a free one).", "端口（默认 8080；0 表示任选一个空闲端口）。"), valueName: "port")) var port: Int?
    @Option(help: ArgumentHelp(t("The city's policy file (default: built-in defaults).", "本市政策文件（默认：内置默认值）。"), valueName: "file")) var policy: String?
    @Option(name: .customLong("log-format"), help: ArgumentHelp(t("text, or json: one JSON object a line (default text; log.format).",
                                                                  "text，或 json：每行一个 JSON 对象（默认 text；log.format）。")))
    var logFormat: LogFormat?
    @Option(name: .customLong("tls-cert"), help: ArgumentHelp(t("A PEM certificate chain: serve HTTPS (server.tlsCertificate; needs --tls-key).",
                                                                "PEM 证书链：以 HTTPS 提供服务（server.tlsCertificate；需同时给出 --tls-key）。"), valueName: "file"))
    var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: ArgumentHelp(t("The certificate's PEM private key, readable by its owner only (server.tlsKey).",
                                                               "证书的 PEM 私钥，只能由其所有者读取（server.tlsKey）。"), valueName: "file"))
    var tlsKey: String?

    enum LogFormat: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    func run() async throws {
        var flags: [String: ConfigValue] = [:]
        if let host { flags["server.host"] = ConfigValue(.string(host), isSecret: false) }
        if let port { flags["server.port"] = ConfigValue(.int(port), isSecret: false) }
        if let policy { flags["policy.path"] = ConfigValue(.string(policy), isSecret: false) }
        if let logFormat { flags["log.format"] = ConfigValue(.string(logFormat.rawValue), isSecret: false) }
        if let tlsCert { flags["server.tlsCertificate"] = ConfigValue(.string(tlsCert), isSecret: false) }
        if let tlsKey { flags["server.tlsKey"] = ConfigValue(.string(tlsKey), isSecret: false) }
        let configuration = try await options.load(flags: flags)
        guard let format = LogFormat(rawValue: configuration.logFormat) else {
            throw AdminFailure(status: 3, message: t("log.format is “\(configuration.logFormat)”; use text or json.", "log.format 为“\(configuration.logFormat)”；请使用 text 或 json。"))
        }
        let level = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in
            switch format {
            case .json:
                return JSONLogHandler(label: label, level: level)
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
        let logger = Logger(label: "provident-server")
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory.provident(registry))
        if let tlsKey = configuration.tlsKey, FileManager.default.fileExists(atPath: tlsKey) { try AtomicFile.requirePrivate(tlsKey) }
        let openFiles = OpenFiles.raiseToHardLimit()
        let service = try await SyncService.open(configuration, create: true, logger: logger)
        let database = configuration.databaseURL
        let scheme = configuration.tlsCertificate == nil ? "http" : "https"
        do {
            try await service.application(logger: logger, metrics: registry, openFiles: openFiles, onServerRunning: { port in
                let url = "\(scheme)://\(configuration.host):\(port)"
                let banner = """
                    Provident sync service listening on \(url)
                      database: \(service.core.store.location) (\(service.core.store.backend))   server device: \(service.core.id)
                    Next:
                      provident-server device invite --role field --branch 西工区 --database \(database)
                      provident init --server \(url)            (a worker's own laptop)
                      provident init --server \(url) --invite CODE   (a staff laptop)
                      provident-server office add-user NAME --database \(database)   then open \(url)/office

                    """
                // Written straight to the file descriptor: unbuffered, so scripts waiting for it see it at once.
                FileHandle.standardOutput.write(Data(banner.utf8))
            }).runService()
        } catch {
            await service.close()
            throw error
        }
        await service.close()
    }
}

/// The staff roles an invite code is for.
enum InviteRole: String, ExpressibleByArgument, CaseIterable {
    case field, office, auditor

    var deviceRole: DeviceRole {
        switch self {
        case .field: .field
        case .office: .office
        case .auditor: .auditor
        }
    }
}

struct DeviceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "device", abstract: t("Invite, list and revoke devices.", "邀请、列出和停用设备。"),
        subcommands: [Invite.self, List.self, Revoke.self])

    struct Invite: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "invite", abstract: t("Issue a one-time, expiring invite code for a staff laptop.", "为工作人员电脑签发一次性、有期限的邀请码。"))
        @OptionGroup var options: ConfigurationOptions
        @Option(help: ArgumentHelp(t("field (an outreach laptop of a branch), office, or auditor (the audit office, which witnesses the log).", "field（管理部的外勤电脑）、office（中心）或 auditor（审计部门，见证日志）。"))) var role: InviteRole
        @Option(help: ArgumentHelp(t("The branch (管理部) of a field laptop.", "外勤电脑所属的管理部。"))) var branch: String?
        @Option(help: ArgumentHelp(t("Days before the code expires (default 7).", "邀请码有效天数（默认 7）。"))) var days: Int = 7

        func validate() throws {
            if role == .field, branch == nil { throw ValidationError(t("A field laptop needs --branch.", "外勤电脑须给出 --branch。")) }
            if let branch, !Branch.isValid(branch) {
                throw ValidationError(t("A branch name is 1–64 characters without “/” or “:”.", "管理部名称为 1–64 个字符，不含“/”或“:”。"))
            }
            guard (1...90).contains(days) else { throw ValidationError(t("--days must be 1 to 90.", "--days 须为 1 至 90。")) }
        }

        func run() async throws {
            let (id, code) = try await options.withCore { core in
                try await core.createInvite(role: role.deviceRole, branch: role == .field ? branch : nil,
                                            validFor: Int64(days) * 86_400)
            }
            let what = switch role {
            case .office: t("an office laptop", "中心电脑")
            case .field: t("a field laptop of \(branch ?? "")", "\(branch ?? "")外勤电脑")
            case .auditor: t("an auditor's device", "审计设备")
            }
            print(t("Invite \(id) for \(what), valid \(days) days:", "邀请 \(id)：\(what)，\(days) 天内有效："))
            print("  \(code)")
            print(t("On the laptop: provident init --server URL --invite \(code)", "在该电脑上运行：provident init --server URL --invite \(code)"))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: t("List the devices the server knows.", "列出服务器已知的设备。"))
        @OptionGroup var options: ConfigurationOptions
        @Flag(help: ArgumentHelp(t("Print JSON for scripts.", "以 JSON 格式输出（供脚本使用）。"))) var json = false

        func run() async throws {
            let devices = try await options.withCore { try await $0.devices() }
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
                try printJSON(rows)
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
        static let configuration = CommandConfiguration(commandName: "revoke", abstract: t("Revoke a device: it can no longer sync.", "停用设备：此后不能再同步。"))
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: ArgumentHelp(t("The device id.", "设备 ID。"))) var device: String
        @Option(help: ArgumentHelp(t("Why.", "理由。"))) var reason: String

        func run() async throws {
            guard let id = DeviceID(device) else { throw AdminFailure(status: 3, message: t("“\(device)” is not a device id (32 hex digits).", "“\(device)”不是设备 ID（32 位十六进制）。")) }
            try await options.withCore { try await $0.revoke(id, reason: reason) }
            print(t("Device \(id) revoked.", "设备 \(id) 已停用。"))
        }
    }
}

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: t("Check the database's integrity and print the state digest of everything it holds.", "检查数据库完整性，并打印其全部数据的状态摘要。"))
    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        let (integrity, head, digest) = try await options.withCore { core in
            (try await core.store.integrityCheck(), try await core.feedHead(), try await core.stateDigest())
        }
        guard integrity == ["ok"] else { throw AdminFailure(status: 7, message: t("The database reports: ", "数据库报告：") + integrity.joined(separator: "; ")) }
        print(t("Database is sound; feed at position \(head).", "数据库完好；数据流位置 \(head)。"))
        print(t("State digest: ", "状态摘要：") + digest.hex)
    }
}

struct AlertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "alerts", abstract: t("List what the office should look at: forked devices, devices whose clock runs ahead, devices holding a log this server no longer has.", "列出中心应关注的事项：历史分叉的设备、时钟偏快的设备、持有本服务器已不具备的日志的设备。"))
    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        let alerts = try await options.withCore { try await $0.alerts() }
        if alerts.isEmpty { print(t("No alerts.", "没有警报。")) }
        for alert in alerts {
            print("\(alert.at.shanghaiDisplay)  \(alert.kind)  \(alert.device?.rawValue ?? "-")  \(alert.detail)")
        }
    }
}

struct ConflictsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conflicts", abstract: t("Review and resolve concurrent edits.", "查看和处理并发编辑冲突。"),
        subcommands: [List.self, Show.self, Resolve.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: t("List conflicts awaiting review (all with --all).", "列出待处理的冲突（加 --all 列出全部）。"))
        @OptionGroup var options: ConfigurationOptions
        @Flag(help: ArgumentHelp(t("Include resolved conflicts.", "包括已处理的冲突。"))) var all = false

        func run() async throws {
            let conflicts = try await options.withCore { try await $0.conflicts() }.filter { all || !$0.resolved }
            if conflicts.isEmpty { print(all ? t("No conflicts.", "没有冲突。") : t("No conflicts await review.", "没有待处理的冲突。")) }
            for (conflict, resolved) in conflicts {
                print("\(conflict.id.hex.prefix(16))  \(conflict.record)  \(conflict.field)  \(resolved ? t("resolved", "已处理") : t("open", "待处理"))")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: t("Show both values of a conflict and the devices that wrote them.", "查看冲突双方的值及写入它们的设备。"))
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: ArgumentHelp(t("The conflict id (or its first 8+ hex digits).", "冲突编号（或其前 8 位以上十六进制数字）。"))) var conflict: String

        func run() async throws {
            let (found, resolved) = try await options.withCore { try await find(conflict, in: $0) }
            print(t("Conflict ", "冲突 ") + found.id.hex)
            print(t("Record:  \(found.record)   field: \(found.field)   ", "记录：\(found.record)   字段：\(found.field)   ") + (resolved ? t("resolved", "已处理") : t("open", "待处理")))
            for (label, write) in [("a", found.first), ("b", found.second)] {
                let winner = write.dot == found.winner.dot ? t("  ← applied (later)", "  ← 当前生效（较晚）") : ""
                let written = write.time.instant.shanghaiDisplay
                print("  \(label): \(Reports.masked(write.value, field: found.field))  " + t("by \(write.dot.device) #\(write.dot.sequence), written \(written) (Beijing)", "设备 \(write.dot.device) #\(write.dot.sequence)，写入于 \(written)（北京时间）") + winner)
            }
            print(t("Resolve with: ", "处理：") + "provident-server conflicts resolve \(found.id.hex.prefix(16)) --keep a|b")
        }
    }

    /// Which side of a conflict the office keeps.
    enum Side: String, ExpressibleByArgument, CaseIterable {
        case a, b
    }

    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "resolve",
            abstract: t("Resolve a conflict: the office writes the chosen value, which syncs out to every device holding the record.", "处理冲突：中心写入选定的值，同步到持有该记录的每台设备。"))
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: ArgumentHelp(t("The conflict id (or its first 8+ hex digits).", "冲突编号（或其前 8 位以上十六进制数字）。"))) var conflict: String
        @Option(help: ArgumentHelp(t("Keep side a or b.", "保留 a 方或 b 方。"))) var keep: Side?
        @Option(help: ArgumentHelp(t("Write this value instead (canonical JSON, e.g. \"13800138000\").", "改为写入此值（规范 JSON，例如 \"13800138000\"）。")))
        var value: String?

        func validate() throws {
            guard (keep == nil) != (value == nil) else { throw ValidationError(t("Give --keep a|b or --value.", "请给出 --keep a|b 或 --value。")) }
        }

        func run() async throws {
            try await options.withCore { core in try await resolve(core) }
        }

        func resolve(_ core: ServerCore) async throws {
            let (found, _) = try await find(conflict, in: core)
            let chosen: CanonicalValue
            if let keep {
                chosen = keep == .a ? found.first.value : found.second.value
            } else {
                guard let value, let parsed = try? CanonicalDecoder.decode(Array(value.utf8), limit: 65_536) else {
                    throw AdminFailure(status: 3, message: t("--value must be canonical JSON, like \"13800138000\" (with the quotes) or 600.",
                                                             "--value 须为规范 JSON，例如 \"13800138000\"（含引号）或 600。"))
                }
                chosen = parsed
            }
            let signed = try await core.resolveConflict(found.id, value: chosen)
            let shown = Reports.masked(chosen, field: found.field)
            print(t("Resolved: \(found.record) \(found.field) = \(shown) (change-set \(signed.id.hex.prefix(16)), syncs out to the devices holding the record).",
                    "已处理：\(found.record) \(found.field) = \(shown)（变更集 \(signed.id.hex.prefix(16))，将同步到持有该记录的设备）。"))
        }
    }

    static func find(_ prefix: String, in core: ServerCore) async throws -> (Conflict, Bool) {
        let matches = try await core.conflicts().filter { $0.conflict.id.hex.hasPrefix(prefix.lowercased()) }
        guard prefix.count >= 8, matches.count == 1, let match = matches.first else {
            throw AdminFailure(status: 4, message: matches.count > 1 ? t("“\(prefix)” matches several conflicts; give more digits.", "“\(prefix)”对应多个冲突；请给出更多位。")
                                                                    : ServerError.conflictUnknown.message(language))
        }
        return match
    }
}

/// Prints rows as columns aligned by display width (Chinese characters take two columns).
func printTable(_ rows: [[String]]) {
    print(TextTable(rows: rows).rendered)
}

/// An administration error for the person at the keyboard, with an exit status.
struct AdminFailure: Error {
    let status: Int32
    let message: String

    init(status: Int32, message: String) {
        self.status = status
        self.message = message
    }

    /// One of Provident's errors, by its kind; nil for the argument parser's own.
    init?(_ error: any Error) {
        switch error {
        case let failure as AdminFailure: self = failure
        case let error as any ProvidentError: self.init(status: Self.status(error.kind), message: error.message(language))
        default: return nil
        }
    }

    /// The exit status of each kind of error (listed in `provident-server --help`).
    static func status(_ kind: ErrorKind) -> Int32 {
        switch kind {
        case .invalidInput, .tooLarge, .configuration: 3
        case .refused, .forbidden, .notFound, .rateLimited, .unauthenticated, .remoteRefusal, .alreadySetUp: 4
        case .unavailable, .storageFull: 5
        case .notSetUp: 6
        case .damaged, .credentials: 7
        case .internal: 1
        }
    }
}
