/// A version vector: for each device, the highest sequence number of its change-sets whose write
/// to a record the holder has seen.
///
/// It is what tells a causal overwrite (the writer had seen the earlier write) from a concurrent
/// one. Devices with no entry count as zero; zero entries are never stored, so equal vectors
/// have equal encodings.
public struct VersionVector: Hashable, Sendable {
    /// How two vectors relate.
    public enum Order: Sendable, Equatable {
        /// Both saw exactly the same writes.
        case equal
        /// The left side saw a strict subset of what the right side saw.
        case before
        /// The left side saw a strict superset.
        case after
        /// Each saw a write the other did not.
        case concurrent
    }

    /// The non-zero entries.
    public private(set) var counters: [DeviceID: UInt64]

    /// An empty vector, or one with the given entries (zeros are dropped).
    public init(_ counters: [DeviceID: UInt64] = [:]) {
        self.counters = counters.filter { $0.value > 0 }
    }

    /// The entry for `device`; zero when absent.
    public subscript(device: DeviceID) -> UInt64 {
        counters[device] ?? 0
    }

    /// Whether the write named by `dot` is included.
    public func contains(_ dot: Dot) -> Bool {
        self[dot.device] >= dot.sequence
    }

    /// Includes the write named by `dot`.
    public mutating func record(_ dot: Dot) {
        if dot.sequence > self[dot.device] { counters[dot.device] = dot.sequence }
    }

    /// Takes the entry-wise maximum with `other`.
    public mutating func merge(_ other: VersionVector) {
        for (device, counter) in other.counters where counter > self[device] {
            counters[device] = counter
        }
    }

    /// The entry-wise maximum of the two.
    public func merging(_ other: VersionVector) -> VersionVector {
        var copy = self
        copy.merge(other)
        return copy
    }

    /// Compares this vector with `other`.
    public func compare(_ other: VersionVector) -> Order {
        var less = false
        var greater = false
        for (device, counter) in counters {
            let theirs = other[device]
            if counter > theirs { greater = true } else if counter < theirs { less = true }
        }
        for (device, counter) in other.counters where counters[device] == nil && counter > 0 {
            less = true
        }
        switch (less, greater) {
        case (false, false): return .equal
        case (true, false): return .before
        case (false, true): return .after
        case (true, true): return .concurrent
        }
    }

    /// The canonical form: an object from device id to counter.
    public var canonicalValue: CanonicalValue {
        .object(Dictionary(uniqueKeysWithValues: counters.map { ($0.key.rawValue, .integer(Int64($0.value))) }))
    }
}
