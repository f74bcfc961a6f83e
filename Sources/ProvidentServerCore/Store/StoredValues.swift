import ProvidentCrypto
import ProvidentDomain
import ProvidentSync

/// A device the server knows.
public struct RegisteredDevice: Hashable, Sendable {
    /// Whether the device may sync.
    public enum Status: String, Hashable, Sendable, CaseIterable {
        case active
        /// Revoked by the office.
        case revoked
        /// Stopped by the server after it signed two different change-sets for one sequence number.
        case quarantined
    }

    public let id: DeviceID
    public let publicKey: PublicKey
    public var grant: DeviceGrant
    public var status: Status
    public var statusReason: String?
    public let enrolledAt: Instant
    /// How it enrolled: `self`, `invite:<id>`, `claim`, or `server` for the server itself.
    public let enrolledVia: String
    public var lastSeenAt: Instant?

    public init(id: DeviceID, publicKey: PublicKey, grant: DeviceGrant, status: Status = .active, statusReason: String? = nil,
                enrolledAt: Instant, enrolledVia: String, lastSeenAt: Instant? = nil) {
        self.id = id
        self.publicKey = publicKey
        self.grant = grant
        self.status = status
        self.statusReason = statusReason
        self.enrolledAt = enrolledAt
        self.enrolledVia = enrolledVia
        self.lastSeenAt = lastSeenAt
    }
}

/// A one-time enrolment code for a staff device (only its digest is kept).
public struct Invite: Hashable, Sendable {
    public let id: String
    public let role: DeviceRole
    public let branch: String?
    public let expiresAt: Instant
    public let usedBy: DeviceID?

    public init(id: String, role: DeviceRole, branch: String?, expiresAt: Instant, usedBy: DeviceID? = nil) {
        self.id = id
        self.role = role
        self.branch = branch
        self.expiresAt = expiresAt
        self.usedBy = usedBy
    }
}

/// Something the office should look at: a device quarantined for a fork, for one.
public struct Alert: Hashable, Sendable {
    /// A device quarantined for signing two change-sets with one sequence number.
    public static let fork = "fork"
    /// A device whose change-sets are refused because its clock runs ahead (`clock.drift`).
    public static let clockAhead = "clock.ahead"
    /// A device holds a checkpoint this server signed that its log does not hold: the server was
    /// restored from an older copy, or its database edited (sync-protocol.md §11.14).
    public static let logDiverged = "log.diverged"

    public let kind: String
    public let device: DeviceID?
    public let detail: String
    public let at: Instant

    public init(kind: String, device: DeviceID?, detail: String, at: Instant) {
        self.kind = kind
        self.device = device
        self.detail = detail
        self.at = at
    }
}

/// A change-set a device pushed that passed the chain rules, kept with the answer it got.
public struct StoredChangeSet: Hashable, Sendable {
    public let device: DeviceID
    public let sequence: UInt64
    public let id: ChangeSetID
    public let time: HLCTimestamp
    /// The exact signed bytes and signature.
    public let bytes: [UInt8]
    public let signature: Signature
    /// Accepted, or refused by the clock bound or the rules (it still extends the chain).
    public let accepted: Bool
    public let code: String?
    public let message: String?
    public let receivedAt: Instant
    /// Where the feed holds it, for an accepted change-set (nil for one accepted before the feed's
    /// log, sync-protocol.md §11.14, or refused).
    public var feedPosition: UInt64?

    public init(device: DeviceID, sequence: UInt64, id: ChangeSetID, time: HLCTimestamp, bytes: [UInt8], signature: Signature,
                accepted: Bool, code: String?, message: String?, receivedAt: Instant, feedPosition: UInt64? = nil) {
        self.feedPosition = feedPosition
        self.device = device
        self.sequence = sequence
        self.id = id
        self.time = time
        self.bytes = bytes
        self.signature = signature
        self.accepted = accepted
        self.code = code
        self.message = message
        self.receivedAt = receivedAt
    }
}

/// One position of the feed, as devices pull it.
public struct FeedEntry: Sendable {
    public enum Content: Sendable {
        /// A device's change-set, as it signed it, with the author's public key.
        case changeSet(bytes: [UInt8], signature: [UInt8], author: PublicKey)
        /// A document signed by the server.
        case document(bytes: [UInt8], signature: [UInt8])
    }

    public let position: UInt64
    public let content: Content
    /// The feed's mark after this entry; nil for an entry written before the feed had marks.
    public let mark: Digest256?

    public init(position: UInt64, content: Content, mark: Digest256? = nil) {
        self.position = position
        self.content = content
        self.mark = mark
    }
}

/// Where the feed stands, as a pull reads it (`ServerReading.feedPage`).
public struct FeedView: Sendable {
    /// The feed's last position (0 when empty), and its mark there.
    public let head: UInt64
    public let markAtHead: Digest256?
    /// How many of the feed's entries the log holds.
    public let logged: UInt64
    /// The device's chain head: the sequence of its last accepted change-set (0 for none).
    public let chainHead: UInt64
    /// The mark at the cursor asked for, if it is in the feed.
    public let markAtCursor: Digest256?

    public init(head: UInt64, markAtHead: Digest256?, logged: UInt64, chainHead: UInt64, markAtCursor: Digest256?) {
        self.head = head
        self.markAtHead = markAtHead
        self.logged = logged
        self.chainHead = chainHead
        self.markAtCursor = markAtCursor
    }
}

/// An entry to add to the feed at a reserved position: a change-set already kept in its
/// device's chain, or a document signed by the server; and the scopes that receive it.
public struct NewFeedEntry: Sendable {
    public enum Content: Sendable {
        case changeSet(Dot)
        case document(SignedDocument)
    }

    public let position: UInt64
    public let content: Content
    public let scopes: Set<Scope>
    /// The feed's mark after this entry (sync-protocol.md §11.6).
    public let mark: Digest256
    /// The records a change-set writes, for each record's history, but those it creates: the
    /// record itself names the change-set that created it (`createdBy` of `saveRecords`).
    public let records: [RecordKey]

    public init(position: UInt64, content: Content, scopes: Set<Scope>, mark: Digest256, records: [RecordKey] = []) {
        self.position = position
        self.content = content
        self.scopes = scopes
        self.mark = mark
        self.records = records
    }
}

/// The largest checkpoint of the log that enough active auditors cosigned (sync-protocol.md
/// §11.15): the size and root they cosigned, and their cosignature lines.
public struct WitnessedCheckpoint: Hashable, Sendable {
    public let size: UInt64
    public let root: Digest256
    public let lines: [String]

    public init(size: UInt64, root: Digest256, lines: [String]) {
        self.size = size
        self.root = root
        self.lines = lines
    }
}

/// Feed positions reserved by a writer: the first, and the mark of the entry before it (nil
/// when there is none, or it was written before the feed had marks).
public struct FeedReservation: Sendable {
    public let first: UInt64
    public let previousMark: Digest256?
    /// How many entries the feed's log held when the end was locked (sync-protocol.md §11.14).
    public let logged: UInt64

    public init(first: UInt64, previousMark: Digest256?, logged: UInt64) {
        self.first = first
        self.previousMark = previousMark
        self.logged = logged
    }
}

/// A month an account has paid, and the deposit that paid it.
public struct PaidPeriod: Hashable, Sendable {
    public let reference: String
    public let depositID: String

    public init(reference: String, depositID: String) {
        self.reference = reference
        self.depositID = depositID
    }
}

/// A conflict as stored: in its digest form (sync-protocol.md §9.2).
public struct StoredConflict: Hashable, Sendable {
    public let id: Digest256
    public let record: RecordKey
    public let field: String
    /// The canonical bytes of the conflict's digest form.
    public let digestForm: [UInt8]

    public init(id: Digest256, record: RecordKey, field: String, digestForm: [UInt8]) {
        self.id = id
        self.record = record
        self.field = field
        self.digestForm = digestForm
    }

    /// The conflict it describes.
    public var conflict: Conflict? {
        Conflict(digestForm: digestForm, record: record)
    }
}

/// An account's money: deposits oldest first, their reversals and outcomes, and interest.
public struct AccountHistory: Sendable {
    public var deposits: [Deposit]
    public var reversals: [String: DepositReversal]
    public var outcomes: [String: DepositOutcome]
    public var interest: [InterestCredit]

    public init(deposits: [Deposit] = [], reversals: [String: DepositReversal] = [:], outcomes: [String: DepositOutcome] = [:],
                interest: [InterestCredit] = []) {
        self.deposits = deposits
        self.reversals = reversals
        self.outcomes = outcomes
        self.interest = interest
    }
}

/// A bank line as the office reviews it.
public struct ReconciliationLine: Sendable {
    /// Where a line stands.
    public enum Status: String, Sendable, CaseIterable {
        /// Matched to its deposit, which is confirmed.
        case confirmed
        /// The memo names a deposit of another amount: the office confirms by hand or rejects the deposit.
        case amountMismatch
        /// No deposit found (or several fit): the office matches by hand, or dismisses (refunds) it.
        case noDeposit
        /// Pays a deposit already paid: money to refund.
        case duplicate
        /// The deposit it named was rejected by the office.
        case rejected
        /// Set aside by the office, with a reason (refunded, not an HPF payment…).
        case dismissed

        public func label(_ l: Language) -> String {
            switch self {
            case .confirmed: l.pick("matched, confirmed", "已匹配确认")
            case .amountMismatch: l.pick("amount mismatch", "金额不符")
            case .noDeposit: l.pick("no deposit", "无对应缴存")
            case .duplicate: l.pick("duplicate payment", "重复缴款")
            case .rejected: l.pick("deposit rejected", "缴存已退回")
            case .dismissed: l.pick("dismissed", "已处理")
            }
        }

        /// Whether the office still has to act.
        public var open: Bool { self == .amountMismatch || self == .noDeposit || self == .duplicate }
    }

    public let id: Int64
    public let bankLine: BankLine
    public let statementID: Int64
    public let status: Status
    public let depositID: String?
    /// The reference code of the deposit it names, if any.
    public let reference: String?
    public let method: MatchMethod?
    public let candidates: [String]
    public let note: String?

    public init(id: Int64, bankLine: BankLine, statementID: Int64, status: Status, depositID: String?, reference: String?,
                method: MatchMethod?, candidates: [String], note: String?) {
        self.id = id
        self.bankLine = bankLine
        self.statementID = statementID
        self.status = status
        self.depositID = depositID
        self.reference = reference
        self.method = method
        self.candidates = candidates
        self.note = note
    }
}

/// What became of a bank line.
public struct LineResult: Hashable, Sendable {
    public var status: ReconciliationLine.Status
    public var depositID: String?
    public var method: MatchMethod?
    public var candidates: [String]
    public var note: String?

    public init(status: ReconciliationLine.Status, depositID: String? = nil, method: MatchMethod? = nil, candidates: [String] = [],
                note: String? = nil) {
        self.status = status
        self.depositID = depositID
        self.method = method
        self.candidates = candidates
        self.note = note
    }
}

/// A deposit that waited longer than the window for its bank line.
public struct MissingPayment: Sendable {
    public let deposit: Deposit
    public let holder: String

    public init(deposit: Deposit, holder: String) {
        self.deposit = deposit
        self.holder = holder
    }
}

/// A person who signs in to the dashboard.
public struct OfficeUser: Hashable, Sendable {
    public let name: String
    public let createdAt: Instant
    /// When the user was disabled; nil while they may sign in.
    public let disabledAt: Instant?

    public init(name: String, createdAt: Instant, disabledAt: Instant? = nil) {
        self.name = name
        self.createdAt = createdAt
        self.disabledAt = disabledAt
    }
}

/// One change-set in a record's history.
public struct RecordChange: Sendable {
    public let position: UInt64
    public let action: String
    public let kinds: [OperationKind]
    public let fields: [String]
    /// The device's clock when it wrote (its HLC), and when the server took the change-set.
    public let written: Instant
    public let received: Instant
    public let device: DeviceID
    public let role: DeviceRole?
    public let branch: String?
    /// Written by the server's own identity: the office's dashboard or command line.
    public let byServer: Bool

    public init(position: UInt64, action: String, kinds: [OperationKind], fields: [String], written: Instant, received: Instant,
                device: DeviceID, role: DeviceRole?, branch: String?, byServer: Bool) {
        self.position = position
        self.action = action
        self.kinds = kinds
        self.fields = fields
        self.written = written
        self.received = received
        self.device = device
        self.role = role
        self.branch = branch
        self.byServer = byServer
    }
}

/// A change-set in the feed that wrote a record: where, what it said, when the server took it,
/// and the device that signed it (absent when the device is no longer known).
public struct StoredRecordChange: Sendable {
    public let position: UInt64
    public let changeSet: [UInt8]
    public let receivedAt: Instant
    public let device: DeviceID
    public let role: DeviceRole?
    public let branch: String?
    public let enrolledVia: String?

    public init(position: UInt64, changeSet: [UInt8], receivedAt: Instant, device: DeviceID, role: DeviceRole?, branch: String?, enrolledVia: String?) {
        self.position = position
        self.changeSet = changeSet
        self.receivedAt = receivedAt
        self.device = device
        self.role = role
        self.branch = branch
        self.enrolledVia = enrolledVia
    }
}

/// A signed-in dashboard session.
public struct OfficeSession: Hashable, Sendable {
    public let userName: String
    /// The token every form of the session carries (CSRF protection).
    public let csrfToken: String
    public let language: Language
    public let expiresAt: Instant

    public init(userName: String, csrfToken: String, language: Language, expiresAt: Instant) {
        self.userName = userName
        self.csrfToken = csrfToken
        self.language = language
        self.expiresAt = expiresAt
    }
}
