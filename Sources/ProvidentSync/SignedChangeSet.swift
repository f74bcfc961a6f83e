import ProvidentCrypto

/// A change-set as it travels: its exact canonical bytes, the device's signature over them, the
/// decoded content and its id (sync-protocol.md §4).
///
/// The bytes are the source of truth: they are what was signed, what the id hashes, and what is
/// stored and forwarded. `changeSet` is only their reading; nothing is re-serialised.
public struct SignedChangeSet: Hashable, Sendable {
    /// The largest envelope accepted, in bytes: a maximal change-set in base64 plus the framing.
    public static let maxEnvelopeByteCount = 90_000

    /// The canonical change-set bytes that were signed.
    public let bytes: [UInt8]
    /// The Ed25519 signature over `bytes` by the device's key.
    public let signature: Signature
    /// The decoded change-set.
    public let changeSet: ChangeSet
    /// BLAKE2b-256 of `bytes`.
    public let id: ChangeSetID

    /// Encodes and signs a change-set with the device's key.
    ///
    /// The key must be the one whose id the change-set names; signing with another key would
    /// make a change-set no receiver can verify, so it is refused.
    public init(signing changeSet: ChangeSet, with key: SigningKey) throws(SyncError) {
        guard DeviceID(publicKey: key.publicKey) == changeSet.device else {
            throw .invalidField(path: "changeSet.device", reason: Reason("is not the id of the signing key", "不是签名密钥的 ID"))
        }
        let bytes = try changeSet.canonicalBytes()
        self.bytes = bytes
        signature = key.signature(for: bytes)
        self.changeSet = changeSet
        id = Digest256(hashing: bytes)
    }

    /// Reassembles a signed change-set from stored bytes and signature, re-checking the bytes.
    public init(bytes: [UInt8], signature signatureBytes: [UInt8]) throws(SyncError) {
        guard signatureBytes.count == Signature.byteCount,
              let signature = try? Signature(bytes: signatureBytes) else {
            throw .signatureLength(signatureBytes.count)
        }
        let changeSet = try ChangeSet(canonicalBytes: bytes)
        self.bytes = bytes
        self.signature = signature
        self.changeSet = changeSet
        id = Digest256(hashing: bytes)
    }

    /// Reads an envelope already decoded as part of a larger canonical message (a push body).
    public init(envelopeValue value: CanonicalValue) throws(SyncError) {
        var reader = try ObjectReader(value, path: "envelope")
        let body = try reader.string("changeSet")
        let signature = try reader.string("signature")
        try reader.finish()
        guard let bodyBytes = Base64.decode(body) else { throw .invalidBase64(field: "envelope.changeSet") }
        guard let signatureBytes = Base64.decode(signature) else { throw .invalidBase64(field: "envelope.signature") }
        guard signatureBytes.count == Signature.byteCount else { throw .signatureLength(signatureBytes.count) }
        try self.init(bytes: bodyBytes, signature: signatureBytes)
    }

    /// Decodes an envelope: `{"changeSet":"<base64>","signature":"<base64>"}` in canonical form.
    ///
    /// Checks, in order: size, canonical envelope, canonical base64, signature length, canonical
    /// change-set bytes, protocol version and schema. It does not check the signature, which
    /// needs the device's public key: call `verify(with:)`.
    public init(envelope: [UInt8]) throws(SyncError) {
        let value: CanonicalValue
        do {
            value = try CanonicalDecoder.decode(envelope, limit: Self.maxEnvelopeByteCount)
        } catch {
            throw .notCanonical(error)
        }
        try self.init(envelopeValue: value)
    }

    /// The envelope's canonical bytes.
    public var envelope: [UInt8] {
        // Two ASCII strings under fixed keys: this cannot fail to encode.
        (try? CanonicalEncoder.encode(envelopeValue)) ?? []
    }

    /// The envelope as a canonical value, for embedding in larger messages.
    public var envelopeValue: CanonicalValue {
        .object(["changeSet": .string(Base64.encode(bytes)), "signature": .string(Base64.encode(signature.bytes))])
    }

    /// Checks the signature with the public key of the device the change-set names.
    public func verify(with publicKey: PublicKey) throws(SyncError) {
        guard DeviceID(publicKey: publicKey) == changeSet.device else {
            throw .invalidField(path: "changeSet.device", reason: Reason("is not the id of the given public key", "不是所给公钥的 ID"))
        }
        guard publicKey.isValidSignature(signature, for: bytes) else { throw .badSignature }
    }
}
