import ProvidentCrypto
import ProvidentSync
import Synchronization

/// The devices this server last found signing its reads, with the key that verified each, for
/// a remote database: a signed read then reads its answer with the device as last found while
/// the device is read again (`ServerCore.answering`), one round trip instead of two. Nothing is
/// decided by what is remembered: the answer is kept only if the device read again is active
/// and has the same grant, and the request's signature is checked against the key read again.
final class SignerMemory: Sendable {
    struct Signer: Sendable {
        let device: RegisteredDevice
        /// The key that verified its request: the device's own, or its transport key.
        let key: PublicKey
        let transport: Bool
    }

    /// Enough for every device of a city's deployment; past it, the memory starts again.
    static let capacity = 100_000

    private let signers = Mutex<[DeviceID: Signer]>([:])

    func remember(_ signer: Signer) {
        signers.withLock { signers in
            if signers.count >= Self.capacity, signers[signer.device.id] == nil { signers.removeAll(keepingCapacity: true) }
            signers[signer.device.id] = signer
        }
    }

    func forget(_ device: DeviceID) {
        _ = signers.withLock { $0.removeValue(forKey: device) }
    }

    func signer(_ device: DeviceID) -> Signer? {
        signers.withLock { $0[device] }
    }
}
