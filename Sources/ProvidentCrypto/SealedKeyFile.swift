import CSodium

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A device's signing key sealed with a passphrase: Argon2id derives a key, `crypto_secretbox`
/// (XSalsa20-Poly1305) encrypts the 32-byte seed.
///
/// Layout, all integers big-endian (170 bytes in format version 1):
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 4 | magic `PVKF` |
/// | 4 | 1 | format version, 1 |
/// | 5 | 1 | KDF id, 1 = Argon2id v1.3 |
/// | 6 | 4 | Argon2id opslimit |
/// | 10 | 8 | Argon2id memlimit, bytes |
/// | 18 | 16 | salt |
/// | 34 | 24 | secretbox nonce |
/// | 58 | 32 | public key, in clear so read-only commands need no passphrase |
/// | 90 | 48 | secretbox of the seed (16-byte MAC, 32-byte ciphertext) |
/// | 138 | 32 | BLAKE2b-256 of bytes 0..<138 |
///
/// The trailing checksum tells damage from a wrong passphrase: a changed byte fails the
/// checksum ("tampered"), while a good file with the wrong passphrase fails the MAC. The MAC and
/// the public-key comparison after opening mean a deliberately re-checksummed file is still
/// never accepted.
public enum SealedKeyFile {
    /// The four bytes every key file starts with.
    public static let magic: [UInt8] = Array("PVKF".utf8)
    /// The format version this code writes.
    public static let formatVersion: UInt8 = 1
    /// The total length of a version-1 file.
    public static let byteCount = 170

    private static let kdfArgon2id13: UInt8 = 1
    private static let bodyCount = 138

    /// Argon2id cost parameters, stored in the file so they can change without breaking old files.
    public struct Parameters: Sendable, Equatable {
        /// Argon2id passes over memory.
        public var opsLimit: UInt32
        /// Argon2id memory, in bytes.
        public var memLimitBytes: UInt64

        /// libsodium's interactive limits (2 passes, 64 MiB): about a tenth of a second here.
        public static let interactive = Parameters(
            opsLimit: UInt32(crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE),
            memLimitBytes: UInt64(crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE))

        /// The smallest limits libsodium accepts; only for tests, where speed matters more than cost.
        public static let minimum = Parameters(
            opsLimit: UInt32(crypto_pwhash_argon2id_OPSLIMIT_MIN),
            memLimitBytes: UInt64(crypto_pwhash_argon2id_MEMLIMIT_MIN))

        /// Creates cost parameters.
        public init(opsLimit: UInt32, memLimitBytes: UInt64) {
            self.opsLimit = opsLimit
            self.memLimitBytes = memLimitBytes
        }

        var isWithinLibraryBounds: Bool {
            opsLimit >= UInt32(crypto_pwhash_argon2id_OPSLIMIT_MIN)
                && UInt64(opsLimit) <= UInt64(crypto_pwhash_argon2id_opslimit_max())
                && memLimitBytes >= UInt64(crypto_pwhash_argon2id_MEMLIMIT_MIN)
                && memLimitBytes <= UInt64(crypto_pwhash_argon2id_memlimit_max())
        }
    }

    /// Seals `key` under `passphrase` with fresh random salt and nonce.
    public static func seal(_ key: SigningKey, passphrase: SecretBytes,
                            parameters: Parameters = .interactive) throws(CryptoError) -> [UInt8] {
        try seal(key, passphrase: passphrase, parameters: parameters,
                 salt: SecureRandom.bytes(count: Int(crypto_pwhash_argon2id_SALTBYTES)),
                 nonce: SecureRandom.bytes(count: Int(crypto_secretbox_NONCEBYTES)))
    }

    /// Seals with a given salt and nonce; deterministic, for tests and vectors.
    package static func seal(_ key: SigningKey, passphrase: SecretBytes, parameters: Parameters,
                             salt: [UInt8], nonce: [UInt8]) throws(CryptoError) -> [UInt8] {
        guard passphrase.count > 0 else { throw .emptyPassphrase }
        guard parameters.isWithinLibraryBounds else { throw .keyDerivationFailed }
        let boxKey = try deriveKey(passphrase: passphrase, salt: salt, parameters: parameters)
        let seed = key.seed()

        var out = magic
        out.append(formatVersion)
        out.append(kdfArgon2id13)
        appendBigEndian(parameters.opsLimit, to: &out)
        appendBigEndian(parameters.memLimitBytes, to: &out)
        out += salt
        out += nonce
        out += key.publicKey.bytes
        var box = [UInt8](repeating: 0, count: Int(crypto_secretbox_MACBYTES) + SigningKey.seedByteCount)
        seed.withPointer { s, sCount in
            boxKey.withPointer { k, _ in
                withMutableBytes(&box) { b, _ in
                    _ = crypto_secretbox_easy(b, s, UInt64(sCount), nonce, k)
                }
            }
        }
        out += box
        out += BLAKE2b.hash(out, outputLength: 32)
        return out
    }

    /// Reads the public key from a sealed file without the passphrase.
    public static func publicKey(in file: [UInt8]) throws(CryptoError) -> PublicKey {
        let fields = try parse(file)
        return try PublicKey(bytes: fields.publicKey)
    }

    /// Opens a sealed file with `passphrase`.
    ///
    /// Throws `.notAKeyFile`, `.unsupportedKeyFileVersion`, `.keyFileTampered` or
    /// `.wrongPassphrase`, each for its own cause.
    public static func open(_ file: [UInt8], passphrase: SecretBytes) throws(CryptoError) -> SigningKey {
        let fields = try parse(file)
        guard passphrase.count > 0 else { throw .wrongPassphrase }
        let boxKey = try deriveKey(passphrase: passphrase, salt: fields.salt, parameters: fields.parameters)
        var opened = true
        let seed = SecretBytes(count: SigningKey.seedByteCount) { seedBuffer in
            boxKey.withPointer { k, _ in
                withMutableBase(seedBuffer) { seed, _ in
                    opened = crypto_secretbox_open_easy(seed, fields.box, UInt64(fields.box.count), fields.nonce, k) == 0
                }
            }
        }
        guard opened else { throw .wrongPassphrase }
        let key = SigningKey(seed: seed)
        guard key.publicKey.bytes == fields.publicKey else {
            throw .keyFileTampered(reason: "the public key does not match the sealed secret")
        }
        return key
    }

    // MARK: Files

    /// Writes a sealed key to `path` atomically with mode 0600: a temporary file in the same
    /// directory is written, flushed, and renamed over the target, so a crash leaves either the
    /// old file or the new one, never a mix.
    public static func write(_ file: [UInt8], to path: String) throws(CryptoError) {
        try AtomicFile.write(file, to: path, mode: 0o600)
    }

    /// Reads a sealed key file (at most a few kilobytes; anything larger is refused as not a key file).
    /// Reads a sealed key file; one other users may read is refused.
    public static func read(from path: String) throws(CryptoError) -> [UInt8] {
        try AtomicFile.requirePrivate(path)
        return try AtomicFile.read(path, limit: 4096)
    }

    // MARK: Internals

    private struct Fields {
        var parameters: Parameters
        var salt: [UInt8]
        var nonce: [UInt8]
        var publicKey: [UInt8]
        var box: [UInt8]
    }

    private static func parse(_ file: [UInt8]) throws(CryptoError) -> Fields {
        guard file.count >= 5, Array(file[0..<4]) == magic else { throw .notAKeyFile }
        guard file[4] == formatVersion else {
            // A file of exactly this version's length with another version byte is this version,
            // damaged; only version 1 has ever been written.
            if file.count == byteCount { throw .keyFileTampered(reason: "format version byte \(file[4])") }
            throw .unsupportedKeyFileVersion(file[4])
        }
        guard file.count == byteCount else {
            throw .keyFileTampered(reason: "length \(file.count), expected \(byteCount)")
        }
        guard BLAKE2b.hash(Array(file[0..<bodyCount]), outputLength: 32) == Array(file[bodyCount..<byteCount]) else {
            throw .keyFileTampered(reason: "checksum mismatch")
        }
        guard file[5] == kdfArgon2id13 else { throw .keyFileTampered(reason: "unknown key derivation \(file[5])") }
        let parameters = Parameters(opsLimit: UInt32(readBigEndian(file, at: 6, count: 4)),
                                    memLimitBytes: readBigEndian(file, at: 10, count: 8))
        guard parameters.isWithinLibraryBounds else {
            throw .keyFileTampered(reason: "key derivation limits out of range")
        }
        return Fields(parameters: parameters,
                      salt: Array(file[18..<34]),
                      nonce: Array(file[34..<58]),
                      publicKey: Array(file[58..<90]),
                      box: Array(file[90..<138]))
    }

    private static func deriveKey(passphrase: SecretBytes, salt: [UInt8],
                                  parameters: Parameters) throws(CryptoError) -> SecretBytes {
        var derived = true
        let key = SecretBytes(count: Int(crypto_secretbox_KEYBYTES)) { outBuffer in
            passphrase.withPointer { p, pCount in
                withMutableBase(outBuffer) { out, outCount in
                    p.withMemoryRebound(to: CChar.self, capacity: max(pCount, 1)) { password in
                        derived = crypto_pwhash(
                            out, UInt64(outCount), password, UInt64(pCount),
                            salt, UInt64(parameters.opsLimit), Int(parameters.memLimitBytes),
                            crypto_pwhash_ALG_ARGON2ID13) == 0
                    }
                }
            }
        }
        guard derived else { throw .keyDerivationFailed }
        return key
    }

    private static func appendBigEndian<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        for shift in stride(from: T.bitWidth - 8, through: 0, by: -8) {
            out.append(UInt8(truncatingIfNeeded: value >> shift))
        }
    }

    private static func readBigEndian(_ bytes: [UInt8], at offset: Int, count: Int) -> UInt64 {
        var value: UInt64 = 0
        for byte in bytes[offset..<offset + count] { value = value << 8 | UInt64(byte) }
        return value
    }
}
