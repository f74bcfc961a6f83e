import ArgumentParser
import Foundation
import ProvidentCLIKit
import ProvidentClient
import ProvidentCrypto
import ProvidentDomain
import ProvidentSync

struct Init: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "init",
            abstract: t("Set up this device: create its key, sealed with a passphrase.", "设置本设备：创建设备密钥，并用口令加密保存。"),
            discussion: t("""
                The key signs every change made here. It is kept in device.key, encrypted with your \
                passphrase (Argon2id); the passphrase cannot be recovered, so keep it safe. A device \
                already set up is left alone unless you give --force, which asks again and then moves \
                the old key and data into a backup folder. With --server the device enrols at once: \
                alone (a worker's own laptop), with --invite (a staff laptop, code from the office), or \
                with --claim (taking over the account outreach staff opened for you). Without it, the \
                device works offline and enrols at its first `provident sync --server URL`.
                """, """
                设备密钥用于为本设备的每项更改签名，加密保存在 device.key 中（Argon2id）；口令无法找回，请妥善保管。\
                已设置的设备不会被改动，除非使用 --force：会再次确认，然后把旧密钥和数据移到备份文件夹。\
                使用 --server 时设备立即注册：单独注册（个人设备）、使用 --invite（工作人员设备，邀请码由中心发放）\
                或使用 --claim（认领外勤人员为您开立的账户）。不使用时，设备离线工作，在首次 \
                `provident sync --server 地址` 时注册。
                """))
    }

    @OptionGroup var data: DataOptions
    @OptionGroup var passphrase: PassphraseOptions

    @Flag(help: ArgumentHelp(t("Replace an existing device (asks for confirmation; the old data is backed up).",
                               "替换已有设备（需要确认；旧数据会备份）。")))
    var force = false

    @Option(help: ArgumentHelp(t("The sync service to enrol with, e.g. http://10.0.0.5:8080.", "要注册的同步服务地址，例如 http://10.0.0.5:8080。"),
                               valueName: "url"))
    var server: String?
    @Option(help: ArgumentHelp(t("The office's invite code, for a staff laptop.", "中心发放的邀请码（工作人员设备）。"), valueName: "code"))
    var invite: String?
    @Option(help: ArgumentHelp(t("The claim code from the outreach visit, to take over your account.", "外勤走访时获得的认领码，用于认领您的账户。"),
                               valueName: "code"))
    var claim: String?
    @Option(name: .customLong("ca-file"),
            help: ArgumentHelp(t("For an https:// server whose certificate the office signed itself: its CA certificate (PEM), kept in the data folder.",
                                 "用于中心自签证书的 https:// 服务器：其 CA 证书（PEM），保存在数据文件夹中。"), valueName: "file"))
    var caFile: String?

    @Option(name: .customLong("confirm-device"),
            help: ArgumentHelp(t("With --force and no terminal: the id of the device being replaced, as confirmation.",
                                 "与 --force 一起使用且无终端时：被替换设备的 ID，作为确认。"), valueName: "id"))
    var confirmDevice: String?

    func validate() throws {
        if invite != nil && claim != nil { throw ValidationError(t("Give --invite or --claim, not both.", "--invite 和 --claim 只能选一个。")) }
        if (invite != nil || claim != nil) && server == nil {
            throw ValidationError(t("--invite and --claim need --server.", "--invite 和 --claim 需要同时提供 --server。"))
        }
    }

    func run() async throws {
        let directory = data.directory
        if force, directory.hasKey {
            try confirmReplacement(directory)
        } else if directory.hasKey {
            throw ClientError.alreadyInitialised(directory: directory.path)
        }
        if let caFile {
            try ServerTrust.validate(caFile: caFile)
            ServerTrust.choose(caFile: caFile)
        } else {
            ServerTrust.choose(for: directory)
        }
        let secret = try newPassphrase()
        // Enrol first, with the new key in memory: if the server refuses, nothing is written here.
        let key = SigningKey.generate()
        var enrolled: EnrolmentAnswer?
        if let server {
            let enrolment: ServerConnection.Enrolment = if let invite { .invite(invite) } else if let claim { .claim(claim) } else { .selfService }
            let bar = ProgressBar(enabled: isatty(STDERR_FILENO) == 1)
            defer { bar.finish() }
            enrolled = try await ServerConnection(key: key, language: language, retrying: { bar.show($0) }).enrol(at: server, as: enrolment)
        }
        let (device, backup) = try LocalDevice.initialise(directory: directory, passphrase: secret, key: key, role: enrolled?.role ?? .selfService,
                                                          force: force, now: currentInstant(), environment: ProcessInfo.processInfo.environment)
        if let enrolled { try device.adopt(enrolled) }
        if let caFile { try ServerTrust.install(caFile: caFile, in: directory) }
        // The transport key lets later syncs run without the passphrase (sync-protocol.md §5.1).
        let transport = try device.makeTransportKey(deviceKey: key, now: currentInstant())
        var transportRegistered = false
        if let enrolled {
            do {
                try await ServerConnection(key: key, language: language).registerTransport(transport.delegation, url: enrolled.serverURL)
                transportRegistered = true
            } catch {
                Terminal.warn(t("The transport key could not be registered now (\((error as? any ProvidentError)?.message(language) ?? "\(error)")); the first `provident sync` asks for the passphrase and registers it.",
                                "暂时无法登记传输密钥（\((error as? any ProvidentError)?.message(language) ?? "\(error)")）；首次 `provident sync` 会询问口令并登记。"))
            }
        }
        let state = try device.state()
        if let backup { Terminal.say(t("The old key and data were moved to \(backup).", "旧密钥和数据已移至 \(backup)。")) }
        Terminal.say(t("Device set up in \(directory.path).", "设备已设置在 \(directory.path)。"))
        Terminal.say(t("Device id:        ", "设备 ID：    ") + state.id.rawValue)
        Terminal.say(t("Key fingerprint:  ", "密钥指纹：   ") + WhoAmI.fingerprint(state.publicKey))
        Terminal.say(t("Keep your passphrase safe: it cannot be recovered.", "请妥善保管口令：口令无法找回。"))
        if transportRegistered {
            Terminal.say(t("Syncing needs no passphrase: the transport key in \(directory.transportKeyPath) signs sync requests only.",
                           "同步无需口令：\(directory.transportKeyPath) 中的传输密钥只用于为同步请求签名。"))
        }
        if let enrolled {
            Terminal.say(t("Enrolled with \(enrolled.serverURL) as ", "已在 \(enrolled.serverURL) 注册为") + WhoAmI.describe(enrolled.role)
                + (enrolled.branch.map { t(" of \($0)", "(\($0))") } ?? ""))
            if let account = enrolled.account {
                Terminal.say(t("Account \(account) claimed. Next: `provident sync` to fetch it.", "已认领账户 \(account)。下一步：用 `provident sync` 获取账户数据。"))
                return
            }
            if enrolled.role == .auditor {
                Terminal.say(t("Next: `provident sync` to check and cosign the server's log; `provident audit` shows what was found.",
                               "下一步：用 `provident sync` 核对并联署服务器的日志；`provident audit` 显示核对结果。"))
                return
            }
            if enrolled.role != .selfService {
                Terminal.say(t("Next: `provident sync` to fetch your branch's data.", "下一步：用 `provident sync` 获取本管理部的数据。"))
                return
            }
        }
        Terminal.say(t("Next: open your account with `provident enroll`.", "下一步：用 `provident enroll` 开户。"))
    }

    /// `--force` destroys nothing, but it does retire a key: ask before doing it.
    func confirmReplacement(_ directory: DataDirectory) throws {
        let device = try? LocalDevice.open(directory: directory)
        let state = try? device?.state()
        let pending = (try? device?.replica.outbox().count) ?? 0
        let id = state?.id.rawValue ?? "?"
        if let confirmDevice {
            guard confirmDevice == id else { throw ClientError.notConfirmed }
            return
        }
        guard Terminal.isInteractive else { throw ClientError.notConfirmed }
        Terminal.warn(t("This replaces device \(id) with a new key.", "这将用新密钥替换设备 \(id)。"))
        if pending > 0 {
            Terminal.warn(t("\(pending) change(s) made here are not yet synced; they stay in the backup folder but will not be sent by the new device.",
                            "本设备有 \(pending) 项更改尚未同步；它们会保留在备份文件夹中，但新设备不会发送它们。"))
        }
        let answer = Terminal.ask(t("Type the first 8 characters of the device id to go on: ", "请输入设备 ID 的前 8 个字符以继续："))
        guard let answer, answer.trimmingCharacters(in: .whitespaces) == String(id.prefix(8)) else { throw ClientError.notConfirmed }
    }

    func newPassphrase() throws -> SecretBytes {
        if passphrase.passphraseFile != nil {
            let secret = try passphrase.passphrase(prompt: "")
            try Self.checkStrength(secret)
            return secret
        }
        let first = try passphrase.passphrase(prompt: t("New passphrase (at least 8 characters): ", "新口令（至少 8 个字符）："))
        try Self.checkStrength(first)
        let second = try passphrase.passphrase(prompt: t("Repeat the passphrase: ", "再次输入口令："))
        guard first.constantTimeEquals(second) else { throw ClientError.passphrasesDiffer }
        return first
    }

    static func checkStrength(_ secret: SecretBytes) throws {
        let characters = secret.withUnsafeBytes { String(decoding: $0, as: UTF8.self).count }
        guard characters >= 8 else { throw ClientError.passphraseTooShort(minimum: 8) }
    }
}

struct WhoAmI: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "whoami",
                             abstract: t("Show this device: its id, key fingerprint and role.", "显示本设备：设备 ID、密钥指纹和角色。"))
    }

    @OptionGroup var data: DataOptions
    @OptionGroup var format: FormatOptions

    struct Output: Encodable {
        let deviceId: String
        let fingerprint: String
        let role: String
        let branch: String?
        let server: String?
        let account: String?
        let dataDirectory: String
        let changeSetsMade: UInt64
        let waitingToSync: Int
        let createdAt: String
        let policy: String
    }

    func run() throws {
        let device = try data.open()
        let state = try device.state()
        let waiting = try device.replica.outbox().count
        let policy = switch device.policySource {
        case .defaults: t("built-in defaults", "内置默认值")
        case let .file(path): path
        }
        if format.json {
            try JSONOutput.print(Output(deviceId: state.id.rawValue, fingerprint: Hex.encode(state.publicKey.fingerprint),
                                        role: state.role.rawValue, branch: state.branch, server: try device.replica.syncState().serverURL,
                                        account: state.accountID, dataDirectory: device.directory.path,
                                        changeSetsMade: state.sequence, waitingToSync: waiting, createdAt: state.createdAt.utcISO,
                                        policy: policy))
            return
        }
        let role = Self.describe(state.role) + (state.branch.map { t(" of \($0)", "（\($0)）") } ?? "")
        let sync = try device.replica.syncState()
        Terminal.say(t("Device id:        ", "设备 ID：     ") + state.id.rawValue)
        Terminal.say(t("Key fingerprint:  ", "密钥指纹：    ") + Self.fingerprint(state.publicKey))
        Terminal.say(t("Role:             ", "角色：        ") + role)
        if state.role == .auditor {
            // What devices and the office compare to know this auditor's cosignatures (§11.15).
            Terminal.say(t("Witness key:      ", "见证密钥：    ") + LogWitness(device: state.id, key: state.publicKey).verifierKey)
        }
        Terminal.say(t("Account:          ", "账户：        ") + (state.accountID ?? t("none yet", "尚未开户")))
        Terminal.say(t("Set up:           ", "设置时间：    ") + state.createdAt.shanghaiDisplay)
        Terminal.say(t("Data folder:      ", "数据文件夹：  ") + device.directory.path)
        Terminal.say(t("Waiting to sync:  ", "待同步：      ") + t("\(waiting) change(s)", "\(waiting) 项更改"))
        Terminal.say(t("Server:           ", "服务器：      ") + (sync.serverURL.map { $0 + (sync.registered ? "" : t(" (not enrolled yet)", "（尚未注册）")) }
            ?? t("none yet (works offline)", "尚未设置（离线工作）")))
        Terminal.say(t("Policy:           ", "政策：        ") + policy)
    }

    static func describe(_ role: DeviceRole) -> String {
        switch role {
        case .selfService: t("worker's own device", "个人设备")
        case .field: t("outreach laptop", "外勤笔记本")
        case .office: t("central office", "中心")
        case .auditor: t("auditor (witnesses the server's log)", "审计（见证服务器日志）")
        }
    }

    /// The fingerprint in groups of eight hex digits, for reading aloud and comparing.
    static func fingerprint(_ key: PublicKey) -> String {
        let hex = Array(Hex.encode(key.fingerprint))
        return stride(from: 0, to: hex.count, by: 8).map { String(hex[$0..<min($0 + 8, hex.count)]) }.joined(separator: " ")
    }
}
