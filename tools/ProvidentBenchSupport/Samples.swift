import ProvidentDomain
import ProvidentSync

/// Realistic sample data for benchmarks and load: valid ID numbers, accounts and deposits.
public enum Samples {
    /// A valid resident ID number for worker `n` (GB 11643 check character computed), born
    /// between 1975 and 1999.
    public static func idNumber(_ n: Int) -> String {
        let birth = CivilDate(daysSinceEpoch: CivilDate(iso: "1975-01-01").map(\.daysSinceEpoch).map { $0 + n % 9_000 } ?? 1_826)
        let body = "110102" + pad(birth.year, 4) + pad(birth.month, 2) + pad(birth.day, 2) + pad(n % 1_000, 3)
        let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        let sum = zip(body.compactMap(\.wholeNumberValue), weights).reduce(0) { $0 + $1.0 * $1.1 }
        return body + String(Array("10X98765432")[sum % 11])
    }

    /// Worker `n`'s account as a worker's own device enrols it on `day`.
    public static func account(_ n: Int, id: String, enrolledOn day: CivilDate) -> Account? {
        guard let agreement = try? Agreement.baseAndRate(baseFen: 300_000 + Int64(n % 50) * 10_000, ratePercent: 10 + n % 8,
                                                         policy: .defaults) else { return nil }
        return Account(id: id, values: [
            "name": .string("工人\(n)"), "idNumber": .string(idNumber(n)), "phone": .string("138" + pad(n % 100_000_000, 8)),
            "category": .string(AccountCategory.allCases[n % 4].rawValue), "agreement": agreement.canonicalValue,
            "channel": "self", "enrolledOn": .string(day.iso), "verified": false, "paused": false,
        ])
    }

    static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
