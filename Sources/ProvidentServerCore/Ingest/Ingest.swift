import ProvidentCrypto
import ProvidentDomain
import ProvidentSync

/// One write transaction's work on change-sets: a device's push, or the office's own changes,
/// judged, merged and published (sync-protocol.md §11.5).
///
/// Everything the rules may consult is loaded up front and locked until the transaction ends,
/// then held in a `WorkingSet`, so the domain's rules and the merge run synchronously and purely.
/// Writes are collected and sent to the store together; the feed entries go last, at `finish`,
/// so the feed's end stays locked only while the transaction commits.
final class Ingest {
    let core: ServerCore
    let tx: any ServerWriting
    let now: Instant
    private(set) var working = WorkingSet()

    /// Chain heads read (and locked) in this transaction, as the work extends them.
    private var heads: [DeviceID: ChainHead?] = [:]
    private var movedHeads: Set<DeviceID> = []
    /// Devices whose clock this transaction has already reported to the office.
    private var alertedClock: Set<DeviceID> = []
    /// Records changed and not yet sent to the store, and their new conflicts.
    private var dirty: [RecordKey: RecordState] = [:]
    private var newConflicts: [Conflict] = []
    private var scopeChanges: [RecordKey: Set<Scope>] = [:]
    /// Records the store did not hold when this transaction read them, not written since: they
    /// are inserted, and have no scopes to replace.
    private var unstored: Set<RecordKey> = []
    /// The change-set that created each record this transaction created: the record keeps it,
    /// and that change-set's feed entry does not list the record again for its history.
    private var createdBy: [RecordKey: Dot] = [:]
    private var bindings: [(DeviceID, String)] = []
    private var rows: [StoredChangeSet] = []
    /// The answers of this transaction's change-sets, by device and sequence, for duplicates
    /// within one push.
    private var answered: [Dot: (id: ChangeSetID, accepted: Bool, code: String?, message: String?)] = [:]
    private var feed: [PendingFeedEntry] = []
    /// Where `finish` put this transaction's accepted change-sets in the feed.
    private var positions: [Dot: UInt64] = [:]

    /// A feed entry waiting for its position: a change-set, or a document about the change-set
    /// at `cause` (its `asOf` is that change-set's position).
    private enum PendingFeedEntry {
        case changeSet(Dot, ChangeSetID, Set<Scope>, records: [RecordKey])
        case document(SignedDocument.Content, Set<Scope>, cause: Int)
    }

    init(core: ServerCore, tx: any ServerWriting, now: Instant) {
        self.core = core
        self.tx = tx
        self.now = now
    }

    // MARK: Pushes

    /// Judges a device's push: every change-set in order. A duplicate is acknowledged again with
    /// its first answer; a gap, a fork or a clock regression refuses the whole push (nothing of
    /// it is applied); each other change-set is accepted, or refused by the clock bound or the
    /// rules and kept with its reason, still extending the device's chain. One refused by the
    /// clock bound does not carry the chain's time forward (sync-protocol.md §7), so the device's
    /// next change-set, made once its clock is right, is accepted.
    func accept(_ batch: [SignedChangeSet], from device: RegisteredDevice, language: Language) async throws -> [PushAnswer] {
        let start = try await head(of: device.id)
        // Change-sets this transaction judged already (an earlier push of the same device in it)
        // are not written yet: they are known from their answers.
        let earlier = batch.map(\.changeSet.sequence).filter { $0 <= (start?.sequence ?? 0) }
        let unwritten = earlier.filter { answered[Dot(device: device.id, sequence: $0)] == nil }
        let stored = unwritten.isEmpty ? [:] : try await tx.storedChangeSets(of: device.id, sequences: unwritten)
        // The chain rules first, for the whole push, so a refusal applies nothing.
        var simulated = start
        var inPush: [UInt64: ChangeSetID] = [:]
        var fresh: [Bool] = []
        // The clock bound's refusal of each new change-set, judged once for the chain and the answer.
        var drifts: [SyncError?] = []
        for (index, signed) in batch.enumerated() {
            let changeSet = signed.changeSet
            let verdict = Chain.classify(changeSet, id: signed.id, head: simulated) { sequence in
                inPush[sequence] ?? self.answered[Dot(device: device.id, sequence: sequence)]?.id ?? stored[sequence]?.id
            }
            switch verdict {
            case .next:
                let drift = drift(of: changeSet)
                simulated = ChainHead(sequence: changeSet.sequence, id: signed.id,
                                      time: drift == nil ? changeSet.time : simulated?.time ?? .zero)
                inPush[changeSet.sequence] = signed.id
                fresh.append(true)
                drifts.append(drift)
            case .duplicate:
                fresh.append(false)
                drifts.append(nil)
            case let .gap(expected):
                throw ServerError.chainGap(expected: expected, index: index)
            case let .fork(sequence):
                throw ServerError.chainFork(sequence: sequence, index: index)
            case .timeNotAfterPrevious:
                throw ServerError.chainTime(index: index)
            }
        }
        try await load(batch.indices.filter { fresh[$0] }.map { batch[$0].changeSet.operations })
        var grant = device.grant
        var answers: [PushAnswer] = []
        for (index, signed) in batch.enumerated() {
            let changeSet = signed.changeSet
            guard fresh[index] else {
                let first = answered[changeSet.dot].map { ($0.accepted, $0.code, $0.message) }
                    ?? stored[changeSet.sequence].map { ($0.accepted, $0.code, $0.message) } ?? (true, nil, nil)
                var answer = PushAnswer(id: signed.id, sequence: changeSet.sequence, status: .duplicate, accepted: first.0,
                                        code: first.1, message: first.2)
                answer.position = stored[changeSet.sequence]?.feedPosition
                answers.append(answer)
                continue
            }
            var rejection: ErrorReport?
            let drift = drifts[index]
            if let drift {
                rejection = drift.report(language)
                try await alertClockAhead(device.id, drift)
            } else {
                do {
                    try await apply(signed, device: device, grant: &grant)
                } catch let error as DomainError {
                    rejection = error.report(language)
                } catch let error as SyncError {
                    rejection = error.report(language)
                }
            }
            record(signed, device: device.id, rejection: rejection, drifted: drift != nil)
            answers.append(PushAnswer(id: signed.id, sequence: changeSet.sequence, status: rejection == nil ? .accepted : .rejected,
                                      accepted: rejection == nil, code: rejection?.code, message: rejection?.message))
        }
        return answers
    }

    /// The refusal of a change-set whose time is further ahead of the server's clock than allowed.
    private func drift(of changeSet: ChangeSet) -> SyncError? {
        let aheadMillis = Int64(clamping: changeSet.time.wallMillis) - now.millisSinceEpoch
        let allowed = Int64(core.settings.maxDriftSeconds) * 1_000
        guard aheadMillis > allowed else { return nil }
        return SyncError.clockDrift(aheadMillis: UInt64(aheadMillis), allowedMillis: UInt64(allowed))
    }

    /// Tells the office, once a day per device, that a device's clock runs ahead: its
    /// change-sets are refused until the clock is corrected, which only its user can do.
    private func alertClockAhead(_ device: DeviceID, _ drift: SyncError) async throws {
        guard !alertedClock.contains(device), case let .clockDrift(ahead, _) = drift else { return }
        alertedClock.insert(device)
        let since = Instant(millisSinceEpoch: now.millisSinceEpoch - 86_400_000)
        guard try await !tx.hasAlert(kind: Alert.clockAhead, device: device, since: since) else { return }
        let minutes = (ahead + 59_999) / 60_000
        try await tx.addAlert(Alert(kind: Alert.clockAhead, device: device,
                                    detail: "clock \(minutes) min ahead of the server's; its change-sets are refused until its user corrects the clock",
                                    at: now))
    }

    // MARK: The server's own change-sets

    /// Makes, signs and accepts a change-set of the server's own, as the office. A change-set
    /// the rules refuse leaves nothing behind, not even in the server's chain, and throws the
    /// rule it broke.
    @discardableResult
    func submitOwn(_ action: Action, _ operations: [Operation]) async throws -> SignedChangeSet {
        guard let me = try await tx.device(core.id) else { throw ServerError.unknownDevice }
        let head = try await head(of: core.id)
        try await load([operations])
        var operations = operations
        var latestSeen = HLCTimestamp.zero
        for index in operations.indices {
            let current = try working.state(operations[index].record)
            if operations[index].kind == .update || operations[index].kind == .void {
                operations[index].context = current?.versionVector ?? VersionVector()
            }
            latestSeen = max(latestSeen, current?.latestWriteTime ?? .zero)
        }
        // The office's write is later than every write it has seen, whatever the wall clocks say.
        var clock = HybridLogicalClock(last: head?.time ?? .zero)
        var time = clock.tick(now: UInt64(max(0, now.millisSinceEpoch)))
        if latestSeen >= time { time = try clock.receive(latestSeen, now: UInt64(max(0, now.millisSinceEpoch))) }
        let signed = try SignedChangeSet(signing: ChangeSet(device: core.id, sequence: (head?.sequence ?? 0) + 1,
                                                            previous: head?.id ?? .zero, time: time, action: action.rawValue,
                                                            operations: operations), with: core.key)
        var grant = me.grant
        try await apply(signed, device: me, grant: &grant)
        record(signed, device: core.id, rejection: nil)
        return signed
    }

    // MARK: Judging and merging

    /// Judges one change-set by the rules and merges it; throws the rule or merge error that
    /// refuses it, leaving nothing changed.
    private func apply(_ signed: SignedChangeSet, device: RegisteredDevice, grant: inout DeviceGrant) async throws {
        let changeSet = signed.changeSet
        let admitted = try core.admission.admit(changeSet, grant: grant, lookup: working)
        // The whole change-set is merged aside first: all or nothing (§8.3).
        var staged: [RecordKey: RecordState] = [:]
        var conflicts: [Conflict] = []
        for operation in changeSet.operations {
            let current = try staged[operation.record] ?? working.state(operation.record)
            let outcome = try RecordMerge.apply(operation, dot: changeSet.dot, time: changeSet.time, to: current)
            guard outcome.changed else { continue }
            staged[operation.record] = outcome.state
            conflicts += outcome.conflicts
        }
        let rescoped = admitted.rescopedAccount.map { RecordKey(type: Account.recordType, id: $0) }
            ?? admitted.rescopedUnit.map { RecordKey(type: Employer.recordType, id: $0) }
        let scopesBefore = try rescoped.map { try RecordLinks.scopes(of: $0, in: working) }
        for state in staged.values.sorted(by: { $0.key < $1.key }) {
            // Absent until now: this change-set creates it (a record created earlier in this
            // transaction is in the working set already).
            if try working.state(state.key) == nil { createdBy[state.key] = changeSet.dot }
            working.put(state)
            dirty[state.key] = state
        }
        newConflicts += conflicts
        if let account = admitted.bindAccount {
            grant.accountID = account
            bindings.append((device.id, account))
        }
        try await publish(changeSet, id: signed.id, rescoped: rescoped, scopesBefore: scopesBefore)
    }

    /// Puts an accepted change-set in the feed for the scopes of the records it touched, and,
    /// when an account or an employer moved between scopes, the documents that take its records
    /// out of the old scopes and bring them whole into the new ones (§11.8).
    private func publish(_ changeSet: ChangeSet, id: ChangeSetID, rescoped: RecordKey?, scopesBefore: Set<Scope>?) async throws {
        var feedScopes = scopesBefore ?? []
        for operation in changeSet.operations {
            let scopes = try RecordLinks.scopes(of: operation.record, in: working)
            scopeChanges[operation.record] = scopes
            feedScopes.formUnion(scopes)
        }
        let cause = feed.count
        // The records it created name it themselves.
        let written = changeSet.operations.map(\.record).filter { createdBy[$0] != changeSet.dot }
        feed.append(.changeSet(changeSet.dot, id, feedScopes, records: written))
        guard let rescoped, let before = scopesBefore else { return }
        let after = try RecordLinks.scopes(of: rescoped, in: working)
        // The store must hold this transaction's records before it is asked what hangs off one.
        try await flush()
        let keys = rescoped.type == Account.recordType ? try await tx.keys(ofAccount: rescoped.id) : try await tx.keys(ofUnit: rescoped.id)
        for key in keys { scopeChanges[key] = after }
        for scope in before.subtracting(after).sorted() {
            feed.append(.document(.scopeExit(keys), [scope], cause: cause))
        }
        let entering = after.subtracting(before)
        guard !entering.isEmpty else { return }
        let stored = try await tx.records(keys.filter { !working.isLoaded($0) })
        let states = try keys.compactMap { key in working.isLoaded(key) ? try working.state(key) : stored[key] }
        for scope in entering.sorted() {
            feed.append(.document(.records(states), [scope], cause: cause))
        }
    }

    /// Keeps a judged change-set in its device's chain, with its answer.
    private func record(_ signed: SignedChangeSet, device: DeviceID, rejection: ErrorReport?, drifted: Bool = false) {
        let changeSet = signed.changeSet
        rows.append(StoredChangeSet(device: device, sequence: changeSet.sequence, id: signed.id, time: changeSet.time,
                                    bytes: signed.bytes, signature: signed.signature, accepted: rejection == nil,
                                    code: rejection?.code, message: rejection?.message, receivedAt: now))
        answered[changeSet.dot] = (signed.id, rejection == nil, rejection?.code, rejection?.message)
        // A change-set refused for its clock takes its place in the chain but not its time.
        let time = drifted ? (heads[device] ?? nil)?.time ?? .zero : changeSet.time
        heads[device] = .some(ChainHead(sequence: changeSet.sequence, id: signed.id, time: time))
        movedHeads.insert(device)
    }

    // MARK: Loading

    /// A device's chain head, locked in the store the first time it is asked for.
    private func head(of device: DeviceID) async throws -> ChainHead? {
        if let known = heads[device] { return known }
        let head = try await tx.lockChain(of: device)
        heads[device] = .some(head)
        return head
    }

    /// A record's state, loaded (and locked) if this transaction has not read it yet.
    func record(_ key: RecordKey) async throws -> RecordState? {
        try await loadRecords([key])
        return try working.state(key)
    }

    /// Loads (and locks) what the rules may ask about these operations: the records they write,
    /// the records those hang off, and the indexes of deposits and accounts they need.
    func load(_ changeSets: [[Operation]]) async throws {
        var keys = Set<RecordKey>(), references = Set<String>(), accounts = Set<String>(), idNumbers = Set<String>()
        for operations in changeSets {
            for operation in operations {
                keys.insert(operation.record)
                if let parent = RecordLinks.parent(type: operation.record.type, values: operation.fields) { keys.insert(parent) }
                switch operation.record.type {
                case Deposit.recordType:
                    if let reference = operation.fields["reference"]?.stringValue { references.insert(reference) }
                    if let account = operation.fields["account"]?.stringValue { accounts.insert(account) }
                case Account.recordType where operation.kind == .create:
                    if let number = operation.fields["idNumber"]?.stringValue { idNumbers.insert(number) }
                default:
                    break
                }
            }
        }
        let unknownNumbers = idNumbers.filter { !working.isLoaded(idNumber: $0) }
        if !unknownNumbers.isEmpty {
            for (number, ids) in try await tx.openAccountIDs(idNumbers: unknownNumbers.sorted()) {
                working.loaded(idNumber: number, accounts: ids)
                keys.formUnion(ids.map { RecordKey(type: Account.recordType, id: $0) })
            }
            for number in unknownNumbers where !working.isLoaded(idNumber: number) { working.loaded(idNumber: number, accounts: []) }
        }
        try await loadRecords(keys)
        let unknownReferences = references.filter { !working.isLoaded(reference: $0) }.sorted()
        if !unknownReferences.isEmpty {
            let found = try await tx.depositIDs(references: unknownReferences)
            for reference in unknownReferences { working.loaded(reference: reference, depositID: found[reference]) }
        }
        // After the accounts are locked, so no other transaction adds a deposit to them meanwhile.
        let unknownAccounts = accounts.filter { !working.isLoaded(paidFor: $0) }.sorted()
        if !unknownAccounts.isEmpty {
            let found = try await tx.paidPeriods(accountIDs: unknownAccounts)
            for account in unknownAccounts { working.loaded(paidFor: account, found[account] ?? [:]) }
        }
    }

    /// Loads and locks records, and those they hang off, until nothing new is named.
    private func loadRecords(_ keys: Set<RecordKey>) async throws {
        var wanted = keys.filter { !working.isLoaded($0) }
        while !wanted.isEmpty {
            // The store takes them in key order.
            let found = try await tx.lockRecords(Array(wanted))
            for key in wanted {
                working.loaded(key, found[key])
                if found[key] == nil { unstored.insert(key) }
            }
            wanted = Set(found.values.compactMap { RecordLinks.parent(type: $0.key.type, values: $0.values) }).filter { !working.isLoaded($0) }
        }
    }

    // MARK: Writing

    /// Sends the records changed so far to the store.
    func flush() async throws {
        if !dirty.isEmpty || !newConflicts.isEmpty || !scopeChanges.isEmpty {
            // In key order (sorting the keys, not the states: moving states cost 3 % of the writer's time).
            try await tx.saveRecords(dirty.keys.sorted().compactMap { dirty[$0] }, scopes: scopeChanges,
                                     new: unstored.filter { dirty[$0] != nil || scopeChanges[$0] != nil }, createdBy: createdBy,
                                     conflicts: newConflicts)
        }
        unstored.subtract(dirty.keys)
        unstored.subtract(scopeChanges.keys)
        dirty = [:]
        newConflicts = []
        scopeChanges = [:]
        for (device, account) in bindings { try await tx.bind(device, toAccount: account) }
        bindings = []
    }

    /// The answers with the feed positions of the change-sets this transaction accepted (after
    /// `finish`), for their receipts.
    func placed(_ answers: [PushAnswer], device: DeviceID) -> [PushAnswer] {
        answers.map { answer in
            var answer = answer
            if answer.position == nil { answer.position = positions[Dot(device: device, sequence: answer.sequence)] }
            return answer
        }
    }

    /// Sends everything to the store: records, then the feed's positions, the change-sets (with
    /// theirs) and chain heads, then the feed and its log.
    func finish() async throws {
        try await flush()
        var reserved: FeedReservation?
        if !feed.isEmpty {
            let taken = try await tx.reserveFeedPositions(feed.count)
            for (index, entry) in feed.enumerated() {
                if case let .changeSet(dot, _, _, _) = entry { positions[dot] = taken.first + UInt64(index) }
            }
            reserved = taken
        }
        if !rows.isEmpty {
            try await tx.addChangeSets(rows.map { row in
                var row = row
                if row.accepted { row.feedPosition = positions[Dot(device: row.device, sequence: row.sequence)] }
                return row
            })
            rows = []
        }
        for device in movedHeads.sorted() {
            if let head = heads[device] ?? nil { try await tx.setChainHead(of: device, head) }
        }
        movedHeads = []
        guard let reserved else { return }
        let first = reserved.first
        // Each entry's mark chains the feed up to it (sync-protocol.md §11.6).
        var mark = reserved.previousMark
        var entries: [NewFeedEntry] = []
        var ids: [Digest256] = []
        entries.reserveCapacity(feed.count)
        ids.reserveCapacity(feed.count)
        for (index, entry) in feed.enumerated() {
            let position = first + UInt64(index)
            switch entry {
            case let .changeSet(dot, id, scopes, records):
                let next = FeedMark.after(mark, position: position, entry: id)
                mark = next
                ids.append(id)
                entries.append(NewFeedEntry(position: position, content: .changeSet(dot), scopes: scopes, mark: next, records: records))
            case let .document(content, scopes, cause):
                let document = try SignedDocument(asOf: first + UInt64(cause), content: content, signingWith: core.key)
                let id = FeedMark.entryID(document: document.bytes)
                let next = FeedMark.after(mark, position: position, entry: id)
                mark = next
                ids.append(id)
                entries.append(NewFeedEntry(position: position, content: .document(document), scopes: scopes, mark: next))
            }
        }
        try await tx.addFeedEntries(entries)
        try await ServerCore.appendToLog(tx, size: reserved.logged, first: first, ids: ids)
        feed = []
    }
}
