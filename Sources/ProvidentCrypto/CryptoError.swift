#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An error from key handling, signing or the sealed key file.
///
/// Every case has a stable `code` for programs and a `message` for people. Messages never
/// contain key material, passphrases or file contents.
public enum CryptoError: Error, Equatable, Sendable {
    /// A key, seed or signature had the wrong number of bytes.
    case wrongLength(what: String, expected: Int, actual: Int)
    /// The file is not a Provident key file at all (wrong magic).
    case notAKeyFile
    /// The key file was written by a newer format version than this program reads.
    case unsupportedKeyFileVersion(UInt8)
    /// The key file's bytes were changed or damaged after it was written.
    case keyFileTampered(reason: String)
    /// The passphrase does not open the key file.
    case wrongPassphrase
    /// The passphrase was empty.
    case emptyPassphrase
    /// Argon2id could not run with the requested limits (usually: not enough memory).
    case keyDerivationFailed
    /// A file operation failed.
    case io(operation: String, path: String, errno: Int32)
    /// A key file other users may read (its permission bits are given).
    case keyFileExposed(path: String, mode: UInt16)

    /// A stable machine-readable code.
    public var code: String {
        switch self {
        case .wrongLength: "crypto.wrong_length"
        case .notAKeyFile: "crypto.not_a_key_file"
        case .unsupportedKeyFileVersion: "crypto.key_file_version"
        case .keyFileTampered: "crypto.key_file_tampered"
        case .wrongPassphrase: "crypto.wrong_passphrase"
        case .emptyPassphrase: "crypto.empty_passphrase"
        case .keyDerivationFailed: "crypto.key_derivation_failed"
        case .io: "crypto.io"
        case .keyFileExposed: "crypto.key_file_exposed"
        }
    }

    /// A sentence for people: what is wrong and what to do.
    public var message: String {
        switch self {
        case let .wrongLength(what, expected, actual):
            "\(what) must be \(expected) bytes, got \(actual)."
        case .notAKeyFile:
            "This file is not a Provident key file."
        case let .unsupportedKeyFileVersion(version):
            "The key file uses format version \(version), which this program does not read; update Provident."
        case let .keyFileTampered(reason):
            "The key file is damaged or was altered (\(reason)); restore it from a backup or re-enrol this device."
        case .wrongPassphrase:
            "The passphrase is wrong."
        case .emptyPassphrase:
            "The passphrase is empty; choose one of at least 8 characters."
        case .keyDerivationFailed:
            "The passphrase could not be processed: not enough memory for Argon2id."
        case let .io(operation, path, errno):
            "Could not \(operation) \(path): \(String(cString: strerror(errno)))."
        case let .keyFileExposed(path, mode):
            "Other users may read the key file \(path) (mode \(String(mode, radix: 8))); make it private with: chmod 600 \(path)"
        }
    }
}
