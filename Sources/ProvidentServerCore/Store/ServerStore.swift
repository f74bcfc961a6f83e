import ProvidentCrypto
import ProvidentDomain
import ProvidentSync

/// Where the server keeps everything: its devices, every change-set pushed, the merged records
/// and their read models, the feed, and the office's own data. Two implementations exist, on
/// SQLite (the embedded default) and on PostgreSQL (several servers on one database); both pass
/// the same test suite.
///
/// Work happens in transactions. A write transaction is all or nothing and is durable (fsynced)
/// before `write` returns; when the database asks for it (a serialization failure or a deadlock
/// between servers), the store runs `body` again from the start, so `body` must have no effect
/// outside the transaction. A read transaction sees one consistent snapshot.
public protocol ServerStore: Sendable {
    /// What the store runs on, for logs, `/health` and `check`: `sqlite` or `postgres`.
    var backend: String { get }
    /// Where it is, without any secret: a file path, or `postgres://user@host:port/db`.
    var location: String { get }
    /// Whether the database is another process, each statement a round trip to it (PostgreSQL),
    /// so that reads which do not depend on each other are better run at once than one after
    /// another; false for SQLite, which runs in the server's process.
    var isRemote: Bool { get }

    /// Runs `body` in one read transaction.
    func read<T: Sendable>(_ body: @Sendable (any ServerReading) async throws -> T) async throws -> T
    /// Runs `body` in one write transaction, committed before it returns: durably, or, without
    /// `waitingForTheDisk`, in a way a crash may lose, only for what can be lost without harm
    /// (a read's nonce: sync-protocol.md §11.2).
    func write<T: Sendable>(waitingForTheDisk: Bool, _ body: @Sendable (any ServerWriting) async throws -> T) async throws -> T
    /// Runs `body` outside any transaction: each read sees the database as it finds it, not one
    /// snapshot for all (on PostgreSQL, two round trips less than `read`). For a read of one
    /// statement, or of what does not change once written.
    func readEach<T: Sendable>(_ body: @Sendable (any ServerReading) async throws -> T) async throws -> T
    /// Records a request's nonce and the device's last-seen time in a transaction of its own,
    /// committed before it returns: durably, or, without `durably`, in a way a crash may lose
    /// (a read's: sync-protocol.md §11.2). False when the device used the nonce already.
    func useNonce(_ nonce: String, device: DeviceID, at: Instant, expiresAt: Instant, durably: Bool) async throws -> Bool
    /// What the database itself says of its integrity: `["ok"]`, or what it found.
    func integrityCheck() async throws -> [String]
    /// The database's size in bytes, as the database counts it (pages in use on SQLite,
    /// `pg_database_size` on PostgreSQL).
    func databaseBytes() async throws -> Int64
    /// Whether the database answers now: for `/health`.
    func ping() async -> Bool
    /// Regular upkeep while serving (SQLite copies its write-ahead log into the database), run
    /// by the serving process off the request path.
    func maintain() async throws
    /// Releases connections and files.
    func close() async
}

/// Reads, inside a read or write transaction.
public protocol ServerReading: Sendable {
    // MARK: The server itself

    /// The server's public key as this database knows it, nil in a new database.
    func serverKey() async throws -> PublicKey?

    // MARK: Devices

    /// The device with this id, if known.
    func device(_ id: DeviceID) async throws -> RegisteredDevice?
    /// The transport key a device certified (sync-protocol.md §5.1), if it registered one.
    func transportKey(of device: DeviceID) async throws -> PublicKey?
    /// A device and, when `transport`, its transport key, in one read: what a request's
    /// signature is checked against.
    func signer(_ device: DeviceID, transport: Bool) async throws -> (device: RegisteredDevice?, transportKey: PublicKey?)
    /// Every known device, most recently enrolled first.
    func devices() async throws -> [RegisteredDevice]
    /// Every invite, newest first.
    func invites() async throws -> [Invite]
    /// The invite whose code has this digest.
    func invite(codeDigest: [UInt8]) async throws -> Invite?
    /// The account that a claim code with this digest opens, and the device that claimed it, if any.
    func claimableAccount(codeDigest: String) async throws -> (accountID: String, claimedBy: DeviceID?)?
    /// Alerts for the office, newest first.
    func alerts() async throws -> [Alert]

    // MARK: Chains

    /// The last change-set accepted (or refused by the rules) from a device.
    func chainHead(of device: DeviceID) async throws -> ChainHead?
    /// The change-sets a device already pushed at these sequence numbers.
    func storedChangeSets(of device: DeviceID, sequences: [UInt64]) async throws -> [UInt64: StoredChangeSet]

    // MARK: Records

    /// The merged states of these records, where held.
    func records(_ keys: [RecordKey]) async throws -> [RecordKey: RecordState]
    /// These records' stored transfer forms (canonical bytes, as `RecordState.transferBytes`
    /// makes them), where held: what a snapshot page carries, without decoding them.
    func recordTransferForms(_ keys: [RecordKey]) async throws -> [RecordKey: [UInt8]]
    /// Records in key order after `after`, at most `limit`: for digests and copies.
    func records(after: RecordKey?, limit: Int) async throws -> [RecordState]
    /// The ids of the deposits that carry these payment reference codes.
    func depositIDs(references: [String]) async throws -> [String: String]
    /// The months each of these accounts has paid (reversed and rejected deposits do not count).
    func paidPeriods(accountIDs: [String]) async throws -> [String: [Period: PaidPeriod]]
    /// The open (not closed) accounts held for each of these resident ID numbers.
    func openAccountIDs(idNumbers: [String]) async throws -> [String: [String]]
    /// An account and every record hanging off it (deposits, reversals, outcomes, interest).
    func keys(ofAccount id: String) async throws -> [RecordKey]
    /// An employer and every record hanging off it (visits, voidings, applications, decisions).
    func keys(ofUnit id: String) async throws -> [RecordKey]
    /// Conflicts in id order after `after`, at most `limit`.
    func conflicts(after: Digest256?, limit: Int) async throws -> [StoredConflict]

    // MARK: Feed

    /// The feed's last position (0 when empty).
    func feedHead() async throws -> UInt64
    /// A page of the feed for a device's pull, in one read: where the feed stands (its head and
    /// the mark there, how many entries the log holds, the device's chain head, and, when
    /// `markAtCursor`, the mark at `cursor`), and the entries after `cursor` that these scopes
    /// hold (nil: every entry), at most `limit`, oldest first.
    func feedPage(of device: DeviceID, after cursor: UInt64, scopes: Set<Scope>?, limit: Int,
                  markAtCursor: Bool) async throws -> (view: FeedView, entries: [FeedEntry])
    /// The feed's mark after the entry at `position`; nil for position 0, a position not in the
    /// feed, or an entry written before the feed had marks.
    func feedMark(at position: UInt64) async throws -> Digest256?
    /// Feed entries after `cursor` that these scopes hold (nil: every entry), oldest first.
    func feed(after cursor: UInt64, scopes: Set<Scope>?, limit: Int) async throws -> [FeedEntry]
    /// How many feed entries the feed's log holds (sync-protocol.md §11.14).
    func logSize() async throws -> UInt64
    /// The stored hashes of these log nodes, where held.
    func logNodes(_ nodes: [LogNode]) async throws -> [LogNode: Digest256]
    /// The log's parties, in one read: the active auditors and office devices, by device id
    /// (auditors are the log's witnesses, sync-protocol.md §11.15; office devices announce its
    /// epochs, §11.16), and the largest checkpoint (size and root) that at least `quorum`
    /// active auditors cosigned.
    func logParties(quorum: Int) async throws -> (devices: [RegisteredDevice], witnessed: WitnessedCheckpoint?)
    /// The office's announcements of the log's epochs, newest first.
    func logEpochs(limit: Int) async throws -> [String]
    /// The entry ids (§11.6) of the feed entries at these positions, where the feed holds one.
    func feedEntryIDs(at positions: [UInt64]) async throws -> [UInt64: Digest256]
    /// The entry ids of the feed entries after `after` up to `through`, oldest first.
    func feedEntryIDs(after: UInt64, through: UInt64) async throws -> [(position: UInt64, id: Digest256)]
    /// Record keys these scopes hold (nil: every record), in key order after `after`, at most
    /// `limit`, each with its record's stored transfer form (nil where the store holds no state
    /// for the key), read in one statement: what a snapshot page carries.
    func scopedTransferForms(after: RecordKey?, scopes: Set<Scope>?, limit: Int) async throws -> [(key: RecordKey, form: [UInt8]?)]
    /// How many records these scopes hold (nil: every record).
    func scopedRecordCount(scopes: Set<Scope>?) async throws -> Int

    // MARK: Read models

    /// Every account, by id.
    func accounts() async throws -> [Account]
    /// An account's deposits, oldest first, with their reversals, outcomes and interest credits.
    func accountHistory(_ accountID: String) async throws -> AccountHistory
    /// Every deposit with its status, by account.
    func depositsByAccount() async throws -> [String: [(deposit: Deposit, status: DepositStatus)]]
    /// Employers, of one branch or all, by branch and name.
    func units(branch: String?) async throws -> [Employer]
    /// Employers whose name or address contains `text`, or whose credit code starts with it.
    func searchUnits(_ text: String, limit: Int) async throws -> [Employer]
    /// Approved deferrals and reduced rates, by employer id.
    func approvedReliefs() async throws -> [String: [ApprovedRelief]]
    /// Visits, newest first, to one employer, of one branch and on or after a day, as asked.
    func visits(unitID: String?, branch: String?, since: CivilDate?) async throws -> [Visit]
    /// The ids of every voided visit.
    func voidedVisitIDs() async throws -> Set<String>
    /// Applications, newest first, of one employer or all.
    func applications(unitID: String?) async throws -> [ReliefApplication]
    /// Every decision, by application id.
    func decisions() async throws -> [String: ApplicationDecision]
    /// Every campaign, newest first.
    func campaigns() async throws -> [Campaign]
    /// A campaign's targets, by branch, in credit-code order.
    func campaignTargets(campaignID: String) async throws -> [String: [String]]

    // MARK: Reconciliation

    /// Which of these bank-line fingerprints were already imported.
    func importedFingerprints(_ fingerprints: [String]) async throws -> Set<String>
    /// The deposit with this reference code, as a candidate for a bank line.
    func depositCandidate(reference: String) async throws -> DepositCandidate?
    /// Deposits recorded in [from, to), as candidates for bank lines.
    func depositCandidates(recordedFrom: Instant, to: Instant) async throws -> [DepositCandidate]
    /// Bank lines, newest first, of one status or all.
    func bankLines(status: ReconciliationLine.Status?, limit: Int) async throws -> [ReconciliationLine]
    /// One bank line.
    func bankLine(_ id: Int64) async throws -> ReconciliationLine?
    /// The latest bank date imported.
    func latestBankDate() async throws -> CivilDate?
    /// Deposits still pending (no outcome, not reversed, no bank line) recorded before `before`.
    func depositsAwaitingPayment(recordedBefore: Instant) async throws -> [MissingPayment]

    // MARK: Office users and sessions

    /// The dashboard's users, by name.
    func officeUsers() async throws -> [OfficeUser]
    /// The feed entries that wrote a record, newest first, a page at a time, and how many there are.
    func recordChanges(_ key: RecordKey, limit: Int, offset: Int) async throws -> (changes: [StoredRecordChange], total: Int)
    /// A user's password hash.
    func passwordHash(user: String) async throws -> String?
    /// The live session whose token has this digest.
    func session(tokenDigest: String, now: Instant) async throws -> OfficeSession?

    // MARK: Rate limits

    /// Attempts counted for this bucket and address since `since`, and the oldest of them.
    func attempts(bucket: String, address: String, since: Instant) async throws -> (count: Int, oldest: Instant?)
}

/// Writes, inside a write transaction. Every method changes only what its name says.
public protocol ServerWriting: ServerReading {
    // MARK: Savepoints

    /// Marks a point inside the transaction that `rollback(toSavepoint:)` goes back to, undoing
    /// what was written after it while the transaction goes on; `release(savepoint:)` forgets it.
    func savepoint(_ name: String) async throws
    func rollback(toSavepoint name: String) async throws
    func release(savepoint name: String) async throws

    // MARK: The server itself

    /// Records the server's key (a new database), registering the server as a device.
    func setServerKey(_ key: PublicKey, now: Instant) async throws

    // MARK: Devices

    /// Adds a device.
    func addDevice(_ device: RegisteredDevice) async throws
    /// Registers a device's transport key, replacing the one it had.
    func setTransportKey(_ delegation: TransportDelegation, at: Instant) async throws
    /// Sets a device's status, with the reason.
    func setStatus(of device: DeviceID, _ status: RegisteredDevice.Status, reason: String) async throws
    /// Binds a worker's device to the account it enrolled.
    func bind(_ device: DeviceID, toAccount accountID: String) async throws
    /// Notes that a device was seen now.
    func touch(_ device: DeviceID, at: Instant) async throws
    /// Adds an invite.
    func addInvite(_ invite: Invite, codeDigest: [UInt8], createdAt: Instant) async throws
    /// Marks an invite used; false if another device used it first.
    func useInvite(codeDigest: [UInt8], by device: DeviceID, at: Instant) async throws -> Bool
    /// Records that a device claimed an account; false if another device did first.
    func claim(account: String, by device: DeviceID, at: Instant) async throws -> Bool
    /// Adds an alert for the office.
    func addAlert(_ alert: Alert) async throws
    /// Whether an alert of this kind was raised for the device at or after `since`.
    func hasAlert(kind: String, device: DeviceID, since: Instant) async throws -> Bool
    /// Records a request's nonce; false if the device already used it (a replay).
    func useNonce(_ nonce: String, device: DeviceID, expiresAt: Instant) async throws -> Bool
    /// Forgets nonces that expired before `now`.
    func pruneNonces(before now: Instant) async throws

    // MARK: Chains

    /// The device's chain head, locked until the transaction ends, so that pushes of one device
    /// through several servers are judged one after the other.
    func lockChain(of device: DeviceID) async throws -> ChainHead?
    /// Sets a device's chain head.
    func setChainHead(of device: DeviceID, _ head: ChainHead) async throws
    /// Keeps pushed change-sets with their answers.
    func addChangeSets(_ rows: [StoredChangeSet]) async throws

    // MARK: Records

    /// The merged states of these records, locked until the transaction ends (taken in key
    /// order, whatever the order given, so two servers locking overlapping records agree).
    func lockRecords(_ keys: [RecordKey]) async throws -> [RecordKey: RecordState]
    /// Stores records' new states, their new conflicts and their read models, and the scopes
    /// records are in now: `scopes` replaces, for each record it names (its state changed or
    /// not), the scopes it was in. The records in `new` were absent when this transaction read
    /// them: they are inserted, with no scopes to replace, and one another server inserted
    /// meanwhile is a collision that runs the transaction again, never a state overwritten unseen.
    /// `createdBy` names, for new records, the change-set that created them: it is kept on the
    /// record, and its feed entry lists the others it wrote (`NewFeedEntry.records`).
    func saveRecords(_ states: [RecordState], scopes: [RecordKey: Set<Scope>], new: Set<RecordKey>, createdBy: [RecordKey: Dot],
                     conflicts: [Conflict]) async throws

    // MARK: Feed

    /// Reserves the next `count` feed positions and returns the first, with the mark before it and
    /// the size of the log.
    /// The feed's end is locked until the transaction ends, so positions become visible in the
    /// order they were reserved and a reader never passes a position that a slower writer fills later.
    func reserveFeedPositions(_ count: Int) async throws -> FeedReservation
    /// Adds entries at positions reserved in this transaction; the last one's mark becomes the
    /// feed end's.
    func addFeedEntries(_ entries: [NewFeedEntry]) async throws
    /// Stores new log nodes and the log's new size, under the lock of the feed's end (taken by
    /// `reserveFeedPositions` earlier in the transaction).
    func appendLog(_ nodes: [(LogNode, Digest256)], size: UInt64) async throws
    /// Keeps an auditor's cosignature of the checkpoint of `size` and `root` (one per auditor and
    /// size); returns how many active auditors have cosigned that checkpoint.
    func addCosignature(witness: DeviceID, size: UInt64, root: Digest256, line: String, at: Instant) async throws -> Int
    /// Keeps an office's announcement of a log epoch (the same note again changes nothing).
    func addLogEpoch(note: String, startsSize: UInt64, by device: DeviceID, at: Instant) async throws

    // MARK: Reconciliation

    /// Records an imported statement; returns its id.
    func addStatement(fileName: String, importedAt: Instant, lineCount: Int) async throws -> Int64
    /// Adds a bank line with its first result.
    func addBankLine(_ line: BankLine, statementID: Int64, result: LineResult, at: Instant) async throws
    /// Sets a line's result.
    func setBankLine(_ id: Int64, result: LineResult, at: Instant) async throws
    /// Marks the lines that named a deposit with a differing amount as rejected with it.
    func rejectMismatchedLines(depositID: String, note: String, at: Instant) async throws

    // MARK: Office users and sessions

    /// Adds a user; false if the name is taken.
    func addOfficeUser(_ name: String, passwordHash: String, at: Instant) async throws -> Bool
    /// Removes a user and their sessions; false if there is no such user.
    func removeOfficeUser(_ name: String) async throws -> Bool
    /// Disables a user (their sessions end) with the time, or enables them again with nil;
    /// false when there is no such user.
    func setOfficeUserDisabled(_ name: String, at: Instant?) async throws -> Bool
    /// Replaces a user's password hash and ends their other sessions (all but `keeping`);
    /// false when there is no such user.
    func setPasswordHash(user: String, _ passwordHash: String, keepingSession keeping: String?) async throws -> Bool
    /// Starts a session.
    func addSession(tokenDigest: String, session: OfficeSession, at: Instant) async throws
    /// Changes a session's language.
    func setSessionLanguage(tokenDigest: String, _ language: Language) async throws
    /// Ends a session.
    func removeSession(tokenDigest: String) async throws
    /// Forgets sessions that expired before `now`.
    func pruneSessions(before now: Instant) async throws

    // MARK: Rate limits

    /// Counts an attempt.
    func addAttempt(bucket: String, address: String, at: Instant) async throws
    /// Forgets attempts made before `before`.
    func pruneAttempts(before: Instant) async throws
}

extension ServerStore {
    /// Runs `body` in one write transaction, committed durably before it returns.
    public func write<T: Sendable>(_ body: @Sendable (any ServerWriting) async throws -> T) async throws -> T {
        try await write(waitingForTheDisk: true, body)
    }
}
