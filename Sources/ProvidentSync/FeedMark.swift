import ProvidentCrypto

/// What identifies the feed up to a position (sync-protocol.md §11.6): a hash chain over the
/// entries, so that a device holding the mark of its cursor notices when the server's history
/// before that cursor is no longer the one it read — a server restored from an older copy whose
/// positions were filled again by other entries.
///
/// `mark(n) = BLAKE2b-256("provident-feed-mark-v1" ‖ mark(n−1) ‖ n as 8 bytes big-endian ‖ entry id)`,
/// with `mark(n−1)` the 32 zero bytes where there is none. A change-set entry's id is the
/// change-set id (§4); a document entry's is BLAKE2b-256 of the document's signed bytes.
public enum FeedMark {
    static let domain = Array("provident-feed-mark-v1".utf8)

    /// The mark after the entry `entry` at `position`, following the mark `previous`.
    public static func after(_ previous: Digest256?, position: UInt64, entry: Digest256) -> Digest256 {
        var message = domain
        message.reserveCapacity(domain.count + 72)
        message += (previous ?? .zero).bytes
        message.appendBigEndian(position)
        message += entry.bytes
        return Digest256(hashing: message)
    }

    /// The id a document entry contributes to the mark.
    public static func entryID(document bytes: [UInt8]) -> Digest256 {
        Digest256(hashing: bytes)
    }
}

extension [UInt8] {
    /// Appends `value` as 8 bytes, big-endian: how the signed and hashed messages of the
    /// protocol write positions and times.
    mutating func appendBigEndian(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }
}
