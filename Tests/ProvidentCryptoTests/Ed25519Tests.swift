import ProvidentCrypto
import Testing

@Suite struct Ed25519Tests {
    /// RFC 8032 §7.1, TEST 1–3: secret seed, public key, message, signature.
    static let rfc8032: [(seed: String, publicKey: String, message: String, signature: String)] = [
        ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
         "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
         "",
         "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
        ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
         "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
         "72",
         "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
        ("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
         "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
         "af82",
         "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
    ]

    @Test(arguments: 0..<3)
    func reproducesRFC8032KnownAnswers(test: Int) throws {
        let vector = Self.rfc8032[test]
        let key = try SigningKey(seed: try #require(Hex.decode(vector.seed)))
        let message = try #require(Hex.decode(vector.message))
        #expect(Hex.encode(key.publicKey.bytes) == vector.publicKey)
        let signature = key.signature(for: message)
        #expect(Hex.encode(signature.bytes) == vector.signature)
        #expect(key.publicKey.isValidSignature(signature, for: message))
    }

    @Test func rejectsASignatureOverOtherBytesOrByAnotherKey() throws {
        let key = SigningKey.generate()
        let other = SigningKey.generate()
        let message = Array("缴存 2026-11".utf8)
        let signature = key.signature(for: message)
        #expect(key.publicKey.isValidSignature(signature, for: message))
        #expect(!other.publicKey.isValidSignature(signature, for: message))
        #expect(!key.publicKey.isValidSignature(signature, for: message + [0]))
        var flipped = signature.bytes
        flipped[10] ^= 0x01
        #expect(!key.publicKey.isValidSignature(try Signature(bytes: flipped), for: message))
    }

    @Test func generatedKeysDiffer() {
        #expect(SigningKey.generate().publicKey != SigningKey.generate().publicKey)
    }

    @Test(arguments: [0, 31, 33, 64])
    func refusesSeedsOfTheWrongLength(length: Int) {
        #expect(throws: CryptoError.wrongLength(what: "An Ed25519 seed", expected: 32, actual: length)) {
            try SigningKey(seed: [UInt8](repeating: 1, count: length))
        }
    }

    @Test(arguments: [0, 63, 65, 128])
    func refusesSignaturesOfTheWrongLength(length: Int) {
        #expect(throws: CryptoError.wrongLength(what: "An Ed25519 signature", expected: 64, actual: length)) {
            try Signature(bytes: [UInt8](repeating: 1, count: length))
        }
    }

    @Test(arguments: [0, 31, 33])
    func refusesPublicKeysOfTheWrongLength(length: Int) {
        #expect(throws: CryptoError.self) { try PublicKey(bytes: [UInt8](repeating: 1, count: length)) }
    }
}

@Suite struct BLAKE2bTests {
    @Test func reproducesRFC7693AppendixA() {
        // BLAKE2b-512("abc"), RFC 7693 Appendix A.
        #expect(Hex.encode(BLAKE2b.hash(Array("abc".utf8), outputLength: 64))
            == "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923")
    }

    @Test func blake2b256OfABCMatchesAnIndependentImplementation() {
        // Python's hashlib.blake2b(b"abc", digest_size=32).
        #expect(Hex.encode(BLAKE2b.hash(Array("abc".utf8)))
            == "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319")
    }

    @Test func incrementalHashingEqualsOneShot() {
        let message = (0..<1_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        var hasher = BLAKE2b.Hasher()
        hasher.update(Array(message[0..<1]))
        hasher.update(Array(message[1..<500]))
        hasher.update([])
        hasher.update(Array(message[500...]))
        #expect(hasher.finalize() == BLAKE2b.hash(message))
    }
}

@Suite struct HexTests {
    @Test func roundTrips() {
        let bytes: [UInt8] = [0, 1, 0x7f, 0x80, 0xab, 0xff]
        #expect(Hex.encode(bytes) == "00017f80abff")
        #expect(Hex.decode("00017f80abff") == bytes)
    }

    @Test(arguments: ["0", "ABCD", "0g", "00 11", "0x00"])
    func acceptsOnlyOneSpelling(text: String) {
        #expect(Hex.decode(text) == nil)
    }
}
