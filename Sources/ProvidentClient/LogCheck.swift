import ProvidentCrypto
import ProvidentStore
import ProvidentSync

/// What a device found wrong in the server's log, with the material that shows it: kept as
/// evidence (sync-protocol.md §11.14), and the reason a pull stops.
struct LogViolation: Error, Sendable {
    let kind: String
    let material: CanonicalValue
}

/// The checks of sync-protocol.md §11.14 that a device makes before it applies a feed page, and
/// of the receipts it holds.
enum LogCheck {
    /// The material every finding carries: the server key that signed what is in it.
    static func material(_ serverKey: PublicKey, _ members: [String: CanonicalValue]) -> CanonicalValue {
        var all = members
        all["serverKey"] = .string(Base64.encode(serverKey.bytes))
        return .object(all)
    }

    static func hashes(_ value: CanonicalValue?) -> [Digest256]? {
        guard let items = value?.arrayValue else { return nil }
        var list: [Digest256] = []
        list.reserveCapacity(items.count)
        for item in items {
            guard let text = item.stringValue, let bytes = Base64.decode(text), let hash = Digest256(bytes: bytes) else { return nil }
            list.append(hash)
        }
        return list
    }

    static func entries(_ list: [(position: UInt64, id: Digest256)]) -> CanonicalValue {
        .array(list.map { .object(["position": .integer(Int64($0.position)), "id": .string($0.id.hex)]) })
    }

    /// Checks a pull answer's `log` against the checkpoint held and the page's entries; returns
    /// the checkpoint to keep with the page, and, when the server was restored (`restored`) and
    /// its log began again, the finding that records it. A server that has never given a log
    /// (older than revision 1.5) is read as before, until it gives one.
    static func page(_ value: CanonicalValue?, entries: [(position: UInt64, id: Digest256)], held: HeldCheckpoint?, serverKey: PublicKey,
                     restored: Bool) throws -> (checkpoint: HeldCheckpoint?, restart: LogViolation?) {
        guard let value, value != .null else {
            guard let held else { return (nil, nil) }
            throw LogViolation(kind: "log.missing", material: material(serverKey, ["held": .string(held.note)]))
        }
        guard let object = value.objectValue, let note = object["checkpoint"]?.stringValue, let proof = hashes(object["proof"]) else {
            throw SyncFailure.badAnswer("pull log")
        }
        let consistency = object["consistency"].flatMap { $0 == .null ? nil : $0 }
        let checkpoint: LogCheckpoint
        do {
            checkpoint = try LogCheckpoint.verified(note, key: serverKey)
        } catch {
            throw LogViolation(kind: "log.signature", material: material(serverKey, ["given": .string(note), "problem": .string("\(error)")]))
        }
        var restart: LogViolation?
        if let held {
            var finding: LogViolation?
            if checkpoint.size < held.size {
                finding = LogViolation(kind: "log.rollback", material: material(serverKey, ["held": .string(held.note), "given": .string(note)]))
            } else {
                let path = consistency.flatMap { hashes($0) }
                if path.map({ MerkleLog.verifyConsistency(old: held.size, oldRoot: held.root, new: checkpoint.size, newRoot: checkpoint.root,
                                                          proof: $0) }) != true {
                    finding = LogViolation(kind: "log.inconsistent", material: material(serverKey, [
                        "held": .string(held.note), "given": .string(note), "consistency": consistency ?? .null]))
                }
            }
            if let finding {
                // A server restored from a copy, confirmed by its key, begins its log again: that
                // is recorded, and the new log is taken from here.
                guard restored else { throw finding }
                restart = LogViolation(kind: "log.restart", material: finding.material)
            }
        }
        let leaves = entries.map { (index: $0.position - 1, hash: MerkleLog.leafHash($0.id)) }
        guard entries.allSatisfy({ $0.position >= 1 }),
              MerkleLog.batchRoot(leaves: leaves, size: checkpoint.size, proof: proof) == checkpoint.root else {
            throw LogViolation(kind: "log.page", material: material(serverKey, [
                "given": .string(note), "entries": Self.entries(entries), "proof": object["proof"] ?? .null]))
        }
        return (HeldCheckpoint(size: checkpoint.size, root: checkpoint.root, note: note), restart)
    }

    /// Checks a `GET /v1/log/proof` answer for these receipts against the held checkpoint;
    /// returns the receipts proven and the findings for the others.
    static func receipts(_ answer: CanonicalValue, receipts: [HeldReceipt], held: HeldCheckpoint,
                         serverKey: PublicKey) throws -> (proven: [ChangeSetID], findings: [(ChangeSetID, LogViolation)]) {
        guard let object = answer.objectValue, let items = object["entries"]?.arrayValue, let proof = hashes(object["proof"]),
              object["size"]?.integerValue == Int64(held.size) else { throw SyncFailure.badAnswer("log proof") }
        var given: [UInt64: Digest256?] = [:]
        for item in items {
            guard let entry = item.objectValue, let position = entry["position"]?.integerValue, position > 0 else {
                throw SyncFailure.badAnswer("log proof entry")
            }
            given[UInt64(position)] = entry["id"]?.stringValue.flatMap { Digest256(hex: $0) }
        }
        func finding(_ kind: String, _ receipt: HeldReceipt) -> LogViolation {
            LogViolation(kind: kind, material: material(serverKey, [
                "receipt": receipt.receipt.canonicalValue.merging(["id": .string(receipt.receipt.id.hex)]),
                "held": .string(held.note), "answer": answer]))
        }
        let leaves = given.compactMap { position, id in id.map { (index: position - 1, hash: MerkleLog.leafHash($0)) } }.sorted { $0.index < $1.index }
        let proofHolds = MerkleLog.batchRoot(leaves: leaves, size: held.size, proof: proof) == held.root
        var proven: [ChangeSetID] = []
        var findings: [(ChangeSetID, LogViolation)] = []
        for receipt in receipts {
            // The feed holds nothing there (missing), or another entry, or one that the proof does
            // not tie to the checkpoint (mismatch).
            let id = given[receipt.receipt.position] ?? nil
            if id == receipt.receipt.id, proofHolds {
                proven.append(receipt.receipt.id)
            } else {
                findings.append((receipt.receipt.id, finding(id == nil ? "receipt.missing" : "receipt.mismatch", receipt)))
            }
        }
        return (proven, findings)
    }
}

extension CanonicalValue {
    /// An object with `members` added (nothing for a value that is not an object).
    func merging(_ members: [String: CanonicalValue]) -> CanonicalValue {
        guard var object = objectValue else { return self }
        for (key, value) in members { object[key] = value }
        return .object(object)
    }
}
