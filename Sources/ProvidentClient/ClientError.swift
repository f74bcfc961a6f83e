import ProvidentDomain
import ProvidentSync

/// A problem with the device's data directory or key, as the client sees it.
public enum ClientError: ProvidentError, Hashable {
    /// `init` found a key already there.
    case alreadyInitialised(directory: String)
    /// The data directory or its key is missing: the device was never initialised.
    case notInitialised(directory: String)
    /// The data directory exists but is not a directory, or cannot be created or read.
    case directoryUnusable(path: String, reason: String)
    /// The data folder other users may read or change (its permission bits are given).
    case directoryExposed(path: String, mode: UInt16)
    /// The CA file given for an `https://` server holds no PEM certificate.
    case caFileUnreadable(path: String)
    /// The key file is missing while the replica holds change-sets not yet synced.
    case keyLostWithUnsyncedWork(directory: String, pending: Int)
    /// The key file and the replica belong to different devices.
    case keyDoesNotMatchReplica(directory: String)
    /// The passphrase typed twice did not match.
    case passphrasesDiffer
    /// The passphrase is too short.
    case passphraseTooShort(minimum: Int)
    /// No passphrase could be read (no terminal, and no --passphrase-file).
    case passphraseUnavailable
    /// The passphrase file could not be read.
    case passphraseFileUnreadable(path: String)
    /// A policy file could not be read.
    case policyFileUnreadable(path: String)
    /// The user did not confirm a destructive step.
    case notConfirmed
    /// No account with this id in the replica.
    case unknownAccount(String)
    /// `provident sync --watch` already runs for this data folder.
    case watchRunning(directory: String)
    /// The transport key file cannot be used; the passphrase is needed instead.
    case transportKeyUnusable(path: String, problem: TransportKeyProblem)

    /// What is wrong with a transport key file.
    public enum TransportKeyProblem: String, Sendable {
        /// There is none: the device was set up before transport keys, or the file was removed.
        case missing
        /// Others than its owner may read it (its mode allows group or others).
        case readableByOthers
        /// It is damaged, altered, or does not match its delegation.
        case damaged
    }

    /// How surfaces report it.
    public var kind: ErrorKind {
        switch self {
        case .alreadyInitialised, .watchRunning: .alreadySetUp
        case .notInitialised, .directoryUnusable: .notSetUp
        case .directoryExposed: .credentials
        case .policyFileUnreadable, .caFileUnreadable: .configuration
        case .keyLostWithUnsyncedWork, .keyDoesNotMatchReplica, .passphrasesDiffer, .passphraseTooShort,
             .passphraseUnavailable, .passphraseFileUnreadable: .credentials
        case .notConfirmed, .unknownAccount: .refused
        case .transportKeyUnusable: .credentials
        }
    }

    /// A stable code.
    public var code: String {
        switch self {
        case .alreadyInitialised: "device.already_initialised"
        case .notInitialised: "device.not_initialised"
        case .directoryUnusable: "device.directory"
        case .directoryExposed: "device.directory_exposed"
        case .caFileUnreadable: "tls.ca_file"
        case .keyLostWithUnsyncedWork: "device.key_lost"
        case .keyDoesNotMatchReplica: "device.key_mismatch"
        case .passphrasesDiffer: "passphrase.differ"
        case .passphraseTooShort: "passphrase.too_short"
        case .passphraseUnavailable: "passphrase.unavailable"
        case .passphraseFileUnreadable: "passphrase.file"
        case .policyFileUnreadable: "policy_file.unreadable"
        case .notConfirmed: "confirmation.missing"
        case .unknownAccount: "account.unknown"
        case .transportKeyUnusable: "transport_key.unusable"
        case .watchRunning: "sync.watch_running"
        }
    }

    /// What is wrong and what to do.
    public func message(_ language: Language) -> String {
        let l = language
        switch self {
        case let .alreadyInitialised(directory):
            return l.pick("This device is already set up in \(directory). To start over with a new key, run `provident init --force` (the old data is kept in a backup folder).",
                          "本设备已在 \(directory) 中完成设置。如需用新密钥重新开始，请运行 `provident init --force`（旧数据会保存在备份文件夹中）。")
        case let .notInitialised(directory):
            return l.pick("No Provident device is set up in \(directory); run `provident init` first (or point --data-dir / PROVIDENT_HOME at the right folder).",
                          "\(directory) 中没有设置 Provident 设备；请先运行 `provident init`（或用 --data-dir / PROVIDENT_HOME 指定正确的文件夹）。")
        case let .directoryUnusable(path, reason):
            return l.pick("The data directory \(path) cannot be used: \(reason).", "数据目录 \(path) 无法使用：\(reason)。")
        case let .directoryExposed(path, mode):
            return l.pick("Other users may read or change the data folder \(path) (mode \(String(mode, radix: 8))), which holds personal data and the device's keys; nothing was done. Make it private with: chmod 700 \(path)",
                          "其他用户可以读取或修改数据文件夹 \(path)（权限 \(String(mode, radix: 8))），其中有个人数据和设备密钥；未做任何操作。请用以下命令设为私有：chmod 700 \(path)")
        case let .caFileUnreadable(path):
            return l.pick("The CA file \(path) holds no PEM certificate; give the office's CA certificate (a file beginning -----BEGIN CERTIFICATE-----). Nothing was changed.",
                          "CA 文件 \(path) 中没有 PEM 证书；请给出中心的 CA 证书（以 -----BEGIN CERTIFICATE----- 开头的文件）。未做任何更改。")
        case let .keyLostWithUnsyncedWork(directory, pending):
            return l.pick("The device key in \(directory) is missing, but \(pending) change(s) on this device are not yet synced; restore device.key from a backup. Nothing was changed.",
                          "\(directory) 中的设备密钥丢失，但本设备还有 \(pending) 项更改尚未同步；请从备份恢复 device.key。未做任何更改。")
        case let .keyDoesNotMatchReplica(directory):
            return l.pick("The key file and the replica in \(directory) belong to different devices; restore the matching device.key.",
                          "\(directory) 中的密钥文件与数据文件不属于同一设备；请恢复相匹配的 device.key。")
        case .passphrasesDiffer:
            return l.pick("The two passphrases differ; nothing was created.", "两次输入的口令不一致；未创建任何内容。")
        case let .passphraseTooShort(minimum):
            return l.pick("The passphrase must be at least \(minimum) characters.", "口令至少需要 \(minimum) 个字符。")
        case .passphraseUnavailable:
            return l.pick("A passphrase is needed but there is no terminal to ask on; use --passphrase-file FILE.",
                          "需要口令，但没有可用于输入的终端；请使用 --passphrase-file 文件。")
        case let .passphraseFileUnreadable(path):
            return l.pick("The passphrase file \(path) cannot be read.", "无法读取口令文件 \(path)。")
        case let .policyFileUnreadable(path):
            return l.pick("The policy file \(path) cannot be read.", "无法读取政策文件 \(path)。")
        case .notConfirmed:
            return l.pick("Not confirmed; nothing was changed.", "未确认；未做任何更改。")
        case let .unknownAccount(id):
            return l.pick("This device holds no account \(id).", "本设备上没有账户 \(id)。")
        case let .watchRunning(directory):
            return l.pick("`provident sync --watch` is already running for \(directory); this one stops. Nothing was changed.",
                          "\(directory) 已有 `provident sync --watch` 在运行；本次退出。未做任何更改。")
        case let .transportKeyUnusable(path, problem):
            let why = switch problem {
            case .missing: l.pick("there is none", "该文件不存在")
            case .readableByOthers: l.pick("other users may read it", "其他用户可以读取它")
            case .damaged: l.pick("it is damaged or was altered", "它已损坏或被改动")
            }
            return l.pick("The transport key \(path) cannot be used (\(why)); the passphrase is needed. A passphrase-unlocked command replaces it, and the next sync with the passphrase registers the new one.",
                          "传输密钥 \(path) 无法使用（\(why)）；需要口令。任何输入口令的命令都会替换它，下次输入口令同步时登记新密钥。")
        }
    }
}
