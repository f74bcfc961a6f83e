import Logging
import ProvidentCrypto
import ProvidentDomain
import ProvidentSync

/// The limits and windows the server works with; every one has a default.
public struct ServerSettings: Sendable, Equatable {
    /// How far ahead of the server's clock a change-set's time may be.
    public var maxDriftSeconds = 86_400
    /// How far a signed request's time may be from the server's.
    public var requestWindowSeconds = 300
    /// Self-enrolments and claims allowed per source address per hour.
    public var selfEnrolmentsPerHour = 20
    /// How many days a bank date may be from the day a deposit was recorded for them to match
    /// by amount and name, and how long a deposit may wait for its bank line.
    public var reconciliationWindowDays = 10
    /// How long a dashboard sign-in lasts.
    public var officeSessionHours = 8
    /// Failed dashboard sign-ins allowed per address per hour.
    public var loginAttemptsPerHour = 10

    public init() {}
}

/// The server's use cases: enrolment, push, pull, snapshot, the office's own changes
/// (reconciliation, interest, employers, campaigns, applications, conflicts), office users and
/// sessions, reports and checks. It owns the rules of each and how they follow one another; the
/// store keeps what they decide. It is given everything it depends on — the store, the server's
/// key, the policy, the clock, the logger — so it is the same under test as in service, on
/// either database.
public struct ServerCore: Sendable {
    public let store: any ServerStore
    /// The server's own key: it signs documents and the office's change-sets.
    public let key: SigningKey
    /// The server's device id.
    public let id: DeviceID
    /// The rules a change-set must pass, with the policy in force.
    public let admission: Admission
    /// The policy as the file gave it, sent to devices when they enrol.
    public let policyText: String
    public let settings: ServerSettings
    public let clock: @Sendable () -> Instant
    public let logger: Logger
    /// Pushes waiting for the writer, judged together.
    let pushes = PushGroups()
    /// The devices last found signing reads, for reads on a remote database.
    let signers = SignerMemory()

    /// The policy in force.
    public var policy: Policy { admission.policy }

    /// Makes the core for an opened store. A new database is given the server's key; a
    /// database that knows another key is refused, whatever the command.
    public static func start(store: any ServerStore, key: SigningKey, policy: Policy, policyText: String,
                             settings: ServerSettings = ServerSettings(), clock: @escaping @Sendable () -> Instant,
                             logger: Logger) async throws -> ServerCore {
        let core = ServerCore(store: store, key: key, policy: policy, policyText: policyText, settings: settings, clock: clock, logger: logger)
        let publicKey = key.publicKey
        let now = clock()
        try await store.write { tx in
            if let known = try await tx.serverKey() {
                guard known == publicKey else { throw ServerError.keyMismatch }
            } else {
                try await tx.setServerKey(publicKey, now: now)
            }
        }
        // A database from before the feed's log: the log takes the feed's entries first.
        let logged = try await core.catchUpLog()
        if logged > 0 { logger.info("the feed's log took the entries written before it", metadata: ["log.entries": .stringConvertible(logged)]) }
        return core
    }

    init(store: any ServerStore, key: SigningKey, policy: Policy, policyText: String, settings: ServerSettings,
         clock: @escaping @Sendable () -> Instant, logger: Logger) {
        self.store = store
        self.key = key
        id = DeviceID(publicKey: key.publicKey)
        admission = Admission(policy: policy)
        self.policyText = policyText
        self.settings = settings
        self.clock = clock
        self.logger = logger
    }

    /// Today in Beijing, by the core's clock.
    public var today: CivilDate { clock().shanghaiDate }
}
