import Dispatch
import ProvidentCrypto
import ProvidentDomain
import ProvidentSync

/// The reports the office can ask for.
public enum ReportName: String, CaseIterable, Sendable {
    case coverage
    case arrears
    case campaign
    case enrolment
    case conflicts
}

/// Why an office user cannot be added or removed.
public enum OfficeUserError: ProvidentError, Hashable {
    case nameInvalid
    case exists(String)
    case unknown(String)
    case passwordTooShort(minimum: Int)

    public var code: String {
        switch self {
        case .nameInvalid: "office_user.name"
        case .exists: "office_user.exists"
        case .unknown: "office_user.unknown"
        case .passwordTooShort: "office_user.password_too_short"
        }
    }

    public var kind: ErrorKind {
        switch self {
        case .nameInvalid, .passwordTooShort: .invalidInput
        case .exists: .refused
        case .unknown: .notFound
        }
    }

    public func message(_ l: Language) -> String {
        switch self {
        case .nameInvalid:
            l.pick("A user name is 1–32 letters, digits, “.”, “_” or “-”.", "用户名为 1–32 个字母、数字、“.”、“_”或“-”。")
        case let .exists(name):
            l.pick("There is already a user \(name).", "已有用户 \(name)。")
        case let .unknown(name):
            l.pick("There is no user \(name).", "没有用户 \(name)。")
        case let .passwordTooShort(minimum):
            l.pick("The password must have at least \(minimum) characters.", "密码至少需要 \(minimum) 个字符。")
        }
    }
}

extension ServerCore {
    // MARK: Conflicts

    /// Every conflict the server holds, with whether a later write has settled it.
    public func conflicts() async throws -> [(conflict: Conflict, resolved: Bool)] {
        try await store.read { tx in
            var stored: [StoredConflict] = []
            var after: Digest256?
            while true {
                let page = try await tx.conflicts(after: after, limit: 1_000)
                stored += page
                guard page.count == 1_000, let last = page.last else { break }
                after = last.id
            }
            let states = try await tx.records(Array(Set(stored.map(\.record))))
            return stored.compactMap { row -> (Conflict, Bool)? in
                guard let conflict = row.conflict, let state = states[row.record] else { return nil }
                return (conflict, Self.isResolved(conflict, in: state))
            }.sorted { ($0.0.record, $0.0.field, $0.0.id) < ($1.0.record, $1.0.field, $1.0.id) }
        }
    }

    /// A conflict is settled once some write to its field had seen both sides.
    static func isResolved(_ conflict: Conflict, in state: RecordState) -> Bool {
        state.fields[conflict.field]?.writes.contains {
            $0.context.contains(conflict.first.dot) && $0.context.contains(conflict.second.dot)
        } ?? false
    }

    /// Resolves a conflict by writing `value` to its field, as the office: a change-set that has
    /// seen both sides, so it supersedes them on every replica it reaches.
    @discardableResult
    public func resolveConflict(_ id: Digest256, value: CanonicalValue) async throws -> SignedChangeSet {
        guard let (conflict, _) = try await conflicts().first(where: { $0.conflict.id == id }) else { throw ServerError.conflictUnknown }
        return try await ingest(now: clock()) { ingest in
            try await ingest.submitOwn(.conflictResolve, [Operation(record: conflict.record, kind: .update, fields: [conflict.field: value])])
        }
    }

    // MARK: Reports

    /// A report, from one consistent read.
    public func report(_ name: ReportName, asOf: CivilDate, language: Language) async throws -> Report {
        let policy = self.policy
        switch name {
        case .coverage, .arrears:
            let (employers, reliefs) = try await store.read { tx in (try await tx.units(branch: nil), try await tx.approvedReliefs()) }
            return name == .coverage
                ? Reports.coverage(employers: employers, reliefs: reliefs, policy: policy, asOf: asOf, language: language)
                : Reports.arrears(employers: employers, reliefs: reliefs, policy: policy, asOf: asOf, language: language)
        case .campaign:
            return Reports.campaigns(try await campaignProgress(today: asOf), asOf: asOf, language: language)
        case .enrolment:
            let facts = try await store.read { tx in
                let deposits = try await tx.depositsByAccount()
                return try await tx.accounts().map { Reports.AccountFacts(account: $0, deposits: deposits[$0.id] ?? []) }
            }
            return Reports.enrolment(facts, asOf: asOf, language: language)
        case .conflicts:
            return Reports.conflicts(try await conflicts().filter { !$0.resolved }.map(\.conflict), asOf: asOf, language: language)
        }
    }

    // MARK: Office users and sessions

    public static func isValidUserName(_ name: String) -> Bool {
        (1...32).contains(name.count) && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-" }
    }

    /// Adds a person who may sign in to the dashboard, with an Argon2id hash of the password.
    public func addOfficeUser(_ name: String, password: SecretBytes) async throws {
        guard Self.isValidUserName(name) else { throw OfficeUserError.nameInvalid }
        guard password.count >= PasswordHash.minimumLength else { throw OfficeUserError.passwordTooShort(minimum: PasswordHash.minimumLength) }
        let hash = try await Self.offThePool { try PasswordHash.make(password) }
        let now = clock()
        guard try await store.write({ try await $0.addOfficeUser(name, passwordHash: hash, at: now) }) else { throw OfficeUserError.exists(name) }
    }

    /// Changes a user's password after checking the current one; the user's other sessions end.
    /// Returns false when the current password is wrong (counted as a failed sign-in).
    public func changePassword(_ name: String, current: SecretBytes, new: SecretBytes, sessionToken: String?, address: String) async throws -> Bool {
        guard new.count >= PasswordHash.minimumLength else { throw OfficeUserError.passwordTooShort(minimum: PasswordHash.minimumLength) }
        let hash = try await store.read { try await $0.passwordHash(user: name) }
        let matches = try await Self.offThePool { PasswordHash.verify(current, against: hash ?? PasswordHash.decoy) }
        guard hash != nil, matches else {
            let now = clock()
            try await store.write { try await $0.addAttempt(bucket: "login", address: address, at: now) }
            ServerMetrics.signInFailed()
            return false
        }
        let replaced = try await Self.offThePool { try PasswordHash.make(new) }
        let keeping = sessionToken.map(Self.digest)
        guard try await store.write({ try await $0.setPasswordHash(user: name, replaced, keepingSession: keeping) }) else { throw OfficeUserError.unknown(name) }
        logger.info("office password changed", metadata: ["office.user": .string(name)])
        return true
    }

    /// Runs Argon2id (tens of milliseconds and 64 MiB) on a thread of its own, not on one of the
    /// few threads every request and sync shares.
    static func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async { continuation.resume(with: Result { try work() }) }
        }
    }

    /// Disables a user, who can no longer sign in and whose sessions end, or enables them again.
    /// The name stays taken, and what they did stays theirs.
    public func setOfficeUserDisabled(_ name: String, _ disabled: Bool) async throws {
        let now = clock()
        guard try await store.write({ try await $0.setOfficeUserDisabled(name, at: disabled ? now : nil) }) else { throw OfficeUserError.unknown(name) }
        logger.info(disabled ? "office user disabled" : "office user enabled", metadata: ["office.user": .string(name)])
    }

    /// A record's history: every change-set that wrote it, newest first, a page at a time — when,
    /// by which device and role, with which action, and which fields (names only: the values may
    /// be personal). Nil when there is no such record.
    public func recordHistory(_ key: RecordKey, limit: Int, offset: Int) async throws -> (changes: [RecordChange], total: Int)? {
        try await store.read { tx in
            // Whether the record exists, without decoding its state.
            guard try await tx.recordTransferForms([key])[key] != nil else { return nil }
            let (stored, total) = try await tx.recordChanges(key, limit: limit, offset: offset)
            return (try stored.map { change in
                let changeSet: ChangeSet
                do { changeSet = try ChangeSet(canonicalBytes: change.changeSet) } catch {
                    throw StoreFailure.damaged("the change-set at feed position \(change.position) cannot be read")
                }
                let operations = changeSet.operations.filter { $0.record == key }
                return RecordChange(position: change.position, action: changeSet.action, kinds: operations.map(\.kind),
                                    fields: Set(operations.flatMap(\.fields.keys)).sorted(), written: changeSet.time.instant,
                                    received: change.receivedAt, device: change.device, role: change.role, branch: change.branch,
                                    byServer: change.enrolledVia == "server")
            }, total)
        }
    }

    /// Removes a user and ends their sessions.
    public func removeOfficeUser(_ name: String) async throws {
        guard try await store.write({ try await $0.removeOfficeUser(name) }) else { throw OfficeUserError.unknown(name) }
    }

    /// The users, by name.
    public func officeUsers() async throws -> [OfficeUser] {
        try await store.read { try await $0.officeUsers() }
    }

    /// Checks a name and password; the same work whether the name is unknown or the password
    /// wrong. Failures are counted per address, and refused once there are too many in an hour.
    public func signIn(_ name: String, password: SecretBytes, language: Language, address: String) async throws -> (token: String, session: OfficeSession)? {
        let now = clock()
        let hour = Instant(millisSinceEpoch: now.millisSinceEpoch - 3_600_000)
        let limit = settings.loginAttemptsPerHour
        let (failures, oldest) = try await store.read { try await $0.attempts(bucket: "login", address: address, since: hour) }
        if failures >= limit {
            let wait = Int(((oldest ?? now).millisSinceEpoch + 3_600_000 - now.millisSinceEpoch) / 1_000) + 1
            throw ServerError.rateLimited(retryAfterSeconds: max(1, wait))
        }
        let hash = Self.isValidUserName(name) ? try await store.read { try await $0.passwordHash(user: name) } : nil
        let matches = try await Self.offThePool { PasswordHash.verify(password, against: hash ?? PasswordHash.decoy) }
        guard hash != nil, matches else {
            try await store.write { try await $0.addAttempt(bucket: "login", address: address, at: now) }
            logger.notice("office sign-in failed", metadata: ["http.client": .string(address)])
            ServerMetrics.signInFailed()
            return nil
        }
        let token = Hex.encode(SecureRandom.bytes(count: 32))
        let session = OfficeSession(userName: name, csrfToken: Hex.encode(SecureRandom.bytes(count: 32)), language: language,
                                    expiresAt: Instant(millisSinceEpoch: now.millisSinceEpoch + Int64(settings.officeSessionHours) * 3_600_000))
        try await store.write { try await $0.addSession(tokenDigest: Self.digest(token), session: session, at: now) }
        logger.info("office sign-in", metadata: ["office.user": .string(name)])
        return (token, session)
    }

    /// The live session a cookie's token names, if any.
    public func session(token: String) async throws -> OfficeSession? {
        let now = clock()
        return try await store.read { try await $0.session(tokenDigest: Self.digest(token), now: now) }
    }

    /// Changes a session's language.
    public func setSessionLanguage(token: String, _ language: Language) async throws {
        try await store.write { try await $0.setSessionLanguage(tokenDigest: Self.digest(token), language) }
    }

    /// Ends a session.
    public func endSession(token: String) async throws {
        try await store.write { try await $0.removeSession(tokenDigest: Self.digest(token)) }
    }

    static func digest(_ token: String) -> String {
        Hex.encode(BLAKE2b.hash(Array(token.utf8), outputLength: 32))
    }

    // MARK: Checks

    /// The state digest of sync-protocol.md §9 over everything the server holds: equal to that
    /// of any replica that applied the same change-sets.
    public func stateDigest() async throws -> Digest256 {
        try await store.read { tx in
            var hasher = BLAKE2b.Hasher(outputLength: 32)
            var after: RecordKey?
            while true {
                let page = try await tx.records(after: after, limit: 2_000)
                for state in page { hasher.update(try CanonicalEncoder.encode(state.canonicalValue) + [0x0A]) }
                guard page.count == 2_000, let last = page.last else { break }
                after = last.key
            }
            var afterConflict: Digest256?
            while true {
                let page = try await tx.conflicts(after: afterConflict, limit: 2_000)
                for conflict in page { hasher.update(conflict.digestForm + [0x0A]) }
                guard page.count == 2_000, let last = page.last else { break }
                afterConflict = last.id
            }
            return Digest256(bytes: hasher.finalize()) ?? .zero
        }
    }
}
