import ArgumentParser
import Foundation
import ProvidentCLIKit
import ProvidentClient
import ProvidentDomain
import ProvidentSync

@main
struct Provident: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "provident",
            abstract: t("Keep a voluntary housing provident fund account and its deposits, offline.",
                        "离线办理住房公积金个人自愿缴存账户及缴存。"),
            discussion: t("""
                Everything works without a network: each change is signed by this device and kept in \
                the outbox until it is synced. The data lives in ~/.provident (or PROVIDENT_HOME, or \
                --data-dir). Amounts are in yuan; times are shown in Beijing time.
                """, """
                所有功能无需联网：每项更改由本设备签名，保存在待同步队列中，联网后同步。数据保存在 \
                ~/.provident（或 PROVIDENT_HOME、--data-dir 指定的目录）。金额单位为元；时间按北京时间显示。
                """) + "\n\n" + Status.table(language),
            version: "0.1.0",
            subcommands: [
                Init.self, WhoAmI.self, Enroll.self, AccountCommand.self, Pause.self, Resume.self, Close.self,
                DepositCommand.self, StatementCommand.self, BalanceCommand.self, UnitCommand.self, VisitCommand.self,
                ApplicationCommand.self, CampaignCommand.self, SyncCommand.self, BundleCommand.self, OutboxCommand.self,
                ConflictsCommand.self, PolicyCommand.self, Check.self, AuditCommand.self, WitnessCommand.self, EpochCommand.self, KeyCommand.self, ServiceCommand.self, DraftsCommand.self,
            ])
    }

    /// The command line's command. `provident sync`, which a timer runs every quarter of an hour,
    /// is parsed on its own: building the tree of every command costs more than a sync with
    /// little to do. Whatever that cannot parse (help, a mistake) goes the whole way, which gives
    /// the usual messages.
    static func parseCommand() throws -> ParsableCommand {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "sync", let command = try? SyncCommand.parse(Array(arguments.dropFirst())) { return command }
        return try parseAsRoot()
    }

    /// Runs the command, turning our errors into a message in the user's language and a
    /// documented exit status; the argument parser reports its own (usage) errors.
    static func main() async {
        let command: ParsableCommand
        do {
            command = try parseCommand()
        } catch {
            ParserMessages.exit(Self.self, withError: error)
        }
        for (name, value) in ServerConnection.Bounds.invalidSettings() {
            Terminal.warn(t("\(name) is “\(value)”, not whole seconds from 1 to 86400; the default is used.",
                            "\(name) 的值“\(value)”不是 1 至 86400 之间的整数秒；改用默认值。"))
        }
        do {
            if var asynchronous = command as? AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                var runnable = command
                try runnable.run()
            }
            if let edit = command as? LocalEdit { BackgroundSync.startIfUseful(edit.data.directory) }
        } catch {
            guard let failure = Failure(ours: error, language: language) else { ParserMessages.exit(Self.self, withError: error) }
            // A status line may be on screen: clear it first, so the error reads alone.
            if isatty(STDERR_FILENO) == 1 { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            Terminal.warn(t("Error: ", "错误：") + failure.message)
            Foundation.exit(failure.status.rawValue)
        }
    }
}
