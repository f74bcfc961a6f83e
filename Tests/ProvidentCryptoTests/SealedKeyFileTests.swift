import Foundation
import ProvidentCrypto
import Testing

@Suite struct SealedKeyFileTests {
    let key = SigningKey.generate()
    let passphrase = SecretBytes(utf8: "correct horse 电池 staple")

    func sealed() throws -> [UInt8] {
        try SealedKeyFile.seal(key, passphrase: passphrase, parameters: .minimum)
    }

    @Test func opensWithThePassphraseItWasSealedWith() throws {
        let file = try sealed()
        #expect(file.count == SealedKeyFile.byteCount)
        let opened = try SealedKeyFile.open(file, passphrase: SecretBytes(utf8: "correct horse 电池 staple"))
        #expect(opened.publicKey == key.publicKey)
        let message = Array("deposit".utf8)
        #expect(key.publicKey.isValidSignature(opened.signature(for: message), for: message))
    }

    @Test func givesThePublicKeyWithoutThePassphrase() throws {
        #expect(try SealedKeyFile.publicKey(in: try sealed()) == key.publicKey)
    }

    @Test func refusesAWrongPassphraseAsSuch() throws {
        #expect(throws: CryptoError.wrongPassphrase) {
            try SealedKeyFile.open(try sealed(), passphrase: SecretBytes(utf8: "correct horse 电池 stable"))
        }
        #expect(throws: CryptoError.wrongPassphrase) {
            try SealedKeyFile.open(try sealed(), passphrase: SecretBytes(utf8: ""))
        }
    }

    @Test func refusesToSealUnderAnEmptyPassphrase() {
        #expect(throws: CryptoError.emptyPassphrase) {
            try SealedKeyFile.seal(key, passphrase: SecretBytes(utf8: ""), parameters: .minimum)
        }
    }

    /// Flipping any single byte after the version (header, salt, nonce, key, box or checksum) is
    /// reported as tampering, never as a wrong passphrase and never accepted.
    @Test func reportsEveryAlteredByteAsTampering() throws {
        let file = try sealed()
        for offset in 5..<file.count {
            var altered = file
            altered[offset] ^= 0x20
            do {
                _ = try SealedKeyFile.open(altered, passphrase: passphrase)
                Issue.record("byte \(offset): an altered file was accepted")
            } catch .keyFileTampered {
                // expected
            } catch {
                Issue.record("byte \(offset): expected tampering, got \(error)")
            }
        }
    }

    @Test func reportsAReChecksummedForgeryAsTamperingOrWrongPassphraseNeverAccepted() throws {
        // An attacker who recomputes the checksum after swapping in their own public key gets the
        // MAC through only with the passphrase; the key comparison then catches the swap.
        var file = try sealed()
        let other = SigningKey.generate()
        file.replaceSubrange(58..<90, with: other.publicKey.bytes)
        file.replaceSubrange(138..<170, with: BLAKE2b.hash(Array(file[0..<138])))
        #expect(throws: CryptoError.keyFileTampered(reason: "the public key does not match the sealed secret")) {
            try SealedKeyFile.open(file, passphrase: passphrase)
        }
    }

    @Test func reportsTruncationOtherFilesAndNewerVersions() throws {
        let file = try sealed()
        #expect(throws: CryptoError.keyFileTampered(reason: "length 100, expected 170")) {
            try SealedKeyFile.open(Array(file[0..<100]), passphrase: passphrase)
        }
        #expect(throws: CryptoError.notAKeyFile) {
            try SealedKeyFile.open(Array("-----BEGIN OPENSSH PRIVATE KEY-----".utf8), passphrase: passphrase)
        }
        #expect(throws: CryptoError.notAKeyFile) { try SealedKeyFile.open([], passphrase: passphrase) }
        // A newer format is another layout: its version byte and its own length.
        var newer = file + [0]
        newer[4] = 2
        #expect(throws: CryptoError.unsupportedKeyFileVersion(2)) {
            try SealedKeyFile.open(newer, passphrase: passphrase)
        }
        // Version 1's length with another version byte is version 1, damaged.
        var flipped = file
        flipped[4] = 2
        #expect(throws: CryptoError.keyFileTampered(reason: "format version byte 2")) {
            try SealedKeyFile.open(flipped, passphrase: passphrase)
        }
    }

    @Test func writesTheFileWithMode0600AndReplacesAtomically() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("provident-key-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("device.key").path

        let first = try sealed()
        try SealedKeyFile.write(first, to: path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try SealedKeyFile.read(from: path) == first)

        let second = try SealedKeyFile.seal(SigningKey.generate(), passphrase: passphrase, parameters: .minimum)
        try SealedKeyFile.write(second, to: path)
        #expect(try SealedKeyFile.read(from: path) == second)
        // No temporary files are left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["device.key"])
    }

    @Test func reportsAMissingFileWithItsPath() {
        #expect(throws: CryptoError.io(operation: "open", path: "/nonexistent/device.key", errno: ENOENT)) {
            try SealedKeyFile.read(from: "/nonexistent/device.key")
        }
    }

    @Test func messagesCarryNoSecrets() throws {
        let errors: [CryptoError] = [.wrongPassphrase, .keyFileTampered(reason: "checksum mismatch"), .notAKeyFile,
                                     .unsupportedKeyFileVersion(9), .emptyPassphrase]
        for error in errors {
            #expect(!error.message.contains("correct horse"))
            #expect(!error.message.isEmpty)
            #expect(error.code.hasPrefix("crypto."))
        }
    }
}
