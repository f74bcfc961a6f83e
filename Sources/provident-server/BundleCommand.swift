import ArgumentParser
import Foundation
import ProvidentCLIKit
import ProvidentCrypto
import ProvidentServerCore
import ProvidentSync

/// The office's side of syncing by hand (sync-protocol.md §11.13): a device's request bundle
/// in, its answer bundle out.
struct BundleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle", abstract: t("Sync a device that no network reaches, through files carried by hand.", "通过手工携带的文件，为无网络的设备同步。"),
        subcommands: [Import.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "import",
            abstract: t("Import a device's request bundle and write its answer bundle.", "导入设备的请求包，并写出答复包。"),
            discussion: t("""
                Checks every change-set exactly as a push (signature, chain, rules; a tampered or cut-short file is \
                refused whole, with the reason), keeps them, and writes to --answer the results and everything new in \
                the device's scope, signed by the server. Importing the same bundle again changes nothing and writes \
                the same answer. Carry the answer back: provident bundle import ANSWER.
                """, """
                像推送一样检查每个变更集（签名、链、规则；被改动或截断的文件整体拒绝并说明原因），保存后向 --answer \
                写出处理结果及设备可见范围内的全部新数据，由服务器签名。同一同步包再次导入不会有任何变化，写出的答复相同。\
                把答复带回设备：provident bundle import 答复文件。
                """))
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: ArgumentHelp(t("The device's request bundle.", "设备的请求包。"), valueName: "file")) var file: String
        @Option(help: ArgumentHelp(t("Where to write the answer bundle for the device.", "答复包的写出位置。"), valueName: "file"))
        var answer: String

        func run() async throws {
            let bytes: [UInt8]
            do {
                bytes = try AtomicFile.read(file, limit: Bundle.maxByteCount)
            } catch {
                throw AdminFailure(status: 3, message: t("The bundle \(file) could not be read: \(error.message(language))",
                                                         "无法读取同步包 \(file)：\(error.message(language))"))
            }
            let imported = try await options.withCore { try await $0.importBundle(bytes, language: language) }
            do {
                try AtomicFile.write(imported.answer, to: answer, mode: 0o600)
            } catch {
                throw AdminFailure(status: 3, message: t("The change-sets were kept, but the answer could not be written to \(answer): \(error.message(language)). Import the bundle again to write it.",
                                                         "变更集已保存，但无法把答复写入 \(answer)：\(error.message(language))。请再次导入该同步包以写出答复。"))
            }
            let accepted = imported.results.filter { $0.status == .accepted || ($0.status == .duplicate && $0.accepted) }.count
            let refused = imported.results.count - accepted
            print(t("Device \(imported.device): \(imported.results.count) change-set(s), \(accepted) accepted, \(refused) refused.",
                    "设备 \(imported.device)：\(imported.results.count) 个变更集，接受 \(accepted) 个，拒绝 \(refused) 个。"))
            if imported.restarted {
                print(t("The answer holds a snapshot of \(imported.snapshotRecords) record(s) (the device had none, or read a feed this server no longer has).",
                        "答复包含 \(imported.snapshotRecords) 条记录的快照（设备尚无数据，或其读取的数据流已不在本服务器上）。"))
            } else {
                print(t("The answer holds \(imported.entries) new entr\(imported.entries == 1 ? "y" : "ies") for the device.",
                        "答复包含设备的 \(imported.entries) 条新数据。"))
            }
            print(t("Wrote \(answer); on the device: provident bundle import \(answer)", "已写出 \(answer)；在设备上运行：provident bundle import \(answer)"))
        }
    }
}
