import ArgumentParser
import Foundation
import ProvidentClient
import ProvidentCrypto
import ProvidentDomain
import ProvidentStore
import ProvidentSync

/// The exit statuses `provident` uses; scripts may rely on them. Listed in `provident --help`.
enum Status: Int32, CaseIterable {
    case success = 0
    case unexpected = 1
    case invalidInput = 3
    case refused = 4
    case key = 5
    case notInitialised = 6
    case damaged = 7
    case policy = 8
    case alreadyInitialised = 9
    case unreachable = 10
    case serverRefused = 11
    case usage = 64

    func meaning(_ l: Language) -> String {
        switch self {
        case .success: l.pick("done", "成功")
        case .unexpected: l.pick("unexpected failure (a bug: please report it)", "意外错误（程序缺陷，请报告）")
        case .invalidInput: l.pick("a value you gave breaks a rule (ID number, amount, month, agreement…)", "输入的值不符合规则（身份证号、金额、月份、协议等）")
        case .refused: l.pick("refused by the current state (account closed, month paid, not your branch…)",
                              "当前状态不允许（账户已封存或暂停、该月已缴存、单位不属于本管理部等）")
        case .key: l.pick("wrong passphrase, or the key file is missing or damaged", "口令错误，或密钥文件丢失、损坏")
        case .notInitialised: l.pick("no device is set up in the data directory", "数据目录中没有设置设备")
        case .damaged: l.pick("the replica is damaged or from a newer version", "数据文件已损坏或来自更新版本")
        case .policy: l.pick("the policy file cannot be used", "政策文件无法使用")
        case .alreadyInitialised: l.pick("a device is already set up here (init without --force)", "此处已设置设备（init 未加 --force）")
        case .unreachable: l.pick("the server could not be reached (nothing is lost; try again later)", "无法连接服务器（没有数据丢失；请稍后再试）")
        case .serverRefused: l.pick("the server refused this device or request, or its log does not hold what it signed",
                                    "服务器拒绝了本设备或请求，或其日志与所签内容不符")
        case .usage: l.pick("the command line is wrong (unknown option, missing value)", "命令行有误（未知选项、缺少值）")
        }
    }

    /// The exit-status table for help screens.
    static func table(_ l: Language) -> String {
        let heading = l.pick("Exit status:", "退出码：")
        return ([heading] + allCases.map { "  \(String($0.rawValue).padding(toLength: 3, withPad: " ", startingAt: 0)) \($0.meaning(l))" })
            .joined(separator: "\n")
    }
}

/// An error for the person at the keyboard: a message in their language and an exit status.
struct Failure: Error {
    let status: Status
    let message: String

    /// Translates one of Provident's own errors; nil for anything else (the argument parser's
    /// help, version and usage errors, which it reports itself).
    init?(ours error: any Error, language: Language) {
        guard error is Failure || error is any ProvidentError else { return nil }
        self.init(error, language: language)
    }

    /// Translates whatever went wrong into what to tell the user, by the error's kind. Messages
    /// name what was wrong and what to do; they never contain ID numbers, phone numbers, keys or
    /// passphrases.
    init(_ error: any Error, language l: Language) {
        switch error {
        case let failure as Failure:
            self = failure
        case let error as any ProvidentError:
            self.init(status: Self.status(error.kind), message: error.message(l))
        default:
            self.init(status: .unexpected, message: l.pick("Unexpected failure: ", "意外错误：") + String(describing: type(of: error)))
        }
    }

    init(status: Status, message: String) {
        self.status = status
        self.message = message
    }

    /// The exit status of each kind of error.
    static func status(_ kind: ErrorKind) -> Status {
        switch kind {
        case .invalidInput, .tooLarge: .invalidInput
        case .refused, .forbidden, .notFound, .rateLimited, .storageFull: .refused
        case .credentials: .key
        case .notSetUp: .notInitialised
        case .alreadySetUp: .alreadyInitialised
        case .configuration: .policy
        case .unavailable: .unreachable
        case .unauthenticated, .remoteRefusal: .serverRefused
        case .damaged: .damaged
        case .internal: .unexpected
        }
    }
}
