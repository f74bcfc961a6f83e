import ProvidentCrypto
import ProvidentSync
import ProvidentTestSupport

/// A device for tests: a key from a fixed seed and its id.
struct TestDevice {
    let key: SigningKey
    var id: DeviceID { DeviceID(publicKey: key.publicKey) }

    init(_ n: UInt8) {
        // A fixed seed per device number; the length is right, so this cannot fail.
        key = try! SigningKey(seed: [UInt8](repeating: n, count: 32))
    }
}

extension CanonicalValue {
    /// Canonical bytes of a value the test built to be valid.
    var bytes: [UInt8] { (try? CanonicalEncoder.encode(self)) ?? [] }
}

func utf8(_ s: String) -> [UInt8] { Array(s.utf8) }
