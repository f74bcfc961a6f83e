import ProvidentCrypto

/// What kind of failure an error is. Each surface maps the kinds once: the HTTP service to a
/// status, the command lines to an exit status, the dashboard to a page.
public enum ErrorKind: String, Hashable, Sendable, CaseIterable {
    /// A value given breaks a rule (a malformed request, a bad ID number…): HTTP 400.
    case invalidInput
    /// Who is asking is not established (a bad request signature, an unknown device): HTTP 401.
    case unauthenticated
    /// The asker may not do this (a revoked device, another branch's record): HTTP 403.
    case forbidden
    /// What was named does not exist: HTTP 404.
    case notFound
    /// The current state does not allow it (an account closed, a line already settled): HTTP 409.
    case refused
    /// The input is over a size limit: HTTP 413.
    case tooLarge
    /// Too many attempts; try again later: HTTP 429.
    case rateLimited
    /// Something needed is down for now (the database, the network); nothing was changed: HTTP 503.
    case unavailable
    /// The disk is full; nothing was changed: HTTP 507.
    case storageFull
    /// The device's key or passphrase cannot be used.
    case credentials
    /// Nothing is set up yet where it was looked for (no device, no database).
    case notSetUp
    /// Something is already set up where a new one was asked for.
    case alreadySetUp
    /// A configuration or policy file cannot be used.
    case configuration
    /// A server answered with a refusal (as the device sees it).
    case remoteRefusal
    /// Stored data is damaged, or was written by a newer version: HTTP 500.
    case damaged
    /// A bug: HTTP 500, described to no one but the log.
    case `internal`
}

/// The one protocol every error of Provident adopts: a stable code that programs branch on, a
/// kind that decides how each surface reports it, a message for people in Chinese or English,
/// and the structured facts of the case (sync-protocol.md §10). Messages say what was wrong and
/// what to do; they never carry ID or phone numbers, keys, tokens or passphrases.
public protocol ProvidentError: Error, Sendable {
    /// Stable, dotted, lowercase.
    var code: String { get }
    /// How surfaces report it.
    var kind: ErrorKind { get }
    /// What was wrong and what to do.
    func message(_ language: Language) -> String
    /// The structured facts of the case; empty by default.
    var details: [String: CanonicalValue] { get }
}

extension ProvidentError {
    public var details: [String: CanonicalValue] { [:] }

    /// The error in the one JSON shape of sync-protocol.md §10.
    public func report(_ language: Language) -> ErrorReport {
        ErrorReport(code: code, message: message(language), details: details)
    }
}

extension SyncError: ProvidentError {
    public var kind: ErrorKind {
        switch self {
        case .notCanonical, .invalidBase64, .invalidField, .unsupportedVersion, .signatureLength:
            .invalidInput
        case .badSignature:
            .unauthenticated
        case .clockDrift, .integrity, .chainGap, .chainFork, .chainTimeNotAfterPrevious:
            .refused
        }
    }

}

extension ErrorReport: ProvidentError {
    /// A report carries a code only; where it came from decides how it is shown.
    public var kind: ErrorKind { .remoteRefusal }

    public func message(_ language: Language) -> String {
        message
    }
}

extension CryptoError: ProvidentError {
    /// Every failure of the key file or its passphrase means the key cannot be used.
    public var kind: ErrorKind { .credentials }

    public func message(_ l: Language) -> String {
        switch self {
        case .wrongPassphrase:
            l.pick("The passphrase is wrong; nothing was changed.", "口令错误；未做任何更改。")
        case .emptyPassphrase:
            l.pick("The passphrase is empty.", "口令为空。")
        case .notAKeyFile:
            l.pick("The key file is not a Provident key file; restore it from a backup.", "密钥文件不是 Provident 密钥文件；请从备份恢复。")
        case .keyFileTampered:
            l.pick("The key file is damaged or was altered; restore it from a backup, or set the device up again with `provident init --force`.",
                   "密钥文件已损坏或被改动；请从备份恢复，或用 `provident init --force` 重新设置设备。")
        case let .unsupportedKeyFileVersion(version):
            l.pick("The key file uses format version \(version), newer than this program; update Provident.",
                   "密钥文件使用第 \(version) 版格式，比本程序新；请升级 Provident。")
        case .keyDerivationFailed:
            l.pick("Not enough memory to process the passphrase (Argon2id needs 64 MiB).", "内存不足，无法处理口令（Argon2id 需要 64 MiB）。")
        case let .io(operation, path, _):
            l.pick("Could not \(operation) \(path).", "无法访问 \(path)（\(operation)）。")
        case .wrongLength:
            l.pick("The key file is damaged.", "密钥文件已损坏。")
        case let .keyFileExposed(path, mode):
            l.pick("Other users may read the key file \(path) (mode \(String(mode, radix: 8))); it was not used. Make it private with: chmod 600 \(path)",
                   "其他用户可以读取密钥文件 \(path)（权限 \(String(mode, radix: 8))），未使用该文件。请用以下命令设为私有：chmod 600 \(path)")
        }
    }
}
