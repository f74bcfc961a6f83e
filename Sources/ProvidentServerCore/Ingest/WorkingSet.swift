import ProvidentDomain
import ProvidentSync

/// The records one unit of work has read from the store or written, with the few indexes the
/// domain's rules consult, held in memory so the rules run synchronously and purely. What the
/// rules may ask for is loaded up front (`Ingest.load`); asking for something not loaded is a
/// bug in that computation and fails loudly rather than answering "absent".
struct WorkingSet: ReplicaLookup {
    /// A question the working set was not prepared for.
    struct Miss: Error, CustomStringConvertible {
        let what: String
        var description: String { "the working set was not loaded with \(what)" }
    }

    /// Records loaded or written: the state, or nil when the store holds none.
    private(set) var states: [RecordKey: RecordState?] = [:]
    /// Payment reference codes looked up or written: the deposit id, or nil when unused.
    private var references: [String: String?] = [:]
    /// The months each loaded account has paid.
    private var paid: [String: [Period: PaidPeriod]] = [:]
    /// Accounts held for each resident ID number looked up (open when loaded; their state decides).
    private var accountsByIDNumber: [String: Set<String>] = [:]
    /// Accounts read from their states, until a state changes: the rules read the account of
    /// every deposit of a push.
    private let decoded = DecodedAccounts()

    private final class DecodedAccounts {
        var accounts: [String: Account?] = [:]
    }

    // MARK: Loading

    func isLoaded(_ key: RecordKey) -> Bool { states[key] != nil }
    func isLoaded(reference: String) -> Bool { references[reference] != nil }
    func isLoaded(paidFor account: String) -> Bool { paid[account] != nil }
    func isLoaded(idNumber: String) -> Bool { accountsByIDNumber[idNumber] != nil }

    mutating func loaded(_ key: RecordKey, _ state: RecordState?) {
        states[key] = .some(state)
        if key.type == Account.recordType { decoded.accounts[key.id] = nil }
    }

    mutating func loaded(reference: String, depositID: String?) {
        references[reference] = .some(depositID)
    }

    mutating func loaded(paidFor account: String, _ periods: [Period: PaidPeriod]) {
        paid[account] = periods
    }

    mutating func loaded(idNumber: String, accounts: [String]) {
        accountsByIDNumber[idNumber, default: []].formUnion(accounts)
    }

    /// The state of a loaded record (nil: the store holds none).
    func state(_ key: RecordKey) throws(Miss) -> RecordState? {
        guard let entry = states[key] else { throw Miss(what: "\(key)") }
        return entry
    }

    // MARK: Writing

    /// Takes a record's new state, keeping the indexes in step with it.
    mutating func put(_ state: RecordState) {
        let previous = states[state.key] ?? nil
        states[state.key] = .some(state)
        if state.key.type == Account.recordType { decoded.accounts[state.key.id] = nil }
        guard previous == nil || state.key.type == Account.recordType else { return }
        let values = state.values
        switch state.key.type {
        case Deposit.recordType:
            guard let deposit = Deposit(id: state.key.id, values: values) else { return }
            references[deposit.reference] = .some(deposit.id)
            if paid[deposit.accountID] != nil {
                for period in deposit.periods {
                    paid[deposit.accountID]?[period] = PaidPeriod(reference: deposit.reference, depositID: deposit.id)
                }
            }
        case DepositReversal.recordType:
            values["deposit"]?.stringValue.map { forgetPaid(byDeposit: $0) }
        case DepositOutcome.recordType:
            if values["decision"]?.stringValue == DepositOutcome.Decision.rejected.rawValue {
                values["deposit"]?.stringValue.map { forgetPaid(byDeposit: $0) }
            }
        case Account.recordType:
            if let idNumber = values["idNumber"]?.stringValue { accountsByIDNumber[idNumber, default: []].insert(state.key.id) }
        default:
            break
        }
    }

    private mutating func forgetPaid(byDeposit depositID: String) {
        guard let account = (states[RecordKey(type: Deposit.recordType, id: depositID)] ?? nil)?.values["account"]?.stringValue else { return }
        paid[account] = paid[account]?.filter { $0.value.depositID != depositID }
    }

    // MARK: ReplicaLookup

    func account(id: String) throws -> Account? {
        if let known = decoded.accounts[id] { return known }
        guard let state = try state(RecordKey(type: Account.recordType, id: id)), state.created else { return nil }
        let account = Account(id: id, values: state.values)
        decoded.accounts[id] = .some(account)
        return account
    }

    func deposit(id: String) throws -> Deposit? {
        try state(RecordKey(type: Deposit.recordType, id: id)).flatMap { Deposit(id: id, values: $0.values) }
    }

    func depositID(reference: String) throws -> String? {
        guard let entry = references[reference] else { throw Miss(what: "reference \(reference)") }
        return entry
    }

    func isReversed(depositID: String) throws -> Bool {
        try state(RecordKey(type: DepositReversal.recordType, id: DepositReversal.id(for: depositID))) != nil
    }

    func hasOutcome(depositID: String) throws -> Bool {
        try state(RecordKey(type: DepositOutcome.recordType, id: DepositOutcome.id(for: depositID))) != nil
    }

    func paidPeriods(accountID: String) throws -> [Period: String] {
        guard let periods = paid[accountID] else { throw Miss(what: "the months paid by \(accountID)") }
        return periods.mapValues(\.reference)
    }

    func openAccounts(idNumber: String) throws -> [Account] {
        guard let ids = accountsByIDNumber[idNumber] else { throw Miss(what: "the accounts of an ID number") }
        return try ids.sorted().compactMap { try account(id: $0) }.filter { $0.closedOn == nil && $0.idNumber == idNumber }
    }

    func record(_ key: RecordKey) throws -> RecordState? {
        try state(key)
    }

    func unit(id: String) throws -> Employer? {
        guard let state = try state(RecordKey(type: Employer.recordType, id: id)), state.created else { return nil }
        return Employer(id: id, values: state.values)
    }

    func visit(id: String) throws -> Visit? {
        try state(RecordKey(type: Visit.recordType, id: id)).flatMap { Visit(id: id, values: $0.values) }
    }

    func isVoided(visitID: String) throws -> Bool {
        try state(RecordKey(type: VisitVoid.recordType, id: VisitVoid.id(for: visitID))) != nil
    }

    func application(id: String) throws -> ReliefApplication? {
        try state(RecordKey(type: ReliefApplication.recordType, id: id)).flatMap { ReliefApplication(id: id, values: $0.values) }
    }

    func decision(applicationID: String) throws -> ApplicationDecision? {
        try state(RecordKey(type: ApplicationDecision.recordType, id: ApplicationDecision.id(for: applicationID)))
            .flatMap { ApplicationDecision(values: $0.values) }
    }

    func campaign(id: String) throws -> Campaign? {
        try state(RecordKey(type: Campaign.recordType, id: id)).flatMap { Campaign(id: id, values: $0.values) }
    }
}

/// How records hang off one another, and which scopes they belong to (sync-protocol.md §11.4).
enum RecordLinks {
    /// The record a record hangs off, named in its fields: a deposit's account, a reversal's or
    /// outcome's deposit, interest's account, a visit's employer, a voiding's visit, an
    /// application's employer, a decision's application, campaign targets' campaign.
    static func parent(type: String, values: [String: CanonicalValue]) -> RecordKey? {
        func key(_ parentType: String, _ field: String) -> RecordKey? {
            values[field]?.stringValue.map { RecordKey(type: parentType, id: $0) }
        }
        switch type {
        case Deposit.recordType, InterestCredit.recordType: return key(Account.recordType, "account")
        case DepositReversal.recordType, DepositOutcome.recordType: return key(Deposit.recordType, "deposit")
        case Visit.recordType, ReliefApplication.recordType: return key(Employer.recordType, "unit")
        case VisitVoid.recordType: return key(Visit.recordType, "visit")
        case ApplicationDecision.recordType: return key(ReliefApplication.recordType, "application")
        case CampaignTargets.recordType: return key(Campaign.recordType, "campaign")
        default: return nil
        }
    }

    /// The scopes a record belongs to, from its state and those it hangs off: an account's own
    /// and its branch's; an employer's branch; a visit to a place, its own branch; campaigns,
    /// every staff device; campaign targets, their branch; everything else follows the record it
    /// hangs off. Records of other types are the office's alone.
    static func scopes(of key: RecordKey, in working: WorkingSet) throws -> Set<Scope> {
        guard let state = try working.state(key) else { return [] }
        let values = state.values
        switch key.type {
        case Account.recordType:
            var scopes: Set<Scope> = [.account(key.id)]
            if let branch = values["branch"]?.stringValue { scopes.insert(.branch(branch)) }
            return scopes
        case Employer.recordType, CampaignTargets.recordType:
            return values["branch"]?.stringValue.map { [.branch($0)] } ?? []
        case Campaign.recordType:
            return [.staff]
        case Visit.recordType:
            if let unit = parent(type: key.type, values: values) {
                let scopes = try Self.scopes(of: unit, in: working)
                if !scopes.isEmpty { return scopes }
            }
            return values["branch"]?.stringValue.map { [.branch($0)] } ?? []
        default:
            guard let parent = parent(type: key.type, values: values) else { return [] }
            return try scopes(of: parent, in: working)
        }
    }
}
