import CSodium

/// Password hashes for the people who sign in to the office dashboard: libsodium's
/// `crypto_pwhash_str` (Argon2id, interactive limits, a random salt), stored as the
/// self-describing string it returns (`$argon2id$v=19$m=…`).
public enum PasswordHash {
    /// The shortest password accepted.
    public static let minimumLength = 10

    /// Hashes a password; fails only when memory for Argon2id cannot be had.
    public static func make(_ password: SecretBytes) throws(CryptoError) -> String {
        Sodium.ensureReady()
        guard password.count > 0 else { throw .emptyPassphrase }
        var output = [CChar](repeating: 0, count: Int(crypto_pwhash_STRBYTES))
        let result = password.withUnsafeBytes { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars -> Int32 in
                guard let base = chars.baseAddress else { return -1 }
                return crypto_pwhash_str_alg(&output, base, UInt64(chars.count), UInt64(crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE),
                                      Int(crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE), crypto_pwhash_ALG_ARGON2ID13)
            }
        }
        guard result == 0 else { throw .keyDerivationFailed }
        return String(cString: output)
    }

    /// Whether `password` matches `hash`; false for a malformed hash. Takes the same time
    /// whatever is wrong, as Argon2id does.
    public static func verify(_ password: SecretBytes, against hash: String) -> Bool {
        Sodium.ensureReady()
        return password.withUnsafeBytes { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                guard let base = chars.baseAddress else { return false }
                return hash.withCString { crypto_pwhash_str_verify($0, base, UInt64(chars.count)) == 0 }
            }
        }
    }

    /// A hash of a password nobody has, to verify against when the user is unknown, so an
    /// unknown name costs the same time as a wrong password.
    public static let decoy: String = (try? make(SecretBytes(copying: randomBytes(24)))) ?? ""

    static func randomBytes(_ count: Int) -> [UInt8] {
        SecureRandom.bytes(count: count)
    }
}
