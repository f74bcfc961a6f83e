import ProvidentCrypto
import ProvidentDomain
import ProvidentStore
import ProvidentSync

/// What writing a request bundle put in it.
public struct BundleExport: Sendable {
    /// The file's bytes.
    public let bytes: [UInt8]
    /// Change-sets carried (every one the server has not answered).
    public let changeSets: Int
    /// Where the device stands in the feed (nil: it asks for a snapshot).
    public let cursor: UInt64?
}

/// What importing an answer bundle did.
public struct BundleReport: Sendable {
    public var accepted = 0
    public var refusals: [Refusal] = []
    public var received = 0
    public var snapshotRecords = 0
    public var removed = 0
    /// The answer started this device's feed again from a snapshot.
    public var restarted = false
    /// The feed part was already applied (by this answer before, or a later sync).
    public var alreadyApplied = false
    /// Change-sets the server lacks, marked to go in the next bundle or sync.
    public var toResend = 0
}

/// An answer bundle that cannot be applied where this device stands.
public enum BundleAnswerProblem: ProvidentError, Hashable {
    /// The answer continues the feed from a position this device has not reached.
    case startsAhead(answerAfter: UInt64, cursor: UInt64?)

    public var kind: ErrorKind { .refused }
    public var code: String { "bundle.out_of_order" }

    public func message(_ l: Language) -> String {
        switch self {
        case let .startsAhead(after, cursor):
            l.pick("This answer continues the server's feed from position \(after), but this device stands at \(cursor.map(String.init) ?? "none"). The change-sets' results were recorded; export a new bundle for the rest.",
                   "该答复包从数据流位置 \(after) 继续，而本设备位于 \(cursor.map(String.init) ?? "无")。变更集的结果已记录；其余部分请重新导出同步包。")
        }
    }
}

extension LocalDevice {
    /// Writes a request bundle (sync-protocol.md §11.13): every change-set the server has not
    /// answered, as signed, and where this device stands in the feed; signed by the transport
    /// key (with its delegation) or, given, the device key.
    public func exportBundle(deviceKey: SigningKey? = nil, now: Instant) throws -> BundleExport {
        let state = try replica.syncState()
        guard state.registered, let serverKey = state.serverKey else { throw SyncFailure.notEnrolled }
        let device = try replica.deviceState()
        let changeSets = try replica.pendingChangeSets(limit: Int.max)
        let body: CanonicalValue = .object([
            "v": .integer(ChangeSet.protocolVersion), "kind": .string(Bundle.Kind.request.rawValue), "device": .string(device.id.rawValue),
            "server": .string(Base64.encode(serverKey.bytes)), "createdAt": .integer(now.millisSinceEpoch),
            "changeSets": .array(changeSets.map(\.envelopeValue)), "cursor": state.cursor.map { .integer(Int64($0)) } ?? .null,
            "mark": state.cursor == nil ? .null : state.cursorMark.map { .string($0.hex) } ?? .null,
            // The checkpoint of the server's log this device holds (§11.14): the answer proves
            // the log extends it, and the server learns what its devices saw.
            "checkpoint": try replica.logCheckpoint().map { .string($0.note) } ?? .null,
        ])
        let bytes: [UInt8]
        if let deviceKey {
            bytes = try Bundle.seal(body, signingWith: deviceKey)
        } else {
            guard let transport = try transportCredentials() else {
                throw ClientError.transportKeyUnusable(path: directory.transportKeyPath, problem: .missing)
            }
            bytes = try Bundle.seal(body, signingWith: transport.key, delegation: transport.delegation.envelopeValue)
        }
        return BundleExport(bytes: bytes, changeSets: changeSets.count, cursor: state.cursor)
    }

    /// Applies an answer bundle from this device's server: checks the server's signature and
    /// that the answer is this device's before anything is applied, then records the results,
    /// then the feed entries (or the snapshot). Applying an answer again changes nothing.
    public func importBundle(_ file: [UInt8], now: Instant) throws -> BundleReport {
        let state = try replica.syncState()
        guard state.registered, let serverKey = state.serverKey else { throw SyncFailure.notEnrolled }
        let opened = try Bundle.open(file, kind: .answer)
        guard let body = opened.body.objectValue else { throw Bundle.Problem.unreadable(detail: "body") }
        try opened.verify(serverKey)
        let device = try replica.deviceState()
        guard body["device"]?.stringValue == device.id.rawValue else { throw Bundle.Problem.otherDevice }
        guard let results = body["results"]?.arrayValue, let entryItems = body["entries"]?.arrayValue,
              let snapshotItems = body["snapshot"]?.arrayValue, let restart = body["restart"]?.boolValue,
              let cursorValue = body["cursor"]?.integerValue, cursorValue >= 0,
              let chainHeadValue = body["chainHead"]?.integerValue, chainHeadValue >= 0 else {
            throw Bundle.Problem.unreadable(detail: "answer members")
        }
        let cursor = UInt64(cursorValue)
        let mark = body["mark"]?.stringValue.flatMap { Digest256(hex: $0) }
        let after = body["after"]?.integerValue.map { UInt64(max($0, 0)) }

        // Everything is read and checked before anything is applied.
        var plain: [PushResult] = []
        for result in results {
            guard let sequence = result.objectValue?["seq"]?.integerValue, sequence > 0 else { throw Bundle.Problem.unreadable(detail: "result") }
            plain.append(try PushResult(answer: result, for: UInt64(sequence)))
        }
        // The answer's receipt (§11.14) covers this device's change-sets it placed in the feed.
        let parsed = PushResult.withReceipts(plain, results: results, receipt: body["receipt"],
                                             ids: try replica.changeSetIDs(plain.filter { $0.status == .accepted }.map(\.sequence)), serverKey: serverKey)
        var documents: [SignedDocument] = []
        for item in snapshotItems {
            do {
                documents.append(try SignedDocument(envelope: item, serverKey: serverKey))
            } catch {
                throw SyncFailure.badAnswer("a snapshot page is not signed by the server: \(error.code)")
            }
        }
        guard !restart || !documents.isEmpty else { throw Bundle.Problem.unreadable(detail: "a snapshot of no pages") }
        let entries = try entryItems.map { try PulledEntry(item: $0, serverKey: serverKey) }
        let positions = entryItems.map { $0.objectValue?["position"]?.integerValue.map { UInt64(max($0, 0)) } ?? 0 }

        var report = BundleReport()
        // Only answers to change-sets still waiting count: an answer imported again tells nothing new.
        let waiting = Set(try replica.outbox().map(\.sequence))
        report.refusals = try replica.recordPushResults(parsed)
        report.accepted = parsed.filter { $0.status == .accepted && waiting.contains($0.sequence) }.count
        let drift = SyncError.clockDrift(aheadMillis: 0, allowedMillis: 0).code
        if report.refusals.contains(where: { $0.code == drift }) { try replica.rewindClockAfterDrift(code: drift) }

        // The answer's log (§11.14), checked like a pull's before any entry or snapshot is applied;
        // an answer of a server before revision 1.6 carries none and is applied unchecked.
        let applying = restart ? !(state.cursor == cursor && state.cursorMark == mark) : (state.cursor.map { $0 < cursor } ?? true)
        var checkpoint: HeldCheckpoint?
        if applying, let log = body["log"], log != .null {
            let ids = zip(positions, entries).map { (position: $0.0, id: $0.1.entryID) }
            let held = try replica.logCheckpoint()
            // A server restored from an older copy: its log begins again only as an office device
            // this device knows announced it (§11.16); a device that knows none takes it as before.
            var epoch: String?
            let offices = try replica.logOffices()
            if restart, state.cursor != nil, let held, !offices.isEmpty,
               let note = log.objectValue?["checkpoint"]?.stringValue, let given = try? LogCheckpoint.verified(note, key: serverKey),
               !LogCheck.extends(held, to: given, proof: log.objectValue?["consistency"]) {
                guard let announced = LogCheck.announced(body["epochs"]?.arrayValue ?? [], checkpoint: given, held: held, offices: offices) else {
                    throw SyncFailure.restoreUnannounced
                }
                epoch = announced
            }
            do {
                let checked = try LogCheck.page(log, entries: ids, held: held, serverKey: serverKey,
                                                restored: restart && state.cursor != nil, epoch: epoch,
                                                witnesses: LogCheck.Witnesses(known: try replica.logWitnesses(), quorum: policy.witnesses))
                for finding in checked.findings { try replica.addEvidence(kind: finding.kind, material: finding.material, at: now) }
                try replica.learnWitnesses(checked.learned, at: now)
                try replica.learnOffices(checked.offices, at: now)
                if checked.restarted { try replica.markReceiptsBeforeRestart() }
                checkpoint = checked.checkpoint
            } catch let violation as LogViolation {
                try replica.addEvidence(kind: violation.kind, material: violation.material, at: now)
                throw SyncFailure.logViolation(kind: violation.kind, findings: 1)
            }
        }

        if restart {
            if state.cursor == cursor, state.cursorMark == mark {
                report.alreadyApplied = true
            } else {
                // A snapshot: this device had none, or the server's feed is not the one it read.
                try replica.applyWholeSnapshot(documents, mark: mark, checkpoint: checkpoint, now: now)
                for document in documents {
                    if case let .records(states) = document.content { report.snapshotRecords += states.count }
                }
                report.restarted = state.cursor != nil
            }
        } else if let have = state.cursor, have >= cursor {
            report.alreadyApplied = true
        } else {
            guard let after, let have = state.cursor, have >= after else { throw BundleAnswerProblem.startsAhead(answerAfter: after ?? 0, cursor: state.cursor) }
            // Entries this device has already read (a sync since the export) are passed over.
            let fresh = zip(positions, entries).filter { $0.0 > have }.map(\.1)
            for entry in fresh {
                if case let .document(document) = entry, case let .scopeExit(keys) = document.content { report.removed += keys.count }
            }
            try replica.applyFeedPage(fresh, cursor: cursor, mark: mark, checkpoint: checkpoint, now: now)
            report.received = fresh.count
        }

        // What the server lacks of this device's chain goes in the next bundle.
        let chainHead = UInt64(chainHeadValue)
        if chainHead < (try replica.lastAnsweredSequence()) {
            let resent = try replica.resendOutbox(from: chainHead + 1)
            if let missing = resent.missing { throw SyncFailure.cannotRefill(sequences: missing, keptDays: policy.keepSentDays) }
            report.toResend = resent.count
        }
        return report
    }
}
