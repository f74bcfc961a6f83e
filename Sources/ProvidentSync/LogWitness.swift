import ProvidentCrypto

/// A witness of the server's log (sync-protocol.md §11.15): an `auditor` device that checks
/// every checkpoint it is shown extends the last one it cosigned, and then cosigns it in the
/// C2SP tlog-cosignature form with its device key.
///
/// ```text
/// message = "cosignature/v1\ntime <seconds>\n" ‖ checkpoint body
/// line    = "— <name> " ‖ base64(key id (4 bytes) ‖ seconds (8 bytes, big-endian) ‖ signature (64 bytes))
/// ```
public struct LogWitness: Hashable, Sendable {
    /// The witness's key name: `provident-witness/` and its device id.
    public let name: String
    public let key: PublicKey

    public init(name: String, key: PublicKey) {
        self.name = name
        self.key = key
    }

    /// The witness of an auditor device.
    public init(device: DeviceID, key: PublicKey) {
        self.init(name: "provident-witness/" + device.rawValue, key: key)
    }

    /// The key type of a cosignature (C2SP tlog-cosignature).
    static let type: UInt8 = 0x04

    /// The cosignature key id: the first four bytes of SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key).
    public var keyID: [UInt8] { LogCheckpoint.keyID(name: name, key: key, type: Self.type) }

    /// The C2SP verifier key: `<name>+<key id in hex>+<base64(0x04 ‖ public key)>`.
    public var verifierKey: String { LogCheckpoint.verifierKey(name: name, key: key, type: Self.type) }

    /// Reads a verifier key; nil when it is not one of an Ed25519 cosignature key whose key id
    /// matches its name and key.
    public init?(verifierKey text: String) {
        guard let (name, key) = LogCheckpoint.verifierKey(parsing: text, type: Self.type) else { return nil }
        self.init(name: name, key: key)
    }

    /// The bytes a cosignature at `time` (seconds since 1970, UTC) covers.
    public static func message(body: String, time: UInt64) -> [UInt8] {
        Array("cosignature/v1\ntime \(time)\n".utf8) + Array(body.utf8)
    }

    /// The signature line that cosigns `checkpoint` at `time`.
    public static func cosign(_ checkpoint: LogCheckpoint, time: UInt64, name: String, key: SigningKey) -> String {
        let witness = LogWitness(name: name, key: key.publicKey)
        var blob = witness.keyID
        blob.appendBigEndian(time)
        blob += key.signature(for: message(body: checkpoint.body, time: time)).bytes
        return "\u{2014} \(name) \(Base64.encode(blob))"
    }

    /// When this witness cosigned the checkpoint of `note` (seconds), if a line of the note is
    /// its valid cosignature.
    public func cosigned(_ note: String, checkpoint: LogCheckpoint) -> UInt64? {
        for (lineName, blob) in LogCheckpoint.signatures(note) where lineName == name && blob.count == 76 && Array(blob.prefix(4)) == keyID {
            let time = blob[4..<12].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            if let signature = try? Signature(bytes: Array(blob.dropFirst(12))),
               key.isValidSignature(signature, for: Self.message(body: checkpoint.body, time: time)) {
                return time
            }
        }
        return nil
    }

    /// The signature lines of a note whose key name is a witness's (`provident-witness/…`).
    public static func lines(of note: String) -> [String] {
        guard let split = note.range(of: "\n\n") else { return [] }
        return note[split.upperBound...].split(separator: "\n").map(String.init).filter { $0.hasPrefix("\u{2014} provident-witness/") }
    }

    /// A note with more signature lines after those it has.
    public static func adding(_ lines: [String], to note: String) -> String {
        lines.reduce(note.hasSuffix("\n") ? note : note + "\n") { $0 + $1 + "\n" }
    }
}
