import Foundation
import ProvidentCrypto
import ProvidentSync
import Testing

/// Checks that the code reproduces, byte for byte, the golden vectors written in
/// sync-protocol.md §14: the test reads them from the spec itself.
@Suite struct GoldenVectorTests {
    static let vectors: [String: String] = {
        let spec = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("sync-protocol.md")
        guard let text = try? String(contentsOf: spec, encoding: .utf8),
              let begin = text.range(of: "<!-- golden-vectors:begin -->\n```text\n"),
              let end = text.range(of: "```\n<!-- golden-vectors:end -->", range: begin.upperBound..<text.endIndex)
        else { return [:] }
        var vectors: [String: String] = [:]
        for line in text[begin.upperBound..<end.lowerBound].split(separator: "\n") {
            guard let separator = line.range(of: ": ") else { continue }
            vectors[String(line[..<separator.lowerBound])] = String(line[separator.upperBound...])
        }
        return vectors
    }()

    func vector(_ name: String) throws -> String {
        try #require(Self.vectors[name], "sync-protocol.md has no golden vector \(name)")
    }

    var key: SigningKey {
        get throws { try SigningKey(seed: try #require(Hex.decode(try vector("seed")))) }
    }

    /// The change-sets the spec describes in words, built here from Swift values.
    func described() throws -> (create: ChangeSet, update: ChangeSet) {
        let device = DeviceID(publicKey: try key.publicKey)
        let account = RecordKey(type: "account", id: "acc-0001")
        let create = ChangeSet(
            device: device, sequence: 1, previous: .zero,
            time: HLCTimestamp(wallMillis: 1_795_397_400_000, counter: 0), action: "account.enroll",
            operations: [Operation(record: account, kind: .create,
                                   fields: ["name": "张三", "phone": "13800138000", "category": "gig",
                                            "baseFen": 500_000, "note": "第一行\n\"引号\""])])
        let update = ChangeSet(
            device: device, sequence: 2, previous: Digest256(hashing: try create.canonicalBytes()),
            time: HLCTimestamp(wallMillis: 1_795_397_460_000, counter: 0), action: "account.update",
            operations: [Operation(record: account, kind: .update, fields: ["phone": "13900139000"],
                                   context: VersionVector([device: 1]))])
        return (create, update)
    }

    @Test func specHoldsEveryVector() {
        let changeSetVectors = ["create", "update"].flatMap { n in
            ["canonical", "canonical-hex", "id", "signature", "envelope"].map { "\(n).\($0)" }
        }
        let transportVectors = ["transport.public-key", "delegation.canonical", "delegation.signature", "delegation.envelope",
                                "transport-request.base-hex", "transport-request.signature"]
        for name in ["seed", "public-key", "fingerprint", "device-id", "request.base-hex", "request.signature"] + changeSetVectors + transportVectors {
            #expect(Self.vectors[name] != nil, "missing \(name)")
        }
    }

    @Test func derivesTheKeyPairFingerprintAndDeviceID() throws {
        let key = try key
        #expect(Hex.encode(key.publicKey.bytes) == (try vector("public-key")))
        #expect(Hex.encode(key.publicKey.fingerprint) == (try vector("fingerprint")))
        #expect(DeviceID(publicKey: key.publicKey).rawValue == (try vector("device-id")))
    }

    @Test(arguments: ["create", "update"])
    func reproducesTheChangeSet(name: String) throws {
        let (create, update) = try described()
        let changeSet = name == "create" ? create : update
        let bytes = try changeSet.canonicalBytes()
        #expect(Hex.encode(bytes) == (try vector("\(name).canonical-hex")))
        #expect(bytes == Array((try vector("\(name).canonical")).utf8))

        let signed = try SignedChangeSet(signing: changeSet, with: try key)
        #expect(signed.id.hex == (try vector("\(name).id")))
        #expect(Hex.encode(signed.signature.bytes) == (try vector("\(name).signature")))
        #expect(signed.envelope == Array((try vector("\(name).envelope")).utf8))

        // And the other way: the spec's envelope decodes, verifies, and reads as described.
        let received = try SignedChangeSet(envelope: Array((try vector("\(name).envelope")).utf8))
        try received.verify(with: try key.publicKey)
        #expect(received.changeSet == changeSet)
    }

    @Test func reproducesTheRequestSignature() throws {
        let key = try key
        let request = RequestSignature(method: "GET", path: "/v1/pull", query: "?cursor=0&limit=500",
                                       device: DeviceID(publicKey: key.publicKey), dateMillis: 1_795_397_400_000,
                                       nonce: "000102030405060708090a0b0c0d0e0f", body: [])
        #expect(Hex.encode(request.base) == (try vector("request.base-hex")))
        let signature = try #require(request.headers(signedWith: key).first { $0.name == RequestSignature.Header.signature })
        #expect(Base64.decode(signature.value).map(Hex.encode) == (try vector("request.signature")))
    }

    @Test func reproducesTheTransportKeyDelegationAndARequestItSigns() throws {
        let key = try key
        let transport = try SigningKey(seed: Array(32..<64).map(UInt8.init))
        #expect(Hex.encode(transport.publicKey.bytes) == (try vector("transport.public-key")))
        let delegation = try TransportDelegation(transportKey: transport.publicKey, issuedAt: 1_795_397_400_000, signingWith: key)
        #expect(String(decoding: delegation.bytes, as: UTF8.self) == (try vector("delegation.canonical")))
        #expect(Hex.encode(delegation.signature.bytes) == (try vector("delegation.signature")))
        #expect(String(decoding: try CanonicalEncoder.encode(delegation.envelopeValue), as: UTF8.self) == (try vector("delegation.envelope")))
        // Read back from the vector, as a server does.
        let read = try TransportDelegation(envelope: try CanonicalDecoder.decode(Array(try vector("delegation.envelope").utf8), limit: 4_096),
                                           devicePublicKey: key.publicKey)
        #expect(read == delegation)

        let request = RequestSignature(method: "GET", path: "/v1/pull", query: "?cursor=0&limit=500",
                                       device: DeviceID(publicKey: key.publicKey), dateMillis: 1_795_397_400_000,
                                       nonce: "000102030405060708090a0b0c0d0e0f", body: [], signer: .transport)
        #expect(Hex.encode(request.base) == (try vector("transport-request.base-hex")))
        let headers = request.headers(signedWith: transport)
        #expect(headers.first { $0.name == RequestSignature.Header.key }?.value == "transport")
        let signature = try #require(headers.first { $0.name == RequestSignature.Header.signature })
        #expect(Base64.decode(signature.value).map(Hex.encode) == (try vector("transport-request.signature")))
    }

    @Test func reproducesTheFeedMarks() throws {
        let create = try #require(Digest256(hex: try vector("create.id")))
        let update = try #require(Digest256(hex: try vector("update.id")))
        let first = FeedMark.after(nil, position: 1, entry: create)
        #expect(first.hex == (try vector("feed.mark-1")))
        #expect(FeedMark.after(first, position: 2, entry: update).hex == (try vector("feed.mark-2")))
        // The same entries at other positions, or in another order, make other marks.
        #expect(FeedMark.after(nil, position: 2, entry: create) != first)
        #expect(FeedMark.after(FeedMark.after(nil, position: 1, entry: update), position: 2, entry: create).hex != (try vector("feed.mark-2")))
    }

    @Test func reproducesTheLogOfSevenEntries() throws {
        let key = try key
        let ids = (1...7).map { Digest256(bytes: [UInt8](repeating: UInt8($0), count: 32)) ?? .zero }
        var nodes: [LogNode: Digest256] = [:]
        for (node, hash) in try #require(MerkleLog.appending(ids.map(MerkleLog.leafHash), to: 0, frontier: [:])) { nodes[node] = hash }
        let lookup = { (node: LogNode) in nodes[node] ?? .zero }
        let hex = { (list: [Digest256]) in list.map(\.hex).joined(separator: ",") }
        let root = MerkleLog.root(size: 7, node: lookup)
        #expect(MerkleLog.leafHash(ids[0]).hex == (try vector("log.leaf-1")))
        #expect(root.hex == (try vector("log.root-7")))
        #expect(hex(MerkleLog.inclusionProof(index: 2, size: 7, node: lookup)) == (try vector("log.inclusion-3-of-7")))
        #expect(hex(MerkleLog.consistencyProof(old: 3, new: 7, node: lookup)) == (try vector("log.consistency-3-to-7")))
        #expect(hex(MerkleLog.batchProof(indexes: [1, 4], size: 7, node: lookup)) == (try vector("log.batch-2-5-of-7")))
        #expect(LogCheckpoint.origin(for: key.publicKey) == (try vector("log.origin")))
        let note = LogCheckpoint(origin: try vector("log.origin"), size: 7, root: root).signed(with: key)
        #expect(note.split(separator: "\n").last.map(String.init) == (try vector("log.checkpoint-7")))
        #expect(try LogCheckpoint.verified(note, key: key.publicKey).root == root)
        let receipt = LogReceipt.signed(id: try #require(Digest256(hex: try vector("create.id"))), position: 1, time: 1_795_397_400_000, key: key)
        #expect(Hex.encode(receipt.signature.bytes) == (try vector("log.receipt")))
        let list = [(id: try #require(Digest256(hex: try vector("create.id"))), position: UInt64(1)),
                    (id: try #require(Digest256(hex: try vector("update.id"))), position: UInt64(2))]
        let batch = try #require(ReceiptBatch.signed(list, time: 1_795_397_400_000, key: key))
        #expect(Hex.encode(batch.signature.bytes) == (try vector("log.receipts")))
        #expect(batch.receipt(id: list[1].id, position: 2).isValid(for: key.publicKey))

        // §11.15: the witness of the second seed's key cosigns the checkpoint of 7 entries.
        let witnessKey = try SigningKey(seed: Array(32..<64).map(UInt8.init))
        let witness = LogWitness(device: DeviceID(publicKey: witnessKey.publicKey), key: witnessKey.publicKey)
        #expect(witness.verifierKey == (try vector("log.witness-key")))
        let checkpoint = LogCheckpoint(origin: try vector("log.origin"), size: 7, root: root)
        let line = LogWitness.cosign(checkpoint, time: 1_795_397_400, name: witness.name, key: witnessKey)
        #expect(line == (try vector("log.cosignature-7")))
        #expect(witness.cosigned(LogWitness.adding([line], to: note), checkpoint: checkpoint) == 1_795_397_400)
        #expect(LogWitness(name: witness.name, key: key.publicKey).cosigned(LogWitness.adding([line], to: note), checkpoint: checkpoint) == nil)

        // §11.16: the seed's key, as an office device, announces the log of 7 after the first 3.
        let office = LogEpoch.officeName(DeviceID(publicKey: key.publicKey))
        let three = MerkleLog.root(size: 3, node: lookup)
        let epoch = LogEpoch(origin: try vector("log.origin"), ends: (3, three), starts: (7, root), time: 1_795_397_400_000)
        let announced = epoch.signed(name: office, key: key)
        #expect(announced.split(separator: "\n").last.map(String.init) == (try vector("log.epoch-7")))
        #expect(LogEpoch.verified(announced, offices: [(office, key.publicKey)])?.epoch == epoch)
        #expect(LogEpoch.verified(announced, offices: [(office, witnessKey.publicKey)]) == nil)
    }

    @Test func theVectorsChainAndMerge() throws {
        let key = try key
        let (create, update) = try described()
        let first = try SignedChangeSet(signing: create, with: key)
        let second = try SignedChangeSet(signing: update, with: key)
        #expect(second.changeSet.previous == first.id)
        var replica = Replica()
        #expect(try replica.apply(first) == .applied(conflicts: []))
        #expect(try replica.apply(second) == .applied(conflicts: []))
        let state = try #require(replica.records[RecordKey(type: "account", id: "acc-0001")])
        #expect(state.values["phone"] == "13900139000")
        #expect(state.values["name"] == "张三")
    }
}
