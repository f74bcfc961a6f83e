import ProvidentCrypto

/// A node of the log's tree that covers a whole power of two of leaves: the leaves
/// `index · 2^level ..< (index + 1) · 2^level` (sync-protocol.md §11.14). The server stores these;
/// every other hash of the tree is made from a few of them.
public struct LogNode: Hashable, Comparable, Sendable {
    public let level: Int
    public let index: UInt64

    public init(level: Int, index: UInt64) {
        self.level = level
        self.index = index
    }

    public static func < (a: LogNode, b: LogNode) -> Bool { (a.level, a.index) < (b.level, b.index) }
}

/// The feed's log: a Merkle tree over the feed's entries with the hashing of RFC 6962 / RFC 9162
/// and SHA-256 (sync-protocol.md §11.14). The leaf at index i is the feed entry at position i + 1;
/// its data is the entry id (the change-set id, or BLAKE2b-256 of a document's signed bytes).
///
/// Every function here reads stored hashes through `node`, a lookup of the whole-power-of-two
/// subtrees (`LogNode`) that asks for O(log n) of them per proven leaf. Run once on placeholder
/// hashes, a computation says which nodes it reads, so that a store can read them in one query.
public enum MerkleLog {
    /// SHA-256(0x00 ‖ entry id).
    public static func leafHash(_ entry: Digest256) -> Digest256 {
        leafHash(data: entry.bytes)
    }

    /// SHA-256(0x00 ‖ data): RFC 6962's leaf hash of any data (the log's leaves are entry ids).
    public static func leafHash(data: [UInt8]) -> Digest256 {
        Digest256(bytes: SHA256.hash([0x00], data)) ?? .zero
    }

    /// SHA-256(0x01 ‖ left ‖ right).
    public static func nodeHash(_ left: Digest256, _ right: Digest256) -> Digest256 {
        Digest256(bytes: SHA256.hash([0x01], left.bytes, right.bytes)) ?? .zero
    }

    /// The root of the empty tree: SHA-256 of nothing.
    public static let emptyRoot = Digest256(bytes: SHA256.hash([])) ?? .zero

    /// The largest power of two below `n` (n ≥ 2): where RFC 6962 splits a tree of n leaves.
    static func split(_ n: UInt64) -> UInt64 {
        1 << UInt64(63 - (n - 1).leadingZeroBitCount)
    }

    /// The hash of leaves `lo ..< hi` (hi > lo) as a subtree of RFC 6962's decomposition.
    static func hash<E: Error>(_ lo: UInt64, _ hi: UInt64, _ node: (LogNode) throws(E) -> Digest256) throws(E) -> Digest256 {
        let n = hi - lo
        if n & (n - 1) == 0, lo % n == 0 { return try node(LogNode(level: n.trailingZeroBitCount, index: lo / n)) }
        let k = split(n)
        return nodeHash(try hash(lo, lo + k, node), try hash(lo + k, hi, node))
    }

    /// The root of the tree of the first `size` leaves.
    public static func root<E: Error>(size: UInt64, node: (LogNode) throws(E) -> Digest256) throws(E) -> Digest256 {
        size == 0 ? emptyRoot : try hash(0, size, node)
    }

    // MARK: Appending

    /// The stored nodes that appending to a tree of `size` leaves reads: the left siblings on its
    /// right edge, one per bit set in `size`.
    public static func frontier(size: UInt64) -> [LogNode] {
        (0..<64).compactMap { level in size >> UInt64(level) & 1 == 1 ? LogNode(level: level, index: (size >> UInt64(level)) - 1) : nil }
    }

    /// The nodes to store when `leaves` (leaf hashes) are appended to a tree of `size` leaves,
    /// given the hashes of `frontier(size: size)`; nil when one of those is missing.
    public static func appending(_ leaves: [Digest256], to size: UInt64, frontier: [LogNode: Digest256]) -> [(LogNode, Digest256)]? {
        var known = frontier
        var added: [(LogNode, Digest256)] = []
        added.reserveCapacity(leaves.count * 2)
        for (offset, leaf) in leaves.enumerated() {
            var node = LogNode(level: 0, index: size + UInt64(offset))
            var hash = leaf
            added.append((node, hash))
            known[node] = hash
            while node.index & 1 == 1 {
                guard let left = known[LogNode(level: node.level, index: node.index - 1)] else { return nil }
                hash = nodeHash(left, hash)
                node = LogNode(level: node.level + 1, index: node.index >> 1)
                added.append((node, hash))
                known[node] = hash
            }
        }
        return added
    }

    // MARK: Inclusion of one leaf (RFC 9162 §2.1.3)

    /// The audit path of leaf `index` in the tree of `size` leaves, nearest the leaf first.
    public static func inclusionProof<E: Error>(index: UInt64, size: UInt64, node: (LogNode) throws(E) -> Digest256) throws(E) -> [Digest256] {
        precondition(index < size, "a leaf inside the tree")
        var lo: UInt64 = 0
        var hi = size
        var siblings: [Digest256] = []
        while hi - lo > 1 {
            let k = split(hi - lo)
            if index < lo + k {
                siblings.append(try hash(lo + k, hi, node))
                hi = lo + k
            } else {
                siblings.append(try hash(lo, lo + k, node))
                lo += k
            }
        }
        return siblings.reversed()
    }

    /// Whether `path` proves the leaf hash `leaf` at `index` in a tree of `size` leaves with `root`
    /// (RFC 9162 §2.1.3.2).
    public static func verifyInclusion(leaf: Digest256, index: UInt64, size: UInt64, path: [Digest256], root: Digest256) -> Bool {
        guard index < size else { return false }
        var fn = index
        var sn = size - 1
        var r = leaf
        for p in path {
            guard sn != 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                r = nodeHash(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0, fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && r == root
    }

    // MARK: Consistency of two sizes (RFC 9162 §2.1.4)

    /// The proof that the tree of `old` leaves is a prefix of the tree of `new` leaves
    /// (0 < old ≤ new; empty when they are equal).
    public static func consistencyProof<E: Error>(old: UInt64, new: UInt64, node: (LogNode) throws(E) -> Digest256) throws(E) -> [Digest256] {
        precondition(old > 0 && old <= new, "sizes 0 < old ≤ new")
        var proof: [Digest256] = []
        var m = old
        var lo: UInt64 = 0
        var hi = new
        var complete = true
        while m != hi - lo {
            let k = split(hi - lo)
            if m <= k {
                proof.append(try hash(lo + k, hi, node))
                hi = lo + k
            } else {
                proof.append(try hash(lo, lo + k, node))
                lo += k
                m -= k
                complete = false
            }
        }
        if !complete { proof.append(try hash(lo, hi, node)) }
        return proof.reversed()
    }

    /// Whether `proof` shows the tree (`old`, `oldRoot`) to be a prefix of (`new`, `newRoot`)
    /// (RFC 9162 §2.1.4.2). Any size extends the empty tree.
    public static func verifyConsistency(old: UInt64, oldRoot: Digest256, new: UInt64, newRoot: Digest256, proof: [Digest256]) -> Bool {
        if old == 0 { return proof.isEmpty }
        guard old <= new else { return false }
        if old == new { return proof.isEmpty && oldRoot == newRoot }
        var path = proof
        if old & (old - 1) == 0 { path.insert(oldRoot, at: 0) }
        guard let first = path.first else { return false }
        var fn = old - 1
        var sn = new - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = first
        var sr = first
        for c in path.dropFirst() {
            guard sn != 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                fr = nodeHash(c, fr)
                sr = nodeHash(c, sr)
                if fn & 1 == 0 {
                    while fn & 1 == 0, fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                sr = nodeHash(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        return fr == oldRoot && sr == newRoot && sn == 0
    }

    // MARK: Inclusion of several leaves at once

    /// The proof that several leaves (indexes ascending, each below `size`) are in the tree of
    /// `size` leaves: the hashes of the largest subtrees of RFC 6962's decomposition that hold
    /// none of them, left to right (sync-protocol.md §11.14). A feed page carries one.
    public static func batchProof<E: Error>(indexes: [UInt64], size: UInt64, node: (LogNode) throws(E) -> Digest256) throws(E) -> [Digest256] {
        var proof: [Digest256] = []
        func walk(_ lo: UInt64, _ hi: UInt64, _ given: ArraySlice<UInt64>) throws(E) {
            if given.isEmpty {
                proof.append(try hash(lo, hi, node))
                return
            }
            if hi - lo == 1 { return }
            let k = split(hi - lo)
            let cut = given.firstIndex { $0 >= lo + k } ?? given.endIndex
            try walk(lo, lo + k, given[given.startIndex..<cut])
            try walk(lo + k, hi, given[cut..<given.endIndex])
        }
        if size > 0 { try walk(0, size, indexes[...]) }
        return proof
    }

    /// The root that `leaves` (index and leaf hash, indexes strictly ascending and below `size`)
    /// and `proof` make, or nil when they do not fit together (a hash too many or too few, an
    /// index out of order or outside the tree).
    public static func batchRoot(leaves: [(index: UInt64, hash: Digest256)], size: UInt64, proof: [Digest256]) -> Digest256? {
        if size == 0 { return leaves.isEmpty && proof.isEmpty ? emptyRoot : nil }
        for (a, b) in zip(leaves, leaves.dropFirst()) where a.index >= b.index { return nil }
        if let last = leaves.last, last.index >= size { return nil }
        var next = 0
        func walk(_ lo: UInt64, _ hi: UInt64, _ given: ArraySlice<(index: UInt64, hash: Digest256)>) -> Digest256? {
            if given.isEmpty {
                guard next < proof.count else { return nil }
                next += 1
                return proof[next - 1]
            }
            if hi - lo == 1 { return given.first?.hash }
            let k = split(hi - lo)
            let cut = given.firstIndex { $0.index >= lo + k } ?? given.endIndex
            guard let left = walk(lo, lo + k, given[given.startIndex..<cut]),
                  let right = walk(lo + k, hi, given[cut..<given.endIndex]) else { return nil }
            return nodeHash(left, right)
        }
        guard let root = walk(0, size, leaves[...]), next == proof.count else { return nil }
        return root
    }
}
