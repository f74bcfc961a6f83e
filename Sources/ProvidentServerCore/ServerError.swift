import ProvidentDomain
import ProvidentSync

/// Why the server refuses a request or an administration command. Codes are those of
/// sync-protocol.md §10 and §11.11; the kind decides the HTTP status.
public enum ServerError: ProvidentError, Hashable {
    /// The request body is not what the endpoint takes.
    case malformedRequest(String)
    /// A query parameter is missing or out of range.
    case badQuery(String)
    /// More change-sets in one push than the limit.
    case pushSize(maximum: Int)
    /// A request header needed for the signature is missing or malformed.
    case missingHeader(String)
    /// The body does not match its `Content-Digest`.
    case digestMismatch
    /// The request's time is outside the window around the server's clock.
    case clockSkew(skewMillis: Int64, serverTime: Int64)
    /// The request signature does not verify.
    case badRequestSignature
    /// The request's nonce was already used: a replay.
    case replay
    /// The device is not known.
    case unknownDevice
    /// A request signed by a transport key the device never registered (or replaced).
    case transportUnknown
    /// A request only the device key may sign was signed by the transport key.
    case transportNotAllowed
    case deviceRevoked
    case deviceQuarantined
    case inviteUnknown
    case inviteExpired
    case inviteUsed
    case claimUnknown
    case claimUsed
    /// A push holds a change-set made by another device.
    case foreignChangeSet(index: Int)
    /// A change-set of a push cannot be decoded, or its signature is not the pusher's.
    case changeSetRefused(SyncError, index: Int)
    /// Change-sets are missing before the one at `index`.
    case chainGap(expected: UInt64, index: Int)
    /// The change-set at `index` differs from the one accepted for its sequence number.
    case chainFork(sequence: UInt64, index: Int)
    /// The change-set at `index` is not later than the device's previous one.
    case chainTime(index: Int)
    /// A pull cursor beyond the feed's end.
    case cursorAhead(cursor: UInt64, head: UInt64)
    /// A pull whose mark is not the feed's mark at its cursor: the feed before the cursor is not
    /// the one the device read (the server was restored and its positions filled again).
    case feedRewound(cursor: UInt64)
    /// Some change-sets of a push wrote outside the device's scope; the push was still
    /// committed and `results` holds every answer.
    case pushPartlyForbidden(forbidden: Int, results: PushOutcome)
    /// Too many attempts from one address.
    case rateLimited(retryAfterSeconds: Int)
    /// No conflict with this id.
    case conflictUnknown
    /// The server's key file does not belong to this database.
    case keyMismatch
    /// A cosignature from a device that is not an active auditor (sync-protocol.md §11.15).
    case notWitness
    /// A cosigned note that is not the server's checkpoint.
    case badCheckpoint(String)
    /// A cosigned checkpoint that is not the log's: beyond it, or another root at its size.
    case unknownCheckpoint(size: UInt64, logSize: UInt64)
    /// No valid cosignature line of the auditor that sent it.
    case badCosignature
    /// An epoch announced by a device that is not an active office device (§11.16).
    case notOffice
    /// An epoch note that is not one the office device signed for this log.
    case badEpoch(String)

    public var code: String {
        switch self {
        case .malformedRequest, .pushSize: "request.malformed"
        case .badQuery: "request.query"
        case .missingHeader: "auth.missing_header"
        case .digestMismatch: "auth.digest"
        case .clockSkew: "auth.clock_skew"
        case .badRequestSignature: "auth.signature"
        case .replay: "auth.replay"
        case .unknownDevice: "device.unknown"
        case .transportUnknown: "auth.transport_unknown"
        case .transportNotAllowed: "auth.transport_forbidden"
        case .deviceRevoked: "device.revoked"
        case .deviceQuarantined: "device.quarantined"
        case .inviteUnknown: "enrol.invite_unknown"
        case .inviteExpired: "enrol.invite_expired"
        case .inviteUsed: "enrol.invite_used"
        case .claimUnknown: "enrol.claim_unknown"
        case .claimUsed: "enrol.claim_used"
        case .foreignChangeSet: "scope.foreign_change_set"
        case let .changeSetRefused(error, _): error.code
        case .chainGap: "chain.gap"
        case .chainFork: "chain.fork"
        case .chainTime: "chain.time"
        case .cursorAhead: "feed.cursor_ahead"
        case .feedRewound: "feed.rewound"
        case .pushPartlyForbidden: DomainError.outOfScope.code
        case .rateLimited: "rate_limited"
        case .conflictUnknown: "conflict.unknown"
        case .keyMismatch: "server.key_mismatch"
        case .notWitness: "log.not_witness"
        case .badCheckpoint: "log.checkpoint"
        case .unknownCheckpoint: "log.unknown_checkpoint"
        case .badCosignature: "log.cosignature"
        case .notOffice: "log.not_office"
        case .badEpoch: "log.epoch"
        }
    }

    public var kind: ErrorKind {
        switch self {
        case .malformedRequest, .badQuery, .pushSize: .invalidInput
        case .missingHeader, .digestMismatch, .clockSkew, .badRequestSignature, .replay, .unknownDevice, .transportUnknown: .unauthenticated
        case .transportNotAllowed, .deviceRevoked, .deviceQuarantined, .inviteUnknown, .inviteExpired, .inviteUsed, .claimUnknown, .claimUsed,
             .foreignChangeSet, .pushPartlyForbidden, .notWitness, .notOffice: .forbidden
        case .badCheckpoint, .badCosignature, .badEpoch: .invalidInput
        case .unknownCheckpoint: .refused
        case let .changeSetRefused(error, _): error.kind
        case .chainGap, .chainFork, .chainTime, .cursorAhead, .feedRewound: .refused
        case .rateLimited: .rateLimited
        case .conflictUnknown: .notFound
        case .keyMismatch: .damaged
        }
    }

    public var details: [String: CanonicalValue] {
        switch self {
        case let .pushSize(maximum): ["limit": .integer(Int64(maximum))]
        case let .missingHeader(name): ["header": .string(name)]
        case let .clockSkew(skew, serverTime): ["serverTime": .integer(serverTime), "skewMillis": .integer(skew)]
        case let .foreignChangeSet(index), let .chainTime(index): ["index": .integer(Int64(index))]
        case let .changeSetRefused(error, index):
            error.details.merging(["index": .integer(Int64(index))]) { _, new in new }
        case let .chainGap(expected, index): ["expected": .integer(Int64(clamping: expected)), "index": .integer(Int64(index))]
        case let .chainFork(sequence, index): ["sequence": .integer(Int64(clamping: sequence)), "index": .integer(Int64(index))]
        case let .cursorAhead(_, head): ["head": .integer(Int64(clamping: head))]
        case let .feedRewound(cursor): ["cursor": .integer(Int64(clamping: cursor))]
        case let .pushPartlyForbidden(_, outcome): outcome.canonicalMembers
        case let .rateLimited(seconds): ["retryAfterSeconds": .integer(Int64(seconds))]
        default: [:]
        }
    }

    public func message(_ l: Language) -> String {
        switch self {
        case let .malformedRequest(what):
            l.pick("The request is malformed: \(what)", "请求格式有误：\(what)")
        case let .badQuery(what):
            l.pick("The query is wrong: \(what)", "查询参数有误：\(what)")
        case let .pushSize(maximum):
            l.pick("Send between 1 and \(maximum) change-sets at once.", "每次须发送 1 到 \(maximum) 个变更集。")
        case let .missingHeader(name):
            l.pick("The request is not signed: the \(name) header is missing or malformed.", "请求未签名：缺少 \(name) 头，或其格式有误。")
        case .digestMismatch:
            l.pick("The body does not match its Content-Digest.", "请求正文与其 Content-Digest 不符。")
        case let .clockSkew(skew, _):
            l.pick("The request's time is \(abs(skew) / 1_000) s \(skew > 0 ? "ahead of" : "behind") the server's; the device's clock is wrong.",
                   "请求时间比服务器\(skew > 0 ? "快" : "慢") \(abs(skew) / 1_000) 秒；设备时钟有误。")
        case .badRequestSignature:
            l.pick("The request signature does not verify with the device's key.", "请求签名与设备密钥不符。")
        case .replay:
            l.pick("This request was already received (same nonce); a replay is refused.", "该请求已收到过（相同随机数）；重放请求被拒绝。")
        case .unknownDevice:
            l.pick("The server does not know this device; enrol it again.", "服务器不认识本设备；请重新注册。")
        case .transportUnknown:
            l.pick("The server holds no such transport key for this device; sync once with the passphrase, which registers it.",
                   "服务器没有本设备的这把传输密钥；请输入口令同步一次，即可登记。")
        case .transportNotAllowed:
            l.pick("This request needs the device key (the passphrase); the transport key only syncs.",
                   "此请求须用设备密钥（需要口令）；传输密钥只能用于同步。")
        case .deviceRevoked:
            l.pick("This device has been revoked by the office; it can no longer sync. Ask the office.", "本设备已被中心停用，不能再同步；请联系中心。")
        case .deviceQuarantined:
            l.pick("This device has been stopped: it sent two different changes with one sequence number (its data was restored from an old copy?). Ask the office.",
                   "本设备已被暂停：它对同一序号发送了两项不同的更改（数据是否从旧备份恢复？）。请联系中心。")
        case .inviteUnknown:
            l.pick("The invite code is not known; check it, or ask the office for a new one.", "邀请码无效；请核对，或向中心申请新的邀请码。")
        case .inviteExpired:
            l.pick("The invite code has expired; ask the office for a new one.", "邀请码已过期；请向中心申请新的邀请码。")
        case .inviteUsed:
            l.pick("The invite code was already used by another device; ask the office for a new one.", "邀请码已被其他设备使用；请向中心申请新的邀请码。")
        case .claimUnknown:
            l.pick("No account waits for this claim code; check it against the slip from the outreach visit.",
                   "没有与此认领码对应的账户；请对照外勤人员给您的凭条核对。")
        case .claimUsed:
            l.pick("This account was already claimed by another device; ask the office if that was not you.",
                   "该账户已被其他设备认领；如非本人操作，请联系中心。")
        case .foreignChangeSet:
            l.pick("A device may only push its own change-sets.", "设备只能推送自己的变更集。")
        case let .changeSetRefused(error, _):
            error.message(l)
        case let .chainGap(expected, _):
            SyncError.chainGap(expected: expected).message(l)
        case let .chainFork(sequence, _):
            SyncError.chainFork(sequence: sequence).message(l) + l.pick(" The device is stopped; the office has been told.", "本设备已被暂停，已通知中心。")
        case .chainTime:
            SyncError.chainTimeNotAfterPrevious.message(l)
        case let .cursorAhead(cursor, head):
            l.pick("The cursor \(cursor) is beyond the feed's end \(head): the server was restored from an older copy. Take a new snapshot.",
                   "游标 \(cursor) 超出数据流末尾 \(head)：服务器已从较早的备份恢复。请重新获取快照。")
        case let .feedRewound(cursor):
            l.pick("The feed up to position \(cursor) is not the one this device read: the server was restored from an older copy and its positions were filled again. Send what the server lacks and take a new snapshot.",
                   "截至位置 \(cursor) 的数据流与本设备读取的不同：服务器已从较早的备份恢复，其位置已被重新填充。请补发服务器缺少的内容并重新获取快照。")
        case let .pushPartlyForbidden(forbidden, outcome):
            l.pick("\(forbidden) of the \(outcome.answers.count) change-sets write records outside this device's scope; they are refused and kept with that reason, the others are answered in details.results.",
                   "\(outcome.answers.count) 个变更集中有 \(forbidden) 个写入了本设备范围以外的记录，已被拒绝并记录原因；其余的结果见 details.results。")
        case let .rateLimited(seconds):
            l.pick("Too many attempts from this address; try again in \(seconds / 60 + 1) minutes.", "该地址尝试次数过多；请 \(seconds / 60 + 1) 分钟后再试。")
        case .conflictUnknown:
            l.pick("No conflict with this id; see `provident-server conflicts list --all`.", "没有此 ID 的冲突；请查看 `provident-server conflicts list --all`。")
        case .keyMismatch:
            l.pick("The server key file does not belong to this database (another deployment's key, or another deployment's database); give the right key with server.keyPath.",
                   "服务器密钥文件与此数据库不匹配（其他部署的密钥或数据库）；请用 server.keyPath 指定正确的密钥。")
        case .notWitness:
            l.pick("Only an active auditor's device cosigns the log; enrol one with an invite of the role auditor.",
                   "只有在用的审计设备可以联署日志；请用角色为 auditor 的邀请码登记。")
        case let .badCheckpoint(problem):
            l.pick("The checkpoint is not one this server signed (\(problem)); cosign the checkpoint of a pull or of GET /v1/log/checkpoint as given.",
                   "该检查点不是本服务器签署的（\(problem)）；请联署拉取或 GET /v1/log/checkpoint 给出的原样检查点。")
        case let .unknownCheckpoint(size, logSize):
            l.pick(size > logSize ? "The checkpoint's size \(size) is beyond the log, which holds \(logSize) entries."
                                  : "The checkpoint's root is not the log's root at size \(size): this log is not the one that was seen; keep the device's evidence (provident audit).",
                   size > logSize ? "检查点的条目数 \(size) 超出日志范围（日志共 \(logSize) 条）。"
                                  : "检查点的根与日志在 \(size) 条时的根不同：此日志不是当时所见的日志；请保留设备上的证据（provident audit）。")
        case .badCosignature:
            l.pick("The note carries no valid cosignature line of this auditor (cosignature/v1, its device key).",
                   "该检查点没有本审计设备有效的联署行（cosignature/v1，设备密钥）。")
        case .notOffice:
            l.pick("Only an active office device announces a new epoch of the log, signed with its device key (provident epoch on the office laptop).",
                   "只有在用的中心设备可以用其设备密钥宣布日志的新纪元（在中心电脑上运行 provident epoch）。")
        case let .badEpoch(problem):
            l.pick("The epoch cannot be taken: \(problem). Announce it with provident epoch on the office laptop.",
                   "无法接受该纪元声明：\(problem)。请在中心电脑上用 provident epoch 宣布。")
        }
    }
}

/// The server's answer for one change-set of a push.
public struct PushAnswer: Hashable, Sendable {
    public enum Status: String, Hashable, Sendable {
        case accepted
        /// Already received: acknowledged again, with the answer it got then.
        case duplicate
        case rejected
    }

    public let id: ChangeSetID
    public let sequence: UInt64
    public let status: Status
    /// For a duplicate, whether it had been accepted.
    public let accepted: Bool
    public let code: String?
    public let message: String?
    /// For an accepted change-set, where the feed holds it (sync-protocol.md §11.14).
    public var position: UInt64?

    public init(id: ChangeSetID, sequence: UInt64, status: Status, accepted: Bool, code: String?, message: String?) {
        self.id = id
        self.sequence = sequence
        self.status = status
        self.accepted = accepted
        self.code = code
        self.message = message
    }

    /// The answer as a push's `results` carry it (sync-protocol.md §11.5).
    public var canonicalValue: CanonicalValue {
        var result: [String: CanonicalValue] = ["id": .string(id.hex), "seq": .integer(Int64(sequence)), "status": .string(status.rawValue)]
        if status == .duplicate { result["accepted"] = .bool(accepted) }
        if let code { result["code"] = .string(code) }
        if let message { result["message"] = .string(message) }
        if let position { result["position"] = .integer(Int64(position)) }
        return .object(result)
    }
}

/// The results of a push or a bundle, with the server's one signed receipt for those the feed
/// holds (sync-protocol.md §11.14).
public struct PushOutcome: Hashable, Sendable {
    public let answers: [PushAnswer]
    public let receipt: ReceiptBatch?

    public init(answers: [PushAnswer], receipt: ReceiptBatch?) {
        self.answers = answers
        self.receipt = receipt
    }

    /// `results`, and `receipt` when any result has a position.
    public var canonicalMembers: [String: CanonicalValue] {
        var members: [String: CanonicalValue] = ["results": .array(answers.map(\.canonicalValue))]
        if let receipt { members["receipt"] = receipt.canonicalValue }
        return members
    }
}
