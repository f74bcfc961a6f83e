import ArgumentParser
import Foundation
import ProvidentCLIKit
import ProvidentClient
import ProvidentCrypto
import ProvidentSync

/// The device's keys: the sealed device key that signs changes, and the transport key that
/// signs sync requests without the passphrase (sync-protocol.md §5.1).
struct KeyCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "key", abstract: t("Manage this device's transport key.", "管理本设备的传输密钥。"),
                             subcommands: [RotateTransport.self])
    }

    struct RotateTransport: AsyncParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                commandName: "rotate-transport",
                abstract: t("Replace the transport key (if its file may have been copied) and register the new one.",
                            "更换传输密钥（如怀疑其文件被复制），并登记新密钥。"),
                discussion: t("""
                    The transport key lets `provident sync` run without the passphrase; it can send \
                    changes already signed and receive this device's data, nothing more. A new key \
                    is made, certified with the device key (so the passphrase is needed), and \
                    registered with the server, which from then on refuses the old one.
                    """, """
                    传输密钥让 `provident sync` 无需口令即可运行；它只能发送已签名的更改并接收本设备的数据。\
                    新密钥由设备密钥认证（因此需要口令），并在服务器登记，此后服务器拒绝旧密钥。
                    """))
        }

        @OptionGroup var data: DataOptions
        @OptionGroup var passphrase: PassphraseOptions

        func run() async throws {
            let device = try data.open()
            let key = try passphrase.unlock(device)
            let credentials = try device.makeTransportKey(deviceKey: key, now: currentInstant())
            let state = try device.replica.syncState()
            guard state.registered, let url = state.serverURL else {
                Terminal.say(t("New transport key made; it is registered at the first sync.", "已生成新的传输密钥；首次同步时登记。"))
                return
            }
            do {
                try await ServerConnection(key: key, language: language).registerTransport(credentials.delegation, url: url)
            } catch {
                Terminal.warn(t("The new transport key could not be registered now; until it is, syncing asks for the passphrase (which registers it).",
                                "暂时无法登记新的传输密钥；登记之前同步会询问口令（输入口令同步即可登记）。"))
                throw error
            }
            Terminal.say(t("New transport key made and registered with \(url); the old one no longer works.",
                           "已生成新的传输密钥并在 \(url) 登记；旧密钥不再有效。"))
        }
    }
}
