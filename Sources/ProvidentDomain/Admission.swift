import ProvidentCrypto
import ProvidentSync

/// A device's role, which decides what it may write and read.
public enum DeviceRole: String, Hashable, Sendable, CaseIterable {
    /// A worker's own device, bound to the one account it creates or claims.
    case selfService = "self"
    /// An outreach laptop bound to a branch (管理部).
    case field
    /// The central office.
    case office
    /// An audit office's device (审计部门): it reads and writes no records, and witnesses the
    /// server's log (sync-protocol.md §11.15).
    case auditor

    /// Whether the role is staff that records field and office work (an outreach laptop or the office).
    public var recordsWork: Bool { self == .field || self == .office }
}

/// What a device may touch: its role, its branch (field devices), its account (worker devices).
public struct DeviceGrant: Hashable, Sendable {
    public var role: DeviceRole
    public var branch: String?
    public var accountID: String?

    public init(role: DeviceRole, branch: String? = nil, accountID: String? = nil) {
        self.role = role
        self.branch = branch
        self.accountID = accountID
    }

    /// The scopes whose records the device receives; nil means everything (the office).
    public var readScopes: Set<Scope>? {
        switch role {
        case .office: nil
        case .field: Set([branch.map(Scope.branch), .staff].compactMap { $0 })
        case .selfService: Set([accountID.map(Scope.account)].compactMap { $0 })
        case .auditor: []
        }
    }

    /// Whether the device may write records held in `branch` (employers, visits, applications).
    public func mayWrite(branch recordBranch: String) -> Bool {
        switch role {
        case .office: true
        case .field: branch != nil && recordBranch == branch
        case .selfService, .auditor: false
        }
    }

    /// Whether the device may write the records of `account`.
    public func mayWrite(_ account: Account) -> Bool {
        switch role {
        case .office: true
        case .field: branch != nil && account.branch == branch
        case .selfService: accountID == account.id
        case .auditor: false
        }
    }
}

/// A slice of the data that devices receive: one worker's account and what hangs off it, a
/// branch, or what every staff device sees (campaigns).
public enum Scope: Hashable, Comparable, Sendable, CustomStringConvertible {
    case account(String)
    case branch(String)
    case staff

    /// The stored spelling: `account:<id>`, `branch:<name>` or `staff`.
    public var description: String {
        switch self {
        case let .account(id): "account:\(id)"
        case let .branch(name): "branch:\(name)"
        case .staff: "staff"
        }
    }

    /// Reads the stored spelling.
    public init?(_ text: String) {
        if text == "staff" {
            self = .staff
        } else if text.hasPrefix("account:") {
            self = .account(String(text.dropFirst(8)))
        } else if text.hasPrefix("branch:") {
            self = .branch(String(text.dropFirst(7)))
        } else {
            return nil
        }
    }

    /// The order of the stored spellings, without spelling them: `account:` before `branch:`
    /// before `staff`, and within a kind the order of what follows the prefix.
    public static func < (a: Scope, b: Scope) -> Bool {
        switch (a, b) {
        case let (.account(x), .account(y)), let (.branch(x), .branch(y)): x < y
        default: a.rank < b.rank
        }
    }

    private var rank: Int {
        switch self {
        case .account: 0
        case .branch: 1
        case .staff: 2
        }
    }

    /// The scopes of an account's records: the account's own, and its branch's if it has one.
    public static func of(_ account: Account) -> Set<Scope> {
        var scopes: Set<Scope> = [.account(account.id)]
        if let branch = account.branch { scopes.insert(.branch(branch)) }
        return scopes
    }
}

/// What the server needs to know of its replica to judge a change-set.
public protocol ReplicaLookup {
    func account(id: String) throws -> Account?
    func deposit(id: String) throws -> Deposit?
    func depositID(reference: String) throws -> String?
    func isReversed(depositID: String) throws -> Bool
    func hasOutcome(depositID: String) throws -> Bool
    func paidPeriods(accountID: String) throws -> [Period: String]
    func openAccounts(idNumber: String) throws -> [Account]
    func record(_ key: RecordKey) throws -> RecordState?
    func unit(id: String) throws -> Employer?
    func visit(id: String) throws -> Visit?
    func isVoided(visitID: String) throws -> Bool
    func application(id: String) throws -> ReliefApplication?
    func decision(applicationID: String) throws -> ApplicationDecision?
    func campaign(id: String) throws -> Campaign?
}

/// The server's judgement of a change-set: the same domain rules the devices apply, checked
/// again against the server's replica, plus who may do what. The server trusts none of a
/// device's own checks.
public struct Admission: Sendable {
    public let policy: Policy

    public init(policy: Policy) {
        self.policy = policy
    }

    /// What admitting a change-set does beyond merging it.
    public struct Admitted: Hashable, Sendable {
        /// The account a worker's device becomes bound to (its enrolment).
        public var bindAccount: String?
        /// The account whose scopes a transfer changed.
        public var rescopedAccount: String?
        /// The employer whose branch changed.
        public var rescopedUnit: String?
    }

    /// Checks `changeSet` from a device with `grant`; throws the reason for refusing it.
    public func admit(_ changeSet: ChangeSet, grant: DeviceGrant, lookup: some ReplicaLookup) throws -> Admitted {
        // An auditor witnesses the log and records nothing.
        guard grant.role != .auditor else { throw DomainError.notPermitted }
        guard !Self.holdsNUL(changeSet) else { throw DomainError.nulCharacter }
        let operations = changeSet.operations
        func only(_ type: String, _ kind: OperationKind) throws -> Operation {
            guard operations.count == 1, let op = operations.first, op.record.type == type, op.kind == kind else {
                throw DomainError.actionMismatch(changeSet.action)
            }
            return op
        }
        guard let action = Action(of: changeSet) else { throw DomainError.actionUnknown(changeSet.action) }
        // A record the device names itself carries its type's prefix (sync-protocol.md §15).
        for op in operations where op.kind == .create || op.kind == .fact {
            if let prefix = RecordIDs.devicePrefix[op.record.type], !op.record.id.hasPrefix(prefix) {
                throw DomainError.malformedRecord(op.record.type)
            }
        }
        switch action {
        case .accountEnroll:
            let op = try only(Account.recordType, .create)
            return try enroll(op, madeOn: changeSet.time.instant.shanghaiDate,
                              grant: grant, lookup: lookup)
        case .accountUpdate, .accountPause, .accountResume, .accountClose, .accountVerify, .accountTransfer:
            let op = try only(Account.recordType, .update)
            return try update(op, action: action, grant: grant, lookup: lookup)
        case .depositRecord:
            let op = try only(Deposit.recordType, .fact)
            guard let deposit = Deposit(id: op.record.id, values: op.fields) else { throw DomainError.malformedRecord(Deposit.recordType) }
            let account = try writable(deposit.accountID, grant: grant, lookup: lookup)
            _ = try ReferenceCode(deposit.reference)
            if try lookup.depositID(reference: deposit.reference) != nil { throw DomainError.referenceTaken }
            // Months already paid matter only to deposits that pay months.
            let paid = deposit.kind == .lump ? [:] : try lookup.paidPeriods(accountID: account.id)
            try DepositRules.check(kind: deposit.kind, periods: deposit.periods, amountFen: deposit.amountFen, account: account,
                                   policy: policy, today: deposit.recordedAt.shanghaiDate, paid: paid)
            return Admitted()
        case .depositReverse:
            let op = try only(DepositReversal.recordType, .fact)
            guard let reversal = DepositReversal(values: op.fields), op.record.id == DepositReversal.id(for: reversal.depositID) else {
                throw DomainError.malformedRecord(DepositReversal.recordType)
            }
            guard let deposit = try lookup.deposit(id: reversal.depositID) else { throw DomainError.depositNotFound(reversal.depositID) }
            _ = try writable(deposit.accountID, grant: grant, lookup: lookup)
            guard !(try lookup.isReversed(depositID: deposit.id)) else { throw DomainError.depositAlreadyReversed(deposit.reference) }
            guard !reversal.reason.isEmpty else { throw DomainError.reasonEmpty }
            return Admitted()
        case .reconcileConfirm, .reconcileReject:
            guard grant.role == .office else { throw DomainError.notPermitted }
            for op in operations {
                guard op.record.type == DepositOutcome.recordType, op.kind == .fact, let outcome = DepositOutcome(values: op.fields),
                      op.record.id == DepositOutcome.id(for: outcome.depositID) else {
                    throw DomainError.malformedRecord(DepositOutcome.recordType)
                }
                guard let deposit = try lookup.deposit(id: outcome.depositID) else { throw DomainError.depositNotFound(outcome.depositID) }
                guard !(try lookup.hasOutcome(depositID: deposit.id)) else { throw DomainError.depositAlreadyDecided(deposit.reference) }
                guard (outcome.decision == .confirmed) == (action == .reconcileConfirm) else { throw DomainError.actionMismatch(changeSet.action) }
                if outcome.decision == .rejected, (outcome.reason ?? "").isEmpty { throw DomainError.reasonEmpty }
            }
            return Admitted()
        case .interestSettle:
            guard grant.role == .office else { throw DomainError.notPermitted }
            let op = try only(InterestCredit.recordType, .fact)
            guard let credit = InterestCredit(values: op.fields), op.record.id == InterestCredit.id(accountID: credit.accountID, year: credit.year),
                  credit.amountFen >= 0, credit.from <= credit.to else {
                throw DomainError.malformedRecord(InterestCredit.recordType)
            }
            guard try lookup.account(id: credit.accountID) != nil else { throw DomainError.unknownAccount }
            guard try lookup.record(op.record) == nil else { throw DomainError.interestAlreadySettled }
            return Admitted()
        case .conflictResolve:
            guard grant.role == .office else { throw DomainError.notPermitted }
            for op in operations {
                guard op.kind == .update, try lookup.record(op.record) != nil else { throw DomainError.malformedRecord(op.record.type) }
            }
            return Admitted()
        case .unitRegister:
            let op = try only(Employer.recordType, .create)
            guard let unit = Employer(id: op.record.id, values: op.fields) else { throw DomainError.malformedRecord(Employer.recordType) }
            try unit.check()
            guard grant.mayWrite(branch: unit.branch) else { throw grant.role == .selfService ? DomainError.notPermitted : DomainError.outOfScope }
            guard try lookup.record(op.record) == nil else { throw DomainError.unitExists }
            return Admitted()
        case .unitUpdate:
            let op = try only(Employer.recordType, .update)
            guard let unit = try lookup.unit(id: op.record.id) else { throw DomainError.unitUnknown(String(op.record.id.dropFirst(5))) }
            guard grant.mayWrite(branch: unit.branch) else { throw grant.role == .selfService ? DomainError.notPermitted : DomainError.outOfScope }
            let fieldStaff: Set<String> = ["address", "contact", "employees", "kind"]
            guard !op.fields.isEmpty, op.fields["creditCode"] == nil,
                  grant.role == .office || Set(op.fields.keys).isSubset(of: fieldStaff) else { throw DomainError.notPermitted }
            guard let record = try lookup.record(op.record) else { throw DomainError.unitUnknown(unit.creditCode) }
            var values = record.values
            for (name, value) in op.fields { values[name] = value }
            guard let changed = Employer(id: op.record.id, values: values) else { throw DomainError.malformedRecord(Employer.recordType) }
            try changed.check()
            return Admitted(rescopedUnit: changed.branch != unit.branch ? unit.id : nil)
        case .visitRecord:
            let op = try only(Visit.recordType, .fact)
            guard let visit = Visit(id: op.record.id, values: op.fields) else { throw DomainError.malformedRecord(Visit.recordType) }
            try visit.check(policy: policy, today: visit.recordedAt.shanghaiDate)
            if let unitID = visit.unitID {
                guard let unit = try lookup.unit(id: unitID) else { throw DomainError.unitUnknown(String(unitID.dropFirst(5))) }
                guard visit.branch == unit.branch else { throw DomainError.outOfScope }
            }
            guard grant.mayWrite(branch: visit.branch) else { throw grant.role == .selfService ? DomainError.notPermitted : DomainError.outOfScope }
            return Admitted()
        case .visitVoid:
            let op = try only(VisitVoid.recordType, .fact)
            guard let voiding = VisitVoid(values: op.fields), op.record.id == VisitVoid.id(for: voiding.visitID) else {
                throw DomainError.malformedRecord(VisitVoid.recordType)
            }
            guard let visit = try lookup.visit(id: voiding.visitID) else { throw DomainError.visitNotFound(voiding.visitID) }
            let branch = try visit.unitID.flatMap { try lookup.unit(id: $0)?.branch } ?? visit.branch
            guard grant.mayWrite(branch: branch) else { throw grant.role == .selfService ? DomainError.notPermitted : DomainError.outOfScope }
            guard !(try lookup.isVoided(visitID: visit.id)) else { throw DomainError.visitAlreadyVoided }
            guard !voiding.reason.isEmpty else { throw DomainError.reasonEmpty }
            return Admitted()
        case .applicationRecord:
            let op = try only(ReliefApplication.recordType, .fact)
            guard let application = ReliefApplication(id: op.record.id, values: op.fields) else {
                throw DomainError.malformedRecord(ReliefApplication.recordType)
            }
            guard let unit = try lookup.unit(id: application.unitID) else { throw DomainError.unitUnknown(String(application.unitID.dropFirst(5))) }
            guard grant.mayWrite(branch: unit.branch) else { throw grant.role == .selfService ? DomainError.notPermitted : DomainError.outOfScope }
            guard unit.established else { throw DomainError.unitNotEstablished }
            try application.check(policy: policy, today: application.recordedAt.shanghaiDate)
            return Admitted()
        case .applicationDecide:
            guard grant.role == .office else { throw DomainError.notPermitted }
            let op = try only(ApplicationDecision.recordType, .fact)
            guard let decision = ApplicationDecision(values: op.fields), op.record.id == ApplicationDecision.id(for: decision.applicationID) else {
                throw DomainError.malformedRecord(ApplicationDecision.recordType)
            }
            guard try lookup.application(id: decision.applicationID) != nil else { throw DomainError.applicationNotFound(decision.applicationID) }
            guard try lookup.decision(applicationID: decision.applicationID) == nil else { throw DomainError.applicationAlreadyDecided }
            guard !decision.reason.isEmpty else { throw DomainError.reasonEmpty }
            return Admitted()
        case .campaignCreate:
            guard grant.role == .office else { throw DomainError.notPermitted }
            let op = try only(Campaign.recordType, .fact)
            guard let campaign = Campaign(id: op.record.id, values: op.fields) else { throw DomainError.malformedRecord(Campaign.recordType) }
            try campaign.check()
            return Admitted()
        case .campaignTargets:
            guard grant.role == .office else { throw DomainError.notPermitted }
            var branches = Set<String>()
            for op in operations {
                guard op.record.type == CampaignTargets.recordType, op.kind == .fact, let targets = CampaignTargets(values: op.fields),
                      op.record.id == targets.id, Branch.isValid(targets.branch) else {
                    throw DomainError.malformedRecord(CampaignTargets.recordType)
                }
                guard try lookup.campaign(id: targets.campaignID) != nil else { throw DomainError.campaignNotFound(targets.campaignID) }
                branches.insert(targets.branch)
            }
            // One branch per change-set, so each goes only to that branch's devices.
            guard branches.count == 1 else { throw DomainError.actionMismatch(changeSet.action) }
            return Admitted()
        }
    }

    /// Whether a string in the change-set's fields, at any depth, holds U+0000. PostgreSQL keeps
    /// no NUL in a text column: stored, it would fail the whole transaction, every push judged
    /// with it, not this change-set alone. The change-set's other texts (action, record types and
    /// ids, field names, object keys) are spelled by patterns that exclude it (§2, §3.1).
    static func holdsNUL(_ changeSet: ChangeSet) -> Bool {
        func nul(_ value: CanonicalValue) -> Bool {
            switch value {
            case let .string(text): text.utf8.contains(0)
            case let .array(items): items.contains(where: nul)
            case let .object(members): members.values.contains(where: nul)
            default: false
            }
        }
        return changeSet.operations.contains { $0.fields.values.contains(where: nul) }
    }

    /// An enrolment: `madeOn` is the Shanghai date of the change-set's time. `enrolledOn` must be
    /// that day, give or take one (a clock near midnight, or a hybrid clock a little ahead):
    /// enrolment cannot be back-dated to open catch-up months, nor dated ahead.
    private func enroll(_ op: Operation, madeOn: CivilDate, grant: DeviceGrant, lookup: some ReplicaLookup) throws -> Admitted {
        guard let account = Account(id: op.record.id, values: op.fields) else { throw DomainError.malformedRecord(Account.recordType) }
        guard abs(account.enrolledOn.daysSinceEpoch - madeOn.daysSinceEpoch) <= 1 else { throw DomainError.enrolledOnNotToday }
        guard try lookup.record(op.record) == nil else { throw DomainError.accountExists }
        try account.checkRecorded(policy: policy)
        switch grant.role {
        case .selfService:
            guard grant.accountID == nil else { throw DomainError.accountAlreadyEnrolled }
            guard account.channel == .selfService, account.branch == nil, account.claimCodeHash == nil else { throw DomainError.notPermitted }
        case .field:
            guard account.channel == .outreach, account.branch != nil, account.branch == grant.branch else { throw DomainError.outOfScope }
        case .office:
            break
        case .auditor:
            throw DomainError.notPermitted
        }
        guard account.status == .pendingVerification || grant.role == .office else { throw DomainError.notPermitted }
        guard try lookup.openAccounts(idNumber: account.idNumber).isEmpty else { throw DomainError.idNumberAlreadyEnrolled }
        return Admitted(bindAccount: grant.role == .selfService ? account.id : nil)
    }

    private func update(_ op: Operation, action: Action, grant: DeviceGrant, lookup: some ReplicaLookup) throws -> Admitted {
        let account = try writable(op.record.id, grant: grant, lookup: lookup)
        guard account.status != .closed else { throw DomainError.accountClosed }
        let allowed: Set<String> = switch action {
        case .accountUpdate: ["phone", "agreement"]
        case .accountPause, .accountResume: ["paused"]
        case .accountClose: ["closed"]
        case .accountVerify: ["verified"]
        default: ["branch"]
        }
        guard !op.fields.isEmpty, Set(op.fields.keys).isSubset(of: allowed) else { throw DomainError.actionMismatch(action.rawValue) }
        if action == .accountVerify, grant.role == .selfService { throw DomainError.notPermitted }
        if action == .accountTransfer, grant.role != .office { throw DomainError.notPermitted }
        // Each value must be what the device's own rules would have produced.
        var changed = account
        for (name, value) in op.fields {
            switch name {
            case "phone":
                guard let text = value.stringValue, (try? MobileNumber(text))?.value == text else { throw DomainError.mobileInvalid }
            case "agreement":
                guard let agreement = Agreement(canonicalValue: value) else { throw DomainError.malformedRecord(Account.recordType) }
                try agreement.check(policy: policy)
            case "paused":
                guard value.boolValue == (action == .accountPause) else { throw DomainError.actionMismatch(action.rawValue) }
            case "closed":
                guard let closed = value.objectValue, closed.count == 2, closed["on"]?.stringValue.flatMap(CivilDate.init(iso:)) != nil,
                      let reason = closed["reason"]?.stringValue, !reason.isEmpty else { throw DomainError.reasonEmpty }
            case "verified":
                guard value.boolValue == true else { throw DomainError.actionMismatch(action.rawValue) }
            case "branch":
                guard let branch = value.stringValue, Branch.isValid(branch) else { throw DomainError.branchInvalid }
                changed.branch = branch
            default:
                throw DomainError.actionMismatch(action.rawValue)
            }
        }
        return Admitted(rescopedAccount: changed.branch != account.branch ? account.id : nil)
    }

    private func writable(_ accountID: String, grant: DeviceGrant, lookup: some ReplicaLookup) throws -> Account {
        guard let account = try lookup.account(id: accountID) else { throw DomainError.unknownAccount }
        guard grant.mayWrite(account) else { throw DomainError.outOfScope }
        return account
    }
}

/// Branch names: what staff call their 管理部, 1–64 characters, no slashes or control characters.
/// The ids devices choose for the records they create (sync-protocol.md §15): the type's
/// prefix, then anything §3.1 allows; other records' ids are derived from what they refer to.
public enum RecordIDs {
    public static let devicePrefix: [String: String] = [
        Account.recordType: "acc-", Deposit.recordType: "dep-", Visit.recordType: "vis-",
        ReliefApplication.recordType: "app-", Campaign.recordType: "cmp-",
    ]
}

/// A branch name (管理部): 1–64 characters, none of them `/`, `:` or a control character, with
/// no space at either end (sync-protocol.md §15).
public enum Branch {
    public static func isValid(_ name: String) -> Bool {
        (1...64).contains(name.count) && !name.contains("/") && !name.unicodeScalars.contains { $0.value < 0x20 || $0 == ":" }
            && name == name.trimmingASCIIWhitespace
    }
}

/// The one-time code a field laptop prints when it opens an account on a worker's behalf; the
/// worker's own device claims the account with it. 12 random symbols and a check symbol over
/// the credit-code alphabet, shown in groups (4QKM-X7TN-2RHC3); only its BLAKE2b-256 digest is
/// replicated, in the account's `claimCodeHash` field.
public struct ClaimCode: Hashable, Sendable, CustomStringConvertible {
    /// The 13 symbols.
    public let value: String

    /// Makes a code from 12 random bytes (the caller supplies the randomness).
    public init(randomBytes: [UInt8]) {
        let code = ReferenceCode(randomBytes: randomBytes)
        value = String(code.value.dropFirst(2))
    }

    /// Checks a code as typed: any case, with or without spaces or hyphens.
    public init(_ text: String) throws(DomainError) {
        let compact = text.uppercased().filter { $0 != " " && $0 != "-" }
        do {
            _ = try ReferenceCode("PV" + compact)
        } catch {
            throw .claimCodeInvalid
        }
        value = compact
    }

    /// Grouped for reading aloud and typing: 4QKM-X7TN-2RHC3.
    public var description: String {
        let characters = Array(value)
        return String(characters[0..<4]) + "-" + String(characters[4..<8]) + "-" + String(characters[8...])
    }

    /// The digest the account carries, so the server can find the account without ever storing the code.
    public var digest: String {
        Hex.encode(BLAKE2b.hash(Array(("provident-claim:" + value).utf8), outputLength: 32))
    }

    /// Whether `text` is spelled as `digest` spells one: 64 lowercase hex digits. (Anything
    /// longer could not be indexed by PostgreSQL, and would fail every push judged with it.)
    public static func isDigest(_ text: String) -> Bool {
        text.utf8.count == 64 && Hex.decode(text) != nil
    }
}
