import Foundation

/// Counts attempts per source address in a sliding hour, for self-enrolment and claims, which
/// anyone can attempt without an account.
actor RateLimiter {
    private let perHour: Int
    private var attempts: [String: [Double]] = [:]

    init(perHour: Int) {
        self.perHour = perHour
    }

    /// Records an attempt; returns nil if allowed, else the seconds until the next is.
    func attempt(from address: String, now: Double) -> Int? {
        var recent = (attempts[address] ?? []).filter { now - $0 < 3_600 }
        if recent.count >= perHour {
            attempts[address] = recent
            return Int((3_600 - (now - (recent.first ?? now))).rounded(.up))
        }
        recent.append(now)
        attempts[address] = recent
        if attempts.count > 10_000 { attempts = attempts.filter { !$0.value.isEmpty && now - ($0.value.last ?? 0) < 3_600 } }
        return nil
    }

    /// The seconds until another attempt is allowed, without counting one; nil if allowed now.
    func wait(for address: String, now: Double) -> Int? {
        let recent = (attempts[address] ?? []).filter { now - $0 < 3_600 }
        guard recent.count >= perHour else { return nil }
        return Int((3_600 - (now - (recent.first ?? now))).rounded(.up))
    }

    /// Counts an attempt (a failed one, for sign-ins).
    func record(_ address: String, now: Double) {
        var recent = (attempts[address] ?? []).filter { now - $0 < 3_600 }
        recent.append(now)
        attempts[address] = recent
    }
}
