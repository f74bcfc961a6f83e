import ProvidentCrypto

/// A signed statement of the log's size and root: a C2SP tlog-checkpoint in a C2SP signed note,
/// signed with the server's Ed25519 key (sync-protocol.md §11.14).
///
/// ```text
/// provident/3f1c9a0b2d4e6f70
/// 57
/// <base64 root>
///
/// — provident/3f1c9a0b2d4e6f70 <base64 of key id (4 bytes) ‖ signature (64 bytes)>
/// ```
public struct LogCheckpoint: Hashable, Sendable {
    public let origin: String
    public let size: UInt64
    public let root: Digest256

    public init(origin: String, size: UInt64, root: Digest256) {
        self.origin = origin
        self.size = size
        self.root = root
    }

    /// The log's origin for a server key: `provident/` and the first 16 hex digits of the key's
    /// fingerprint, so that every server key names its own log.
    public static func origin(for key: PublicKey) -> String {
        "provident/" + String(Hex.encode(key.fingerprint).prefix(16))
    }

    /// The note's text: origin, size and base64 root, one per line; what the signature covers.
    public var body: String {
        "\(origin)\n\(size)\n\(Base64.encode(root.bytes))\n"
    }

    /// The signed-note key id of an Ed25519 key named `name`: the first four bytes of
    /// SHA-256(name ‖ 0x0A ‖ type ‖ public key); type 0x01 signs notes, 0x04 cosigns checkpoints
    /// (C2SP tlog-cosignature).
    public static func keyID(name: String, key: PublicKey, type: UInt8 = 0x01) -> [UInt8] {
        Array(SHA256.hash(Array(name.utf8), [0x0A, type], key.bytes).prefix(4))
    }

    /// The C2SP verifier key: `<name>+<key id in hex>+<base64(type ‖ public key)>`.
    public static func verifierKey(name: String, key: PublicKey, type: UInt8 = 0x01) -> String {
        "\(name)+\(Hex.encode(keyID(name: name, key: key, type: type)))+\(Base64.encode([type] + key.bytes))"
    }

    /// Reads a verifier key of `type`: its name and key, when the key id matches them. The
    /// base64 may hold `+`, so the text is split in three at most.
    public static func verifierKey(parsing text: String, type: UInt8 = 0x01) -> (name: String, key: PublicKey)? {
        let parts = text.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[0].contains(" "),
              let blob = Base64.decode(String(parts[2])), blob.count == 33, blob[0] == type,
              let key = try? PublicKey(bytes: Array(blob.dropFirst())),
              Hex.encode(keyID(name: String(parts[0]), key: key, type: type)) == parts[1] else { return nil }
        return (String(parts[0]), key)
    }

    /// The whole signed note.
    public func signed(with key: SigningKey) -> String {
        let signature = key.signature(for: Array(body.utf8))
        return body + "\n\u{2014} \(origin) \(Base64.encode(Self.keyID(name: origin, key: key.publicKey) + signature.bytes))\n"
    }

    /// What is wrong with a signed checkpoint.
    public enum Problem: Error, Equatable, Sendable {
        /// Not a signed note holding a checkpoint.
        case malformed(String)
        /// The origin is not the log of the pinned server key.
        case wrongOrigin(String)
        /// No signature by the server key, or one that does not verify.
        case badSignature
    }

    /// Reads a signed note and checks it is the server's checkpoint: the origin of `key`'s log
    /// and a valid signature by `key` (other signatures, such as witnesses', are ignored here).
    public static func verified(_ note: String, key: PublicKey) throws(Problem) -> LogCheckpoint {
        let checkpoint = try parse(note)
        let expected = origin(for: key)
        guard checkpoint.origin == expected else { throw .wrongOrigin(checkpoint.origin) }
        let id = keyID(name: expected, key: key)
        for (name, blob) in signatures(note) where name == expected && blob.count == 68 && Array(blob.prefix(4)) == id {
            if let signature = try? Signature(bytes: Array(blob.dropFirst(4))),
               key.isValidSignature(signature, for: Array(checkpoint.body.utf8)) {
                return checkpoint
            }
        }
        throw .badSignature
    }

    /// Reads the checkpoint of a signed note, without checking any signature.
    public static func parse(_ note: String) throws(Problem) -> LogCheckpoint {
        guard let split = note.range(of: "\n\n") else { throw .malformed("no blank line before the signatures") }
        let lines = note[..<split.lowerBound].split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 3 else { throw .malformed("fewer than three lines before the signatures") }
        let origin = String(lines[0])
        guard !origin.isEmpty, !origin.contains(" ") else { throw .malformed("the origin line is empty or holds a space") }
        guard let size = UInt64(lines[1]), String(size) == lines[1] else { throw .malformed("the size is not a decimal number") }
        guard let rootBytes = Base64.decode(String(lines[2])), let root = Digest256(bytes: rootBytes) else {
            throw .malformed("the root is not 32 bytes in base64")
        }
        return LogCheckpoint(origin: origin, size: size, root: root)
    }

    /// The signature lines of a note: key name and decoded blob.
    static func signatures(_ note: String) -> [(String, [UInt8])] {
        guard let split = note.range(of: "\n\n") else { return [] }
        return note[split.upperBound...].split(separator: "\n").compactMap { line in
            guard line.hasPrefix("\u{2014} ") else { return nil }
            let parts = line.dropFirst(2).split(separator: " ")
            guard parts.count == 2, let blob = Base64.decode(String(parts[1])) else { return nil }
            return (String(parts[0]), blob)
        }
    }
}

/// The server's signed promise that a change-set it accepted is in its feed at a position
/// (sync-protocol.md §11.14). Since revision 1.6 one signature covers every result of a push
/// (`ReceiptBatch`), and `batch` holds the list it covers; a receipt from revision 1.5 was signed
/// alone, over `"provident-receipt-v1" ‖ change-set id ‖ position (8 bytes, big-endian) ‖ time`.
public struct LogReceipt: Hashable, Sendable {
    public let id: ChangeSetID
    public let position: UInt64
    public let time: Int64
    public let signature: Signature
    /// The entries the signature covers (`ReceiptBatch.entries`), or nil for a receipt signed alone.
    public let batch: [UInt8]?

    public init(id: ChangeSetID, position: UInt64, time: Int64, signature: Signature, batch: [UInt8]? = nil) {
        self.id = id
        self.position = position
        self.time = time
        self.signature = signature
        self.batch = batch
    }

    static let domain = Array("provident-receipt-v1".utf8)

    /// The bytes a lone receipt's signature covers.
    public static func message(id: ChangeSetID, position: UInt64, time: Int64) -> [UInt8] {
        var message = domain + id.bytes
        message.appendBigEndian(position)
        message.appendBigEndian(UInt64(bitPattern: time))
        return message
    }

    /// Signs a lone receipt (revision 1.5; kept for the vectors and receipts devices hold).
    public static func signed(id: ChangeSetID, position: UInt64, time: Int64, key: SigningKey) -> LogReceipt {
        LogReceipt(id: id, position: position, time: time, signature: key.signature(for: message(id: id, position: position, time: time)))
    }

    /// Whether the server key signed this receipt: alone, or as one of the entries of its batch.
    public func isValid(for key: PublicKey) -> Bool {
        guard let batch else { return key.isValidSignature(signature, for: Self.message(id: id, position: position, time: time)) }
        return ReceiptBatch.contains(batch, id: id, position: position)
            && key.isValidSignature(signature, for: ReceiptBatch.message(time: time, entries: batch))
    }

    /// The receipt as evidence shows it: `{"id","position","signature","time"}`, and `batch`, the
    /// list of `{"id","position"}` the signature covers, when it was signed with others.
    public var canonicalValue: CanonicalValue {
        var object: [String: CanonicalValue] = ["id": .string(id.hex), "position": .integer(Int64(position)), "time": .integer(time),
                                                "signature": .string(Base64.encode(signature.bytes))]
        if let batch { object["batch"] = .array(ReceiptBatch.list(batch).map { .object(["id": .string($0.id.hex), "position": .integer(Int64($0.position))]) }) }
        return .object(object)
    }

    /// Reads a revision 1.5 push result's own `receipt` for the change-set `id`; nil when it is not one.
    public init?(_ value: CanonicalValue, id: ChangeSetID) {
        guard let object = value.objectValue, let position = object["position"]?.integerValue, position > 0,
              let time = object["time"]?.integerValue, let text = object["signature"]?.stringValue,
              let bytes = Base64.decode(text), let signature = try? Signature(bytes: bytes) else { return nil }
        self.init(id: id, position: UInt64(position), time: time, signature: signature)
    }
}

/// One signature for every result of a push that the feed holds (sync-protocol.md §11.14,
/// revision 1.6): Ed25519 over `"provident-receipts-v1" ‖ time (ms, 8 bytes, big-endian)` and then,
/// for each such result in the answer's order, `change-set id (32 bytes) ‖ position (8 bytes,
/// big-endian)`. A push costs one signature, not one per change-set.
public struct ReceiptBatch: Hashable, Sendable {
    public let time: Int64
    public let signature: Signature
    /// The signed list: 40 bytes per entry, id then position.
    public let entries: [UInt8]

    public init(time: Int64, signature: Signature, entries: [UInt8]) {
        self.time = time
        self.signature = signature
        self.entries = entries
    }

    static let domain = Array("provident-receipts-v1".utf8)
    static let entrySize = 40

    /// The list's bytes for these entries, in order.
    public static func entries(_ list: [(id: ChangeSetID, position: UInt64)]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(list.count * entrySize)
        for (id, position) in list {
            bytes += id.bytes
            bytes.appendBigEndian(position)
        }
        return bytes
    }

    /// The entries of a list's bytes (a cut-short tail is not an entry).
    public static func list(_ entries: [UInt8]) -> [(id: ChangeSetID, position: UInt64)] {
        stride(from: 0, to: entries.count - entries.count % entrySize, by: entrySize).compactMap { start in
            guard let id = Digest256(bytes: Array(entries[start..<(start + 32)])) else { return nil }
            let position = entries[(start + 32)..<(start + 40)].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            return (id, position)
        }
    }

    /// Whether the list holds `id` at `position`.
    public static func contains(_ entries: [UInt8], id: ChangeSetID, position: UInt64) -> Bool {
        var wanted = id.bytes
        wanted.appendBigEndian(position)
        guard entries.count % entrySize == 0 else { return false }
        return stride(from: 0, to: entries.count, by: entrySize).contains { entries[$0..<($0 + entrySize)].elementsEqual(wanted) }
    }

    /// The bytes the signature covers.
    public static func message(time: Int64, entries: [UInt8]) -> [UInt8] {
        var message = domain
        message.reserveCapacity(domain.count + 8 + entries.count)
        message.appendBigEndian(UInt64(bitPattern: time))
        return message + entries
    }

    /// Signs the list; nil when it is empty (an answer with nothing in the feed carries no receipt).
    public static func signed(_ list: [(id: ChangeSetID, position: UInt64)], time: Int64, key: SigningKey) -> ReceiptBatch? {
        guard !list.isEmpty else { return nil }
        let entries = entries(list)
        return ReceiptBatch(time: time, signature: key.signature(for: message(time: time, entries: entries)), entries: entries)
    }

    /// Whether the server key signed this list.
    public func isValid(for key: PublicKey) -> Bool {
        entries.count % Self.entrySize == 0 && key.isValidSignature(signature, for: Self.message(time: time, entries: entries))
    }

    /// The receipt of one entry of the list.
    public func receipt(id: ChangeSetID, position: UInt64) -> LogReceipt {
        LogReceipt(id: id, position: position, time: time, signature: signature, batch: entries)
    }

    /// The answer's `receipt` member: `{"signature":"<base64>","time":…}`.
    public var canonicalValue: CanonicalValue {
        .object(["time": .integer(time), "signature": .string(Base64.encode(signature.bytes))])
    }

    /// Reads an answer's `receipt` for the results' `list` (ids and positions as the results give
    /// them); nil when it is not one.
    public init?(_ value: CanonicalValue, list: [(id: ChangeSetID, position: UInt64)]) {
        guard let object = value.objectValue, let time = object["time"]?.integerValue, let text = object["signature"]?.stringValue,
              let bytes = Base64.decode(text), let signature = try? Signature(bytes: bytes) else { return nil }
        self.init(time: time, signature: signature, entries: Self.entries(list))
    }
}
