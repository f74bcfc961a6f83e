import CSodium

/// SHA-256 (FIPS 180-4) through libsodium's `crypto_hash_sha256`: the hash of the feed's log
/// (sync-protocol.md §11.14), where it keeps the log readable by existing transparency-log tools.
public enum SHA256 {
    /// Hashes the concatenation of `parts` to 32 bytes.
    public static func hash(_ parts: [UInt8]...) -> [UInt8] {
        Sodium.ensureReady()
        var state = crypto_hash_sha256_state()
        _ = crypto_hash_sha256_init(&state)
        for part in parts {
            withBytes(part) { p, count in
                _ = crypto_hash_sha256_update(&state, p, UInt64(count))
            }
        }
        var out = [UInt8](repeating: 0, count: 32)
        withMutableBytes(&out) { o, _ in
            _ = crypto_hash_sha256_final(&state, o)
        }
        return out
    }
}
