import ArgumentParser
import Foundation
import ProvidentCLIKit
import ProvidentClient
import ProvidentCrypto

/// `provident service install`: a systemd user unit that runs `provident sync --watch` for this
/// data folder, so queued work is sent by itself when a network appears. Where systemd's user
/// manager is not running, the unit is printed with what to do instead.
struct ServiceCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "service",
                             abstract: t("Sync in the background as a user service (systemd).", "作为用户服务在后台同步（systemd）。"),
                             subcommands: [Install.self, Uninstall.self])
    }

    /// The unit's file name: one per data folder.
    static func unitName(_ directory: DataDirectory) -> String {
        let defaultFolder = DataDirectory.resolve(option: nil, environment: ["HOME": ProcessInfo.processInfo.environment["HOME"] ?? ""])
        if directory == defaultFolder { return "provident-sync.service" }
        return "provident-sync-\(Hex.encode(Array(BLAKE2b.hash(Array(directory.path.utf8), outputLength: 16).prefix(4)))).service"
    }

    static var unitFolder: String {
        let environment = ProcessInfo.processInfo.environment
        let config = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.config"
        return config + "/systemd/user"
    }

    /// Whether `systemctl --user` can reach a running user manager.
    static var userManagerRunning: Bool {
        (try? run("/usr/bin/systemctl", ["--user", "show-environment"])) == 0
    }

    @discardableResult
    static func run(_ program: String, _ arguments: [String]) throws -> Int32 {
        guard FileManager.default.isExecutableFile(atPath: program) else { return 127 }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    struct Install: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(commandName: "install", abstract: t("Install and start the background sync for this data folder.", "为本数据文件夹安装并启动后台同步。"),
                                 discussion: t("""
                                     Writes a systemd user unit running `provident sync --watch`, then enables and \
                                     starts it. The sync signs with the transport key, so it needs no passphrase; \
                                     sync once with the passphrase first if this device has not. Without a running \
                                     systemd user manager, prints the unit and what to do instead.
                                     """, """
                                     写入运行 `provident sync --watch` 的 systemd 用户单元，然后启用并启动。\
                                     后台同步用传输密钥签名，无需口令；如本设备尚未输入口令同步过，请先同步一次。\
                                     如没有运行中的 systemd 用户管理器，则打印该单元及替代做法。
                                     """))
        }

        @OptionGroup var data: DataOptions
        @Option(help: ArgumentHelp(t("Seconds between syncs (30 to 86400).", "两次同步之间的秒数（30 至 86400）。"), valueName: "seconds"))
        var interval = 300
        @Flag(help: ArgumentHelp(t("Only print the unit; write and start nothing.", "只打印单元内容，不写入也不启动。")))
        var print = false

        func validate() throws {
            guard (30...86_400).contains(interval) else {
                throw ValidationError(t("--interval must be 30 to 86400 seconds.", "--interval 须为 30 至 86400 秒。"))
            }
        }

        func unit(_ directory: DataDirectory) -> String {
            let binary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
            let lang = ProcessInfo.processInfo.environment["LANG"].map { "Environment=LANG=\($0)\n" } ?? ""
            return """
                [Unit]
                Description=Provident background sync (\(directory.path))
                After=network-online.target
                Wants=network-online.target

                [Service]
                Type=simple
                ExecStart=\(binary) sync --watch --interval \(interval) --data-dir \(directory.path)
                \(lang)Restart=on-failure
                RestartSec=60

                [Install]
                WantedBy=default.target

                """
        }

        func run() throws {
            let device = try data.open()
            let text = unit(device.directory)
            if print {
                Terminal.say(text)
                return
            }
            if (try? device.transportCredentials()) == nil {
                Terminal.warn(t("This device has no usable transport key yet: run `provident sync` once with the passphrase, or the service cannot sync.",
                                "本设备还没有可用的传输密钥：请先输入口令运行一次 `provident sync`，否则后台服务无法同步。"))
            }
            let name = ServiceCommand.unitName(device.directory)
            guard ServiceCommand.userManagerRunning else {
                Terminal.say(t("systemd's user manager is not running here, so nothing was installed. Run `provident sync --watch` from your session's start-up programs, or install this unit as ~/.config/systemd/user/\(name):",
                               "此处没有运行 systemd 用户管理器，未安装任何内容。请在会话启动程序中运行 `provident sync --watch`，或把下面的单元安装为 ~/.config/systemd/user/\(name)："))
                Terminal.say()
                Terminal.say(text)
                return
            }
            let path = ServiceCommand.unitFolder + "/" + name
            do {
                try FileManager.default.createDirectory(atPath: ServiceCommand.unitFolder, withIntermediateDirectories: true)
                try text.write(toFile: path, atomically: true, encoding: .utf8)
            } catch {
                throw ClientError.directoryUnusable(path: ServiceCommand.unitFolder, reason: t("the unit cannot be written", "无法写入单元文件"))
            }
            try ServiceCommand.run("/usr/bin/systemctl", ["--user", "daemon-reload"])
            guard try ServiceCommand.run("/usr/bin/systemctl", ["--user", "enable", "--now", name]) == 0 else {
                Terminal.warn(t("Written \(path), but systemd did not start it; see `systemctl --user status \(name)`.",
                                "已写入 \(path)，但 systemd 未能启动它；请查看 `systemctl --user status \(name)`。"))
                throw ExitCode(6)
            }
            Terminal.say(t("Background sync installed and started: \(name) (every \(interval) s). Logs: `journalctl --user -u \(name)`.",
                           "后台同步已安装并启动：\(name)（每 \(interval) 秒）。日志：`journalctl --user -u \(name)`。"))
        }
    }

    struct Uninstall: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(commandName: "uninstall", abstract: t("Stop and remove the background sync of this data folder.", "停止并移除本数据文件夹的后台同步。"))
        }

        @OptionGroup var data: DataOptions

        func run() throws {
            let name = ServiceCommand.unitName(data.directory)
            let path = ServiceCommand.unitFolder + "/" + name
            guard FileManager.default.fileExists(atPath: path) else {
                Terminal.say(t("No background sync is installed for \(data.directory.path).", "\(data.directory.path) 没有安装后台同步。"))
                return
            }
            if ServiceCommand.userManagerRunning { try ServiceCommand.run("/usr/bin/systemctl", ["--user", "disable", "--now", name]) }
            try? FileManager.default.removeItem(atPath: path)
            if ServiceCommand.userManagerRunning { try ServiceCommand.run("/usr/bin/systemctl", ["--user", "daemon-reload"]) }
            Terminal.say(t("Background sync removed: \(name).", "后台同步已移除：\(name)。"))
        }
    }
}
