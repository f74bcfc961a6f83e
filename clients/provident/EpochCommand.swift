import ArgumentParser
import Foundation
import ProvidentCLIKit
import ProvidentClient
import ProvidentDomain

/// `provident epoch`: on an office laptop, after the server was restored from an older copy,
/// announce that its log begins again (sync-protocol.md §11.16).
struct EpochCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "epoch",
            abstract: t("On an office laptop, after the server was restored from an older copy: announce that its log begins again.",
                        "在中心电脑上，服务器从较早的备份恢复之后：宣布其日志重新开始。"),
            discussion: t("""
                A restored server's log is shorter than the one devices verified, and devices take it only \
                when an office device announces it: until then their syncs stop, take nothing from the \
                server and say so. The announcement names the last checkpoint this laptop verified and the \
                restored server's current one, signed with this laptop's key (the passphrase). Run it \
                before this laptop syncs with the restored server. Devices then send back what the server \
                lost, and provident audit lists any acknowledged change that is still missing.
                """, """
                恢复后的服务器日志比设备已核验的日志短，只有在中心设备宣布之后设备才会接受：在此之前，设备同步会停止，\
                不从服务器接收任何内容并说明原因。该声明写明本机最后核验的检查点和恢复后服务器的当前检查点，\
                并用本机密钥（需口令）签名。请在本机与恢复后的服务器同步之前运行。之后各设备会补发服务器丢失的内容，\
                provident audit 会列出仍然缺失的已确认更改。
                """))
    }

    @OptionGroup var data: DataOptions
    @OptionGroup var passphrase: PassphraseOptions
    @OptionGroup var format: FormatOptions

    struct Output: Encodable {
        let ends, starts: UInt64
    }

    func run() async throws {
        let device = try data.open()
        guard try device.replica.deviceState().role == .office else {
            throw Failure(status: .invalidInput, message: t("Only an office laptop announces a new epoch of the server's log; this device is not one.",
                                                            "只有中心电脑可以宣布服务器日志的新纪元；本设备不是中心电脑。"))
        }
        let key = try passphrase.unlock(device)
        let announced = try await SyncSession(device: device, key: key, language: language).announceEpoch(key: key)
        if format.json {
            try JSONOutput.print(Output(ends: announced.ends, starts: announced.starts))
            return
        }
        Terminal.say(t("Announced: the server's log begins again at \(announced.starts) entries, ending the one of \(announced.ends) this laptop verified. Devices take it at their next sync and send back what the server lost.",
                       "已宣布：服务器日志从 \(announced.starts) 个条目重新开始，结束本机核验的 \(announced.ends) 条日志。各设备在下次同步时接受，并补发服务器丢失的内容。"))
    }
}
