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

    /// Whether `proof` (RFC 9162, as JSON) shows `checkpoint` extending the checkpoint held.
    static func extends(_ held: HeldCheckpoint, to checkpoint: LogCheckpoint, proof: CanonicalValue?) -> Bool {
        guard checkpoint.size >= held.size, let path = hashes(proof) else { return false }
        return MerkleLog.verifyConsistency(old: held.size, oldRoot: held.root, new: checkpoint.size, newRoot: checkpoint.root, proof: path)
    }

    static func entries(_ list: [(position: UInt64, id: Digest256)]) -> CanonicalValue {
        .array(list.map { .object(["position": .integer(Int64($0.position)), "id": .string($0.id.hex)]) })
    }

    /// What a device knows of the log's witnesses (§11.15): those it has learned, and how many
    /// must cosign a checkpoint (the policy's `devices.witnesses`, at least one).
    struct Witnesses: Sendable {
        let known: [LogWitness]
        let quorum: Int
    }

    /// What a page's `log` gave, once checked: the checkpoint to keep with the page, witnesses
    /// first seen, and findings that do not stop the pull (a restart the device confirmed, a
    /// witnessed checkpoint it could not take).
    struct Checked: Sendable {
        var checkpoint: HeldCheckpoint?
        var learned: [LogWitness] = []
        /// Office devices first seen, which may announce the log's epochs (§11.16).
        var offices: [(name: String, key: PublicKey)] = []
        var findings: [LogViolation] = []
        /// The log began again, announced by the office (a restore): receipts held are the old log's.
        var restarted: Bool { findings.contains { $0.kind == "log.restart" } }
    }

    /// Checks a pull answer's `log` against the checkpoint held and the page's entries, and its
    /// witnessed checkpoint against the witnesses known. When the server was restored
    /// (`restored`) and its log began again, that is a finding and the new log is taken. A
    /// server that has never given a log (older than revision 1.5) is read as before, until it
    /// gives one.
    /// `epoch` is the office's announcement of the restore (§11.16) that lets a restored server's
    /// log begin again, recorded with the finding.
    static func page(_ value: CanonicalValue?, entries: [(position: UInt64, id: Digest256)], held: HeldCheckpoint?, serverKey: PublicKey,
                     restored: Bool, epoch: String? = nil, witnesses: Witnesses) throws -> Checked {
        guard let value, value != .null else {
            guard let held else { return Checked() }
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
        var checked = Checked()
        if let held {
            var finding: LogViolation?
            if checkpoint.size < held.size {
                finding = LogViolation(kind: "log.rollback", material: material(serverKey, ["held": .string(held.note), "given": .string(note)]))
            } else if !extends(held, to: checkpoint, proof: consistency) {
                finding = LogViolation(kind: "log.inconsistent", material: material(serverKey, [
                    "held": .string(held.note), "given": .string(note), "consistency": consistency ?? .null]))
            }
            if let finding {
                // A server restored from a copy, confirmed by its key, begins its log again: that
                // is recorded, and the new log is taken from here.
                guard restored else { throw finding }
                var material = finding.material.objectValue ?? [:]
                material["epoch"] = epoch.map(CanonicalValue.string) ?? .null
                checked.findings.append(LogViolation(kind: "log.restart", material: .object(material)))
            }
        }
        let leaves = entries.map { (index: $0.position - 1, hash: MerkleLog.leafHash($0.id)) }
        guard entries.allSatisfy({ $0.position >= 1 }),
              MerkleLog.batchRoot(leaves: leaves, size: checkpoint.size, proof: proof) == checkpoint.root else {
            throw LogViolation(kind: "log.page", material: material(serverKey, [
                "given": .string(note), "entries": Self.entries(entries), "proof": object["proof"] ?? .null]))
        }
        let witnessed = try Self.witnessed(object, checkpoint: checkpoint, note: note, serverKey: serverKey, witnesses: witnesses, into: &checked)
        // A page without a witnessed checkpoint keeps the one held, which the new checkpoint
        // extends — unless the log began again (a restore the device confirmed).
        checked.checkpoint = HeldCheckpoint(size: checkpoint.size, root: checkpoint.root, note: note,
                                            witnessed: witnessed ?? (checked.restarted ? nil : held?.witnessed))
        checked.offices = (object["offices"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(LogEpoch.office(verifierKey:)) }
        return checked
    }

    /// The office's announcement among `items` (`{"epoch","consistency"}`, §11.16) that lets the
    /// log begin again at `checkpoint` for a device holding `held`: signed by one of `offices`,
    /// made since the device last verified the log (five minutes allowed for clocks), and
    /// extended by `checkpoint`.
    static func announced(_ items: [CanonicalValue], checkpoint: LogCheckpoint, held: HeldCheckpoint,
                          offices: [(name: String, key: PublicKey)]) -> String? {
        let since = (held.verifiedAt?.millisSinceEpoch ?? 0) - 300_000
        for item in items {
            guard let text = item.objectValue?["epoch"]?.stringValue, let (epoch, _) = LogEpoch.verified(text, offices: offices),
                  epoch.origin == checkpoint.origin, epoch.time >= since, let proof = hashes(item.objectValue?["consistency"]),
                  MerkleLog.verifyConsistency(old: epoch.starts.size, oldRoot: epoch.starts.root, new: checkpoint.size, newRoot: checkpoint.root,
                                              proof: proof) else { continue }
            return text
        }
        return nil
    }

    /// Checks the witnesses and the witnessed checkpoint of a `log` (§11.15): learns new
    /// witnesses, keeps a finding for a known name given another key or a note it cannot take,
    /// and throws `log.inconsistent` when the checkpoint does not extend what the witnesses cosigned.
    private static func witnessed(_ object: [String: CanonicalValue], checkpoint: LogCheckpoint, note: String, serverKey: PublicKey,
                                  witnesses: Witnesses, into checked: inout Checked) throws -> HeldWitnessed? {
        var known = Dictionary(witnesses.known.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for item in object["witnesses"]?.arrayValue ?? [] {
            guard let text = item.stringValue, let witness = LogWitness(verifierKey: text) else { continue }
            if let pinned = known[witness.name] {
                if pinned.key != witness.key {
                    checked.findings.append(LogViolation(kind: "log.witness", material: material(serverKey, [
                        "known": .string(pinned.verifierKey), "given": .string(text), "problem": .string("a known witness given another key")])))
                }
            } else {
                known[witness.name] = witness
                checked.learned.append(witness)
            }
        }
        guard let given = object["witnessed"]?.stringValue else { return nil }
        let cosigned: LogCheckpoint
        do {
            cosigned = try LogCheckpoint.verified(given, key: serverKey)
        } catch {
            checked.findings.append(LogViolation(kind: "log.witness", material: material(serverKey, ["witnessed": .string(given), "problem": .string("\(error)")])))
            return nil
        }
        let cosigners = known.values.filter { $0.cosigned(given, checkpoint: cosigned) != nil }.count
        guard cosigners >= max(witnesses.quorum, 1) else {
            checked.findings.append(LogViolation(kind: "log.witness", material: material(serverKey, [
                "witnessed": .string(given), "problem": .string("\(cosigners) valid cosignature(s) of known witnesses, \(max(witnesses.quorum, 1)) needed")])))
            return nil
        }
        let proof = object["witnessedConsistency"].flatMap { hashes($0) }
        guard let proof, MerkleLog.verifyConsistency(old: cosigned.size, oldRoot: cosigned.root, new: checkpoint.size, newRoot: checkpoint.root, proof: proof) else {
            // What the auditors cosigned is not a prefix of the log served here: a split view.
            // The witnesses' keys go with it, for whoever checks the cosignatures.
            throw LogViolation(kind: "log.inconsistent", material: material(serverKey, [
                "held": .string(given), "given": .string(note), "consistency": object["witnessedConsistency"] ?? .null,
                "witnesses": .array(known.values.sorted { $0.name < $1.name }.map { .string($0.verifierKey) })]))
        }
        return HeldWitnessed(size: cosigned.size, note: given, cosigners: cosigners)
    }

    /// Checks a `GET /v1/log/proof` answer for these receipts against the held checkpoint;
    /// returns the receipts proven and the findings for the others. `signed` gives a receipt as
    /// evidence shows it (with the whole list its signature covers).
    static func receipts(_ answer: CanonicalValue, receipts: [HeldReceipt], held: HeldCheckpoint, serverKey: PublicKey,
                         signed: (HeldReceipt) throws -> LogReceipt) throws -> (proven: [ChangeSetID], findings: [(ChangeSetID, LogViolation)]) {
        guard let object = answer.objectValue, let items = object["entries"]?.arrayValue, let proof = hashes(object["proof"]),
              object["size"]?.integerValue == Int64(held.size) else { throw SyncFailure.badAnswer("log proof") }
        var given: [UInt64: Digest256?] = [:]
        for item in items {
            guard let entry = item.objectValue, let position = entry["position"]?.integerValue, position > 0 else {
                throw SyncFailure.badAnswer("log proof entry")
            }
            given[UInt64(position)] = entry["id"]?.stringValue.flatMap { Digest256(hex: $0) }
        }
        func finding(_ kind: String, _ receipt: HeldReceipt) throws -> LogViolation {
            LogViolation(kind: kind, material: material(serverKey, [
                "receipt": try signed(receipt).canonicalValue, "held": .string(held.note), "answer": answer]))
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
                findings.append((receipt.receipt.id, try finding(id == nil ? "receipt.missing" : "receipt.mismatch", receipt)))
            }
        }
        return (proven, findings)
    }
}
