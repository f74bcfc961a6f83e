import ProvidentCrypto
import ProvidentDomain
import ProvidentSync

/// What importing a device's bundle did (sync-protocol.md §11.13).
public struct BundleImport: Sendable {
    /// The answer bundle's bytes, for the device.
    public let answer: [UInt8]
    public let device: DeviceID
    public let results: [PushAnswer]
    /// Feed entries the answer carries.
    public let entries: Int
    /// Records the answer carries in a snapshot (the device had none, or the feed was rewound).
    public let snapshotRecords: Int
    /// The device's feed position was not this server's: the answer starts it again from a snapshot.
    public let restarted: Bool
}

extension ServerCore {
    /// Imports a device's request bundle: checks it exactly as a push and a pull are checked,
    /// judges its change-sets in one transaction, and answers with their results and the feed
    /// entries of the device's scope after its cursor (a snapshot when it has none, or when the
    /// feed is not the one it read), signed by the server. Importing a bundle again changes
    /// nothing and answers the same.
    public func importBundle(_ file: [UInt8], language: Language) async throws -> BundleImport {
        let opened = try Bundle.open(file, kind: .request)
        guard let body = opened.body.objectValue else { throw Bundle.Problem.unreadable(detail: "body") }
        func field(_ name: String) throws -> CanonicalValue {
            guard let value = body[name] else { throw Bundle.Problem.unreadable(detail: "no \(name)") }
            return value
        }
        guard let serverText = try field("server").stringValue, Base64.decode(serverText) == key.publicKey.bytes else {
            throw Bundle.Problem.otherServer
        }
        guard let deviceText = try field("device").stringValue, let deviceID = DeviceID(deviceText) else {
            throw Bundle.Problem.unreadable(detail: "device")
        }
        guard let envelopes = try field("changeSets").arrayValue else { throw Bundle.Problem.unreadable(detail: "changeSets") }
        var cursor: UInt64?
        if let value = try field("cursor").integerValue {
            guard value >= 0 else { throw Bundle.Problem.unreadable(detail: "cursor") }
            cursor = UInt64(value)
        }
        var mark: Digest256?
        if let text = try field("mark").stringValue {
            guard let value = Digest256(hex: text) else { throw Bundle.Problem.unreadable(detail: "mark") }
            mark = value
        }
        // The checkpoint of the log the device holds (revision 1.6; absent before): the answer
        // proves the log extends it, and a checkpoint this log does not hold alerts the office.
        var held: String?
        if let value = body["checkpoint"], value != .null {
            guard let text = value.stringValue else { throw Bundle.Problem.unreadable(detail: "checkpoint") }
            held = text
        }

        // The device, as a request's signature is checked (§11.2): known, active, its key or
        // the transport key it certified.
        let (known, registeredTransport) = try await store.readEach { try await $0.signer(deviceID, transport: true) }
        let device = try Self.requireActive(known)
        if let envelope = opened.delegation {
            guard let delegation = try? TransportDelegation(envelope: envelope, devicePublicKey: device.publicKey) else { throw Bundle.Problem.badSignature }
            // A transport key the device replaced no longer speaks for it.
            if let registeredTransport, registeredTransport != delegation.transportKey { throw ServerError.transportUnknown }
            try opened.verify(delegation.transportKey)
        } else {
            try opened.verify(device.publicKey)
        }

        // The change-sets, exactly as a push: all decoded and verified before anything is touched.
        let batch = try Self.decode(envelopes, signedBy: device)
        let outcome = batch.isEmpty ? PushOutcome(answers: [], receipt: nil) : try await judge(batch, from: device, via: "bundle", now: clock(), language: language)
        let heldCheckpoint = try await gossiped(held, by: deviceID)

        // The feed after the device's cursor, or a snapshot.
        let scopes = try await store.read { try await $0.device(deviceID) }?.grant.readScopes ?? device.grant.readScopes
        let given = cursor
        let (head, chainHead, markAtCursor) = try await store.read { tx in
            let head = try await tx.feedHead()
            var atCursor: Digest256?
            if let given, given <= head { atCursor = try await tx.feedMark(at: given) }
            return (head, try await tx.chainHead(of: deviceID)?.sequence ?? 0, atCursor)
        }
        var restart = cursor == nil || (cursor ?? 0) > head
        if let mark, let markAtCursor, mark != markAtCursor { restart = true }
        var snapshot: [CanonicalValue] = []
        var snapshotRecords = 0
        var entries: [CanonicalValue] = []
        var end = cursor ?? 0
        var endMark: Digest256?
        if restart {
            end = head
            endMark = try await store.read { try await $0.feedMark(at: head) }
            var after: RecordKey?
            repeat {
                let start = after
                let found = try await store.read { tx in
                    scopes?.isEmpty == true ? [] : try await tx.scopedTransferForms(after: start, scopes: scopes, limit: SyncLimits.maxSnapshotPage)
                }
                // As a snapshot page: the stored forms go into the document as they are.
                let forms = found.compactMap { entry in entry.form.map { (key: entry.key, form: $0) } }
                snapshot.append(try SignedDocument(asOf: head, transferForms: forms, signingWith: key).envelopeValue)
                snapshotRecords += forms.count
                after = found.count == SyncLimits.maxSnapshotPage ? found.last?.key : nil
            } while after != nil
        } else if scopes?.isEmpty != true {
            while true {
                let from = end
                let page = try await store.read { try await $0.feed(after: from, scopes: scopes, limit: SyncLimits.maxFeedPage) }
                entries += page.map(FeedPage.item)
                guard let last = page.last?.position, page.count == SyncLimits.maxFeedPage else { break }
                end = last
            }
        }
        if !restart {
            // The answer's cursor: the last entry carried, or the head read before them.
            let lastCarried = entries.last?.objectValue?["position"]?.integerValue.map { UInt64($0) }
            end = max(lastCarried ?? head, cursor ?? 0)
            let position = end
            endMark = try await store.read { try await $0.feedMark(at: position) }
        }
        var members: [String: CanonicalValue] = [
            "v": .integer(ChangeSet.protocolVersion), "kind": .string(Bundle.Kind.answer.rawValue), "device": .string(deviceID.rawValue),
            "request": .string(opened.id.hex), "createdAt": .integer(clock().millisSinceEpoch),
            "after": cursor.map { .integer(Int64($0)) } ?? .null,
            "restart": .bool(restart), "snapshot": .array(snapshot), "entries": .array(entries),
            "cursor": .integer(Int64(end)), "mark": endMark.map { .string($0.hex) } ?? .null, "chainHead": .integer(Int64(chainHead)),
        ]
        members.merge(outcome.canonicalMembers) { _, new in new }
        // The log, as a pull carries it (§11.14): the checkpoint, the proof from the device's,
        // the batch proof of the entries carried, and what the auditors cosigned.
        let carried = entries.compactMap { $0.objectValue?["position"]?.integerValue.map { UInt64($0) } }
        members["log"] = try await store.read { tx in
            try await self.logAnswer(tx, size: try await tx.logSize(), parties: try await self.logParties(tx), positions: carried, known: heldCheckpoint?.size)
        }.canonicalValue
        // After a restore, the office's announcements that the log begins again (§11.16).
        if restart, held != nil { members["epochs"] = try await logEpochs()["epochs"] }
        let answer: CanonicalValue = .object(members)
        logger.info("bundle imported", metadata: ["sync.device": .string(deviceID.rawValue), "sync.batch.count": .stringConvertible(batch.count),
                                                  "sync.bundle.entries": .stringConvertible(entries.count)])
        return BundleImport(answer: try Bundle.seal(answer, signingWith: key), device: deviceID, results: outcome.answers, entries: entries.count,
                            snapshotRecords: snapshotRecords, restarted: restart)
    }

    /// Reads the checkpoint a device's bundle gossips (§11.13): one this server signed, or nil.
    /// One its log does not hold — beyond it, or another root at its size — raises an alert for
    /// the office: a device saw a log this server no longer has.
    func gossiped(_ note: String?, by device: DeviceID) async throws -> LogCheckpoint? {
        guard let note, let checkpoint = try? LogCheckpoint.verified(note, key: key.publicKey) else { return nil }
        let now = clock()
        let holds = try await store.read { tx -> Bool in
            do {
                try await Self.requireHeld(tx, size: checkpoint.size, root: checkpoint.root)
                return true
            } catch ServerError.unknownCheckpoint {
                return false
            }
        }
        guard !holds else { return checkpoint }
        logger.warning("a device holds a checkpoint this log does not", metadata: ["sync.device": .string(device.rawValue),
                                                                                   "log.size": .stringConvertible(checkpoint.size)])
        try await store.write { tx in
            try await tx.addAlert(Alert(kind: Alert.logDiverged, device: device,
                                        detail: "holds a checkpoint of \(checkpoint.size) entries this server signed that its log does not hold: restored from an older copy, or its database edited",
                                        at: now))
        }
        return nil
    }
}
