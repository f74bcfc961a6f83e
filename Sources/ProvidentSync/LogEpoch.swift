import ProvidentCrypto

/// The office's announcement that the server's log begins again (sync-protocol.md §11.16): a
/// server restored from an older copy has a shorter log, which does not extend the checkpoints
/// devices hold. Signed by an office device's key, as a C2SP signed note:
///
/// ```text
/// provident-epoch/v1
/// <log origin>
/// ends <size> <base64 root>        the last checkpoint of the old log the office verified
/// starts <size> <base64 root>      the restored log's checkpoint the office verified
/// time <ms>
///
/// — provident-office/<device id> <base64(key id ‖ signature)>
/// ```
public struct LogEpoch: Hashable, Sendable {
    public let origin: String
    public let ends: (size: UInt64, root: Digest256)
    public let starts: (size: UInt64, root: Digest256)
    /// When the office announced it (milliseconds since 1970, UTC).
    public let time: Int64

    public init(origin: String, ends: (size: UInt64, root: Digest256), starts: (size: UInt64, root: Digest256), time: Int64) {
        self.origin = origin
        self.ends = ends
        self.starts = starts
        self.time = time
    }

    public static func == (a: LogEpoch, b: LogEpoch) -> Bool {
        a.body == b.body
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(body)
    }

    static let header = "provident-epoch/v1"

    /// The text the signature covers.
    public var body: String {
        "\(Self.header)\n\(origin)\nends \(ends.size) \(Base64.encode(ends.root.bytes))\nstarts \(starts.size) \(Base64.encode(starts.root.bytes))\ntime \(time)\n"
    }

    /// The key name of an office device.
    public static func officeName(_ device: DeviceID) -> String {
        "provident-office/" + device.rawValue
    }

    /// The C2SP verifier key of an office device: `<name>+<key id in hex>+<base64(0x01 ‖ public key)>`.
    public static func verifierKey(name: String, key: PublicKey) -> String {
        LogCheckpoint.verifierKey(name: name, key: key)
    }

    /// Reads an office's verifier key: its name and key, when the key id matches them.
    public static func office(verifierKey text: String) -> (name: String, key: PublicKey)? {
        LogCheckpoint.verifierKey(parsing: text).flatMap { $0.name.hasPrefix("provident-office/") ? $0 : nil }
    }

    /// The signed note, signed by the office device `name`.
    public func signed(name: String, key: SigningKey) -> String {
        let signature = key.signature(for: Array(body.utf8))
        return body + "\n\u{2014} \(name) \(Base64.encode(LogCheckpoint.keyID(name: name, key: key.publicKey) + signature.bytes))\n"
    }

    /// Reads an epoch's note, without checking any signature.
    public static func parse(_ note: String) -> LogEpoch? {
        guard let split = note.range(of: "\n\n") else { return nil }
        let lines = note[..<split.lowerBound].split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count == 5, lines[0] == header, !lines[1].isEmpty, let ends = point(lines[2], "ends"), let starts = point(lines[3], "starts"),
              lines[4].hasPrefix("time "), let time = Int64(lines[4].dropFirst(5)), String(time) == lines[4].dropFirst(5) else { return nil }
        let epoch = LogEpoch(origin: lines[1], ends: ends, starts: starts, time: time)
        return epoch.body == String(note[..<split.lowerBound]) + "\n" ? epoch : nil
    }

    private static func point(_ line: String, _ word: String) -> (size: UInt64, root: Digest256)? {
        let parts = line.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == word, let size = UInt64(parts[1]), String(size) == parts[1],
              let bytes = Base64.decode(String(parts[2])), let root = Digest256(bytes: bytes) else { return nil }
        return (size, root)
    }

    /// The epoch of `note` and the office that signed it, when one of `offices` did.
    public static func verified(_ note: String, offices: [(name: String, key: PublicKey)]) -> (epoch: LogEpoch, office: String)? {
        guard let epoch = parse(note) else { return nil }
        for (name, blob) in LogCheckpoint.signatures(note) where blob.count == 68 {
            guard let office = offices.first(where: { $0.name == name }), Array(blob.prefix(4)) == LogCheckpoint.keyID(name: name, key: office.key),
                  let signature = try? Signature(bytes: Array(blob.dropFirst(4))),
                  office.key.isValidSignature(signature, for: Array(epoch.body.utf8)) else { continue }
            return (epoch, name)
        }
        return nil
    }
}
