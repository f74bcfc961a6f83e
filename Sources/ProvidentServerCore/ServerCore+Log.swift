import ProvidentCrypto
import ProvidentSync

/// What a feed page says of the log (sync-protocol.md §11.14): the server's checkpoint at the
/// feed's head, the proof that it extends the checkpoint the device holds, and the proof that
/// the page's entries are in it.
public struct LogAnswer: Sendable {
    /// The signed note.
    public let checkpoint: String
    public let size: UInt64
    /// From the size the device gave to `size`; nil when the device gave none, or one beyond
    /// `size` (the log is shorter than what the device saw).
    public let consistency: [Digest256]?
    /// The batch proof (§11.14) of the page's entries in the tree of `size` entries.
    public let proof: [Digest256]
    /// The active auditors' verifier keys (§11.15).
    public let witnesses: [String]
    /// The largest checkpoint enough auditors cosigned, as a signed note with their lines.
    public let witnessed: String?
    /// From the witnessed checkpoint's size to `size`.
    public let witnessedConsistency: [Digest256]?
    /// The active office devices' verifier keys: they announce the log's epochs (§11.16).
    public let offices: [String]

    public var canonicalValue: CanonicalValue {
        .object(["checkpoint": .string(checkpoint), "consistency": consistency.map(Self.hashes) ?? .null, "proof": Self.hashes(proof),
                 "witnesses": .array(witnesses.map(CanonicalValue.string)), "witnessed": witnessed.map(CanonicalValue.string) ?? .null,
                 "witnessedConsistency": witnessedConsistency.map(Self.hashes) ?? .null, "offices": .array(offices.map(CanonicalValue.string))])
    }

    /// Hashes as a JSON array of base64 strings.
    public static func hashes(_ list: [Digest256]) -> CanonicalValue {
        .array(list.map { .string(Base64.encode($0.bytes)) })
    }
}

extension ServerCore {
    // MARK: Writing the log

    /// Appends the entries at `first`, `first + 1`, … (their ids) to the log of `size` entries
    /// (as the reservation of the feed's end read it), under the feed end's lock. A log behind the
    /// feed (a database from before it) first takes the entries it lacks.
    static func appendToLog(_ tx: any ServerWriting, size: UInt64, first: UInt64, ids: [Digest256]) async throws {
        var leaves: [Digest256] = []
        if size + 1 < first {
            let missing = try await tx.feedEntryIDs(after: size, through: first - 1)
            for (offset, entry) in missing.enumerated() where entry.position != size + 1 + UInt64(offset) {
                throw StoreFailure.damaged("the feed has no entry at position \(size + 1 + UInt64(offset)) for its log")
            }
            leaves = missing.map { MerkleLog.leafHash($0.id) }
        }
        guard size + UInt64(leaves.count) + 1 == first else {
            throw StoreFailure.damaged("the log holds \(size) entries, the feed \(first - 1) before position \(first)")
        }
        leaves += ids.map(MerkleLog.leafHash)
        let frontier = try await tx.logNodes(MerkleLog.frontier(size: size))
        guard let added = MerkleLog.appending(leaves, to: size, frontier: frontier) else {
            throw StoreFailure.damaged("the log lacks a node of its right edge at size \(size)")
        }
        try await tx.appendLog(added, size: size + UInt64(leaves.count))
    }

    /// Brings the log up to the feed (a database written before the log existed), 10,000
    /// entries per transaction; returns how many it added.
    @discardableResult
    public func catchUpLog() async throws -> UInt64 {
        var added: UInt64 = 0
        while try await store.read({ tx in try await tx.logSize() < tx.feedHead() }) {
            let step = try await store.write { tx -> UInt64 in
                // Taking no position locks the feed's end like a writer does; its first free
                // position is one past the head.
                let reserved = try await tx.reserveFeedPositions(0)
                let through = min(reserved.first - 1, reserved.logged + 10_000)
                guard reserved.logged < through else { return 0 }
                // Appending nothing after `through` takes the entries up to it from the feed.
                try await Self.appendToLog(tx, size: reserved.logged, first: through + 1, ids: [])
                return through - reserved.logged
            }
            guard step > 0 else { break }
            added += step
        }
        return added
    }

    // MARK: Reading the log

    /// Runs a computation over the log's stored nodes: once to learn which it reads, then, after
    /// one query for them, for real.
    static func withLogNodes<T>(_ tx: any ServerReading, _ body: ((LogNode) -> Digest256) -> T) async throws -> T {
        var asked: Set<LogNode> = []
        _ = body { node in
            asked.insert(node)
            return .zero
        }
        let wanted = asked.sorted()
        let found = try await tx.logNodes(wanted)
        if let missing = wanted.first(where: { found[$0] == nil }) {
            throw StoreFailure.damaged("the log lacks its node \(missing.level)/\(missing.index)")
        }
        return body { found[$0] ?? .zero }
    }

    /// The log's origin: its name in checkpoints.
    public var logOrigin: String { LogCheckpoint.origin(for: key.publicKey) }

    /// Throws `unknownCheckpoint` unless the log, as this transaction sees it, holds a tree of
    /// `size` entries with `root`; returns the log's size.
    @discardableResult
    static func requireHeld(_ tx: any ServerReading, size: UInt64, root: Digest256) async throws -> UInt64 {
        let logSize = try await tx.logSize()
        guard size <= logSize,
              try await withLogNodes(tx, { MerkleLog.root(size: size, node: $0) }) == root else {
            throw ServerError.unknownCheckpoint(size: size, logSize: logSize)
        }
        return logSize
    }

    /// The checkpoint of the log as this transaction sees it.
    static func checkpoint(_ tx: any ServerReading, origin: String) async throws -> LogCheckpoint {
        let size = try await tx.logSize()
        let root = try await withLogNodes(tx) { MerkleLog.root(size: size, node: $0) }
        return LogCheckpoint(origin: origin, size: size, root: root)
    }

    /// The log's parties as `logAnswer` takes them: `ServerReading.logParties`.
    typealias LogParties = (devices: [RegisteredDevice], witnessed: WitnessedCheckpoint?)

    /// The log's parties, read on every page.
    func logParties(_ tx: any ServerReading) async throws -> LogParties {
        try await tx.logParties(quorum: policy.witnesses)
    }

    /// The log part of a feed page, read in the page's transaction: the root, the page's batch
    /// proof and the consistency proof from `known` made from one read of the nodes they need.
    /// With them, the witnesses and the largest checkpoint they cosigned, and the proof from it (§11.15).
    func logAnswer(_ tx: any ServerReading, size: UInt64, parties: LogParties, positions: [UInt64], known: UInt64?) async throws -> LogAnswer {
        // A checkpoint cosigned beyond the size read is not yet one this answer can prove against.
        let (named, cosigned) = parties
        let witnessed = cosigned.flatMap { $0.size <= size ? $0 : nil }
        let witnesses = named.filter { $0.grant.role == .auditor }.map { LogWitness(device: $0.id, key: $0.publicKey).verifierKey }
        // Office devices enrolled by people; the server's own identity is not one: an epoch must
        // come from outside the server.
        let offices = named.filter { $0.grant.role == .office && $0.enrolledVia != "server" }
            .map { LogEpoch.verifierKey(name: LogEpoch.officeName($0.id), key: $0.publicKey) }
        let indexes = positions.filter { $0 >= 1 && $0 <= size }.map { $0 - 1 }
        func consistency(from old: UInt64, node: (LogNode) -> Digest256) -> [Digest256] {
            old == 0 || old == size ? [] : MerkleLog.consistencyProof(old: old, new: size, node: node)
        }
        let (root, proof, fromKnown, fromWitnessed) = try await Self.withLogNodes(tx) { node in
            (MerkleLog.root(size: size, node: node), MerkleLog.batchProof(indexes: indexes, size: size, node: node),
             known.flatMap { known in known > size ? nil : consistency(from: known, node: node) },
             witnessed.map { consistency(from: $0.size, node: node) })
        }
        let checkpoint = LogCheckpoint(origin: logOrigin, size: size, root: root)
        // The note of what the auditors cosigned: the size and root they saw, whatever the log
        // holds now, so that a device can tell when the two differ.
        let witnessedNote = witnessed.map { LogWitness.adding($0.lines, to: LogCheckpoint(origin: logOrigin, size: $0.size, root: $0.root).signed(with: key)) }
        return LogAnswer(checkpoint: checkpoint.signed(with: key), size: size, consistency: fromKnown, proof: proof,
                         witnesses: witnesses, witnessed: witnessedNote, witnessedConsistency: fromWitnessed, offices: offices)
    }

    /// `POST /v1/log/epoch` (§11.16): an office device announces that the log begins again —
    /// the server was restored from an older copy — naming the last checkpoint of the old log it
    /// verified and the restored log's checkpoint it starts from.
    public func announceEpoch(_ request: SignedRequest) async throws -> [String: CanonicalValue] {
        let value = try Self.canonicalBody(request)
        let (device, _) = try await authenticate(request, allowTransport: false)
        guard device.grant.role == .office, device.status == .active, device.enrolledVia != "server" else { throw ServerError.notOffice }
        let language = request.language
        guard let object = value.objectValue, object.count == 1, let note = object["epoch"]?.stringValue else {
            throw ServerError.malformedRequest(language.pick("the body must be {\"epoch\":\"<signed note>\"}.", "请求体须为 {\"epoch\":\"<签名的纪元声明>\"}。"))
        }
        let name = LogEpoch.officeName(device.id)
        guard let (epoch, _) = LogEpoch.verified(note, offices: [(name, device.publicKey)]) else {
            throw ServerError.badEpoch(language.pick("not a provident-epoch/v1 note signed by this office device as \(name)",
                                                     "不是本中心设备以 \(name) 签署的 provident-epoch/v1 声明"))
        }
        guard epoch.origin == logOrigin else {
            throw ServerError.badEpoch(language.pick("its origin is not this server's log \(logOrigin)", "其来源不是本服务器的日志 \(logOrigin)"))
        }
        let now = clock()
        try await store.write { tx in
            // A log begins again with at least one entry, as the restored server holds it.
            let logSize = try await Self.requireHeld(tx, size: epoch.starts.size, root: epoch.starts.root)
            guard epoch.starts.size >= 1 else { throw ServerError.unknownCheckpoint(size: 0, logSize: logSize) }
            try await tx.addLogEpoch(note: note, startsSize: epoch.starts.size, by: device.id, at: now)
        }
        logger.notice("log epoch announced", metadata: ["sync.device": .string(device.id.rawValue), "log.ends": .stringConvertible(epoch.ends.size),
                                                        "log.starts": .stringConvertible(epoch.starts.size)])
        return ["starts": .integer(Int64(epoch.starts.size)), "ends": .integer(Int64(epoch.ends.size))]
    }

    /// `GET /v1/log/epochs`: the latest checkpoint, and the office's announcements of the log's
    /// epochs (newest first, at most 10), each with the proof that the log extends its start.
    public func logEpochs() async throws -> [String: CanonicalValue] {
        try await store.read { tx in
            let size = try await tx.logSize()
            let notes = try await tx.logEpochs(limit: 10)
            let starts = notes.map { LogEpoch.parse($0).map { min($0.starts.size, size) } ?? 0 }
            let (root, proofs) = try await Self.withLogNodes(tx) { node in
                (MerkleLog.root(size: size, node: node),
                 starts.map { $0 == 0 || $0 == size ? [] : MerkleLog.consistencyProof(old: $0, new: size, node: node) })
            }
            let checkpoint = LogCheckpoint(origin: self.logOrigin, size: size, root: root).signed(with: self.key)
            return ["checkpoint": .string(checkpoint),
                    "epochs": .array(zip(notes, proofs).map { .object(["epoch": .string($0), "consistency": LogAnswer.hashes($1)]) })]
        }
    }

    /// `POST /v1/log/cosign` (§11.15): an auditor's cosignature of a checkpoint of this log.
    public func cosign(_ request: SignedRequest) async throws -> [String: CanonicalValue] {
        let value = try Self.canonicalBody(request)
        let (device, _) = try await authenticate(request)
        guard device.grant.role == .auditor, device.status == .active else { throw ServerError.notWitness }
        let language = request.language
        guard let object = value.objectValue, object.count == 1, let note = object["checkpoint"]?.stringValue else {
            throw ServerError.malformedRequest(language.pick("the body must be {\"checkpoint\":\"<signed note with your cosignature line>\"}.",
                                                             "请求体须为 {\"checkpoint\":\"<带联署行的签名检查点>\"}。"))
        }
        let checkpoint: LogCheckpoint
        do {
            checkpoint = try LogCheckpoint.verified(note, key: key.publicKey)
        } catch {
            throw ServerError.badCheckpoint("\(error)")
        }
        let witness = LogWitness(device: device.id, key: device.publicKey)
        guard checkpoint.size > 0, witness.cosigned(note, checkpoint: checkpoint) != nil,
              let line = LogWitness.lines(of: note).first(where: { $0.hasPrefix("\u{2014} \(witness.name) ") }) else { throw ServerError.badCosignature }
        let now = clock()
        let (count, logSize) = try await store.write { tx -> (Int, UInt64) in
            let logSize = try await Self.requireHeld(tx, size: checkpoint.size, root: checkpoint.root)
            return (try await tx.addCosignature(witness: device.id, size: checkpoint.size, root: checkpoint.root, line: line, at: now), logSize)
        }
        logger.info("log cosigned", metadata: ["sync.device": .string(device.id.rawValue), "log.size": .stringConvertible(checkpoint.size),
                                               "log.head": .stringConvertible(logSize)])
        return ["size": .integer(Int64(checkpoint.size)), "cosigners": .integer(Int64(count))]
    }

    /// `GET /v1/log/checkpoint`: the latest checkpoint, signed.
    public func logCheckpoint() async throws -> [String: CanonicalValue] {
        let checkpoint = try await store.read { tx in try await Self.checkpoint(tx, origin: self.logOrigin) }
        return ["checkpoint": .string(checkpoint.signed(with: key))]
    }

    /// A whole number of 1 or more given in a query (a size or a position); nil when absent.
    static func positiveParameter(_ request: SignedRequest, _ name: String, language: Language) throws -> UInt64? {
        guard let text = request.parameter(name) else { return nil }
        guard let value = UInt64(text), value >= 1, value < 1 << 53 else {
            throw ServerError.badQuery(language.pick("\(name) must be a whole number of 1 or more.", "\(name) 须为不小于 1 的整数。"))
        }
        return value
    }

    static func beyondLog(_ name: String, _ value: UInt64, size: UInt64, _ language: Language) -> ServerError {
        .badQuery(language.pick("\(name) \(value) is beyond the log, which holds \(size) entries; ask for a checkpoint first.",
                                "\(name) \(value) 超出日志范围（日志共 \(size) 条）；请先取检查点。"))
    }

    /// `GET /v1/log/proof?size=N&positions=p,q,…`: the entry ids the feed holds at these
    /// positions and the batch proof that they are in the tree of N entries.
    public func logProof(_ request: SignedRequest) async throws -> [String: CanonicalValue] {
        let language = request.language
        guard let size = try Self.positiveParameter(request, "size", language: language) else {
            throw ServerError.badQuery(language.pick("give size, the tree size of a checkpoint you hold.", "请给出 size：所持检查点的条目数。"))
        }
        let text = request.parameter("positions") ?? ""
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        let positions = parts.compactMap { UInt64($0) }
        guard !text.isEmpty, positions.count == parts.count, positions.count <= 1_000, positions.allSatisfy({ $0 >= 1 && $0 <= size }),
              zip(positions, positions.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw ServerError.badQuery(language.pick("positions must be 1 to 1,000 feed positions, ascending, separated by commas, none beyond size.",
                                                     "positions 须为 1 至 1,000 个升序的数据流位置，以逗号分隔，均不超过 size。"))
        }
        return try await store.read { tx in
            let logged = try await tx.logSize()
            guard size <= logged else { throw Self.beyondLog("size", size, size: logged, language) }
            let ids = try await tx.feedEntryIDs(at: positions)
            let held = positions.filter { ids[$0] != nil }
            let proof = try await Self.withLogNodes(tx) { MerkleLog.batchProof(indexes: held.map { $0 - 1 }, size: size, node: $0) }
            return ["size": .integer(Int64(size)), "proof": LogAnswer.hashes(proof),
                    "entries": .array(positions.map { position in
                        .object(["position": .integer(Int64(position)), "id": ids[position].map { .string($0.hex) } ?? .null])
                    })]
        }
    }

    /// `GET /v1/log/inclusion?position=p&size=N`: the entry id at p and its audit path in the
    /// tree of N entries (RFC 9162 §2.1.3).
    public func logInclusion(_ request: SignedRequest) async throws -> [String: CanonicalValue] {
        try await withinLog(request, "position", "size") { tx, position, size in
            let id = try await tx.feedEntryIDs(at: [position])[position]
            let path = try await Self.withLogNodes(tx) { MerkleLog.inclusionProof(index: position - 1, size: size, node: $0) }
            return ["position": .integer(Int64(position)), "size": .integer(Int64(size)), "id": id.map { .string($0.hex) } ?? .null,
                    "path": LogAnswer.hashes(path)]
        }
    }

    /// `GET /v1/log/consistency?from=m&to=n`: the proof that the tree of m entries is a prefix of
    /// the tree of n (RFC 9162 §2.1.4).
    public func logConsistency(_ request: SignedRequest) async throws -> [String: CanonicalValue] {
        try await withinLog(request, "from", "to") { tx, from, to in
            let proof = try await Self.withLogNodes(tx) { MerkleLog.consistencyProof(old: from, new: to, node: $0) }
            return ["from": .integer(Int64(from)), "to": .integer(Int64(to)), "proof": LogAnswer.hashes(proof)]
        }
    }

    /// Reads two numbers of a query, 1 ≤ `low` ≤ `high` ≤ the log's size, and answers from them
    /// in one read transaction.
    private func withinLog(_ request: SignedRequest, _ low: String, _ high: String,
                           _ body: @escaping @Sendable (any ServerReading, UInt64, UInt64) async throws -> [String: CanonicalValue]) async throws -> [String: CanonicalValue] {
        let language = request.language
        guard let a = try Self.positiveParameter(request, low, language: language),
              let b = try Self.positiveParameter(request, high, language: language), a <= b else {
            throw ServerError.badQuery(language.pick("give \(low) and \(high), 1 ≤ \(low) ≤ \(high).", "请给出 \(low) 与 \(high)，且 1 ≤ \(low) ≤ \(high)。"))
        }
        return try await store.read { tx in
            let logged = try await tx.logSize()
            guard b <= logged else { throw Self.beyondLog(high, b, size: logged, language) }
            return try await body(tx, a, b)
        }
    }
}
