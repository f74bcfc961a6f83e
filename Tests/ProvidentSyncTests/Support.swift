import ProvidentCrypto
import ProvidentSync

/// SplitMix64: a small, fast, seedable generator, so every randomized test replays exactly.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

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
