import CSodium

/// An Ed25519 public key (32 bytes).
public struct PublicKey: Hashable, Sendable {
    /// The key's length in bytes.
    public static let byteCount = 32

    /// The raw key.
    public let bytes: [UInt8]

    /// Wraps raw key bytes, refusing any length but 32.
    public init(bytes: [UInt8]) throws(CryptoError) {
        guard bytes.count == Self.byteCount else {
            throw .wrongLength(what: "An Ed25519 public key", expected: Self.byteCount, actual: bytes.count)
        }
        self.bytes = bytes
    }

    /// Checks a detached signature over `message`.
    ///
    /// Returns false for any signature that does not verify, including one made by another key
    /// or over other bytes; libsodium also rejects small-order and non-canonical encodings.
    public func isValidSignature(_ signature: Signature, for message: [UInt8]) -> Bool {
        Sodium.ensureReady()
        return withBytes(message) { m, mCount in
            withBytes(signature.bytes) { s, _ in
                withBytes(bytes) { k, _ in
                    crypto_sign_verify_detached(s, m, UInt64(mCount), k) == 0
                }
            }
        }
    }

    /// The BLAKE2b-256 digest of the key: what people compare to tell keys apart.
    public var fingerprint: [UInt8] {
        BLAKE2b.hash(bytes, outputLength: 32)
    }
}

/// An Ed25519 detached signature (64 bytes).
public struct Signature: Hashable, Sendable {
    /// The signature's length in bytes.
    public static let byteCount = 64

    /// The raw signature.
    public let bytes: [UInt8]

    /// Wraps raw signature bytes, refusing any length but 64.
    public init(bytes: [UInt8]) throws(CryptoError) {
        guard bytes.count == Self.byteCount else {
            throw .wrongLength(what: "An Ed25519 signature", expected: Self.byteCount, actual: bytes.count)
        }
        self.bytes = bytes
    }
}

/// An Ed25519 signing key: the secret half of a device's identity, with its public key.
///
/// The 64-byte libsodium secret key (seed ‖ public key) lives in `SecretBytes` and is wiped when
/// the last copy of this value goes away.
public struct SigningKey: Sendable {
    /// The seed's length in bytes.
    public static let seedByteCount = 32

    private let secretKey: SecretBytes

    /// The matching public key.
    public let publicKey: PublicKey

    /// Derives the key pair deterministically from a 32-byte seed (RFC 8032 §5.1.5).
    public init(seed: some Collection<UInt8>) throws(CryptoError) {
        guard seed.count == Self.seedByteCount else {
            throw .wrongLength(what: "An Ed25519 seed", expected: Self.seedByteCount, actual: seed.count)
        }
        let seedCopy = SecretBytes(copying: seed)
        self.init(seed: seedCopy)
    }

    /// Derives the key pair from a seed already held in protected storage.
    init(seed: SecretBytes) {
        Sodium.ensureReady()
        var publicBytes = [UInt8](repeating: 0, count: PublicKey.byteCount)
        secretKey = SecretBytes(count: Int(crypto_sign_SECRETKEYBYTES)) { skBuffer in
            seed.withPointer { s, _ in
                withMutableBytes(&publicBytes) { pk, _ in
                    withMutableBase(skBuffer) { sk, _ in
                        _ = crypto_sign_seed_keypair(pk, sk, s)
                    }
                }
            }
        }
        // The length is fixed above, so this cannot fail.
        publicKey = PublicKey(unchecked: publicBytes)
    }

    /// Makes a new key pair from the operating system's secure random source.
    public static func generate() -> SigningKey {
        let seed = SecretBytes(count: seedByteCount) { buffer in
            SecureRandom.fill(buffer)
        }
        return SigningKey(seed: seed)
    }

    /// Signs `message`, giving a 64-byte detached signature. Ed25519 is deterministic: the
    /// same key and message always give the same signature.
    public func signature(for message: [UInt8]) -> Signature {
        var out = [UInt8](repeating: 0, count: Signature.byteCount)
        secretKey.withPointer { sk, _ in
            withBytes(message) { m, mCount in
                withMutableBytes(&out) { s, _ in
                    _ = crypto_sign_detached(s, nil, m, UInt64(mCount), sk)
                }
            }
        }
        return Signature(unchecked: out)
    }

    /// The 32-byte seed, for sealing into a key file. The caller must not keep it longer than needed.
    package func seed() -> SecretBytes {
        secretKey.withPointer { sk, _ in
            SecretBytes(count: Self.seedByteCount) { seedBuffer in
                withMutableBase(seedBuffer) { seed, _ in
                    _ = crypto_sign_ed25519_sk_to_seed(seed, sk)
                }
            }
        }
    }
}

extension PublicKey {
    fileprivate init(unchecked bytes: [UInt8]) {
        self.bytes = bytes
    }
}

extension Signature {
    fileprivate init(unchecked bytes: [UInt8]) {
        self.bytes = bytes
    }
}
