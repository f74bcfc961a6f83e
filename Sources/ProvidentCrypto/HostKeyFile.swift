/// The server's own signing key, stored unencrypted so the service can start unattended, like an
/// SSH host key: protected by the file's 0600 mode and the machine's access control.
///
/// Layout (69 bytes): magic `PVHK`, format version 1, the 32-byte Ed25519 seed, and the
/// BLAKE2b-256 of the preceding 37 bytes, so damage is reported rather than a wrong key used.
public enum HostKeyFile {
    static let magic: [UInt8] = Array("PVHK".utf8)
    static let byteCount = 69

    /// The file's bytes for `key`.
    public static func encode(_ key: SigningKey) -> [UInt8] {
        var out = magic + [1]
        key.seed().withUnsafeBytes { out += $0 }
        out += BLAKE2b.hash(out, outputLength: 32)
        return out
    }

    /// Reads a host key file.
    public static func decode(_ bytes: [UInt8]) throws(CryptoError) -> SigningKey {
        guard bytes.count >= 5, Array(bytes[0..<4]) == magic else { throw .notAKeyFile }
        guard bytes[4] == 1 else { throw .unsupportedKeyFileVersion(bytes[4]) }
        guard bytes.count == byteCount else { throw .keyFileTampered(reason: "length \(bytes.count), expected \(byteCount)") }
        guard BLAKE2b.hash(Array(bytes[0..<37]), outputLength: 32) == Array(bytes[37..<69]) else {
            throw .keyFileTampered(reason: "checksum mismatch")
        }
        return try SigningKey(seed: bytes[5..<37])
    }

    /// Loads the key at `path`, or creates one there (mode 0600) if there is no file yet.
    public static func loadOrCreate(at path: String) throws(CryptoError) -> (key: SigningKey, created: Bool) {
        do {
            try AtomicFile.requirePrivate(path)
            return (try decode(try AtomicFile.read(path, limit: 4096)), false)
        } catch let .io(_, _, errno) where errno == ENOENT {
            let key = SigningKey.generate()
            try AtomicFile.write(encode(key), to: path, mode: 0o600)
            return (key, true)
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
