import CSodium

/// BLAKE2b (RFC 7693) through libsodium's `crypto_generichash`.
public enum BLAKE2b {
    /// Hashes `message` to `outputLength` bytes (16…64; Provident uses 32 everywhere).
    public static func hash(_ message: [UInt8], outputLength: Int = 32) -> [UInt8] {
        message.withUnsafeBytes { hash($0, outputLength: outputLength) }
    }

    /// Hashes raw bytes to `outputLength` bytes (16…64).
    public static func hash(_ message: UnsafeRawBufferPointer, outputLength: Int = 32) -> [UInt8] {
        precondition((16...64).contains(outputLength), "BLAKE2b output length must be 16…64 bytes")
        Sodium.ensureReady()
        var out = [UInt8](repeating: 0, count: outputLength)
        withMutableBytes(&out) { o, _ in
            withBase(message) { m, mCount in
                _ = crypto_generichash(o, outputLength, m, UInt64(mCount), nil, 0)
            }
        }
        return out
    }

    /// An incremental BLAKE2b hash, for digests over data that arrives in pieces.
    public struct Hasher: ~Copyable {
        private let state: UnsafeMutableRawPointer
        private let outputLength: Int

        /// Starts a hash of `outputLength` bytes (16…64).
        public init(outputLength: Int = 32) {
            precondition((16...64).contains(outputLength), "BLAKE2b output length must be 16…64 bytes")
            Sodium.ensureReady()
            self.outputLength = outputLength
            state = UnsafeMutableRawPointer.allocate(byteCount: crypto_generichash_statebytes(), alignment: 64)
            _ = crypto_generichash_init(OpaquePointer(state), nil, 0, outputLength)
        }

        /// Adds bytes to the hash.
        public mutating func update(_ bytes: [UInt8]) {
            withBytes(bytes) { b, count in
                _ = crypto_generichash_update(OpaquePointer(state), b, UInt64(count))
            }
        }

        /// Finishes the hash and gives the digest.
        public consuming func finalize() -> [UInt8] {
            var out = [UInt8](repeating: 0, count: outputLength)
            withMutableBytes(&out) { o, _ in
                _ = crypto_generichash_final(OpaquePointer(state), o, outputLength)
            }
            return out
        }

        deinit {
            state.deallocate()
        }
    }
}
