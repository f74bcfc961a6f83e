import Foundation
import GRDB
import ProvidentCrypto
import ProvidentDomain
import ProvidentSync

extension ServerDatabase {
    /// Accepts a push: every change-set in order, in one transaction committed before the
    /// answer. Each one passes the chain rules (a duplicate is acknowledged again with its first
    /// answer; a gap, a fork or a clock regression refuses the whole push, so nothing is applied),
    /// then the clock bound, then the admission rules, then merges. A change-set the rules refuse
    /// is kept, with its reason, and still extends the device's chain.
    ///
    /// `nonce` is the push request's nonce: it is recorded in the same transaction (a replay
    /// throws `ServerError.replay`), so a push costs one commit.
    public func accept(_ batch: [SignedChangeSet], from device: RegisteredDevice, admission: Admission, now: Instant,
                       maxDriftMillis: UInt64, language: Language,
                       nonce: (value: String, expiresAtMillis: Int64)? = nil) async throws -> [PushAnswer] {
        try await replica.asyncWrite { db in
            if let nonce {
                guard try Self.recordNonce(nonce.value, device: device.id, expiresAtMillis: nonce.expiresAtMillis,
                                           nowMillis: now.millisSinceEpoch, in: db) else { throw ServerError.replay }
            }
            return try self.accept(batch, from: device, admission: admission, now: now, maxDriftMillis: maxDriftMillis,
                                   language: language, in: db)
        }
    }

    func accept(_ batch: [SignedChangeSet], from device: RegisteredDevice, admission: Admission, now: Instant,
                maxDriftMillis: UInt64, language: Language, in db: Database) throws -> [PushAnswer] {
        let server = try ReplicaDatabase.deviceState(db)
        let lookup = BatchLookup(reader: ReplicaReader(db: db, device: server))
        var grant = device.grant
        var answers: [PushAnswer] = []
        // The device's chain head, read once and kept as the batch extends it; written once at the end.
        var head = try Row.fetchOne(db.cachedStatement(sql: "SELECT seq, id, hlc FROM chain_heads WHERE device = ?"),
                                    arguments: [device.id.rawValue]).map { row -> ChainHead in
            let id: Data = row["id"]
            let packed = UInt64(bitPattern: row["hlc"] as Int64)
            return ChainHead(sequence: UInt64(row["seq"] as Int64), id: Digest256(bytes: Array(id)) ?? .zero,
                             time: HLCTimestamp(wallMillis: packed >> 16, counter: UInt16(truncatingIfNeeded: packed)))
        }
        let startingHead = head
        for (index, signed) in batch.enumerated() {
            let changeSet = signed.changeSet
            guard changeSet.device == device.id else { throw PushRefusal.foreignDevice(index: index) }
            let verdict = Chain.classify(changeSet, id: signed.id, head: head) { sequence in
                (try? Data.fetchOne(db.cachedStatement(sql: "SELECT id FROM change_sets WHERE device = ? AND seq = ?"),
                                    arguments: [device.id.rawValue, Int64(sequence)])).flatMap { $0.flatMap { Digest256(bytes: Array($0)) } }
            }
            switch verdict {
            case .next:
                break
            case .duplicate:
                let row = try Row.fetchOne(db, sql: "SELECT status, code, message FROM change_sets WHERE device = ? AND seq = ?",
                                           arguments: [device.id.rawValue, Int64(changeSet.sequence)])
                let status: String = row?["status"] ?? "accepted"
                answers.append(PushAnswer(id: signed.id, sequence: changeSet.sequence, status: .duplicate,
                                          accepted: status == "accepted", code: row?["code"], message: row?["message"]))
                continue
            case let .gap(expected):
                throw PushRefusal.gap(expected: expected, index: index)
            case let .fork(sequence):
                throw PushRefusal.fork(sequence: sequence, index: index)
            case .timeNotAfterPrevious:
                throw PushRefusal.clockRegression(index: index)
            }

            var rejection: (code: String, message: String)?
            var feedPosition: Int64?
            let nowMillis = UInt64(max(0, now.millisSinceEpoch))
            if changeSet.time.wallMillis > nowMillis + maxDriftMillis {
                let error = SyncError.clockDrift(aheadMillis: changeSet.time.wallMillis - nowMillis, allowedMillis: maxDriftMillis)
                rejection = (error.code, error.message)
            } else {
                do {
                    // Whatever this change-set touches may change: forget what was cached of it.
                    defer { lookup.forget(changeSet) }
                    try db.inSavepoint {
                        let admitted = try admission.admit(changeSet, grant: grant, lookup: lookup)
                        let rescoped = admitted.rescopedAccount.map { RecordKey(type: Account.recordType, id: $0) }
                            ?? admitted.rescopedUnit.map { RecordKey(type: Employer.recordType, id: $0) }
                        let scopesBefore = try rescoped.map { try Self.scopes(of: $0, db) }
                        try ReplicaDatabase.merge(changeSet, into: db)
                        if let account = admitted.bindAccount {
                            grant.accountID = account
                            try db.execute(sql: "UPDATE server_devices SET account_id = ? WHERE device_id = ?",
                                           arguments: [account, device.id.rawValue])
                        }
                        feedPosition = try self.publish(signed, rescoped: rescoped, scopesBefore: scopesBefore, lookup: lookup, in: db)
                        return .commit
                    }
                } catch let error as DomainError {
                    rejection = (error.code, error.message(language))
                } catch let error as SyncError {
                    rejection = (error.code, error.message)
                } catch let error as StoreError {
                    rejection = (error.code, error.message(language))
                }
            }
            try db.cachedStatement(sql: """
                INSERT INTO change_sets (id, device, seq, hlc, bytes, signature, status, code, message, feed_seq, received_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [Data(signed.id.bytes), device.id.rawValue, Int64(changeSet.sequence),
                                         Int64(bitPattern: changeSet.time.packed), Data(signed.bytes), Data(signed.signature.bytes),
                                         rejection == nil ? "accepted" : "rejected", rejection?.code, rejection?.message,
                                         feedPosition, now.utcISO])
            head = ChainHead(sequence: changeSet.sequence, id: signed.id, time: changeSet.time)
            answers.append(PushAnswer(id: signed.id, sequence: changeSet.sequence, status: rejection == nil ? .accepted : .rejected,
                                      accepted: rejection == nil, code: rejection?.code, message: rejection?.message))
        }
        if let head, head != startingHead {
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO chain_heads (device, seq, id, hlc) VALUES (?, ?, ?, ?)")
                .execute(arguments: [device.id.rawValue, Int64(head.sequence), Data(head.id.bytes), Int64(bitPattern: head.time.packed)])
        }
        return answers
    }

    /// Puts an accepted change-set in the feed for the scopes of the records it touched, records
    /// those scopes, and, when an account or an employer moved between scopes, adds the documents
    /// that take its records out of the old scopes and bring them whole into the new ones.
    private func publish(_ signed: SignedChangeSet, rescoped: RecordKey?, scopesBefore: Set<Scope>?,
                         lookup: BatchLookup, in db: Database) throws -> Int64 {
        var feedScopes = Set<Scope>()
        for operation in signed.changeSet.operations {
            let scopes: Set<Scope>
            if operation.record.type == Deposit.recordType, let accountID = operation.fields["account"]?.stringValue,
               let account = try lookup.account(id: accountID) {
                // A new deposit names its account: no need to look it up in the read models.
                scopes = Scope.of(account)
            } else {
                scopes = try Self.scopes(of: operation.record, db)
            }
            try Self.setScopes(scopes, of: operation.record, isNew: operation.kind == .fact || operation.kind == .create, in: db)
            feedScopes.formUnion(scopes)
        }
        if let scopesBefore { feedScopes.formUnion(scopesBefore) }
        let position = try appendToFeed(changeSet: signed.changeSet.dot, document: nil, scopes: feedScopes, in: db)

        if let rescoped, let before = scopesBefore {
            let after = try Self.scopes(of: rescoped, db)
            let records = rescoped.type == Account.recordType ? try Self.records(ofAccount: rescoped.id, db)
                                                               : try Self.records(ofUnit: rescoped.id, db)
            for key in records { try Self.setScopes(after, of: key, isNew: false, in: db) }
            for scope in before.subtracting(after).sorted() {
                let document = try SignedDocument(asOf: UInt64(position), content: .scopeExit(records), signingWith: self.key)
                _ = try appendToFeed(changeSet: nil, document: document, scopes: [scope], in: db)
            }
            let states = try records.compactMap { try ReplicaDatabase.recordState(db, $0) }
            for scope in after.subtracting(before).sorted() {
                let document = try SignedDocument(asOf: UInt64(position), content: .records(states), signingWith: self.key)
                _ = try appendToFeed(changeSet: nil, document: document, scopes: [scope], in: db)
            }
        }
        return position
    }

    private func appendToFeed(changeSet dot: Dot?, document: SignedDocument?, scopes: Set<Scope>, in db: Database) throws -> Int64 {
        try db.cachedStatement(sql: "INSERT INTO feed (device, device_seq, document, signature) VALUES (?, ?, ?, ?)")
            .execute(arguments: [dot?.device.rawValue, dot.map { Int64($0.sequence) }, document.map { Data($0.bytes) },
                                 document.map { Data($0.signature.bytes) }])
        let position = db.lastInsertedRowID
        for scope in scopes {
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO feed_scopes (scope, feed_seq) VALUES (?, ?)")
                .execute(arguments: [scope.description, position])
        }
        return position
    }

    /// Which scopes a record belongs to, from the read models: an account's own and its
    /// branch's; everything hanging off an account (deposits, reversals, outcomes) follows it. An
    /// employer is in its branch's scope, and its visits, applications and decisions follow it;
    /// a visit to a place is in the scope of the branch that made it. Campaigns are every staff
    /// device's; a campaign's targets are their branch's. Records of other types are the
    /// office's alone.
    static func scopes(of key: RecordKey, _ db: Database) throws -> Set<Scope> {
        func unitScopes(_ id: String) throws -> Set<Scope>? {
            try String.fetchOne(db.cachedStatement(sql: "SELECT branch FROM units WHERE id = ?"), arguments: [id]).map { [.branch($0)] }
        }
        func visitScopes(_ id: String) throws -> Set<Scope> {
            guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT unit_id, branch FROM visits WHERE id = ?"), arguments: [id]) else {
                return []
            }
            let unit: String? = row["unit_id"]
            return try unit.flatMap(unitScopes) ?? [.branch(row["branch"])]
        }
        func applicationScopes(_ id: String) throws -> Set<Scope> {
            try String.fetchOne(db.cachedStatement(sql: "SELECT unit_id FROM applications WHERE id = ?"), arguments: [id])
                .flatMap(unitScopes) ?? []
        }
        switch key.type {
        case Employer.recordType:
            return try unitScopes(key.id) ?? []
        case Visit.recordType:
            return try visitScopes(key.id)
        case VisitVoid.recordType:
            return try visitScopes(String(key.id.dropFirst(5)))
        case ReliefApplication.recordType:
            return try applicationScopes(key.id)
        case ApplicationDecision.recordType:
            return try applicationScopes(String(key.id.dropFirst(4)))
        case Campaign.recordType:
            return [.staff]
        case CampaignTargets.recordType:
            return try String.fetchOne(db, sql: "SELECT branch FROM campaign_targets WHERE record_id = ? LIMIT 1", arguments: [key.id])
                .map { [.branch($0)] } ?? []
        default:
            return try accountRecordScopes(of: key, db)
        }
    }

    private static func accountRecordScopes(of key: RecordKey, _ db: Database) throws -> Set<Scope> {
        func accountScopes(_ id: String) throws -> Set<Scope> {
            let branch = try String?.fetchOne(db.cachedStatement(sql: "SELECT branch FROM accounts WHERE id = ?"), arguments: [id])
            var scopes: Set<Scope> = [.account(id)]
            if let branch = branch ?? nil { scopes.insert(.branch(branch)) }
            return scopes
        }
        func depositAccount(_ depositID: String) throws -> String? {
            try String.fetchOne(db.cachedStatement(sql: "SELECT account_id FROM deposits WHERE id = ?"), arguments: [depositID])
        }
        switch key.type {
        case Account.recordType:
            return try accountScopes(key.id)
        case Deposit.recordType:
            return try depositAccount(key.id).map(accountScopes) ?? []
        case DepositReversal.recordType, DepositOutcome.recordType:
            return try depositAccount(String(key.id.dropFirst(4))).map(accountScopes) ?? []
        case InterestCredit.recordType:
            return try String.fetchOne(db.cachedStatement(sql: "SELECT account_id FROM interest_credits WHERE id = ?"), arguments: [key.id])
                .map(accountScopes) ?? []
        default:
            return []
        }
    }

    static func setScopes(_ scopes: Set<Scope>, of key: RecordKey, isNew: Bool, in db: Database) throws {
        if !isNew {
            try db.cachedStatement(sql: "DELETE FROM record_scopes WHERE type = ? AND id = ?").execute(arguments: [key.type, key.id])
        }
        for scope in scopes {
            try db.cachedStatement(sql: "INSERT INTO record_scopes (scope, type, id) VALUES (?, ?, ?)")
                .execute(arguments: [scope.description, key.type, key.id])
        }
    }

    /// Records a request's nonce; false if the device already used it.
    static func recordNonce(_ nonce: String, device: DeviceID, expiresAtMillis: Int64, nowMillis: Int64, in db: Database) throws -> Bool {
        try db.cachedStatement(sql: "DELETE FROM nonces WHERE expires_at < ?").execute(arguments: [nowMillis])
        try db.cachedStatement(sql: "INSERT OR IGNORE INTO nonces (device, nonce, expires_at) VALUES (?, ?, ?)")
            .execute(arguments: [device.rawValue, nonce, expiresAtMillis])
        let fresh = db.changesCount == 1
        try db.cachedStatement(sql: "UPDATE server_devices SET last_seen_at = ? WHERE device_id = ?")
            .execute(arguments: [Instant(millisSinceEpoch: nowMillis).utcISO, device.rawValue])
        return fresh
    }

    /// An employer and every record hanging off it: visits and their voidings, applications and
    /// their decisions.
    static func records(ofUnit id: String, _ db: Database) throws -> [RecordKey] {
        var keys = [RecordKey(type: Employer.recordType, id: id)]
        for visit in try String.fetchAll(db, sql: "SELECT id FROM visits WHERE unit_id = ? ORDER BY id", arguments: [id]) {
            keys.append(RecordKey(type: Visit.recordType, id: visit))
            let voiding = RecordKey(type: VisitVoid.recordType, id: VisitVoid.id(for: visit))
            if try ReplicaDatabase.recordState(db, voiding) != nil { keys.append(voiding) }
        }
        for application in try String.fetchAll(db, sql: "SELECT id FROM applications WHERE unit_id = ? ORDER BY id", arguments: [id]) {
            keys.append(RecordKey(type: ReliefApplication.recordType, id: application))
            let decision = RecordKey(type: ApplicationDecision.recordType, id: ApplicationDecision.id(for: application))
            if try ReplicaDatabase.recordState(db, decision) != nil { keys.append(decision) }
        }
        return keys
    }

    /// An account and every record hanging off it.
    static func records(ofAccount id: String, _ db: Database) throws -> [RecordKey] {
        var keys = [RecordKey(type: Account.recordType, id: id)]
        for deposit in try String.fetchAll(db, sql: "SELECT id FROM deposits WHERE account_id = ? ORDER BY id", arguments: [id]) {
            keys.append(RecordKey(type: Deposit.recordType, id: deposit))
            for type in [DepositReversal.recordType, DepositOutcome.recordType] {
                let key = RecordKey(type: type, id: (type == DepositReversal.recordType ? "rev-" : "out-") + deposit)
                if try ReplicaDatabase.recordState(db, key) != nil { keys.append(key) }
            }
        }
        for credit in try String.fetchAll(db, sql: "SELECT id FROM interest_credits WHERE account_id = ? ORDER BY id", arguments: [id]) {
            keys.append(RecordKey(type: InterestCredit.recordType, id: credit))
        }
        return keys
    }

    // MARK: Pull

    /// The latest feed position.
    public func head() async throws -> UInt64 {
        try await replica.asyncRead { db in UInt64(try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM feed") ?? 0) }
    }

    /// Feed entries a device with `grant` may see, after position `cursor`, oldest first.
    public func feed(for grant: DeviceGrant, after cursor: UInt64, limit: Int) async throws -> (entries: [FeedEntry], head: UInt64) {
        try await replica.asyncRead { db in
            let head = UInt64(try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM feed") ?? 0)
            let rows: [Row]
            let select = """
                SELECT f.seq, f.document, f.signature AS document_signature, c.bytes, c.signature, d.public_key
                FROM feed f LEFT JOIN change_sets c ON c.device = f.device AND c.seq = f.device_seq
                LEFT JOIN server_devices d ON d.device_id = f.device
                """
            if let scopes = grant.readScopes {
                guard !scopes.isEmpty else { return ([], head) }
                let marks = Array(repeating: "?", count: scopes.count).joined(separator: ",")
                rows = try Row.fetchAll(db, sql: """
                    \(select) WHERE f.seq IN (SELECT feed_seq FROM feed_scopes WHERE scope IN (\(marks)) AND feed_seq > ?)
                    ORDER BY f.seq LIMIT ?
                    """, arguments: StatementArguments(scopes.sorted().map(\.description) + [Int64(cursor)] as [Any & DatabaseValueConvertible]
                                                         + [limit]))
            } else {
                rows = try Row.fetchAll(db, sql: "\(select) WHERE f.seq > ? ORDER BY f.seq LIMIT ?", arguments: [Int64(cursor), limit])
            }
            let entries = rows.compactMap { row -> FeedEntry? in
                let position = UInt64(row["seq"] as Int64)
                if let document: Data = row["document"], let signature: Data = row["document_signature"] {
                    return FeedEntry(position: position, content: .document(bytes: Array(document), signature: Array(signature)))
                }
                guard let bytes: Data = row["bytes"], let signature: Data = row["signature"], let key: Data = row["public_key"],
                      let author = try? PublicKey(bytes: Array(key)) else { return nil }
                return FeedEntry(position: position, content: .changeSet(bytes: Array(bytes), signature: Array(signature), author: author))
            }
            return (entries, head)
        }
    }

    /// A page of the snapshot of everything a device with `grant` may see, as whole records in
    /// key order after `after`, in a document signed by the server as of the current feed
    /// position; `next` is where the following page starts, nil at the end.
    public func snapshot(for grant: DeviceGrant, after: RecordKey?, limit: Int) async throws -> (document: SignedDocument, next: RecordKey?, total: Int) {
        try await replica.asyncRead { db in
            let head = UInt64(try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM feed") ?? 0)
            let afterType = after?.type ?? "", afterID = after?.id ?? ""
            var keys: [RecordKey] = []
            let total: Int
            if let scopes = grant.readScopes {
                let marks = Array(repeating: "?", count: max(scopes.count, 1)).joined(separator: ",")
                let scopeNames: [String] = scopes.isEmpty ? [""] : scopes.sorted().map(\.description)
                total = try Int.fetchOne(db, sql: "SELECT count(DISTINCT type || '/' || id) FROM record_scopes WHERE scope IN (\(marks))",
                                         arguments: StatementArguments(scopeNames)) ?? 0
                keys = try Row.fetchAll(db, sql: """
                    SELECT DISTINCT type, id FROM record_scopes WHERE scope IN (\(marks)) AND (type > ? OR (type = ? AND id > ?))
                    ORDER BY type, id LIMIT ?
                    """, arguments: StatementArguments(scopeNames as [any DatabaseValueConvertible] + [afterType, afterType, afterID, limit]))
                    .map { RecordKey(type: $0["type"], id: $0["id"]) }
            } else {
                total = try Int.fetchOne(db, sql: "SELECT count(*) FROM records") ?? 0
                keys = try Row.fetchAll(db, sql: """
                    SELECT type, id FROM records WHERE type > ? OR (type = ? AND id > ?) ORDER BY type, id LIMIT ?
                    """, arguments: [afterType, afterType, afterID, limit]).map { RecordKey(type: $0["type"], id: $0["id"]) }
            }
            let states = try keys.compactMap { try ReplicaDatabase.recordState(db, $0) }
            let document = try SignedDocument(asOf: head, content: .records(states), signingWith: self.key)
            return (document, keys.count == limit ? keys.last : nil, total)
        }
    }

    // MARK: The server's own changes

    /// Makes, signs and accepts a change-set of the server's own (as the office), as one
    /// transaction: a conflict resolution, for one.
    @discardableResult
    public func submitOwn(action: String, admission: Admission, now: Instant,
                          _ build: @escaping @Sendable (ReplicaReader) throws -> [ProvidentSync.Operation]) async throws -> SignedChangeSet {
        try await replica.asyncWrite { db in
            let server = try ReplicaDatabase.deviceState(db)
            let operations = try build(ReplicaReader(db: db, device: server))
            return try self.submitOwn(action: action, operations: operations, admission: admission, now: now, in: db)
        }
    }

    /// Signs and accepts a change-set of the server's own inside a transaction, inside a
    /// savepoint: a change-set the rules refuse leaves nothing behind (not even in the server's
    /// chain) and throws the rule it broke.
    @discardableResult
    func submitOwn(action: String, operations: [ProvidentSync.Operation], admission: Admission, now: Instant,
                   in db: Database) throws -> SignedChangeSet {
        var result: SignedChangeSet?
        var refusal: (any Error)?
        try db.inSavepoint {
            let server = try ReplicaDatabase.deviceState(db)
            var operations = operations
            for index in operations.indices where operations[index].kind == .update || operations[index].kind == .void {
                operations[index].context = try ReplicaDatabase.recordState(db, operations[index].record)?.versionVector ?? VersionVector()
            }
            var clock = server.clock
            let time = clock.tick(now: UInt64(max(0, now.millisSinceEpoch)))
            let signed = try SignedChangeSet(signing: ChangeSet(device: server.id, sequence: server.sequence + 1,
                                                                previous: server.lastChangeSet, time: time, action: action,
                                                                operations: operations), with: self.key)
            guard let me = try Self.device(db, server.id) else { throw ServerError.unknownDevice }
            // Judged again against the rules, so the refusal says which rule.
            do {
                _ = try admission.admit(signed.changeSet, grant: me.grant, lookup: BatchLookup(reader: ReplicaReader(db: db, device: server)))
            } catch {
                refusal = error
                return .rollback
            }
            let answers = try self.accept([signed], from: me, admission: admission, now: now, maxDriftMillis: .max / 2,
                                          language: .english, in: db)
            if let refused = answers.first, refused.status == .rejected {
                refusal = DomainError.actionMismatch(refused.message ?? action)
                return .rollback
            }
            try db.execute(sql: "UPDATE device SET sequence = ?, last_change_set = ?, hlc = ? WHERE singleton = 1",
                           arguments: [Int64(signed.changeSet.sequence), Data(signed.id.bytes), Int64(bitPattern: time.packed)])
            result = signed
            return .commit
        }
        if let refusal { throw refusal }
        guard let result else { throw ServerError.unknownDevice }
        return result
    }

    /// Resolves a conflict by writing `value` to its field, as the office: a change-set that has
    /// seen both sides, so it supersedes them on every replica it reaches.
    @discardableResult
    public func resolveConflict(_ id: Digest256, value: CanonicalValue, admission: Admission, now: Instant) async throws -> SignedChangeSet {
        guard let (conflict, _) = try replica.conflicts().first(where: { $0.conflict.id == id }) else { throw ServerError.conflictUnknown }
        return try await submitOwn(action: "conflict.resolve", admission: admission, now: now) { _ in
            [ProvidentSync.Operation(record: conflict.record, kind: .update, fields: [conflict.field: value])]
        }
    }
}

/// The replica lookups of one push, remembering accounts read while the push goes on: a device's
/// batch of deposits all name the same account. What a change-set touches is forgotten after it.
final class BatchLookup: ReplicaLookup {
    private let reader: ReplicaReader
    private var accounts: [String: Account?] = [:]

    init(reader: ReplicaReader) {
        self.reader = reader
    }

    func forget(_ changeSet: ChangeSet) {
        for operation in changeSet.operations where operation.record.type == Account.recordType {
            accounts[operation.record.id] = nil
        }
    }

    func account(id: String) throws -> Account? {
        if let cached = accounts[id] { return cached }
        let account = try reader.account(id: id)
        accounts[id] = account
        return account
    }

    func deposit(id: String) throws -> Deposit? { try reader.deposit(id: id) }
    func depositID(reference: String) throws -> String? { try reader.depositID(reference: reference) }
    func isReversed(depositID: String) throws -> Bool { try reader.isReversed(depositID: depositID) }
    func hasOutcome(depositID: String) throws -> Bool { try reader.hasOutcome(depositID: depositID) }
    func paidPeriods(accountID: String) throws -> [Period: String] { try reader.paidPeriods(accountID: accountID) }
    func openAccounts(idNumber: String) throws -> [Account] { try reader.openAccounts(idNumber: idNumber) }
    func record(_ key: RecordKey) throws -> RecordState? { try reader.record(key) }
    func unit(id: String) throws -> Employer? { try reader.unit(id: id) }
    func visit(id: String) throws -> Visit? { try reader.visit(id: id) }
    func isVoided(visitID: String) throws -> Bool { try reader.isVoided(visitID: visitID) }
    func application(id: String) throws -> ReliefApplication? { try reader.application(id: id) }
    func decision(applicationID: String) throws -> ApplicationDecision? { try reader.decision(applicationID: applicationID) }
    func campaign(id: String) throws -> Campaign? { try reader.campaign(id: id) }
}
