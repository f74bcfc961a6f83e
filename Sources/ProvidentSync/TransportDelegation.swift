import ProvidentCrypto

/// A device's certificate for its transport key (sync-protocol.md §5.1): the device key signs
/// `{"device","issuedAt","purpose":"provident-transport","transportKey"}`, and the server then
/// accepts request signatures (§11.2) made with the transport key for the requests that sync.
/// The transport key can sign no change-set: those are checked against the device key alone.
public struct TransportDelegation: Hashable, Sendable {
    /// The `purpose` member, which keeps a delegation from being read as anything else signed.
    public static let purpose = "provident-transport"

    public let device: DeviceID
    public let transportKey: PublicKey
    /// Milliseconds since the epoch, when the device made the transport key.
    public let issuedAt: Int64
    /// The canonical bytes the device key signs.
    public let bytes: [UInt8]
    public let signature: Signature

    /// Certifies `transportKey` with the device's key.
    public init(transportKey: PublicKey, issuedAt: Int64, signingWith deviceKey: SigningKey) throws(SyncError) {
        device = DeviceID(publicKey: deviceKey.publicKey)
        self.transportKey = transportKey
        self.issuedAt = issuedAt
        let value: CanonicalValue = .object([
            "device": .string(device.rawValue), "issuedAt": .integer(issuedAt), "purpose": .string(Self.purpose),
            "transportKey": .string(Base64.encode(transportKey.bytes)),
        ])
        do {
            bytes = try CanonicalEncoder.encode(value)
        } catch {
            throw .notCanonical(error)
        }
        signature = deviceKey.signature(for: bytes)
    }

    /// Reads a delegation from `{"delegation":"<base64>","signature":"<base64>"}` and checks that
    /// the device with `devicePublicKey` signed it for itself.
    public init(envelope value: CanonicalValue, devicePublicKey: PublicKey) throws(SyncError) {
        let (bytes, signature, decoded) = try SignedDocument.open(value, body: "delegation", key: devicePublicKey, limit: 1_024)
        var fields = try ObjectReader(decoded, path: "delegation")
        let deviceText = try fields.string("device")
        let issuedAt = try fields.integer("issuedAt")
        let purpose = try fields.string("purpose")
        let keyText = try fields.string("transportKey")
        try fields.finish()
        guard purpose == Self.purpose else {
            throw .invalidField(path: "delegation.purpose", reason: Reason("must be \(Self.purpose)", "须为 \(Self.purpose)"))
        }
        guard let device = DeviceID(deviceText), device == DeviceID(publicKey: devicePublicKey) else {
            throw .invalidField(path: "delegation.device", reason: Reason("is not the id of the signing device", "不是签名设备的 ID"))
        }
        guard issuedAt >= 0 else { throw .invalidField(path: "delegation.issuedAt", reason: Reason("must not be negative", "不能为负")) }
        guard let keyBytes = Base64.decode(keyText), let transportKey = try? PublicKey(bytes: keyBytes) else {
            throw .invalidField(path: "delegation.transportKey", reason: Reason("must be the base64 of 32 bytes", "须为 32 字节的 base64"))
        }
        self.device = device
        self.transportKey = transportKey
        self.issuedAt = issuedAt
        self.bytes = bytes
        self.signature = signature
    }

    /// The delegation as sent: `{"delegation":"<base64>","signature":"<base64>"}`.
    public var envelopeValue: CanonicalValue {
        .object(["delegation": .string(Base64.encode(bytes)), "signature": .string(Base64.encode(signature.bytes))])
    }
}
