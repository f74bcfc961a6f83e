import ProvidentCrypto
import ProvidentDomain
import ProvidentStore
import ProvidentSync

/// What an auditor's cosignature did (sync-protocol.md §11.15).
public struct Cosigned: Hashable, Sendable {
    /// The size of the checkpoint cosigned.
    public let size: UInt64
    /// How many active auditors have cosigned it, this one included.
    public let cosigners: Int
}

extension SyncSession {
    /// This device's state and its server's address, for a statement about the log that it signs
    /// with its device key as `role` (an auditor's cosignature, an office's epoch).
    private func signing(as role: DeviceRole, key: SigningKey, serverURL: String?) throws -> (state: DeviceState, sync: SyncState, url: String) {
        let state = try device.replica.deviceState()
        guard state.role == role else { throw DomainError.notPermitted }
        guard key.publicKey == state.publicKey else { throw ClientError.keyDoesNotMatchReplica(directory: device.directory.path) }
        let sync = try device.replica.syncState()
        guard let url = serverURL ?? sync.serverURL else { throw SyncFailure.noServer }
        return (state, sync, url)
    }

    /// Cosigns, with this auditor's device key, the checkpoint of the server's log it holds — the
    /// one its last pull checked against every checkpoint it had seen — and sends the
    /// cosignature. Run after a sync that found nothing wrong.
    public func cosign(serverURL: String? = nil, key: SigningKey) async throws -> Cosigned {
        let (state, _, url) = try signing(as: .auditor, key: key, serverURL: serverURL)
        guard let held = try device.replica.logCheckpoint(), held.size > 0 else { throw SyncFailure.badAnswer("the server gave no checkpoint of its log to cosign") }
        let checkpoint = try LogCheckpoint.parse(held.note)
        let seconds = UInt64(max(0, ServerConnection.now().millisSinceEpoch / 1_000))
        let line = LogWitness.cosign(checkpoint, time: seconds, name: LogWitness(device: state.id, key: state.publicKey).name, key: key)
        let answer = try await connection.send(.POST, url: url, path: "/v1/log/cosign", query: "",
                                               body: .object(["checkpoint": .string(LogWitness.adding([line], to: held.note))]))
        guard let object = answer.objectValue, let size = object["size"]?.integerValue, size == Int64(held.size),
              let cosigners = object["cosigners"]?.integerValue else { throw SyncFailure.badAnswer("cosign") }
        return Cosigned(size: held.size, cosigners: Int(cosigners))
    }
}

/// What an office's announcement of a new epoch of the log said (sync-protocol.md §11.16).
public struct Announced: Hashable, Sendable {
    /// The size of the last checkpoint of the old log this laptop verified (0 for none).
    public let ends: UInt64
    /// The size of the restored log's checkpoint it starts from.
    public let starts: UInt64
}

extension SyncSession {
    /// On an office device, after the server was restored from an older copy: signs with the
    /// device key and sends the announcement that the server's log begins again, naming the last
    /// checkpoint of the old log this device verified and the restored log's current checkpoint.
    /// Refused when the server's log still extends the checkpoint held: nothing to announce.
    public func announceEpoch(serverURL: String? = nil, key: SigningKey) async throws -> Announced {
        let (state, sync, url) = try signing(as: .office, key: key, serverURL: serverURL)
        guard let serverKey = sync.serverKey else { throw SyncFailure.notEnrolled }
        let answer = try await connection.send(.GET, url: url, path: "/v1/log/checkpoint", query: "", body: nil)
        guard let note = answer.objectValue?["checkpoint"]?.stringValue, let current = try? LogCheckpoint.verified(note, key: serverKey) else {
            throw SyncFailure.badAnswer("log checkpoint")
        }
        let held = try device.replica.logCheckpoint()
        if let held, try await logExtends(held, to: current, url: url) { throw EpochProblem.logContinues(size: held.size) }
        let epoch = LogEpoch(origin: current.origin, ends: held.map { ($0.size, $0.root) } ?? (0, MerkleLog.emptyRoot),
                             starts: (current.size, current.root), time: ServerConnection.now().millisSinceEpoch)
        let signed = epoch.signed(name: LogEpoch.officeName(state.id), key: key)
        _ = try await connection.send(.POST, url: url, path: "/v1/log/epoch", query: "", body: .object(["epoch": .string(signed)]))
        return Announced(ends: epoch.ends.size, starts: epoch.starts.size)
    }
}

/// Why an office device announces no new epoch of the log.
public enum EpochProblem: ProvidentError, Hashable {
    /// The server's log still extends the checkpoint this device holds: it was not restored.
    case logContinues(size: UInt64)

    public var kind: ErrorKind { .refused }
    public var code: String { "epoch.not_needed" }

    public func message(_ l: Language) -> String {
        switch self {
        case let .logContinues(size):
            l.pick("The server's log still extends the checkpoint of \(size) entries this laptop verified: it was not restored from an older copy, so there is no new epoch to announce.",
                   "服务器的日志仍是本机已核验的 \(size) 条检查点的延续：服务器并未从较早的备份恢复，无需宣布新纪元。")
        }
    }
}
