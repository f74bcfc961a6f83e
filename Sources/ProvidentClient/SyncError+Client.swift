import ProvidentDomain
import ProvidentSync

/// A sync that could not finish, as told to the user.
public enum SyncFailure: ProvidentError, Hashable {
    /// The device has never been given a server address.
    case noServer
    /// The server could not be reached, even after retrying.
    case unreachable(server: String, attempts: Int)
    /// A sync found no network or no server within the offline bound; `waiting` changes stay queued.
    case offline(server: String, waiting: Int)
    /// The server answered with an error in the protocol's shape.
    case refused(status: Int, report: ErrorReport)
    /// The server's answer was not what the protocol says.
    case badAnswer(String)
    /// The server's key is not the one this device pinned when it enrolled.
    case serverKeyChanged
    /// The server asked to wait longer than the device waits; it may be asked again after `after`.
    case retryLater(server: String, after: Instant, report: ErrorReport)
    /// The `https://` server's certificate was not accepted (not signed by a trusted CA, or for
    /// another name); nothing was sent.
    case untrustedCertificate(server: String)
    /// A sync without the passphrase, by a device not yet enrolled: enrolling needs the device key.
    case notEnrolled
    /// The server does not know this enrolled device: it was restored from a copy older than the
    /// enrolment. A worker's own device enrols again with its key (`needsPassphrase` when the
    /// sync was signed by the transport key); a staff device needs the office.
    case forgottenByServer(staff: Bool, needsPassphrase: Bool)
    /// The server, restored from an older copy, lacks change-sets of this device that it no
    /// longer holds: the policy let it remove them `keptDays` after the server acknowledged them.
    case cannotRefill(sequences: ClosedRange<UInt64>, keptDays: Int?)
    /// The server's log does not hold what it signed (sync-protocol.md §11.14): `kind` of the
    /// first of `findings` findings, each kept for `provident audit`.
    case logViolation(kind: String, findings: Int)
    /// The server was restored from an older copy and its log begins again, but no office device
    /// this device knows has announced it (sync-protocol.md §11.16): nothing is taken from it.
    case restoreUnannounced

    /// How surfaces report it.
    public var kind: ErrorKind {
        switch self {
        case .noServer: .invalidInput
        case .unreachable, .offline, .retryLater: .unavailable
        case .refused, .badAnswer, .serverKeyChanged, .cannotRefill, .untrustedCertificate, .logViolation, .restoreUnannounced: .remoteRefusal
        case .forgottenByServer(let staff, _): staff ? .remoteRefusal : .credentials
        case .notEnrolled: .credentials
        }
    }

    public var code: String {
        switch self {
        case .noServer: "sync.no_server"
        case .unreachable: "sync.unreachable"
        case .offline: "sync.offline"
        case let .refused(_, report): report.code
        case .badAnswer: "sync.bad_answer"
        case .serverKeyChanged: "sync.server_key_changed"
        case .untrustedCertificate: "tls.untrusted"
        case .notEnrolled: "sync.not_enrolled"
        case .forgottenByServer: "sync.forgotten_by_server"
        case .cannotRefill: "sync.cannot_refill"
        case .logViolation: "sync.log_violation"
        case .restoreUnannounced: "sync.restore_unannounced"
        case let .retryLater(_, _, report): report.code
        }
    }

    public func message(_ l: Language) -> String {
        switch self {
        case .noServer:
            l.pick("This device has no server yet; give one: provident sync --server URL.", "本设备尚未设置服务器；请指定：provident sync --server 地址。")
        case let .unreachable(server, attempts):
            l.pick("The server \(server) could not be reached (\(attempts) attempts). Nothing was lost: your changes stay in the outbox; try again when online.",
                   "无法连接服务器 \(server)（已尝试 \(attempts) 次）。没有数据丢失：您的更改仍在待同步队列中，联网后请再试。")
        case let .offline(server, waiting):
            l.pick("Offline: the server \(server) cannot be reached now. Nothing was lost; \(waiting) change(s) are waiting to sync and will be sent next time.",
                   "当前离线：无法连接服务器 \(server)。没有数据丢失；\(waiting) 项更改正在等待同步，下次同步时发送。")
        case let .refused(_, report):
            report.message
        case let .badAnswer(detail):
            l.pick("The server's answer could not be read (\(detail)); nothing was applied from it.", "无法读取服务器的答复（\(detail)）；未应用其中任何内容。")
        case let .retryLater(server, after, report):
            l.pick("The server \(server) asks to wait (\(report.message)); nothing was lost: try again after \(after.shanghaiDisplay).",
                   "服务器 \(server) 要求稍候（\(report.message)）；没有数据丢失：请在 \(after.shanghaiDisplay) 之后再试。")
        case let .untrustedCertificate(server):
            l.pick("The certificate of \(server) is not trusted (signed by an unknown authority, expired, or for another name); nothing was sent. If the office signs its own certificates, give its CA file: provident init --ca-file FILE, or PROVIDENT_CA_FILE.",
                   "\(server) 的证书不受信任（由未知机构签发、已过期或不属于该名称）；未发送任何内容。如果中心自行签发证书，请给出其 CA 文件：provident init --ca-file 文件，或设置 PROVIDENT_CA_FILE。")
        case .notEnrolled:
            l.pick("This device is not enrolled with its server yet; the first sync needs the passphrase.",
                   "本设备尚未在服务器注册；首次同步需要口令。")
        case let .forgottenByServer(staff, needsPassphrase):
            if staff {
                l.pick("The server does not know this device: it was restored from a copy older than this device's enrolment. Nothing here was lost. Ask the office for an invite code, then run: provident sync --invite CODE.",
                       "服务器不认识本设备：它已从早于本设备注册的备份恢复。本机数据没有丢失。请向中心索取邀请码，然后运行：provident sync --invite 邀请码。")
            } else if needsPassphrase {
                l.pick("The server does not know this device: it was restored from a copy older than this device's enrolment. Nothing here was lost; run provident sync once with the passphrase to enrol again and send everything back.",
                       "服务器不认识本设备：它已从早于本设备注册的备份恢复。本机数据没有丢失；请用口令运行一次 provident sync，重新注册并补发全部内容。")
            } else {
                l.pick("The server does not know this device and did not take it back.", "服务器不认识本设备，也未能重新注册。")
            }
        case let .cannotRefill(sequences, keptDays):
            l.pick("The server was restored from an older copy and lacks this device's change-sets \(sequences.lowerBound)–\(sequences.upperBound), which this device no longer holds\(keptDays.map { " (the policy keeps sent change-sets \($0) days)" } ?? ""). Everything else here is intact; ask the office to restore a newer copy of the server.",
                   "服务器已从较早的备份恢复，缺少本设备的变更集 \(sequences.lowerBound)–\(sequences.upperBound)，而本设备已不再保存它们\(keptDays.map { "（政策规定已发送的变更集保存 \($0) 天）" } ?? "")。本机其余数据完好；请联系中心恢复较新的服务器备份。")
        case .restoreUnannounced:
            l.pick("The server was restored from an older copy, and the office has not announced that its log begins again: nothing was taken from it and nothing here changed. Ask the office to run provident epoch on an office laptop, then sync again.",
                   "服务器已从较早的备份恢复，但中心尚未宣布其日志重新开始：未从服务器接收任何内容，本机数据未变。请中心在中心电脑上运行 provident epoch，然后再同步。")
        case let .logViolation(kind, findings):
            l.pick("The server's log does not hold what the server signed before (\(kind)\(findings > 1 ? " and \(findings - 1) more" : "")): it may have dropped or rewritten history. Nothing that fails the check was applied; your own changes were sent. The evidence is kept: run provident audit and show it to the office or the audit office.",
                   "服务器的日志与其此前签名的内容不符（\(kind)\(findings > 1 ? "，另有 \(findings - 1) 项" : "")）：历史记录可能被删除或篡改。未通过核验的内容均未应用；您的更改已发送。证据已保存：请运行 provident audit，并出示给中心或审计部门。")
        case .serverKeyChanged:
            l.pick("The server's key is not the one this device enrolled with; it may not be your server. Nothing was sent or applied; ask the office.",
                   "服务器密钥与本设备注册时的不一致，可能不是您的服务器。未发送或应用任何内容；请联系中心。")
        }
    }
}
