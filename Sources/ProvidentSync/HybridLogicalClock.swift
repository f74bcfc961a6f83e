/// A hybrid logical clock time: 48 bits of wall-clock milliseconds since the Unix epoch and a
/// 16-bit logical counter (Kulkarni et al., 2014).
///
/// On the wire it is 16 lowercase hex digits of `wallMillis << 16 | counter`, so text order is
/// time order. Times compare by wall milliseconds, then counter.
public struct HLCTimestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The largest wall time that fits in 48 bits (year 10889).
    public static let maxWallMillis: UInt64 = (1 << 48) - 1

    /// Milliseconds since 1970-01-01T00:00:00Z.
    public let wallMillis: UInt64
    /// Orders events within one millisecond.
    public let counter: UInt16

    /// The earliest time, before any event.
    public static let zero = HLCTimestamp(wallMillis: 0, counter: 0)

    /// Creates a time; `wallMillis` is clamped to 48 bits.
    public init(wallMillis: UInt64, counter: UInt16) {
        self.wallMillis = min(wallMillis, Self.maxWallMillis)
        self.counter = counter
    }

    /// The 64-bit packed form.
    public var packed: UInt64 { wallMillis << 16 | UInt64(counter) }

    /// Reads a time back from its 64-bit form.
    public init(packed: UInt64) {
        self.init(wallMillis: packed >> 16, counter: UInt16(truncatingIfNeeded: packed))
    }

    /// The wire spelling: 16 lowercase hex digits.
    public var wireValue: String {
        let hex = String(packed, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Parses the wire spelling; nil unless exactly 16 lowercase hex digits.
    public init?(wireValue: String) {
        guard wireValue.utf8.count == 16,
              wireValue.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }),
              let packed = UInt64(wireValue, radix: 16) else { return nil }
        wallMillis = packed >> 16
        counter = UInt16(truncatingIfNeeded: packed)
    }

    public var description: String { wireValue }

    public static func < (a: HLCTimestamp, b: HLCTimestamp) -> Bool {
        a.packed < b.packed
    }

    /// The next time after this one when the physical clock has not moved past it.
    func successor() -> HLCTimestamp {
        counter == .max
            ? HLCTimestamp(wallMillis: wallMillis + 1, counter: 0)
            : HLCTimestamp(wallMillis: wallMillis, counter: counter + 1)
    }
}

/// A device's hybrid logical clock.
///
/// It never reads a clock itself: callers pass the wall time in, so the rules are deterministic
/// under test. The times it gives strictly increase, even when the wall clock goes backwards,
/// and after `receive` every later `tick` is after the received time: a change made after seeing
/// another always carries a later time.
public struct HybridLogicalClock: Hashable, Sendable {
    /// The last time given out or received.
    public private(set) var last: HLCTimestamp

    /// Starts a clock that has seen nothing, or resumes one from its stored last time.
    public init(last: HLCTimestamp = .zero) {
        self.last = last
    }

    /// The time for a local event (a change-set about to be made): the wall time if it is ahead,
    /// otherwise one step after the last time.
    public mutating func tick(now wallMillis: UInt64) -> HLCTimestamp {
        let wall = min(wallMillis, HLCTimestamp.maxWallMillis)
        last = wall > last.wallMillis ? HLCTimestamp(wallMillis: wall, counter: 0) : last.successor()
        return last
    }

    /// Advances past a time seen in a received change-set.
    ///
    /// With `maxDrift` set, a time more than that many milliseconds ahead of `now` is refused and
    /// the clock is unchanged: a device whose clock runs fast must not drag every replica's
    /// clock (and every last-writer-wins contest) into the future. Without it (a client taking
    /// what the server already accepted) any time is followed.
    @discardableResult
    public mutating func receive(_ remote: HLCTimestamp, now wallMillis: UInt64,
                                 maxDrift: UInt64? = nil) throws(SyncError) -> HLCTimestamp {
        let wall = min(wallMillis, HLCTimestamp.maxWallMillis)
        if let maxDrift, remote.wallMillis > wall, remote.wallMillis - wall > maxDrift {
            throw .clockDrift(aheadMillis: remote.wallMillis - wall, allowedMillis: maxDrift)
        }
        let top = max(last.wallMillis, remote.wallMillis, wall)
        if top == last.wallMillis && top == remote.wallMillis {
            last = max(last, remote).successor()
        } else if top == last.wallMillis {
            last = last.successor()
        } else if top == remote.wallMillis {
            last = remote.successor()
        } else {
            last = HLCTimestamp(wallMillis: top, counter: 0)
        }
        return last
    }
}
