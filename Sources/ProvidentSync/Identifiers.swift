import ProvidentCrypto
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A device's identity in the protocol: the first 16 bytes of BLAKE2b-256(public key), as 32
/// lowercase hex digits. The key fingerprint people compare is the whole 32-byte digest, of which
/// the device id is the first half.
public struct DeviceID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The 32-character spelling.
    public let rawValue: String

    /// Derives the id of the device holding `publicKey`.
    public init(publicKey: PublicKey) {
        rawValue = Hex.encode(publicKey.fingerprint.prefix(16))
    }

    /// Accepts a device id read from input; nil unless it is exactly 32 lowercase hex digits.
    public init?(_ text: String) {
        guard text.utf8.count == 32, Hex.decode(text) != nil else { return nil }
        rawValue = text
    }

    /// The id of a device whose spelling is already known to be valid.
    init(trusted text: String) {
        rawValue = text
    }

    public var description: String { rawValue }

    public static func < (a: DeviceID, b: DeviceID) -> Bool {
        UTF8Order.compare(a.rawValue, b.rawValue) < 0
    }
}

/// A 32-byte BLAKE2b-256 digest: change-set ids, chain links, state digests, conflict ids.
public struct Digest256: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The raw digest.
    public let bytes: [UInt8]

    /// The all-zero digest, which stands for "no previous change-set" in a device's first change-set.
    public static let zero = Digest256(unchecked: [UInt8](repeating: 0, count: 32))

    /// Hashes `message` with BLAKE2b-256.
    public init(hashing message: [UInt8]) {
        bytes = BLAKE2b.hash(message, outputLength: 32)
    }

    /// Wraps 32 raw bytes; nil for any other length.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    /// Parses 64 lowercase hex digits.
    public init?(hex: String) {
        guard hex.utf8.count == 64, let bytes = Hex.decode(hex) else { return nil }
        self.bytes = bytes
    }

    init(unchecked bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// 64 lowercase hex digits.
    public var hex: String { Hex.encode(bytes) }

    public var description: String { hex }

    public static func < (a: Digest256, b: Digest256) -> Bool {
        a.bytes.lexicographicallyPrecedes(b.bytes)
    }
}

/// The identity of a change-set: BLAKE2b-256 of its canonical bytes.
public typealias ChangeSetID = Digest256

/// A record's address: its type (`account`, `deposit`, `visit`…) and its id.
public struct RecordKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The record type, `[a-z][A-Za-z0-9]{0,31}`.
    public let type: String
    /// The record id, `[A-Za-z0-9][A-Za-z0-9._:-]{0,127}`.
    public let id: String

    /// Creates a record key without checking the spelling; `ChangeSet` validation checks it.
    public init(type: String, id: String) {
        self.type = type
        self.id = id
    }

    public var description: String { "\(type)/\(id)" }

    /// Type, then id, each in byte order: the order of the stores' keys.
    public static func < (a: RecordKey, b: RecordKey) -> Bool {
        // Types are ASCII, so equal types are equal bytes; most keys compared share theirs.
        if a.type != b.type { return UTF8Order.compare(a.type, b.type) < 0 }
        return UTF8Order.compare(a.id, b.id) < 0
    }

    static func isValidType(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard (1...32).contains(u.count), (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(u[0]) else { return false }
        return u.allSatisfy(isAlphanumeric)
    }

    static func isValidID(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard (1...128).contains(u.count), isAlphanumeric(u[0]) else { return false }
        return u.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_")
            || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "-") }
    }

    static func isAlphanumeric(_ c: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(c) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(c)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c)
    }
}

/// One write event: the device that made it and the sequence number of its change-set.
///
/// Each change-set writes a record at most once, so a dot names a single record write.
public struct Dot: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The writing device.
    public let device: DeviceID
    /// The sequence number of the change-set that carried the write.
    public let sequence: UInt64

    /// Creates a dot.
    public init(device: DeviceID, sequence: UInt64) {
        self.device = device
        self.sequence = sequence
    }

    public var description: String { "\(device)#\(sequence)" }

    public static func < (a: Dot, b: Dot) -> Bool {
        a.device != b.device ? a.device < b.device : a.sequence < b.sequence
    }
}

/// Byte order of strings' UTF-8 (which is code-point order, and SQLite's and PostgreSQL's
/// `C` order of keys), compared over the strings' own storage with `memcmp`. Sorting a
/// transaction's record keys by walking two `utf8` views index by index took about 5 % of the
/// SQLite writer's time, and still 3 % by a byte loop over copies of the strings.
public enum UTF8Order {
    /// Negative when `a` comes first, zero when equal, positive when `b` comes first.
    public static func compare(_ a: String, _ b: String) -> Int {
        // Native and small strings lend their bytes as they are; others are made contiguous.
        if let order = a.utf8.withContiguousStorageIfAvailable({ x in b.utf8.withContiguousStorageIfAvailable { y in compare(x, y) } }),
           let order {
            return order
        }
        var a = a, b = b
        return a.withUTF8 { x in b.withUTF8 { y in compare(x, y) } }
    }

    private static func compare(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Int {
        let common = Swift.min(x.count, y.count)
        if common > 0, let p = x.baseAddress, let q = y.baseAddress {
            let order = memcmp(p, q, common)
            if order != 0 { return Int(order) }
        }
        return x.count - y.count
    }
}
