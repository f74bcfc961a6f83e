import ArgumentParser
import Foundation
import ProvidentCLIKit
import ProvidentServer

/// Backups of a deployment (SQLite or PostgreSQL): taken while the service runs, checked, restored.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup", abstract: t("Take or check a backup of the database and the server key.", "备份数据库和服务器密钥，或检查备份。"),
        discussion: t("""
            `backup DIR` copies the SQLite database from a consistent snapshot while the service goes on \
            (PostgreSQL: pg_dump, one snapshot), with the server key (0600) and a manifest of the copy's feed head \
            and state digest. `backup verify DIR` checks all of it without changing anything (a PostgreSQL dump is \
            restored into a scratch database, dropped after, on the server --database names). Restore with `provident-server restore DIR`. \
            Keep backups where the key is safe: whoever holds it can sign as this server.
            """, """
            `backup 文件夹` 在服务继续运行的同时，从一致的快照复制 SQLite 数据库（PostgreSQL：用 pg_dump，单一快照），\
            连同服务器密钥（0600）和记录副本数据流位置与状态摘要的清单。`backup verify 文件夹` 检查全部内容，不做任何更改\
            （PostgreSQL 备份会恢复到 --database 所指服务器上的临时数据库中检查，之后删除）。\
            恢复请用 `provident-server restore 文件夹`。请把备份存放在安全之处：持有密钥者可以本服务器的名义签名。
            """),
        subcommands: [Take.self, Verify.self], defaultSubcommand: Take.self)

    struct Take: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "take", abstract: t("Take a backup into a new or empty folder.", "把备份写入新的或空的文件夹。"))
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: ArgumentHelp(t("The backup folder (new or empty).", "备份文件夹（新的或空的）。"), valueName: "folder")) var folder: String

        func run() async throws {
            let manifest = try await ServerBackup.take(try await options.load(), into: folder, logger: quietLogger)
            print(t("Backup taken in \(folder): feed at position \(manifest.feedHead).", "已备份到 \(folder)：数据流位置 \(manifest.feedHead)。"))
            print(t("State digest: ", "状态摘要：") + manifest.stateDigest)
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "verify", abstract: t("Check a backup folder; changes nothing.", "检查备份文件夹；不做任何更改。"))
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: ArgumentHelp(t("The backup folder.", "备份文件夹。"), valueName: "folder")) var folder: String

        func run() async throws {
            let manifest = try await ServerBackup.verify(folder, configuration: try await options.load(), logger: quietLogger)
            print(t("The backup in \(folder) is whole: taken \(manifest.createdAt), feed at position \(manifest.feedHead).",
                    "\(folder) 中的备份完好：备份于 \(manifest.createdAt)，数据流位置 \(manifest.feedHead)。"))
            print(t("State digest: ", "状态摘要：") + manifest.stateDigest)
        }
    }
}

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore", abstract: t("Restore a checked backup in place of the database (stop the service first).", "用已检查的备份替换数据库（请先停止服务）。"),
        discussion: t("""
            Checks the backup as `backup verify` does, refuses a backup whose key differs from the one at \
            server.keyPath, then puts the copy in place of the database. Devices notice at their next sync \
            that the server is behind what they read and send back what it lacks.
            """, """
            先像 `backup verify` 一样检查备份；若备份中的密钥与 server.keyPath 处的密钥不同则拒绝；\
            然后用副本替换数据库。设备在下次同步时会发现服务器落后于其已读取的内容，并补发服务器缺少的数据。
            """))
    @OptionGroup var options: ConfigurationOptions
    @Argument(help: ArgumentHelp(t("The backup folder.", "备份文件夹。"), valueName: "folder")) var folder: String

    func run() async throws {
        let manifest = try await ServerBackup.restore(folder, configuration: try await options.load(), logger: quietLogger)
        print(t("Restored the backup of \(manifest.createdAt): feed at position \(manifest.feedHead).",
                "已恢复 \(manifest.createdAt) 的备份：数据流位置 \(manifest.feedHead)。"))
        print(t("Start the service, then announce the restore from an office laptop before it syncs (provident epoch): devices take the restored server only then, and refill what the copy lacks.",
                "请启动服务，然后在中心电脑同步之前用它宣布此次恢复（provident epoch）：设备只在此之后接受恢复后的服务器，并补发副本中缺少的数据。"))
    }
}
