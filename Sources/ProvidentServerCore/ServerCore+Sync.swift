import ProvidentCrypto
import ProvidentDomain
import ProvidentSync
import Synchronization

/// A request as the HTTP layer received it, for the core to authenticate and answer.
public struct SignedRequest: Sendable {
    public let method: String
    public let path: String
    /// The query with its leading `?`, or empty.
    public let query: String
    /// Header values by lower-case name (the first of each).
    public let headers: [String: String]
    public let body: [UInt8]
    /// The language the client reads (`Accept-Language`).
    public let language: Language
    /// The client's address, for rate limits.
    public let address: String

    public init(method: String, path: String, query: String, headers: [String: String], body: [UInt8], language: Language,
                address: String) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.language = language
        self.address = address
    }

    /// A query parameter, as given.
    public func parameter(_ name: String) -> String? {
        for pair in query.drop(while: { $0 == "?" }).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.first.map(String.init) == name { return parts.count > 1 ? String(parts[1]).removingPercentEncodingLite : "" }
        }
        return nil
    }
}

/// The limits of sync-protocol.md §12 that the server enforces.
public enum SyncLimits {
    public static let maxBodyBytes = 8 * 1_048_576
    public static let maxChangeSetsPerPush = 500
    public static let defaultFeedPage = 500
    public static let maxFeedPage = 2_000
    public static let defaultSnapshotPage = 1_000
    public static let maxSnapshotPage = 5_000
}

/// A page of the feed for one device (§11.6).
public struct FeedPage: Sendable {
    public let entries: [FeedEntry]
    /// The position the device stores after applying the page.
    public let cursor: UInt64
    public let head: UInt64
    public let more: Bool
    /// The feed's mark at `cursor`, which the device sends with its next pull (nil where the
    /// entry has none).
    public let mark: Digest256?
    /// The sequence of the pulling device's last change-set the server holds (0 for none): a
    /// device that has more sends them again (the server was restored).
    public let chainHead: UInt64
    /// The log's checkpoint and proofs for this page (§11.14).
    public let log: LogAnswer

    /// The answer's members, `serverTime` aside.
    /// One entry as the feed carries it.
    public static func item(_ entry: FeedEntry) -> CanonicalValue {
        switch entry.content {
        case let .changeSet(bytes, signature, author):
            .object(["position": .integer(Int64(entry.position)), "author": .string(Base64.encode(author.bytes)),
                     "changeSet": .object(["changeSet": .string(Base64.encode(bytes)), "signature": .string(Base64.encode(signature))])])
        case let .document(bytes, signature):
            .object(["position": .integer(Int64(entry.position)),
                     "document": .object(["document": .string(Base64.encode(bytes)), "signature": .string(Base64.encode(signature))])])
        }
    }

    public var canonicalMembers: [String: CanonicalValue] {
        var members = membersBesideEntries
        members["entries"] = .array(entries.map(Self.item))
        return members
    }

    var membersBesideEntries: [String: CanonicalValue] {
        ["cursor": .integer(Int64(cursor)), "head": .integer(Int64(head)), "more": .bool(more), "mark": mark.map { .string($0.hex) } ?? .null,
         "chainHead": .integer(Int64(chainHead)), "log": log.canonicalValue]
    }

    /// The answer's canonical bytes with `serverTime`: the bytes `canonicalMembers` encodes to,
    /// with the entries written straight into them. As a tree of values, a page of 2,000
    /// entries took about 1.8 ms to build and 2.2 ms to encode.
    public func canonicalBytes(serverTime: Int64) throws(CanonicalError) -> [UInt8] {
        var list: [UInt8] = [UInt8(ascii: "[")]
        list.reserveCapacity(entries.count * 700)
        for (index, entry) in entries.enumerated() {
            if index > 0 { list.append(UInt8(ascii: ",")) }
            try Self.write(entry, into: &list)
        }
        list.append(UInt8(ascii: "]"))
        var members = membersBesideEntries
        members["serverTime"] = .integer(serverTime)
        return try CanonicalEncoder.encode(members, splicing: "entries", canonical: list)
    }

    /// One entry as `item` spells it, written as canonical bytes: its members in key order.
    static func write(_ entry: FeedEntry, into out: inout [UInt8]) throws(CanonicalError) {
        switch entry.content {
        case let .changeSet(bytes, signature, author):
            out += #"{"author":"#.utf8
            CanonicalEncoder.appendBase64(author.bytes, to: &out)
            out += #","changeSet":"#.utf8
            CanonicalEncoder.appendEnvelope("changeSet", bytes: bytes, signature: signature, to: &out)
        case let .document(bytes, signature):
            out += #"{"document":"#.utf8
            CanonicalEncoder.appendEnvelope("document", bytes: bytes, signature: signature, to: &out)
        }
        out += #","position":"#.utf8
        try CanonicalEncoder.appendInteger(Int64(entry.position), to: &out)
        out.append(UInt8(ascii: "}"))
    }
}

/// A page of a device's snapshot (§11.7).
public struct SnapshotPage: Sendable {
    public let document: SignedDocument
    public let next: RecordKey?
    /// How many records the scopes hold: counted for the first page only (§11.7), null after.
    public let total: Int?
    /// The feed's mark at the document's `asOf`.
    public let mark: Digest256?

    /// The answer's members, `serverTime` aside.
    public var canonicalMembers: [String: CanonicalValue] {
        var members = membersBesideDocument
        members["document"] = document.envelopeValue
        return members
    }

    var membersBesideDocument: [String: CanonicalValue] {
        ["next": next.map { .string("\($0.type)/\($0.id)") } ?? .null, "total": total.map { .integer(Int64($0)) } ?? .null,
         "mark": mark.map { .string($0.hex) } ?? .null]
    }

    /// The answer's canonical bytes with `serverTime`: the bytes `canonicalMembers` encodes to,
    /// with the document's base64 written straight into them rather than into a string of
    /// its own (about 2.7 MB for a page of 5,000 records) that the encoder then copies.
    public func canonicalBytes(serverTime: Int64) throws(CanonicalError) -> [UInt8] {
        var members = membersBesideDocument
        members["serverTime"] = .integer(serverTime)
        return try CanonicalEncoder.encode(members, splicing: "document", canonical: document.envelopeBytes)
    }
}

extension ServerCore {
    // MARK: Requests

    /// Checks a request's signature (§11.2) for a known, active device, its time window and,
    /// unless the caller records it with its own work, its nonce. A caller that checked the
    /// signature already names the key it checked it with (`verifiedWith`): the same key read
    /// again is not checked twice.
    public func authenticate(_ request: SignedRequest, recordNonce: Bool = true, allowTransport: Bool = true,
                             verifiedWith verified: PublicKey? = nil) async throws -> (RegisteredDevice, RequestSignature) {
        let (signed, signature) = try Self.readSignature(request)
        let (known, transportKey) = try await store.readEach { try await $0.signer(signed.device, transport: signed.signer == .transport) }
        if known?.status != .active { signers.forget(signed.device) }
        let device = try Self.requireActive(known)
        switch signed.signer {
        case .device:
            if device.publicKey != verified { try check(signed, signature, publicKey: device.publicKey) }
            if store.isRemote { signers.remember(.init(device: device, key: device.publicKey, transport: false)) }
        case .transport:
            // The transport key syncs, nothing more (sync-protocol.md §5.1).
            guard allowTransport else { throw ServerError.transportNotAllowed }
            // A key the server does not hold, or no longer holds (replaced): the same answer,
            // so the device knows to register its key again with the passphrase.
            guard let transportKey else { throw ServerError.transportUnknown }
            do {
                if transportKey != verified { try check(signed, signature, publicKey: transportKey) }
            } catch ServerError.badRequestSignature {
                throw ServerError.transportUnknown
            }
            if store.isRemote { signers.remember(.init(device: device, key: transportKey, transport: true)) }
        }
        if recordNonce {
            guard try await useNonce(signed, read: request.method == "GET") else { throw ServerError.replay }
        }
        return (device, signed)
    }

    /// Records a request's nonce and the device's last-seen time: false for a nonce used already.
    /// A read (GET) changes nothing else; a crash that loses them could only let the same read be
    /// answered again, so its commit does not wait for the disk. Every request that writes
    /// commits durably.
    func useNonce(_ signed: RequestSignature, read: Bool) async throws -> Bool {
        let now = clock()
        return try await store.useNonce(signed.nonce, device: signed.device, at: now, expiresAt: nonceExpiry(now), durably: !read)
    }

    /// Answers a signed read (GET) with what `answer` reads for its device. Once the signature
    /// is checked, a remote database records the nonce while `answer` reads, not before it: the
    /// two touch nothing in common, and a replay's answer is thrown away unsent. The nonce's
    /// round trip then costs an exchange nothing.
    public func answering<T: Sendable>(_ request: SignedRequest, _ answer: @Sendable (RegisteredDevice) async throws -> T) async throws -> T {
        guard store.isRemote else {
            let (device, _) = try await authenticate(request)
            return try await answer(device)
        }
        // A device this server found signing before, whose key verifies the request again: its
        // answer is read with the device as found then, at once with the device read again.
        let guess = likelySigner(of: request)
        async let early = Self.outcome(for: guess?.device, answer)
        let (device, signed) = try await authenticate(request, recordNonce: false, verifiedWith: guess?.key)
        async let fresh = useNonce(signed, read: true)
        // Kept if the device may still read what it could (the device read again is the same
        // device, and active); otherwise read again for the device as it is.
        let kept = await early
        let result = if let kept, guess?.device.grant == device.grant { kept } else { await Self.outcome { try await answer(device) } }
        // A replay is refused as such whatever its answer would have been.
        guard try await fresh else { throw ServerError.replay }
        return try result.get()
    }

    private static func outcome<T>(_ work: () async throws -> T) async -> Result<T, any Error> {
        do {
            return .success(try await work())
        } catch {
            return .failure(error)
        }
    }

    /// `answer` for `device`, when there is one.
    private static func outcome<T>(for device: RegisteredDevice?, _ answer: (RegisteredDevice) async throws -> T) async -> Result<T, any Error>? {
        guard let device else { return nil }
        return await outcome { try await answer(device) }
    }

    /// The device that signed `request` as this server last found it (only active devices are
    /// remembered), with the key that verified it then, when the request's signature checks
    /// out against that key: nothing for a device not seen, or whose key does not verify it.
    private func likelySigner(of request: SignedRequest) -> SignerMemory.Signer? {
        guard let (signed, signature) = try? Self.readSignature(request), let known = signers.signer(signed.device),
              known.transport == (signed.signer == .transport),
              (try? check(signed, signature, publicKey: known.key)) != nil else { return nil }
        return known
    }

    /// The device, when it is known and active; otherwise why not.
    static func requireActive(_ known: RegisteredDevice?) throws -> RegisteredDevice {
        guard let device = known else { throw ServerError.unknownDevice }
        switch device.status {
        case .active: return device
        case .revoked: throw ServerError.deviceRevoked
        case .quarantined: throw ServerError.deviceQuarantined
        }
    }

    /// Until when a nonce is remembered: twice the request window.
    func nonceExpiry(_ now: Instant) -> Instant {
        Instant(millisSinceEpoch: now.millisSinceEpoch + 2 * Int64(settings.requestWindowSeconds) * 1_000)
    }

    static func readSignature(_ request: SignedRequest) throws -> (RequestSignature, Signature) {
        // Through a Result: a typed catch here trips an ownership bug in the Swift 6.3 compiler.
        let result = Result { () throws(RequestSignature.Problem) -> (RequestSignature, Signature) in
            try RequestSignature.received(method: request.method, path: request.path, query: request.query, body: request.body) { name in
                request.headers[name]
            }
        }
        switch result {
        case let .success(received): return received
        case .failure(.missingHeader(let name)): throw ServerError.missingHeader(name)
        case .failure(.digestMismatch): throw ServerError.digestMismatch
        case .failure: throw ServerError.badRequestSignature
        }
    }

    func check(_ signed: RequestSignature, _ signature: Signature, publicKey: PublicKey) throws {
        let now = clock().millisSinceEpoch
        let verified = Result { () throws(RequestSignature.Problem) in
            try signed.verify(signature, publicKey: publicKey, nowMillis: now, windowMillis: Int64(settings.requestWindowSeconds) * 1_000)
        }
        switch verified {
        case .success: return
        case .failure(.outsideWindow(let skew, _)): throw ServerError.clockSkew(skewMillis: skew, serverTime: now)
        case .failure: throw ServerError.badRequestSignature
        }
    }

    /// Reads a request body as canonical JSON (§11.1).
    public static func canonicalBody(_ request: SignedRequest) throws -> CanonicalValue {
        do {
            return try CanonicalDecoder.decode(request.body, limit: SyncLimits.maxBodyBytes)
        } catch {
            throw SyncError.notCanonical(error)
        }
    }

    // MARK: Push

    /// Answers a push (§11.5): the request is checked, every envelope decoded and verified
    /// against the pushing device before anything is touched, then the change-sets are judged
    /// in one transaction, committed before the answer, with the request's nonce.
    public func push(_ request: SignedRequest) async throws -> PushOutcome {
        let value = try Self.canonicalBody(request)
        let (device, signed) = try await authenticate(request, recordNonce: false)
        guard let object = value.objectValue, object.count == 1, let envelopes = object["changeSets"]?.arrayValue else {
            throw ServerError.malformedRequest(request.language.pick("the push must be {\"changeSets\":[envelope, …]}.",
                                                                     "推送的格式须为 {\"changeSets\":[信封, …]}。"))
        }
        guard (1...SyncLimits.maxChangeSetsPerPush).contains(envelopes.count) else { throw ServerError.pushSize(maximum: SyncLimits.maxChangeSetsPerPush) }
        let batch = try Self.decode(envelopes, signedBy: device)
        let outcome = try await judgeWithOthers(batch, from: device, nonce: signed.nonce, language: request.language)
        let answers = outcome.answers
        let accepted = answers.filter { $0.status == .accepted }.count
        logger.info("push", metadata: ["sync.device": .string(device.id.rawValue), "sync.batch.count": .stringConvertible(batch.count),
                                       "sync.batch.accepted": .stringConvertible(accepted)])
        let forbidden = answers.filter { $0.code == DomainError.outOfScope.code }.count
        // Writing outside the device's scope is a 403 (§11.5), though the push was committed.
        if forbidden > 0 { throw ServerError.pushPartlyForbidden(forbidden: forbidden, results: outcome) }
        return outcome
    }

    /// Judges a device's change-sets in one transaction, as a bundle: a fork quarantines the
    /// device and raises the office's alert. (A push is judged with the others waiting.)
    func judge(_ batch: [SignedChangeSet], from device: RegisteredDevice, via channel: String, now: Instant,
               language: Language) async throws -> PushOutcome {
        let answers = try await quarantiningAFork(of: device.id) {
            try await ingest(now: now) { ingest in
                try await ingest.accept(batch, from: device, language: language)
            } finished: { ingest, answers in
                ingest.placed(answers, device: device.id)
            }
        }
        return outcome(of: answers, via: channel, now: now)
    }

    /// What `judging` gives; a fork it finds quarantines the device and raises the office's alert.
    func quarantiningAFork<T>(of device: DeviceID, _ judging: () async throws -> T) async throws -> T {
        do {
            return try await judging()
        } catch let ServerError.chainFork(sequence, index) {
            try await quarantine(device, reason: "signed two different change-sets for sequence \(sequence)")
            logger.warning("device quarantined after a fork", metadata: ["sync.device": .string(device.rawValue),
                                                                         "sync.sequence": .stringConvertible(sequence)])
            throw ServerError.chainFork(sequence: sequence, index: index)
        }
    }

    /// The answer to a push or bundle whose change-sets were judged and committed.
    func outcome(of answers: [PushAnswer], via channel: String, now: Instant) -> PushOutcome {
        ServerMetrics.judged(answers, via: channel)
        // The server's signed promise of the place of every change-set the feed holds (§11.14):
        // one signature for the whole answer, made once the transaction is committed.
        let placed = answers.compactMap { answer in answer.accepted ? answer.position.map { (id: answer.id, position: $0) } : nil }
        return PushOutcome(answers: answers, receipt: ReceiptBatch.signed(placed, time: now.millisSinceEpoch, key: key))
    }

    /// Decodes every envelope of a push and checks, in this order, that each is well-formed
    /// (400), names the pushing device (403 `scope.foreign_change_set`) and carries that
    /// device's signature (401 `signature.invalid`); the first that does not refuses the push.
    static func decode(_ envelopes: [CanonicalValue], signedBy device: RegisteredDevice) throws -> [SignedChangeSet] {
        var batch: [SignedChangeSet] = []
        batch.reserveCapacity(envelopes.count)
        for (index, envelope) in envelopes.enumerated() {
            let signed: SignedChangeSet
            do {
                signed = try SignedChangeSet(envelopeValue: envelope)
            } catch {
                throw ServerError.changeSetRefused(error, index: index)
            }
            guard signed.changeSet.device == device.id else { throw ServerError.foreignChangeSet(index: index) }
            do {
                try signed.verify(with: device.publicKey)
            } catch {
                throw ServerError.changeSetRefused(.badSignature, index: index)
            }
            batch.append(signed)
        }
        return batch
    }

    /// Runs change-set work in one write transaction: what `body` accepts is published to the
    /// feed as the transaction ends; `finished` then sees the result with the feed positions
    /// taken.
    func ingest<T: Sendable>(now: Instant, _ body: @escaping @Sendable (Ingest) async throws -> T,
                             finished: @escaping @Sendable (Ingest, T) -> T = { $1 }) async throws -> T {
        // From the first time the body runs: a transaction the store runs again counts whole.
        let began = Mutex<ContinuousClock.Instant?>(nil)
        let result = try await store.write { tx in
            began.withLock { if $0 == nil { $0 = .now } }
            let ingest = Ingest(core: self, tx: tx, now: now)
            let result = try await body(ingest)
            try await ingest.finish()
            return finished(ingest, result)
        }
        if let began = began.withLock({ $0 }) { ServerMetrics.ingestTransaction(held: .now - began) }
        return result
    }

    /// `ingest`, or with `dryRun` the same work in a transaction rolled back at the end: its
    /// result says what would have happened, and nothing changed.
    func ingest<T: Sendable>(now: Instant, dryRun: Bool, _ body: @escaping @Sendable (Ingest) async throws -> T) async throws -> T {
        do {
            return try await ingest(now: now) { ingest in
                let result = try await body(ingest)
                if dryRun { throw RolledBack(result: result) }
                return result
            }
        } catch let rolledBack as RolledBack<T> {
            return rolledBack.result
        }
    }

    // MARK: Pull

    /// A page of the feed for a device (§11.6).
    public func feedPage(for device: RegisteredDevice, request: SignedRequest) async throws -> FeedPage {
        guard let cursorText = request.parameter("cursor"), let cursor = UInt64(cursorText), cursor < 1 << 53 else {
            throw ServerError.badQuery(request.language.pick("give cursor, the last feed position you applied (0 after a snapshot of an empty scope).",
                                                             "请给出 cursor：已应用的最后一个数据流位置（空范围的快照之后为 0）。"))
        }
        var given: Digest256?
        if let text = request.parameter("mark") {
            guard let mark = Digest256(hex: text) else {
                throw ServerError.badQuery(request.language.pick("mark must be 64 hex digits, as given in the previous answer's mark.",
                                                                 "mark 须为 64 位十六进制数，与上次答复中的 mark 一致。"))
            }
            given = mark
        }
        let limit = try Self.limit(request, default: SyncLimits.defaultFeedPage, maximum: SyncLimits.maxFeedPage)
        let logSize = try request.parameter("logSize").map { text in
            guard let size = UInt64(text), size < 1 << 53 else {
                throw ServerError.badQuery(request.language.pick("logSize must be the tree size of the last checkpoint you verified (0 for none).",
                                                                 "logSize 须为上次核验的检查点的条目数（没有则为 0）。"))
            }
            return size
        }
        let scopes = device.grant.readScopes
        let id = device.id
        let checked = given != nil
        // Three statements and no transaction: the page is one statement; `logAnswer` takes the
        // auditors' cosignatures only up to the log's size read with the page, and the log's
        // nodes never change once written. A remote database reads the page and the log's
        // parties at once; SQLite reads all three in one go.
        let (view, entries, log): (FeedView, [FeedEntry], LogAnswer)
        if store.isRemote {
            async let parties = store.readEach { tx in try await self.logParties(tx) }
            let (page, read) = try await store.readEach { tx in
                try await tx.feedPage(of: id, after: cursor, scopes: scopes, limit: limit, markAtCursor: checked)
            }
            let named = try await parties
            (view, entries) = (page, read)
            log = try await store.readEach { tx in
                try await self.logAnswer(tx, size: page.logged, parties: named, positions: read.map(\.position), known: logSize)
            }
        } else {
            (view, entries, log) = try await store.readEach { tx in
                let (view, entries) = try await tx.feedPage(of: id, after: cursor, scopes: scopes, limit: limit, markAtCursor: checked)
                return (view, entries, try await self.logAnswer(tx, size: view.logged, parties: try await self.logParties(tx),
                                                                positions: entries.map(\.position), known: logSize))
            }
        }
        let head = view.head
        guard cursor <= head else { throw ServerError.cursorAhead(cursor: cursor, head: head) }
        // The device read a different history up to its cursor (sync-protocol.md §11.6).
        if let given, let markAtCursor = view.markAtCursor, given != markAtCursor { throw ServerError.feedRewound(cursor: cursor) }
        // The page ends at its last entry, or, when it has none, at the head.
        let last = entries.last?.position ?? head
        return FeedPage(entries: entries, cursor: last, head: head, more: entries.count == limit,
                        mark: entries.last.map(\.mark) ?? view.markAtHead, chainHead: view.chainHead, log: log)
    }

    /// The snapshot page `request` asks for, for the device that signed it (`answering`),
    /// counted as served once it is the answer: a page read early and thrown away is not.
    public func answeringSnapshot(_ request: SignedRequest) async throws -> SnapshotPage {
        let page = try await answering(request) { device in try await snapshotPage(for: device, request: request) }
        ServerMetrics.snapshotPageServed()
        return page
    }

    /// A page of the snapshot of everything a device may see (§11.7): whole records in key
    /// order, in a document signed by the server as of the feed position when it was read.
    public func snapshotPage(for device: RegisteredDevice, request: SignedRequest) async throws -> SnapshotPage {
        var after: RecordKey?
        if let text = request.parameter("after") {
            let parts = text.split(separator: "/", maxSplits: 1)
            guard parts.count == 2 else {
                throw ServerError.badQuery(request.language.pick("after must be type/id, as given in next.", "after 须为 类型/ID，与 next 给出的一致。"))
            }
            after = RecordKey(type: String(parts[0]), id: String(parts[1]))
        }
        let limit = try Self.limit(request, default: SyncLimits.defaultSnapshotPage, maximum: SyncLimits.maxSnapshotPage)
        let scopes = device.grant.readScopes
        let start = after
        let (head, mark, forms, keys, total) = try await store.read { tx in
            let head = try await tx.feedHead()
            let mark = try await tx.feedMark(at: head)
            guard scopes?.isEmpty != true else { return (head, mark, [(key: RecordKey, form: [UInt8])](), [RecordKey](), start == nil ? 0 : nil) }
            let found = try await tx.scopedTransferForms(after: start, scopes: scopes, limit: limit)
            // Counting is a scan of the scopes' records: once, on the first page (§11.7).
            return (head, mark, found.compactMap { entry in entry.form.map { (key: entry.key, form: $0) } }, found.map(\.key),
                    start == nil ? try await tx.scopedRecordCount(scopes: scopes) : nil)
        }
        // The stored forms go into the document as they are: decoding and encoding them again
        // would give the same bytes.
        let document = try SignedDocument(asOf: head, transferForms: forms, signingWith: key)
        return SnapshotPage(document: document, next: keys.count == limit ? keys.last : nil, total: total, mark: mark)
    }

    static func limit(_ request: SignedRequest, default value: Int, maximum: Int) throws -> Int {
        guard let text = request.parameter("limit") else { return value }
        guard let limit = Int(text), (1...maximum).contains(limit) else {
            throw ServerError.badQuery(request.language.pick("limit must be 1 to \(maximum).", "limit 须为 1 到 \(maximum)。"))
        }
        return limit
    }

    /// The feed's last position.
    public func feedHead() async throws -> UInt64 {
        try await store.read { try await $0.feedHead() }
    }

    /// What a device learns about itself and the server (§11.3).
    public func describe(_ device: RegisteredDevice) -> [String: CanonicalValue] {
        var result: [String: CanonicalValue] = [
            "device": .string(device.id.rawValue), "role": .string(device.grant.role.rawValue), "status": .string(device.status.rawValue),
            "serverKey": .string(Base64.encode(key.publicKey.bytes)), "serverDevice": .string(id.rawValue), "policy": .string(policyText),
        ]
        if let branch = device.grant.branch { result["branch"] = .string(branch) }
        if let account = device.grant.accountID { result["account"] = .string(account) }
        return result
    }
}

extension String {
    /// The text with `%XX` escapes and `+` decoded, or unchanged where an escape is malformed.
    var removingPercentEncodingLite: String {
        var bytes: [UInt8] = []
        var iterator = Array(utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%"), iterator.count >= 2,
               let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Thrown out of a dry run's transaction to roll it back, carrying its result.
struct RolledBack<T: Sendable>: Error {
    let result: T
}
