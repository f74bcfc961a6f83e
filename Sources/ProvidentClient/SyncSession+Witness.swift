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
    /// Cosigns, with this auditor's device key, the checkpoint of the server's log it holds — the
    /// one its last pull checked against every checkpoint it had seen — and sends the
    /// cosignature. Run after a sync that found nothing wrong.
    public func cosign(serverURL: String? = nil, key: SigningKey) async throws -> Cosigned {
        let state = try device.replica.deviceState()
        guard state.role == .auditor else { throw DomainError.notPermitted }
        guard key.publicKey == state.publicKey else { throw ClientError.keyDoesNotMatchReplica(directory: device.directory.path) }
        let sync = try device.replica.syncState()
        guard let url = serverURL ?? sync.serverURL else { throw SyncFailure.noServer }
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
