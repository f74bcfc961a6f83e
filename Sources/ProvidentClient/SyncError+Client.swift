import ProvidentDomain
import ProvidentSync

/// A sync that could not finish, as told to the user.
public enum SyncFailure: ProvidentError, Hashable {
    /// The device has never been given a server address.
    case noServer
    /// The server could not be reached, even after retrying.
    case unreachable(server: String, attempts: Int)
    /// The server answered with an error in the protocol's shape.
    case refused(status: Int, report: ErrorReport)
    /// The server's answer was not what the protocol says.
    case badAnswer(String)
    /// The server's key is not the one this device pinned when it enrolled.
    case serverKeyChanged

    /// How surfaces report it.
    public var kind: ErrorKind {
        switch self {
        case .noServer: .invalidInput
        case .unreachable: .unavailable
        case .refused, .badAnswer, .serverKeyChanged: .remoteRefusal
        }
    }

    public var code: String {
        switch self {
        case .noServer: "sync.no_server"
        case .unreachable: "sync.unreachable"
        case let .refused(_, report): report.code
        case .badAnswer: "sync.bad_answer"
        case .serverKeyChanged: "sync.server_key_changed"
        }
    }

    public func message(_ l: Language) -> String {
        switch self {
        case .noServer:
            l.pick("This device has no server yet; give one: provident sync --server URL.", "本设备尚未设置服务器;请指定:provident sync --server 地址。")
        case let .unreachable(server, attempts):
            l.pick("The server \(server) could not be reached (\(attempts) attempts). Nothing was lost: your changes stay in the outbox; try again when online.",
                   "无法连接服务器 \(server)(已尝试 \(attempts) 次)。没有数据丢失:您的更改仍在待同步队列中,联网后请再试。")
        case let .refused(_, report):
            report.message
        case let .badAnswer(detail):
            l.pick("The server's answer could not be read (\(detail)); nothing was applied from it.", "无法读取服务器的答复(\(detail));未应用其中任何内容。")
        case .serverKeyChanged:
            l.pick("The server's key is not the one this device enrolled with; it may not be your server. Nothing was sent or applied; ask the office.",
                   "服务器密钥与本设备注册时的不一致,可能不是您的服务器。未发送或应用任何内容;请联系中心。")
        }
    }
}
