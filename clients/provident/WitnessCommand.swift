import ArgumentParser
import Foundation
import ProvidentCLIKit
import ProvidentClient
import ProvidentDomain

/// `provident witness`: on an auditor's device, check the server's log and cosign it
/// (sync-protocol.md §11.15).
struct WitnessCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "witness",
            abstract: t("On an auditor's device: check that the server's log extends everything this device saw of it, then cosign it.",
                        "在审计设备上：核对服务器的日志是否为本设备所见全部内容的延续，然后联署。"),
            discussion: t("""
                Syncs first: the server must prove that its current checkpoint extends the last one \
                this device checked. Only then is the checkpoint cosigned with this device's key \
                (the passphrase) and sent, so that every device can require what the auditors saw. \
                A log that fails the check is not cosigned: the sync stops with exit status 11 and \
                provident audit shows the evidence.
                """, """
                先同步：服务器须证明其当前检查点是本设备上次核对的检查点的延续。\
                核对无误后，才用本设备密钥（需口令）联署该检查点并发送，使所有设备都能要求与审计方所见一致。\
                未通过核对的日志不会被联署：同步以退出状态 11 停止，provident audit 显示证据。
                """))
    }

    @OptionGroup var data: DataOptions
    @OptionGroup var passphrase: PassphraseOptions
    @OptionGroup var format: FormatOptions

    struct Output: Encodable {
        let size: UInt64
        let cosigners: Int
    }

    func run() async throws {
        let device = try data.open()
        guard try device.replica.deviceState().role == .auditor else {
            throw Failure(status: .invalidInput, message: t("Only an auditor's device cosigns the server's log; this device is not one.",
                                                            "只有审计设备可以联署服务器日志；本设备不是审计设备。"))
        }
        let key = try passphrase.unlock(device)
        let session = SyncSession(device: device, key: key, language: language)
        _ = try await session.sync()
        let cosigned = try await session.cosign(key: key)
        if format.json {
            try JSONOutput.print(Output(size: cosigned.size, cosigners: cosigned.cosigners))
            return
        }
        Terminal.say(t("The server's log of \(cosigned.size) entries extends everything this device saw of it: cosigned. \(cosigned.cosigners) auditor(s) have cosigned this checkpoint.",
                       "服务器含 \(cosigned.size) 个条目的日志是本设备所见全部内容的延续：已联署。共有 \(cosigned.cosigners) 个审计方联署了此检查点。"))
    }
}
