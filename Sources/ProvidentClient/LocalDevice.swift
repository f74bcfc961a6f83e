import Foundation
import ProvidentCrypto
import ProvidentDomain
import ProvidentStore
import ProvidentSync

/// Where the policy in force came from.
public enum PolicySource: Hashable, Sendable {
    /// The built-in defaults of the domain reference.
    case defaults
    /// A policy file.
    case file(String)
}

/// What a person fills in to open an account.
public struct EnrollmentForm: Hashable, Sendable {
    public var name: String
    public var idNumber: String
    public var phone: String
    public var category: String
    public var base: String?
    public var rate: String?
    public var monthly: String?

    public init(name: String, idNumber: String, phone: String, category: String, base: String?, rate: String?, monthly: String?) {
        self.name = name
        self.idNumber = idNumber
        self.phone = phone
        self.category = category
        self.base = base
        self.rate = rate
        self.monthly = monthly
    }
}

/// A device on this computer: its data directory, replica, policy and (when unlocked) its key.
///
/// Read-only questions need no passphrase. Every action that changes something takes the current
/// time and a way to unlock the key, checks the action against the domain rules and the replica
/// (before asking for the key, so mistakes cost no passphrase), and commits it with its signed
/// change-set in one transaction.
public final class LocalDevice: Sendable {
    public let directory: DataDirectory
    public let replica: ReplicaDatabase
    public let policy: Policy
    public let policySource: PolicySource

    private init(directory: DataDirectory, replica: ReplicaDatabase, policy: Policy, policySource: PolicySource) {
        self.directory = directory
        self.replica = replica
        self.policy = policy
        self.policySource = policySource
    }

    // MARK: Setting up

    /// Creates the device key, sealed under `passphrase`, and an empty replica.
    ///
    /// Refuses when a key is already there unless `force`; with `force`, the old key and replica
    /// are moved into a backup folder first (returned), so nothing is ever destroyed. A replica
    /// left without a key (an interrupted `init`) is replaced only if it holds no unsynced work.
    public static func initialise(directory: DataDirectory, passphrase: SecretBytes, key: SigningKey = .generate(),
                                  role: DeviceRole = .selfService, keyParameters: SealedKeyFile.Parameters = .interactive,
                                  force: Bool, now: Instant, environment: [String: String] = [:]) throws -> (device: LocalDevice, backup: String?) {
        try directory.prepare()
        var backup: String?
        if directory.hasKey {
            guard force else { throw ClientError.alreadyInitialised(directory: directory.path) }
            backup = try directory.backUp(stamp: backupStamp(now))
        } else if directory.hasReplica {
            let pending = (try? ReplicaDatabase.open(path: directory.replicaPath).outbox().count) ?? 0
            if pending > 0 { throw ClientError.keyLostWithUnsyncedWork(directory: directory.path, pending: pending) }
            if force { backup = try directory.backUp(stamp: backupStamp(now)) } else { try removeReplica(directory) }
        }
        let sealed = try SealedKeyFile.seal(key, passphrase: passphrase, parameters: keyParameters)
        // The replica first, the key last: a key file means a finished set-up.
        let replica = try ReplicaDatabase.create(path: directory.replicaPath, identity: key, role: role, now: now)
        try SealedKeyFile.write(sealed, to: directory.keyPath)
        let (policy, source) = try policy(directory: directory, environment: environment)
        return (LocalDevice(directory: directory, replica: replica, policy: policy, policySource: source), backup)
    }

    /// Opens an initialised device for reading and, with its key, for writing.
    public static func open(directory: DataDirectory, environment: [String: String] = [:]) throws -> LocalDevice {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue,
              directory.hasReplica else {
            throw ClientError.notInitialised(directory: directory.path)
        }
        try directory.requirePrivate()
        let replica = try ReplicaDatabase.open(path: directory.replicaPath)
        let (policy, source) = try policy(directory: directory, environment: environment)
        return LocalDevice(directory: directory, replica: replica, policy: policy, policySource: source)
    }

    /// Records an enrolment: the server's address and key (pinned from now on), this device's
    /// role, branch and account, and the server's policy, so this device judges changes by the
    /// server's rules.
    public func adopt(_ answer: EnrolmentAnswer) throws {
        _ = try Policy(yaml: answer.policy)
        do {
            try Data(answer.policy.utf8).write(to: URL(fileURLWithPath: directory.serverPolicyPath), options: .atomic)
        } catch {
            throw ClientError.policyFileUnreadable(path: directory.serverPolicyPath)
        }
        try replica.register(serverURL: answer.serverURL, serverKey: answer.serverKey, role: answer.role, branch: answer.branch,
                             accountID: answer.account)
    }

    /// Unseals the device key with `passphrase`, checking it belongs to this replica.
    public func unlock(passphrase: SecretBytes) throws -> SigningKey {
        guard directory.hasKey else {
            let pending = (try? replica.outbox().count) ?? 0
            if pending > 0 { throw ClientError.keyLostWithUnsyncedWork(directory: directory.path, pending: pending) }
            throw ClientError.notInitialised(directory: directory.path)
        }
        let key = try SealedKeyFile.open(try SealedKeyFile.read(from: directory.keyPath), passphrase: passphrase)
        guard key.publicKey == (try replica.deviceState().publicKey) else {
            throw ClientError.keyDoesNotMatchReplica(directory: directory.path)
        }
        return key
    }

    /// The public key in the key file, read without the passphrase.
    public func keyFilePublicKey() throws -> PublicKey {
        try SealedKeyFile.publicKey(in: try SealedKeyFile.read(from: directory.keyPath))
    }

    /// The policy a device in `directory` uses: the file PROVIDENT_POLICY names, else the
    /// server's policy received at enrolment, else policy.yaml in the directory, else the defaults.
    public static func policy(directory: DataDirectory, environment: [String: String]) throws -> (Policy, PolicySource) {
        let path = environment["PROVIDENT_POLICY"].flatMap { $0.isEmpty ? nil : DataDirectory.absolute($0) }
            ?? (FileManager.default.fileExists(atPath: directory.serverPolicyPath) ? directory.serverPolicyPath : directory.policyPath)
        guard FileManager.default.fileExists(atPath: path) else {
            if environment["PROVIDENT_POLICY"]?.isEmpty == false { throw ClientError.policyFileUnreadable(path: path) }
            return (.defaults, .defaults)
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ClientError.policyFileUnreadable(path: path)
        }
        return (try Policy(yaml: text), .file(path))
    }

    static func removeReplica(_ directory: DataDirectory) throws {
        for suffix in ["", "-wal", "-shm"] {
            let file = directory.replicaPath + suffix
            if FileManager.default.fileExists(atPath: file) { try FileManager.default.removeItem(atPath: file) }
        }
    }

    static func backupStamp(_ now: Instant) -> String {
        now.utcISO.filter { $0.isNumber }
    }

    // MARK: Identity

    /// This device's identity and chain position.
    public func state() throws -> DeviceState {
        try replica.deviceState()
    }

    // MARK: Actions

    /// Opens an account, pending verification. On a worker's own device the account is the
    /// worker's and the device is bound to it. On an outreach laptop it is opened on a worker's
    /// behalf, for the laptop's branch, with a one-time claim code (returned) that the worker's
    /// own device will use to take it over.
    public func enroll(_ form: EnrollmentForm, unlock: () throws -> SigningKey, now: Instant) throws -> (account: Account, claimCode: ClaimCode?) {
        let today = now.shanghaiDate
        let state = try replica.deviceState()
        guard state.role != .auditor else { throw DomainError.notPermitted }
        let category = try AccountCategory(typed: form.category)
        let agreement = try Agreement.typed(base: form.base, rate: form.rate, monthly: form.monthly, policy: policy)
        let outreach = state.role != .selfService
        var account = try Account.enroll(id: Self.newID("acc"), name: form.name, idNumber: form.idNumber, phone: form.phone,
                                         category: category, agreement: agreement, channel: outreach ? .outreach : .selfService,
                                         today: today, policy: policy)
        var claimCode: ClaimCode?
        if outreach {
            let code = ClaimCode(randomBytes: SecureRandom.bytes(count: 12))
            account.branch = state.branch
            account.claimCodeHash = code.digest
            claimCode = code
        }
        let opened = account
        try replica.commitLocalChange(unlock: unlock, now: now, bindAccount: outreach ? nil : account.id) { reader in
            if reader.device.role == .selfService, reader.device.accountID != nil { throw DomainError.accountAlreadyEnrolled }
            if !(try reader.openAccounts(idNumber: opened.idNumber)).isEmpty { throw DomainError.idNumberAlreadyEnrolled }
            return LocalChange(action: .accountEnroll, operations: [
                Operation(record: opened.recordKey, kind: .create, fields: opened.createFields),
            ])
        }
        return (account, claimCode)
    }

    /// Records that the person behind an account has been verified (office and outreach staff).
    public func verify(accountID: String, unlock: () throws -> SigningKey, now: Instant) throws -> Account {
        guard try replica.deviceState().role.recordsWork else { throw DomainError.notPermitted }
        return try changeAccount(accountID, action: .accountVerify, unlock: unlock, now: now) { account in
            guard account.status != .closed else { throw DomainError.accountClosed }
            return ["verified": .bool(true)]
        }
    }

    /// Moves an account to another branch's care (the office).
    public func transfer(accountID: String, toBranch branch: String, unlock: () throws -> SigningKey, now: Instant) throws -> Account {
        guard try replica.deviceState().role == .office else { throw DomainError.notPermitted }
        guard Branch.isValid(branch) else { throw DomainError.branchInvalid }
        return try changeAccount(accountID, action: .accountTransfer, unlock: unlock, now: now) { account in
            guard account.status != .closed else { throw DomainError.accountClosed }
            guard account.branch != branch else { throw DomainError.nothingToUpdate }
            return ["branch": .string(branch)]
        }
    }

    /// Changes the phone number and/or the agreement.
    public func updateAccount(accountID: String? = nil, phone: String?, base: String?, rate: String?, monthly: String?,
                              unlock: () throws -> SigningKey, now: Instant) throws -> Account {
        let agreement = (base == nil && rate == nil && monthly == nil)
            ? nil : try Agreement.typed(base: base, rate: rate, monthly: monthly, policy: policy)
        return try changeAccount(accountID, action: .accountUpdate, unlock: unlock, now: now) { account in
            try account.updateFields(phone: phone, agreement: agreement)
        }
    }

    /// Pauses monthly deposits.
    public func pause(accountID: String? = nil, unlock: () throws -> SigningKey, now: Instant) throws -> Account {
        try changeAccount(accountID, action: .accountPause, unlock: unlock, now: now) { try $0.pauseFields() }
    }

    /// Resumes monthly deposits.
    public func resume(accountID: String? = nil, unlock: () throws -> SigningKey, now: Instant) throws -> Account {
        try changeAccount(accountID, action: .accountResume, unlock: unlock, now: now) { try $0.resumeFields() }
    }

    /// Closes (seals) the account. Final.
    public func close(accountID: String? = nil, reason: String, unlock: () throws -> SigningKey, now: Instant) throws -> Account {
        try changeAccount(accountID, action: .accountClose, unlock: unlock, now: now) {
            try $0.closeFields(reason: reason, today: now.shanghaiDate)
        }
    }

    private func changeAccount(_ accountID: String?, action: Action, unlock: () throws -> SigningKey, now: Instant,
                               fields: (Account) throws -> [String: CanonicalValue]) throws -> Account {
        var changedID = ""
        try replica.commitLocalChange(unlock: unlock, now: now) { reader in
            let account = try Self.account(accountID, reader)
            changedID = account.id
            return LocalChange(action: action, operations: [
                Operation(record: account.recordKey, kind: .update, fields: try fields(account)),
            ])
        }
        return try replica.reading { reader in try Self.account(changedID, reader) }
    }

    /// Records a deposit: checks it against the account, the policy and the months already
    /// paid, and gives it a payment reference code for the bank-transfer memo.
    public func recordDeposit(_ request: DepositRequest, accountID: String? = nil, unlock: () throws -> SigningKey, now: Instant) throws -> Deposit {
        var deposit: Deposit?
        try replica.commitLocalChange(unlock: unlock, now: now) { reader in
            let account = try Self.account(accountID, reader)
            let checked = try request.check(account: account, policy: policy, today: now.shanghaiDate,
                                            paid: try reader.paidPeriods(accountID: account.id))
            let made = Deposit(id: Self.newID("dep"), accountID: account.id, amountFen: checked.amountFen, kind: checked.kind,
                               periods: checked.periods, method: request.method,
                               reference: ReferenceCode(randomBytes: SecureRandom.bytes(count: 12)).value, recordedAt: now)
            deposit = made
            return LocalChange(action: .depositRecord, operations: [
                Operation(record: made.recordKey, kind: .fact, fields: made.fields),
            ])
        }
        guard let deposit else { throw StoreError.noIdentity }
        return deposit
    }

    /// Reverses a mistaken deposit, found by its reference code.
    public func reverseDeposit(reference: String, reason: String, accountID: String? = nil,
                               unlock: () throws -> SigningKey, now: Instant) throws -> Deposit {
        let code = try ReferenceCode(reference)
        var reversed: Deposit?
        try replica.commitLocalChange(unlock: unlock, now: now) { reader in
            let account = try Self.account(accountID, reader)
            guard let deposit = try reader.deposit(reference: code.value, accountID: account.id) else {
                throw DomainError.depositNotFound(code.value)
            }
            guard !(try reader.isReversed(depositID: deposit.id)) else { throw DomainError.depositAlreadyReversed(code.value) }
            let reversal = try DepositReversal.make(depositID: deposit.id, reason: reason, at: now)
            reversed = deposit
            return LocalChange(action: .depositReverse, operations: [
                Operation(record: reversal.recordKey, kind: .fact, fields: reversal.fields),
            ])
        }
        guard let reversed else { throw StoreError.noIdentity }
        return reversed
    }

    // MARK: Reads

    /// The account asked for, or the one this device is bound to.
    public func account(id: String? = nil) throws -> Account {
        try replica.reading { reader in try Self.account(id, reader) }
    }

    /// An account's statement as of `today`.
    public func statement(accountID: String? = nil, today: CivilDate) throws -> (account: Account, statement: Statement) {
        try replica.reading { reader in
            let account = try Self.account(accountID, reader)
            let statement = Statement(deposits: try reader.deposits(accountID: account.id),
                                      reversals: try reader.reversals(accountID: account.id),
                                      outcomes: try reader.outcomes(accountID: account.id), today: today)
            return (account, statement)
        }
    }

    /// Interest credited to an account at past settlements, oldest first.
    public func interestCredits(accountID: String) throws -> [InterestCredit] {
        try replica.reading { reader in try reader.interestCredits(accountID: accountID) }
    }

    /// An account's balance and projected interest as of `today`.
    public func balance(accountID: String? = nil, today: CivilDate) throws -> (account: Account, balance: Balance) {
        let (account, statement) = try statement(accountID: accountID, today: today)
        return (account, Balance(statement: statement, credits: try interestCredits(accountID: account.id), policy: policy, today: today))
    }

    static func account(_ id: String?, _ reader: ReplicaReader) throws -> Account {
        if let id {
            guard let account = try reader.account(id: id) else { throw ClientError.unknownAccount(id) }
            return account
        }
        guard let account = try reader.boundAccount() else { throw DomainError.noAccount }
        return account
    }

    /// A new record id: the prefix, the time in hex milliseconds, then 48 random bits. The time
    /// first keeps a device's records together in the server's indexes; the random part keeps
    /// ids from two devices apart.
    static func newID(_ prefix: String, now: Instant = Instant(millisSinceEpoch: Int64(Date().timeIntervalSince1970 * 1_000))) -> String {
        let millis = String(UInt64(max(0, now.millisSinceEpoch)), radix: 16)
        return "\(prefix)-\(String(repeating: "0", count: max(0, 11 - millis.count)))\(millis)\(Hex.encode(SecureRandom.bytes(count: 6)))"
    }
}
