import ProvidentSync

/// What a user did, as a change-set's `action` names it (sync-protocol.md §11.10). The wire
/// carries the raw value; an action this version does not know is refused as `action.unknown`.
public enum Action: String, CaseIterable, Hashable, Sendable {
    case accountEnroll = "account.enroll"
    case accountUpdate = "account.update"
    case accountPause = "account.pause"
    case accountResume = "account.resume"
    case accountClose = "account.close"
    case accountVerify = "account.verify"
    case accountTransfer = "account.transfer"
    case depositRecord = "deposit.record"
    case depositReverse = "deposit.reverse"
    case reconcileConfirm = "reconcile.confirm"
    case reconcileReject = "reconcile.reject"
    case interestSettle = "interest.settle"
    case conflictResolve = "conflict.resolve"
    case unitRegister = "unit.register"
    case unitUpdate = "unit.update"
    case visitRecord = "visit.record"
    case visitVoid = "visit.void"
    case applicationRecord = "application.record"
    case applicationDecide = "application.decide"
    case campaignCreate = "campaign.create"
    case campaignTargets = "campaign.targets"

    /// The action of a change-set, if this version knows it.
    public init?(of changeSet: ChangeSet) {
        self.init(rawValue: changeSet.action)
    }

    /// What the action did, for people (an outbox listing, a record's history).
    public func label(_ l: Language) -> String {
        switch self {
        case .accountEnroll: l.pick("open account", "开户")
        case .accountUpdate: l.pick("change account", "修改账户")
        case .accountPause: l.pick("pause deposits", "暂停缴存")
        case .accountResume: l.pick("resume deposits", "恢复缴存")
        case .accountClose: l.pick("close account", "封存账户")
        case .accountVerify: l.pick("verify account", "核实账户")
        case .accountTransfer: l.pick("move account to a branch", "账户转管理部")
        case .depositRecord: l.pick("record deposit", "登记缴存")
        case .depositReverse: l.pick("reverse deposit", "冲正缴存")
        case .reconcileConfirm: l.pick("confirm deposit", "确认缴存")
        case .reconcileReject: l.pick("reject deposit", "退回缴存")
        case .interestSettle: l.pick("settle interest", "结息")
        case .conflictResolve: l.pick("resolve conflict", "处理冲突")
        case .unitRegister: l.pick("register employer", "登记单位")
        case .unitUpdate: l.pick("change employer", "修改单位")
        case .visitRecord: l.pick("record visit", "登记走访")
        case .visitVoid: l.pick("void visit", "作废走访")
        case .applicationRecord: l.pick("record application", "登记申请")
        case .applicationDecide: l.pick("decide application", "审核申请")
        case .campaignCreate: l.pick("create campaign", "创建专项行动")
        case .campaignTargets: l.pick("campaign targets", "专项行动目标")
        }
    }

    /// The label of a raw action, or the raw text for one this version does not know.
    public static func label(of raw: String, _ l: Language) -> String {
        Action(rawValue: raw)?.label(l) ?? raw
    }
}
