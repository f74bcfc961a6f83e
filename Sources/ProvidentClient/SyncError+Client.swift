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
    /// A sync without the passphrase, by a device not yet enrolled: enrolling needs the device key.
    case notEnrolled

    /// How surfaces report it.
    public var kind: ErrorKind {
        switch self {
        case .noServer: .invalidInput
        case .unreachable, .offline, .retryLater: .unavailable
        case .refused, .badAnswer, .serverKeyChanged: .remoteRefusal
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
        case .notEnrolled: "sync.not_enrolled"
        case let .retryLater(_, _, report): report.code
        }
    }

    public func message(_ l: Language) -> String {
        switch self {
        case .noServer:
            l.pick("This device has no server yet; give one: provident sync --server URL.", "本设备尚未设置服务器;请指定:provident sync --server 地址。")
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
        case .notEnrolled:
            l.pick("This device is not enrolled with its server yet; the first sync needs the passphrase.",
                   "本设备尚未在服务器注册；首次同步需要口令。")
        case .serverKeyChanged:
            l.pick("The server's key is not the one this device enrolled with; it may not be your server. Nothing was sent or applied; ask the office.",
                   "服务器密钥与本设备注册时的不一致，可能不是您的服务器。未发送或应用任何内容；请联系中心。")
        }
    }
}
