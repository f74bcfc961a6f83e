import ArgumentParser
import Foundation
import ProvidentCLIKit
import ProvidentClient
import ProvidentCrypto
import ProvidentStore
import ProvidentSync

/// Syncing by hand where no network reaches: a request bundle carried to the office on a USB
/// stick, and the answer carried back (sync-protocol.md §11.13).
struct BundleCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "bundle", abstract: t("Sync through a file carried by hand (a USB stick) when no network reaches.",
                                               "无网络时，通过手工携带的文件（U 盘）同步。"),
            discussion: t("""
                1. Here: provident bundle export FILE — writes every change the server has not acknowledged and where \
                this device stands. 2. At the office: provident-server bundle import FILE --answer ANSWER. 3. Here: \
                provident bundle import ANSWER. Both files are signed; an altered or cut-short file is refused whole. \
                Importing an answer twice changes nothing; a later sync or bundle carries on from it.
                """, """
                1. 在本机：provident bundle export 文件 —— 写入服务器尚未确认的全部更改及本设备的同步位置。\
                2. 在中心：provident-server bundle import 文件 --answer 答复文件。3. 在本机：provident bundle import 答复文件。\
                两个文件都有签名；被改动或截断的文件整体拒绝。同一答复导入两次不会有任何变化；之后的同步或同步包从它继续。
                """),
            subcommands: [Export.self, Import.self])
    }

    struct Export: AsyncParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(commandName: "export", abstract: t("Write this device's request bundle, for the office.", "写出本设备的请求包，交给中心。"))
        }

        @OptionGroup var data: DataOptions
        @OptionGroup var passphrase: PassphraseOptions
        @OptionGroup var format: FormatOptions
        @Argument(help: ArgumentHelp(t("The file to write (e.g. on a USB stick).", "要写出的文件（例如 U 盘上的文件）。"), valueName: "file"))
        var file: String

        struct Output: Encodable {
            let file: String
            let changeSets: Int
            let cursor: UInt64?
        }

        func run() async throws {
            let device = try data.open()
            // The transport key signs, as it signs a sync; the passphrase only when asked for,
            // or when this device has no usable transport key.
            var deviceKey: SigningKey?
            if passphrase.passphraseFile != nil {
                deviceKey = try passphrase.unlock(device)
            } else {
                do {
                    if try device.transportCredentials() == nil { deviceKey = try passphrase.unlock(device) }
                } catch let problem as ClientError {
                    Terminal.warn(problem.message(language))
                    deviceKey = try passphrase.unlock(device)
                }
            }
            let export = try device.exportBundle(deviceKey: deviceKey, now: currentInstant())
            do {
                try AtomicFile.write(export.bytes, to: file, mode: 0o600)
            } catch {
                throw Failure(status: .invalidInput, message: t("The bundle could not be written to \(file): \(error.message(language))",
                                                                "无法把同步包写入 \(file)：\(error.message(language))"))
            }
            if format.json {
                try JSONOutput.print(Output(file: file, changeSets: export.changeSets, cursor: export.cursor))
                return
            }
            Terminal.say(t("Wrote \(file): \(export.changeSets) change(s) to send, and this device's place in the server's data.",
                           "已写出 \(file)：\(export.changeSets) 项待发送的更改，以及本设备在服务器数据中的位置。"))
            Terminal.say(t("At the office: provident-server bundle import \(file) --answer ANSWER; then here: provident bundle import ANSWER.",
                           "在中心运行：provident-server bundle import \(file) --answer 答复文件；然后在本机运行：provident bundle import 答复文件。"))
        }
    }

    struct Import: AsyncParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(commandName: "import", abstract: t("Apply the office's answer bundle.", "导入中心的答复包。"))
        }

        @OptionGroup var data: DataOptions
        @OptionGroup var format: FormatOptions
        @Argument(help: ArgumentHelp(t("The answer bundle the office wrote.", "中心写出的答复包。"), valueName: "file"))
        var file: String

        struct Output: Encodable {
            let accepted, received, snapshotRecords, removed, toResend: Int
            let refused: [SyncCommand.Refused]
            let restarted, alreadyApplied: Bool
        }

        func run() async throws {
            let device = try data.open()
            let bytes: [UInt8]
            do {
                bytes = try AtomicFile.read(file, limit: Bundle.maxByteCount)
            } catch {
                throw Failure(status: .invalidInput, message: t("The bundle \(file) could not be read: \(error.message(language))",
                                                                "无法读取同步包 \(file)：\(error.message(language))"))
            }
            let report = try device.importBundle(bytes, now: currentInstant())
            if format.json {
                try JSONOutput.print(Output(accepted: report.accepted, received: report.received, snapshotRecords: report.snapshotRecords,
                                            removed: report.removed, toResend: report.toResend,
                                            refused: report.refusals.map { .init(sequence: $0.sequence, action: $0.action, code: $0.code, message: $0.message) },
                                            restarted: report.restarted, alreadyApplied: report.alreadyApplied))
                return
            }
            if report.accepted > 0 {
                Terminal.say(t("The server accepted \(report.accepted) change(s).", "服务器已接受 \(report.accepted) 项更改。"))
            }
            SyncCommand.tell(report.refusals)
            if report.restarted {
                Terminal.say(t("The server was restored from an older copy: this device read its data again.",
                               "服务器已从较早的备份恢复：本设备已重新读取其数据。"))
            }
            if report.snapshotRecords > 0 {
                Terminal.say(t("Received a snapshot of \(report.snapshotRecords) record(s).", "已接收 \(report.snapshotRecords) 条记录的快照。"))
            }
            if report.alreadyApplied {
                Terminal.say(t("This answer's data was already applied here; nothing more to do.", "该答复包的数据此前已导入；无需再做什么。"))
            } else if report.snapshotRecords == 0 || report.received > 0 {
                Terminal.say(t("Received \(report.received) change(s).", "已接收 \(report.received) 项更改。"))
            }
            if report.toResend > 0 {
                Terminal.say(t("The server lacks \(report.toResend) change(s) it had acknowledged: they go in the next bundle or sync.",
                               "服务器缺少 \(report.toResend) 项此前已确认的更改：它们将随下一个同步包或下次同步发送。"))
            }
            let waiting = try device.replica.outbox().count
            if waiting > 0 {
                Terminal.say(t("\(waiting) change(s) still wait for the server.", "仍有 \(waiting) 项更改等待发送到服务器。"))
            }
        }
    }
}
