import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import ProvidentCrypto
import ProvidentDomain
import ProvidentStore
import ProvidentSync

/// How far a sync has got, for a progress bar.
public struct SyncProgress: Sendable {
    public enum Phase: String, Sendable {
        case pushing
        case snapshot
        case pulling
        /// The server did not answer, or asked to wait: `done` is the attempt that failed,
        /// `total` the attempts allowed, `retryInSeconds` the wait before the next.
        case retrying
        /// Reaching the server for the first time: `retryInSeconds` is how long the device
        /// keeps trying before it reports that it is offline.
        case connecting
    }

    public let phase: Phase
    public let done: Int
    public let total: Int?
    public var retryInSeconds: Double? = nil
}

/// What a sync did.
public struct SyncReport: Sendable {
    public var sent = 0
    public var accepted = 0
    public var refusals: [Refusal] = []
    public var snapshotRecords = 0
    public var received = 0
    public var removed = 0
    /// How far this device's clock is from the server's, in milliseconds (positive: ahead).
    public var clockSkewMillis: Int64 = 0
    /// The server's feed was not the one this device had read (restored from an older copy):
    /// the device took a new snapshot.
    public var serverRestored = false
    /// Change-sets the server had acknowledged and lost, sent again.
    public var refilled = 0
    /// The server had forgotten this device; it enrolled again with its key.
    public var reenrolled = false
    /// Acknowledged change-sets removed after the policy's retention.
    public var pruned = 0
    /// The size of the server log's checkpoint this device verified (nil: the server keeps no log).
    public var logSize: UInt64?
    /// Receipts of this device's change-sets proven in the log by this sync.
    public var receiptsProven = 0
    /// The size of the largest checkpoint the log's witnesses cosigned that the device holds (§11.15).
    public var witnessedSize: UInt64?
    /// The office's announcement of the restore that lets the log begin again (§11.16).
    var epoch: String?
}

/// One sync of this device with its server: enrol if needed, push the outbox, then pull —
/// a snapshot first for a new device, then the feed. Every page is applied in its own
/// transaction with its cursor, so a sync killed at any point resumes where it stopped, with
/// nothing lost and nothing applied twice. Requests are signed by the device; network failures,
/// 5xx and 429 answers are retried with exponential backoff.
public final class SyncSession: Sendable {
    public let device: LocalDevice
    let connection: ServerConnection
    let progress: @Sendable (SyncProgress) -> Void

    /// A sync signed by the device key (the passphrase unlocked it): it also registers the
    /// device's transport key, making one if there is none, so later syncs need no passphrase.
    public init(device: LocalDevice, key: SigningKey, client: HTTPClient = ServerTrust.client, language: Language, maxAttempts: Int = 5,
                bounds: ServerConnection.Bounds = .fromEnvironment(), progress: @escaping @Sendable (SyncProgress) -> Void = { _ in }) {
        self.device = device
        connection = ServerConnection(key: key, client: client, language: language, maxAttempts: maxAttempts, bounds: bounds,
                                      retrying: progress)
        self.progress = progress
    }

    /// A sync signed by the transport key, without the passphrase (sync-protocol.md §5.1). It
    /// sends change-sets already signed and receives; it cannot enrol.
    public init(device: LocalDevice, transport: TransportCredentials, client: HTTPClient = ServerTrust.client, language: Language,
                maxAttempts: Int = 5, bounds: ServerConnection.Bounds = .fromEnvironment(),
                progress: @escaping @Sendable (SyncProgress) -> Void = { _ in }) {
        self.device = device
        connection = ServerConnection(transport: transport, client: client, language: language, maxAttempts: maxAttempts, bounds: bounds,
                                      retrying: progress)
        self.progress = progress
    }

    /// Enrols this device (a worker's own, alone) with the server at `url`, pinning its key and
    /// keeping its policy.
    public func enrol(at url: String) async throws {
        let answer = try await connection.enrol(at: url, as: .selfService)
        if let pinned = try device.replica.syncState().serverKey, pinned != answer.serverKey { throw SyncFailure.serverKeyChanged }
        try device.adopt(answer)
    }

    // MARK: Sync

    /// Pushes the outbox, then pulls; `serverURL` is needed only the first time. A staff device
    /// the server no longer knows (restored from an older copy) enrols again with `invite`.
    public func sync(serverURL: String? = nil, invite: String? = nil) async throws -> SyncReport {
        var state = try device.replica.syncState()
        guard let url = serverURL ?? state.serverURL else { throw SyncFailure.noServer }
        do {
            if !state.registered {
                guard connection.signer == .device else { throw SyncFailure.notEnrolled }
                try await enrol(at: url)
                state = try device.replica.syncState()
            }
            guard let serverKey = state.serverKey else { throw SyncFailure.badAnswer("no server key") }
            var report = SyncReport()
            do {
                if let invite {
                    report.epoch = try await announcedRestore(url: url, serverKey: serverKey)
                    try await reenrol(url: url, as: .invite(invite), report: &report)
                }
                try await exchange(url: url, serverKey: serverKey, report: &report)
            } catch let SyncFailure.refused(401, refusal) where refusal.code == "device.unknown" && !report.reenrolled {
                // The server forgot this device: restored from a copy older than its enrolment.
                let staff = try device.replica.deviceState().role != .selfService
                guard !staff else { throw SyncFailure.forgottenByServer(staff: true, needsPassphrase: false) }
                guard connection.signer == .device else { throw SyncFailure.forgottenByServer(staff: false, needsPassphrase: true) }
                report.epoch = try await announcedRestore(url: url, serverKey: serverKey)
                try await reenrol(url: url, as: .selfService, report: &report)
                try await exchange(url: url, serverKey: serverKey, report: &report)
            }
            if let days = device.policy.keepSentDays {
                let cutoff = Instant(millisSinceEpoch: now().millisSinceEpoch - Int64(days) * 86_400_000)
                report.pruned = try device.replica.pruneAcknowledged(recordedBefore: cutoff)
            }
            report.clockSkewMillis = -(await connection.clockOffset.lastSkew)
            return report
        } catch SyncFailure.unreachable(let server, _) {
            // Offline is the normal case in the field: say so, and what is waiting.
            throw SyncFailure.offline(server: server, waiting: (try? device.replica.outbox().count) ?? 0)
        }
    }

    /// One exchange: the transport key registered, the outbox pushed, the feed pulled; then
    /// whatever a restored server lacks of this device's chain sent again (sync-protocol.md §11.6).
    private func exchange(url: String, serverKey: PublicKey, report: inout SyncReport) async throws {
        if connection.signer == .device {
            let credentials = try device.ensureTransportKey(deviceKey: connection.key, now: now()).credentials
            try await connection.registerTransport(credentials.delegation, url: url)
        }
        try await push(url: url, serverKey: serverKey, report: &report)
        let chainHead: UInt64
        var confirmed = false
        do {
            chainHead = try await pull(url: url, serverKey: serverKey, restored: report.reenrolled, report: &report)
        } catch let SyncFailure.refused(409, refusal) where refusal.code == "feed.rewound" || refusal.code == "feed.cursor_ahead" {
            // The feed is not the one this device read: the server was restored from an older
            // copy. Make sure it is still our server, then read it again from a snapshot.
            try await confirmServerKey(url: url, pinned: serverKey)
            confirmed = true
            // Its log begins again only as the office announced it: nothing is taken before.
            report.epoch = try await announcedRestore(url: url, serverKey: serverKey)
            try device.replica.restartFeed()
            report.serverRestored = true
            chainHead = try await pull(url: url, serverKey: serverKey, restored: true, report: &report)
        }
        if chainHead < (try device.replica.lastAnsweredSequence()) {
            // The server lost change-sets it had acknowledged: send them again.
            if !confirmed { try await confirmServerKey(url: url, pinned: serverKey) }
            let resent = try device.replica.resendOutbox(from: chainHead + 1)
            if let missing = resent.missing { throw SyncFailure.cannotRefill(sequences: missing, keptDays: device.policy.keepSentDays) }
            report.refilled += resent.count
            report.serverRestored = true
            try await push(url: url, serverKey: serverKey, report: &report)
        }
        try await proveReceipts(url: url, serverKey: serverKey, report: &report)
    }

    /// Asks the server to prove, against the checkpoint this device holds, the receipts it holds
    /// (sync-protocol.md §11.14): every one never checked, and then again those checked longest
    /// ago, up to `Self.receiptChecks` a sync, since a log must keep holding what it once proved.
    /// Keeps a finding for each that fails.
    private func proveReceipts(url: String, serverKey: PublicKey, report: inout SyncReport) async throws {
        guard let held = try device.replica.logCheckpoint() else { return }
        report.logSize = held.size
        var found: [LogViolation] = []
        while true {
            let batch = try device.replica.receiptsToProve(within: held.size, limit: Self.receiptChecks)
            guard !batch.isEmpty else { break }
            let positions = Array(Set(batch.map(\.receipt.position))).sorted()
            let answer = try await connection.send(.GET, url: url, path: "/v1/log/proof",
                                                   query: "?size=\(held.size)&positions=\(positions.map(String.init).joined(separator: ","))", body: nil)
            let (proven, allFindings) = try LogCheck.receipts(answer, receipts: batch, held: held, serverKey: serverKey,
                                                              signed: device.replica.receiptWithBatch)
            try device.replica.markProven(proven, size: held.size, at: now())
            // A receipt of the log before a restore that the new log does not hold was lost in the
            // restore the office announced, not taken away since: it is listed, not a finding.
            let before = Set(batch.filter(\.beforeRestart).map(\.receipt.id))
            try device.replica.markLost(allFindings.map(\.0).filter(before.contains), at: now())
            let findings = allFindings.filter { !before.contains($0.0) }
            for (_, finding) in findings { try device.replica.addEvidence(kind: finding.kind, material: finding.material, at: now()) }
            try device.replica.markProven(findings.map(\.0), size: 0, at: now())
            let fresh = Set(batch.filter { $0.provenSize == nil }.map(\.receipt.id))
            report.receiptsProven += proven.filter { fresh.contains($0) }.count
            found += findings.map(\.1)
            // Another request only for receipts never checked: re-checks take one request a sync.
            if batch.count < Self.receiptChecks || fresh.count < batch.count { break }
        }
        if let first = found.first { throw SyncFailure.logViolation(kind: first.kind, findings: found.count) }
    }

    /// The office's announcement (§11.16) that lets a restored server's log begin again for this
    /// device: signed by an office device it knows, made since it last verified the log, and
    /// extended by the server's log. Nil when nothing needs announcing — the device holds no
    /// checkpoint, or knows no office device, or the log still extends the checkpoint it holds.
    private func announcedRestore(url: String, serverKey: PublicKey) async throws -> String? {
        guard let held = try device.replica.logCheckpoint() else { return nil }
        let offices = try device.replica.logOffices()
        guard !offices.isEmpty else { return nil }
        let answer = try await connection.send(.GET, url: url, path: "/v1/log/epochs", query: "", body: nil)
        guard let object = answer.objectValue, let note = object["checkpoint"]?.stringValue, let items = object["epochs"]?.arrayValue else {
            throw SyncFailure.badAnswer("log epochs")
        }
        let checkpoint: LogCheckpoint
        do {
            checkpoint = try LogCheckpoint.verified(note, key: serverKey)
        } catch .wrongOrigin {
            // Another server's log at this address: not this device's server.
            throw SyncFailure.serverKeyChanged
        } catch {
            throw SyncFailure.badAnswer("log epochs")
        }
        if try await logExtends(held, to: checkpoint, url: url) { return nil }
        guard let epoch = LogCheck.announced(items, checkpoint: checkpoint, held: held, offices: offices) else { throw SyncFailure.restoreUnannounced }
        return epoch
    }

    /// Whether the server's log at `checkpoint` still extends the checkpoint held (one
    /// `GET /v1/log/consistency`; none when it is smaller).
    func logExtends(_ held: HeldCheckpoint, to checkpoint: LogCheckpoint, url: String) async throws -> Bool {
        guard checkpoint.size >= held.size else { return false }
        let answer = try await connection.send(.GET, url: url, path: "/v1/log/consistency", query: "?from=\(held.size)&to=\(checkpoint.size)", body: nil)
        return LogCheck.extends(held, to: checkpoint, proof: answer.objectValue?["proof"])
    }

    /// Enrols this device again with its existing key, on a server that forgot it, and marks
    /// its whole chain to be sent again.
    private func reenrol(url: String, as enrolment: ServerConnection.Enrolment, report: inout SyncReport) async throws {
        let answer = try await connection.enrol(at: url, as: enrolment)
        guard answer.serverKey == (try device.replica.syncState().serverKey) else { throw SyncFailure.serverKeyChanged }
        try device.adopt(answer)
        try device.replica.restartFeed()
        report.reenrolled = true
    }

    /// Checks that the server still signs with the key this device pinned: a server restored
    /// with another key is not this device's server, and nothing is sent to it or taken from it.
    private func confirmServerKey(url: String, pinned: PublicKey) async throws {
        let answer = try await connection.send(.GET, url: url, path: "/v1/device", query: "", body: nil)
        guard let text = answer.objectValue?["serverKey"]?.stringValue, let bytes = Base64.decode(text),
              let key = try? PublicKey(bytes: bytes) else { throw SyncFailure.badAnswer("device") }
        guard key == pinned else { throw SyncFailure.serverKeyChanged }
    }

    private func now() -> Instant {
        ServerConnection.now()
    }

    private func push(url: String, serverKey: PublicKey, report: inout SyncReport) async throws {
        let total = try device.replica.outbox().count
        var resent = false
        while true {
            let batch = try device.replica.pendingChangeSets(limit: 100)
            guard !batch.isEmpty else { return }
            progress(SyncProgress(phase: .pushing, done: report.sent, total: total))
            let answer: CanonicalValue
            do {
                answer = try await connection.send(.POST, url: url, path: "/v1/push", query: "",
                                        body: .object(["changeSets": .array(batch.map(\.envelopeValue))]))
            } catch let SyncFailure.refused(409, refusal) where refusal.code == "chain.gap" && !resent {
                // The server lost change-sets it had accepted (restored from a backup): send them again.
                guard let expected = refusal.details["expected"]?.integerValue, expected > 0 else { throw SyncFailure.refused(status: 409, report: refusal) }
                let again = try device.replica.resendOutbox(from: UInt64(expected))
                if let missing = again.missing { throw SyncFailure.cannotRefill(sequences: missing, keptDays: device.policy.keepSentDays) }
                report.refilled += again.count
                report.serverRestored = true
                resent = true
                continue
            } catch let SyncFailure.refused(403, report) where report.code == "scope.forbidden" && report.details["results"] != nil {
                // Some change-sets wrote outside this device's scope: the batch was still
                // committed, and the results come in the error's details.
                answer = .object(["results": report.details["results"] ?? .null, "receipt": report.details["receipt"] ?? .null])
            }
            guard let results = answer.objectValue?["results"]?.arrayValue, results.count == batch.count else {
                throw SyncFailure.badAnswer("push results")
            }
            let plain = try zip(batch, results).map { signed, result in try PushResult(answer: result, for: signed.changeSet.sequence) }
            let parsed = PushResult.withReceipts(plain, results: results, receipt: answer.objectValue?["receipt"],
                                                 ids: Dictionary(uniqueKeysWithValues: batch.map { ($0.changeSet.sequence, $0.id) }), serverKey: serverKey)
            let refusals = try device.replica.recordPushResults(parsed)
            report.refusals += refusals
            let drift = SyncError.clockDrift(aheadMillis: 0, allowedMillis: 0).code
            if refusals.contains(where: { $0.code == drift }) { try device.replica.rewindClockAfterDrift(code: drift) }
            report.sent += batch.count
            report.accepted += parsed.filter { $0.status == .accepted }.count
        }
    }

    /// Takes a snapshot if the device has none, then reads the feed to its end. Returns the
    /// sequence of this device's last change-set the server holds.
    private func pull(url: String, serverKey: PublicKey, restored: Bool, report: inout SyncReport) async throws -> UInt64 {
        var state = try device.replica.syncState()
        if state.cursor == nil {
            try await snapshot(from: state.snapshotNext, url: url, serverKey: serverKey, report: &report)
            state = try device.replica.syncState()
        }
        let connection = self.connection
        let witnesses = LogCheck.Witnesses(known: try device.replica.logWitnesses(), quorum: device.policy.witnesses)
        let epoch = report.epoch
        /// One page of the feed, read and checked: every entry's signature, and the page against
        /// the log's checkpoint, which must extend the one `held` (sync-protocol.md §11.14).
        @Sendable func fetch(_ position: (cursor: UInt64, mark: Digest256?, held: HeldCheckpoint?, restored: Bool)) async throws -> FeedAnswer {
            let (cursor, mark, held, restored) = position
            // The mark of the cursor lets the server say when its feed is not the one read here.
            let answer = try await connection.send(.GET, url: url, path: "/v1/pull",
                                                   query: "?cursor=\(cursor)&limit=\(Self.feedPage)" + (mark.map { "&mark=\($0.hex)" } ?? "")
                                                       + "&logSize=\(held?.size ?? 0)", body: nil)
            guard let object = answer.objectValue, let items = object["entries"]?.arrayValue,
                  let next = object["cursor"]?.integerValue, let head = object["head"]?.integerValue, next >= 0 else {
                throw SyncFailure.badAnswer("pull")
            }
            let entries = try items.map { try PulledEntry(item: $0, serverKey: serverKey) }
            let positions = try items.map { item -> UInt64 in
                guard let position = item.objectValue?["position"]?.integerValue, position > 0 else { throw SyncFailure.badAnswer("feed position") }
                return UInt64(position)
            }
            let ids = zip(positions, entries).map { position, entry in (position: position, id: entry.entryID) }
            let checked = try LogCheck.page(object["log"], entries: ids, held: held, serverKey: serverKey, restored: restored, epoch: epoch,
                                            witnesses: witnesses)
            return FeedAnswer(entries: entries, cursor: UInt64(next), head: head,
                              mark: object["mark"]?.stringValue.flatMap { Digest256(hex: $0) },
                              // A server older than revision 1.3 gives no chain head: nothing to compare.
                              chainHead: object["chainHead"]?.integerValue.map { UInt64(max($0, 0)) } ?? UInt64.max,
                              more: object["more"]?.boolValue == true, checkpoint: checked.checkpoint ?? held, findings: checked.findings,
                              learned: checked.learned, offices: checked.offices, restarted: checked.restarted)
        }
        var chainHead: UInt64?
        do {
            try await Self.pipelined(from: (state.cursor ?? 0, state.cursorMark, try device.replica.logCheckpoint(), restored), fetch: fetch,
                                     next: { $0.more ? ($0.cursor, $0.mark, $0.checkpoint, false) : nil }) { page in
                if chainHead == nil { chainHead = page.chainHead }
                for entry in page.entries {
                    if case let .document(document) = entry, case let .scopeExit(keys) = document.content { report.removed += keys.count }
                }
                for finding in page.findings { try device.replica.addEvidence(kind: finding.kind, material: finding.material, at: now()) }
                try device.replica.learnWitnesses(page.learned, at: now())
                try device.replica.learnOffices(page.offices, at: now())
                // The receipts held were given by the old log: checked again against the new one.
                if page.restarted { try device.replica.markReceiptsBeforeRestart() }
                try device.replica.applyFeedPage(page.entries, cursor: page.cursor, mark: page.mark, checkpoint: page.checkpoint, now: now())
                report.received += page.entries.count
                report.logSize = page.checkpoint?.size
                report.witnessedSize = page.checkpoint?.witnessed?.size
                progress(SyncProgress(phase: .pulling, done: report.received, total: Int(max(0, page.head - Int64(page.cursor))) + report.received))
            }
        } catch let violation as LogViolation {
            // Nothing of that answer was applied; what shows the fault is kept for `provident audit`.
            try device.replica.addEvidence(kind: violation.kind, material: violation.material, at: now())
            throw SyncFailure.logViolation(kind: violation.kind, findings: 1)
        }
        return chainHead ?? UInt64.max
    }

    /// Reads pages from `start` until `next` gives none and applies them one after the other, in
    /// order, while the next two are asked for and checked: page n+2 is asked for as soon as
    /// page n+1 arrives, even while page n is still being applied, so the server's work, the
    /// checking of one page and the applying of another overlap. At most three pages are held.
    /// A page that fails to apply ends it, and the pages asked for meanwhile are dropped.
    private static func pipelined<Position: Sendable, Page: Sendable>(
        from start: Position, fetch: @escaping @Sendable (Position) async throws -> Page,
        next: @escaping @Sendable (Page) -> Position?, apply: (Page) async throws -> Void) async throws {
        /// A page, and the request for the page after it, made as soon as it arrived.
        @Sendable func arrival(of page: Task<Page, any Error>) -> Task<(Page, Task<Page, any Error>?), any Error> {
            Task {
                let answer = try await withTaskCancellationHandler { try await page.value } onCancel: { page.cancel() }
                return (answer, next(answer).map { position in Task { try await fetch(position) } })
            }
        }
        var pending = arrival(of: Task { try await fetch(start) })
        var following: Task<Page, any Error>?
        defer {
            pending.cancel()
            following?.cancel()
        }
        while true {
            let (page, after) = try await pending.value
            following = after
            if let after { pending = arrival(of: after) }
            try await apply(page)
            if after == nil { return }
        }
    }

    /// Entries asked for per feed page.
    static let feedPage = 1_000

    /// Receipts checked per request, and re-checked per sync once all have been checked once.
    static let receiptChecks = 500

    /// One feed page as read and checked, before it is applied.
    private struct FeedAnswer: Sendable {
        let entries: [PulledEntry]
        let cursor: UInt64
        let head: Int64
        let mark: Digest256?
        let chainHead: UInt64
        let more: Bool
        /// The log's checkpoint the page was checked against, kept with it.
        let checkpoint: HeldCheckpoint?
        /// Findings that do not stop the pull: the restored server's log began again, a witnessed
        /// checkpoint that could not be taken.
        let findings: [LogViolation]
        /// Witnesses of the log first seen in this answer.
        let learned: [LogWitness]
        /// The office devices the answer names (§11.16).
        let offices: [(name: String, key: PublicKey)]
        /// The log began again (a restore the office announced).
        let restarted: Bool
    }

    /// Records asked for per snapshot page.
    static let snapshotPage = 2_000

    /// One snapshot page as read and checked, before it is applied.
    private struct SnapshotAnswer: Sendable {
        /// The page's document, being checked and read while the next page is asked for.
        let document: Task<SignedDocument, any Error>
        let next: RecordKey?
        let mark: Digest256?
        let total: Int?
    }

    /// Reads the snapshot from `start` (the beginning when nil) to its last page. A page's
    /// signature is checked and its records read while the next page is asked for and another
    /// applied, so the server's work and the device's overlap; each page is still applied, with
    /// `next`, in a transaction of its own, in order.
    private func snapshot(from start: RecordKey?, url: String, serverKey: PublicKey, report: inout SyncReport) async throws {
        let connection = self.connection
        @Sendable func fetch(_ after: RecordKey?) async throws -> SnapshotAnswer {
            var query = "?limit=\(Self.snapshotPage)"
            // Record types and ids use only [A-Za-z0-9._:-], which a query carries as they are.
            if let after { query += "&after=\(after.type)/\(after.id)" }
            let answer = try await connection.send(.GET, url: url, path: "/v1/snapshot", query: query, body: nil)
            guard let object = answer.objectValue, let envelope = object["document"] else { throw SyncFailure.badAnswer("snapshot") }
            let document = Task {
                do throws(SyncError) {
                    return try SignedDocument(envelope: envelope, serverKey: serverKey)
                } catch {
                    throw SyncFailure.badAnswer("snapshot page not signed by the server: \(error.code)")
                }
            }
            let next = object["next"]?.stringValue.flatMap { text -> RecordKey? in
                let parts = text.split(separator: "/", maxSplits: 1)
                return parts.count == 2 ? RecordKey(type: String(parts[0]), id: String(parts[1])) : nil
            }
            return SnapshotAnswer(document: document, next: next, mark: object["mark"]?.stringValue.flatMap { Digest256(hex: $0) },
                                  total: object["total"]?.integerValue.map { Int($0) })
        }
        var total: Int?
        try await Self.pipelined(from: start, fetch: fetch, next: { $0.next.map(Optional.some) }) { page in
            let document = try await page.document.value
            try device.replica.applySnapshotPage(document, next: page.next, mark: page.mark, now: now())
            if case let .records(states) = document.content { report.snapshotRecords += states.count }
            total = total ?? page.total
            progress(SyncProgress(phase: .snapshot, done: report.snapshotRecords, total: total))
        }
    }
}

/// What the server says about a device when it enrols it.
public struct EnrolmentAnswer: Sendable {
    public let serverURL: String
    public let serverKey: PublicKey
    public let role: DeviceRole
    public let branch: String?
    public let account: String?
    /// The policy in force on the server, in the policy-file format.
    public let policy: String
}

/// Signed HTTP exchanges with the sync service, for one device key: each request is signed
/// (sync-protocol.md §11.2), retried with exponential backoff when the network or the server
/// fails in a way that may pass, and re-signed with the server's time if this device's clock is off.
public final class ServerConnection: Sendable {
    /// The key that signs requests: the device key, or its transport key.
    let key: SigningKey
    let device: DeviceID
    let signer: RequestSignature.Signer
    let client: HTTPClient
    let language: Language
    let maxAttempts: Int
    let bounds: Bounds
    let clockOffset = ClockOffset()
    let reachability = Reachability()
    /// Told before each wait between attempts, so a terminal can say what is happening.
    let retrying: @Sendable (SyncProgress) -> Void

    /// How long the device tries before telling the user it is offline, and how long one request
    /// may take once the server has answered.
    public struct Bounds: Sendable {
        /// Until the server first answers, every attempt together stays within this many seconds;
        /// then the device reports that it is offline (nothing is lost).
        public var offlineSeconds: Double
        /// One request's deadline once the server has answered (a large page takes time).
        public var requestSeconds: Double

        public init(offlineSeconds: Double = 12, requestSeconds: Double = 60) {
            self.offlineSeconds = offlineSeconds
            self.requestSeconds = requestSeconds
        }

        /// The defaults, or `PROVIDENT_OFFLINE_SECONDS` and `PROVIDENT_REQUEST_SECONDS`: whole
        /// seconds from 1 to 86,400; anything else leaves the default.
        public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Bounds {
            func seconds(_ name: String) -> Double? {
                environment[name].flatMap { Int($0) }.flatMap { (1...86_400).contains($0) ? Double($0) : nil }
            }
            var bounds = Bounds()
            if let value = seconds("PROVIDENT_OFFLINE_SECONDS") { bounds.offlineSeconds = value }
            if let value = seconds("PROVIDENT_REQUEST_SECONDS") { bounds.requestSeconds = value }
            return bounds
        }

        /// The bound variables that are set but not whole seconds from 1 to 86,400, with their
        /// values, so a command can say that the default is used instead.
        public static func invalidSettings(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> [(name: String, value: String)] {
            ["PROVIDENT_OFFLINE_SECONDS", "PROVIDENT_REQUEST_SECONDS"].compactMap { name in
                guard let value = environment[name], !value.isEmpty else { return nil }
                return Int(value).map { (1...86_400).contains($0) } == true ? nil : (name, value)
            }
        }
    }

    /// Requests signed by the device key.
    public convenience init(key: SigningKey, client: HTTPClient = ServerTrust.client, language: Language, maxAttempts: Int = 5,
                            bounds: Bounds = .fromEnvironment(), retrying: @escaping @Sendable (SyncProgress) -> Void = { _ in }) {
        self.init(key: key, device: DeviceID(publicKey: key.publicKey), signer: .device, client: client, language: language,
                  maxAttempts: maxAttempts, bounds: bounds, retrying: retrying)
    }

    /// Requests signed by the transport key, for the device that certified it.
    public convenience init(transport: TransportCredentials, client: HTTPClient = ServerTrust.client, language: Language, maxAttempts: Int = 5,
                            bounds: Bounds = .fromEnvironment(), retrying: @escaping @Sendable (SyncProgress) -> Void = { _ in }) {
        self.init(key: transport.key, device: transport.delegation.device, signer: .transport, client: client, language: language,
                  maxAttempts: maxAttempts, bounds: bounds, retrying: retrying)
    }

    private init(key: SigningKey, device: DeviceID, signer: RequestSignature.Signer, client: HTTPClient, language: Language,
                 maxAttempts: Int, bounds: Bounds, retrying: @escaping @Sendable (SyncProgress) -> Void) {
        self.key = key
        self.device = device
        self.signer = signer
        self.client = client
        self.language = language
        self.maxAttempts = maxAttempts
        self.bounds = bounds
        self.retrying = retrying
    }

    /// How a device enrols.
    public enum Enrolment: Sendable {
        /// A worker's own device, alone.
        case selfService
        /// A staff laptop, with the office's invite code.
        case invite(String)
        /// A worker's device taking over the account outreach staff opened, with the claim code.
        case claim(String)
    }

    /// Asks the server at `url` to enrol the device holding this key.
    public func enrol(at url: String, as enrolment: Enrolment) async throws -> EnrolmentAnswer {
        var body: [String: CanonicalValue] = ["publicKey": .string(Base64.encode(key.publicKey.bytes))]
        switch enrolment {
        case .selfService:
            body["enrolment"] = "self"
        case let .invite(code):
            body["enrolment"] = "invite"
            body["code"] = .string(try ClaimCode(code).value)
        case let .claim(code):
            body["enrolment"] = "claim"
            body["code"] = .string(try ClaimCode(code).value)
        }
        let answer = try await send(.POST, url: url, path: "/v1/devices", query: "", body: .object(body))
        guard let object = answer.objectValue, let keyText = object["serverKey"]?.stringValue, let keyBytes = Base64.decode(keyText),
              let serverKey = try? PublicKey(bytes: keyBytes), let roleText = object["role"]?.stringValue,
              let role = DeviceRole(rawValue: roleText), let policy = object["policy"]?.stringValue else {
            throw SyncFailure.badAnswer("enrolment")
        }
        return EnrolmentAnswer(serverURL: url, serverKey: serverKey, role: role, branch: object["branch"]?.stringValue,
                               account: object["account"]?.stringValue, policy: policy)
    }

    /// Registers the transport key `delegation` certifies (sync-protocol.md §5.1); the request
    /// must be signed by the device key.
    public func registerTransport(_ delegation: TransportDelegation, url: String) async throws {
        _ = try await send(.POST, url: url, path: "/v1/device/transport", query: "", body: delegation.envelopeValue)
    }

    static func now() -> Instant {
        Instant(millisSinceEpoch: Int64((Date().timeIntervalSince1970 * 1_000).rounded(.down)))
    }

    /// Sends a signed request, retrying what may pass on a second try, and decodes the answer.
    func send(_ method: HTTPMethod, url: String, path: String, query: String, body: CanonicalValue?) async throws -> CanonicalValue {
        let bytes = try body.map { try CanonicalEncoder.encode($0) } ?? []
        var attempt = 0
        var skewCorrected = false
        var delay = 0.5
        while true {
            attempt += 1
            let signed = RequestSignature(method: method.rawValue, path: path, query: query, device: device,
                                          dateMillis: Self.now().millisSinceEpoch + (await clockOffset.millis),
                                          nonce: Hex.encode(SecureRandom.bytes(count: 16)), body: bytes, signer: signer)
            var request = HTTPClientRequest(url: Self.join(url, path + (query == "?" ? "" : query)))
            request.method = method
            for header in signed.headers(signedWith: key) { request.headers.add(name: header.name, value: header.value) }
            request.headers.add(name: "accept-language", value: language == .chinese ? "zh-CN" : "en")
            if method == .POST {
                request.headers.add(name: "content-type", value: "application/json")
                request.body = .bytes(ByteBuffer(bytes: bytes))
            }
            let status: Int
            let answer: [UInt8]
            var retryAfter: Double?
            // Until the server has answered once, all attempts share the offline bound: a refused
            // connection or an unknown host is reported within it, not after minutes of retries.
            let remaining = await reachability.remaining(within: bounds.offlineSeconds)
            let deadline = remaining.map { min($0, bounds.requestSeconds) } ?? bounds.requestSeconds
            if let remaining { retrying(SyncProgress(phase: .connecting, done: attempt, total: nil, retryInSeconds: remaining)) }
            do {
                let response = try await client.execute(request, timeout: .milliseconds(Int64(max(deadline, 0.2) * 1_000)))
                await reachability.answered()
                status = Int(response.status.code)
                // Delay-seconds (RFC 9110 §10.2.3), a whole number; anything else (a date, "nan",
                // 1e300) is ignored rather than slept on or turned into a time.
                retryAfter = response.headers.first(name: "retry-after").flatMap { Int($0) }.map { Double(min(max($0, 0), 366 * 86_400)) }
                answer = Array(try await response.body.collect(upTo: 64 * 1_048_576).readableBytesView)
            } catch let failure as NIOSSLError {
                _ = failure
                throw SyncFailure.untrustedCertificate(server: url)
            } catch {
                let left = await reachability.remaining(within: bounds.offlineSeconds)
                if let left, left < delay { throw SyncFailure.unreachable(server: url, attempts: attempt) }
                guard attempt < maxAttempts || left != nil else { throw SyncFailure.unreachable(server: url, attempts: attempt) }
                retrying(SyncProgress(phase: .retrying, done: attempt, total: left == nil ? maxAttempts : nil, retryInSeconds: delay))
                try await Task.sleep(for: .milliseconds(Int(delay * 1_000)))
                delay *= 2
                continue
            }
            let value = try? CanonicalDecoder.decode(answer, limit: 64 * 1_048_576)
            if let serverTime = value?.objectValue?["serverTime"]?.integerValue {
                await clockOffset.observe(serverTime: serverTime, localTime: Self.now().millisSinceEpoch)
            }
            if (200..<300).contains(status), let value { return value }
            let report = value.flatMap { try? ErrorReport(canonicalValue: $0) }
                ?? ErrorReport(code: "http.\(status)", message: "The server answered HTTP \(status).")
            if status == 401, report.code == "auth.clock_skew", !skewCorrected, let serverTime = report.details["serverTime"]?.integerValue {
                // This device's clock is off: sign with the server's time from now on, and try again.
                await clockOffset.set(serverTime - Self.now().millisSinceEpoch)
                skewCorrected = true
                continue
            }
            if status == 429 || status >= 500, attempt < maxAttempts {
                // A wait longer than the offline bound is reported with its time, not slept on.
                if let retryAfter, retryAfter > bounds.offlineSeconds {
                    throw SyncFailure.retryLater(server: url, after: Instant(millisSinceEpoch: Self.now().millisSinceEpoch + Int64(retryAfter * 1_000)),
                                                 report: report)
                }
                retrying(SyncProgress(phase: .retrying, done: attempt, total: maxAttempts, retryInSeconds: retryAfter ?? delay))
                try await Task.sleep(for: .milliseconds(Int((retryAfter ?? delay) * 1_000)))
                delay *= 2
                continue
            }
            throw SyncFailure.refused(status: status, report: report)
        }
    }

    static func join(_ base: String, _ path: String) -> String {
        base.hasSuffix("/") ? String(base.dropLast()) + path : base + path
    }
}

/// Whether the server has answered this connection yet, and since when it has been tried.
actor Reachability {
    private var started: Date?
    private var reached = false

    /// Seconds left of `bound` until the server first answers (the clock starts at the first
    /// call); nil once it has answered.
    func remaining(within bound: Double) -> Double? {
        guard !reached else { return nil }
        let start = started ?? Date()
        started = start
        return bound - Date().timeIntervalSince(start)
    }

    func answered() {
        reached = true
    }
}

/// The difference between the server's clock and this device's, learned from its answers.
actor ClockOffset {
    /// The correction applied to request times, once the server refused one for clock skew.
    private(set) var millis: Int64 = 0
    /// The server's time minus this device's, as last seen.
    private(set) var lastSkew: Int64 = 0

    func set(_ value: Int64) {
        millis = value
    }

    func observe(serverTime: Int64, localTime: Int64) {
        lastSkew = serverTime - localTime
    }
}

extension PulledEntry {
    /// Reads one feed entry as the feed carries it (sync-protocol.md §11.6), checking it end to
    /// end: a change-set's signature by the author whose key hashes to its device, a document's
    /// by the server.
    init(item: CanonicalValue, serverKey: PublicKey) throws {
        guard let entry = item.objectValue else { throw SyncFailure.badAnswer("feed entry") }
        if let envelope = entry["changeSet"] {
            guard let authorText = entry["author"]?.stringValue, let authorBytes = Base64.decode(authorText),
                  let author = try? PublicKey(bytes: authorBytes) else { throw SyncFailure.badAnswer("feed author") }
            do {
                let signed = try SignedChangeSet(envelopeValue: envelope)
                try signed.verify(with: author)
                self = .changeSet(signed)
            } catch {
                throw SyncFailure.badAnswer("a change-set in the feed does not verify: \(error.code)")
            }
        } else if let envelope = entry["document"] {
            do {
                self = .document(try SignedDocument(envelope: envelope, serverKey: serverKey))
            } catch {
                throw SyncFailure.badAnswer("a document in the feed is not signed by the server: \(error.code)")
            }
        } else {
            throw SyncFailure.badAnswer("feed entry")
        }
    }
}

extension PulledEntry {
    /// The entry's id in the feed's marks and log (sync-protocol.md §11.6).
    var entryID: Digest256 {
        switch self {
        case let .changeSet(signed): signed.id
        case let .document(document): FeedMark.entryID(document: document.bytes)
        }
    }
}

extension PushResult {
    /// Reads a result of a push's or a bundle's answer, by its sequence (receipts aside).
    init(answer result: CanonicalValue, for sequence: UInt64) throws {
        guard let object = result.objectValue, let status = object["status"]?.stringValue,
              object["seq"]?.integerValue == Int64(sequence) else { throw SyncFailure.badAnswer("push result") }
        let accepted = status == "accepted" || (status == "duplicate" && object["accepted"]?.boolValue != false)
        self.init(sequence: sequence, status: accepted ? .accepted : .rejected, code: object["code"]?.stringValue,
                  message: object["message"]?.stringValue)
    }

    /// Adds to results read from a push's or a bundle's answer (sync-protocol.md §11.5) the
    /// receipts the server key signed (§11.14): the answer's one `receipt` over every result with
    /// a `position` (revision 1.6), or a result's own `receipt` (revision 1.5). A receipt is kept
    /// only for an accepted change-set of this device (`ids`, by sequence) and only when it
    /// verifies; one that does not is not kept.
    static func withReceipts(_ plain: [PushResult], results: [CanonicalValue], receipt: CanonicalValue?,
                             ids: [UInt64: ChangeSetID], serverKey: PublicKey) -> [PushResult] {
        let placed = results.compactMap { result -> (id: ChangeSetID, position: UInt64)? in
            guard let object = result.objectValue, let position = object["position"]?.integerValue, position > 0,
                  let id = object["id"]?.stringValue.flatMap({ Digest256(hex: $0) }) else { return nil }
            return (id, UInt64(position))
        }
        let batch = receipt.flatMap { ReceiptBatch($0, list: placed) }.flatMap { $0.isValid(for: serverKey) ? $0 : nil }
        return zip(plain, results).map { result, item in
            guard result.status == .accepted, let id = ids[result.sequence], let object = item.objectValue else { return result }
            var receipt: LogReceipt?
            if let batch, object["id"]?.stringValue == id.hex, let position = object["position"]?.integerValue, position > 0 {
                receipt = batch.receipt(id: id, position: UInt64(position))
            } else if let own = object["receipt"].flatMap({ LogReceipt($0, id: id) }), own.isValid(for: serverKey) {
                receipt = own
            }
            return PushResult(sequence: result.sequence, status: result.status, code: result.code, message: result.message, receipt: receipt)
        }
    }
}
