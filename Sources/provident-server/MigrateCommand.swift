import ArgumentParser
import Foundation
import ProvidentCLIKit
import ProvidentCrypto
import ProvidentServer
import ProvidentServerCore
import ProvidentServerStore

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: t("Copy a whole deployment to another database, e.g. from SQLite to PostgreSQL.", "把整个部署复制到另一个数据库，例如从 SQLite 到 PostgreSQL。"),
        discussion: t("""
            Copies devices, every change-set and the feed with its positions, records, conflicts, the office's \
            statements and users into a new, empty database (PostgreSQL: an empty database the user owns), in one \
            transaction, then prints both state digests, which must be equal. Stop the service first. The server key \
            stays where it is: give it to the new deployment with server.keyPath.
              provident-server migrate --from ./var/provident.sqlite --to postgres://provident@127.0.0.1:5432/provident
            """, """
            在一个事务中把设备、全部变更集、带位置的数据流、记录、冲突、中心的对账单和用户复制到新的空数据库\
            （PostgreSQL：该用户拥有的空数据库），然后打印两边的状态摘要，两者必须相等。请先停止服务。\
            服务器密钥留在原处：用 server.keyPath 交给新部署。
              provident-server migrate --from ./var/provident.sqlite --to postgres://provident@127.0.0.1:5432/provident
            """))

    @OptionGroup var options: ConfigurationOptions
    @Option(help: ArgumentHelp(t("The database to copy from.", "复制来源数据库。"), valueName: "url")) var from: String
    @Option(help: ArgumentHelp(t("The new, empty database to copy to.", "复制目标（新的空数据库）。"), valueName: "url")) var to: String

    func run() async throws {
        var configuration = try await options.load()
        configuration.databaseURL = from
        let keyPath = try configuration.resolvedKeyPath()
        let source = try await SyncService.open(configuration, create: false, logger: quietLogger)
        let target: SQLServerStore
        do {
            target = try await ServerStores.open(try DatabaseLocation(to), passwordFile: configuration.databasePasswordFile, create: true,
                                                 logger: quietLogger)
        } catch {
            await source.close()
            throw error
        }
        do {
            guard let store = source.core.store as? SQLServerStore else { throw AdminFailure(status: 1, message: "unexpected store") }
            let counts = try await store.copyDeployment(to: target)
            for (table, rows) in counts where rows > 0 { print("  \(table): \(rows)") }
            let copy = try await ServerCore.start(store: target, key: source.core.key, policy: source.core.policy, policyText: source.core.policyText,
                                                  settings: configuration.settings, clock: SyncService.systemNow, logger: quietLogger)
            let before = try await source.core.stateDigest(), after = try await copy.stateDigest()
            print(t("State digest of \(source.core.store.location): ", "\(source.core.store.location) 的状态摘要：") + before.hex)
            print(t("State digest of \(target.location): ", "\(target.location) 的状态摘要：") + after.hex)
            guard before == after else {
                throw AdminFailure(status: 7, message: t("The digests differ: the copy is not exact. Do not use it.", "两个状态摘要不一致：副本不准确，请勿使用。"))
            }
            print(t("Copied. Start the service on the new database with --database \(target.location) and the key \(keyPath).",
                    "复制完成。请用 --database \(target.location) 和密钥 \(keyPath) 在新数据库上启动服务。"))
            await target.close()
            await source.close()
        } catch {
            await target.close()
            await source.close()
            throw error
        }
    }
}
