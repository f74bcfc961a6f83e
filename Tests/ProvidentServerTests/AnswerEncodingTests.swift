import ProvidentCrypto
@testable import ProvidentServerCore
import ProvidentSync
import Testing

/// A pull's and a snapshot's answers are written straight into bytes (`canonicalBytes`); they
/// must be the bytes their trees of values encode to, for every kind of entry and every optional
/// member.
@Suite struct AnswerEncodingTests {
    static func page(_ entries: [FeedEntry], mark: Digest256?, consistency: [Digest256]?, witnessed: String?) -> FeedPage {
        let log = LogAnswer(checkpoint: "provident.example/log\n12\nroot\n\n— key sig\n", size: 12, consistency: consistency,
                            proof: [Digest256(hashing: [1]), Digest256(hashing: [2])], witnesses: ["auditor+1+key"], witnessed: witnessed,
                            witnessedConsistency: witnessed == nil ? nil : [Digest256(hashing: [3])], offices: ["office+2+key", "office+3+key"])
        return FeedPage(entries: entries, cursor: entries.last?.position ?? 0, head: 9_007_199_254_740_991, more: !entries.isEmpty,
                        mark: mark, chainHead: 3, log: log)
    }

    static func treeBytes(_ page: FeedPage, serverTime: Int64) throws -> [UInt8] {
        var members = page.canonicalMembers
        members["serverTime"] = .integer(serverTime)
        return try CanonicalEncoder.encode(.object(members))
    }

    @Test func writesTheBytesItsTreeOfValuesEncodesTo() throws {
        let author = SigningKey.generate().publicKey
        var entries: [FeedEntry] = []
        // Lengths around every base64 padding case, both kinds of entry, with and without marks.
        for (index, length) in [0, 1, 2, 3, 4, 5, 64, 299, 300, 301].enumerated() {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) }
            let signature = SecureRandom.bytes(count: 64)
            let mark = index.isMultiple(of: 3) ? nil : Digest256(hashing: bytes)
            entries.append(FeedEntry(position: UInt64(2 * index + 1), content: .changeSet(bytes: bytes, signature: signature, author: author), mark: mark))
            entries.append(FeedEntry(position: UInt64(2 * index + 2), content: .document(bytes: bytes, signature: signature), mark: mark))
        }
        entries.append(FeedEntry(position: 9_007_199_254_740_991, content: .document(bytes: [7], signature: [8]), mark: nil))
        for page in [Self.page(entries, mark: Digest256(hashing: [9]), consistency: [Digest256(hashing: [4])], witnessed: "witnessed note\n"),
                     Self.page(Array(entries.prefix(1)), mark: nil, consistency: nil, witnessed: nil),
                     Self.page([], mark: nil, consistency: [], witnessed: nil)] {
            for serverTime in [Int64(0), 1_764_950_400_000] {
                let bytes = try page.canonicalBytes(serverTime: serverTime)
                #expect(bytes == (try Self.treeBytes(page, serverTime: serverTime)))
                // And they read back as the protocol's canonical JSON.
                #expect(try CanonicalDecoder.decode(bytes, limit: 1 << 24).objectValue?["entries"]?.arrayValue?.count == page.entries.count)
            }
        }
    }

    /// A snapshot page's document, megabytes of base64, is written straight into its answer too.
    @Test func writesASnapshotPageAsItsTreeOfValuesEncodesIt() throws {
        let key = SigningKey.generate()
        // Documents of several lengths, so that every base64 padding comes up.
        let documents = try (1...4).map { count in
            try SignedDocument(asOf: 12, content: .scopeExit((0..<count).map { RecordKey(type: "deposit", id: "d\($0)") }), signingWith: key)
        }
        for document in documents {
            for page in [SnapshotPage(document: document, next: RecordKey(type: "deposit", id: "d2"), total: 3, mark: Digest256(hashing: [5])),
                         SnapshotPage(document: document, next: nil, total: nil, mark: nil)] {
                let bytes = try page.canonicalBytes(serverTime: 1_764_950_400_000)
                var members = page.canonicalMembers
                members["serverTime"] = .integer(1_764_950_400_000)
                #expect(bytes == (try CanonicalEncoder.encode(.object(members))))
            }
            #expect(document.envelopeBytes == (try CanonicalEncoder.encode(document.envelopeValue)))
        }
        #expect(Set(documents.map { $0.bytes.count % 3 }).count == 3, "the documents' lengths cover every padding")
    }

    @Test func refusesAPositionBeyondWhatJSONCarriesExactly() {
        let beyond = FeedEntry(position: 9_007_199_254_740_992, content: .document(bytes: [1], signature: [2]), mark: nil)
        let page = Self.page([beyond], mark: nil, consistency: nil, witnessed: nil)
        #expect(throws: CanonicalError.self) { try page.canonicalBytes(serverTime: 0) }
        #expect(throws: CanonicalError.self) { try Self.treeBytes(page, serverTime: 0) }
    }
}
