import ProvidentSync
import Testing

@Suite struct IdentifierOrderTests {
    static let spellings = ["", "a", "ab", "abc", "b", "B", "acc-10", "acc-2", "dep-18f3c5a2b1c00001", "dep-18f3c5a2b1c00001a",
                            "西", "西工区", "洛龙区", "é", "e\u{301}", "z\u{0}", "~"]

    /// The comparison over the strings' storage agrees with their UTF-8 bytes compared one by
    /// one, also where Swift's own `==` does not look at bytes (é precomposed and not).
    @Test func stringsCompareAsTheirBytes() {
        for a in Self.spellings {
            for b in Self.spellings {
                let order = UTF8Order.compare(a, b)
                #expect((order < 0) == a.utf8.lexicographicallyPrecedes(b.utf8), "\(a) < \(b)")
                #expect((order == 0) == Array(a.utf8).elementsEqual(b.utf8), "\(a) = \(b)")
            }
        }
    }

    /// Record keys sort by type, then id, each by bytes; device ids by bytes.
    @Test func recordKeysAndDevicesSortByTheirBytes() {
        let keys = ["deposit", "account", "accountX"].flatMap { type in Self.spellings.map { RecordKey(type: type, id: $0) } }
        let expected = keys.sorted { a, b in
            a.type != b.type ? a.type.utf8.lexicographicallyPrecedes(b.type.utf8) : a.id.utf8.lexicographicallyPrecedes(b.id.utf8)
        }
        #expect(keys.shuffled().sorted() == expected)
        let devices = ["0033e9fa312f526ca2c5a32a655c17c3", "0033e9fa312f526ca2c5a32a655c17c4", "ff00000000000000000000000000000a",
                       "a0000000000000000000000000000000"].compactMap(DeviceID.init)
        #expect(devices.count == 4)
        #expect(devices.sorted().map(\.rawValue) == devices.map(\.rawValue).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
    }
}
