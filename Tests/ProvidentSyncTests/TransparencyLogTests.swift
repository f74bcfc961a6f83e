import ProvidentCrypto
import ProvidentSync
import ProvidentTestSupport
import Testing

/// The feed's log (sync-protocol.md §11.14) against a tree computed the plain way, RFC 6962's
/// definition, over thousands of random sizes.
@Suite struct TransparencyLogTests {
    /// RFC 6962's MTH, straight from the definition.
    static func reference(_ leaves: ArraySlice<Digest256>) -> Digest256 {
        switch leaves.count {
        case 0: return MerkleLog.emptyRoot
        case 1: return leaves[leaves.startIndex]
        default:
            var k = 1
            while k * 2 < leaves.count { k *= 2 }
            let mid = leaves.startIndex + k
            return MerkleLog.nodeHash(reference(leaves[..<mid]), reference(leaves[mid...]))
        }
    }

    /// A log of `count` leaves, appended in batches of random sizes as a server would.
    static func stored(_ count: Int, using generator: inout SeededGenerator) -> (leaves: [Digest256], nodes: [LogNode: Digest256]) {
        let leaves = (0..<count).map { MerkleLog.leafHash(Digest256(hashing: Array("entry \($0)".utf8))) }
        var nodes: [LogNode: Digest256] = [:]
        var size = 0
        while size < count {
            let batch = min(count - size, Int.random(in: 1...40, using: &generator))
            let frontier = Dictionary(uniqueKeysWithValues: MerkleLog.frontier(size: UInt64(size)).map { ($0, nodes[$0] ?? .zero) })
            for node in MerkleLog.frontier(size: UInt64(size)) { #expect(nodes[node] != nil, "frontier node \(node) is stored") }
            let added = MerkleLog.appending(Array(leaves[size..<size + batch]), to: UInt64(size), frontier: frontier)
            for (node, hash) in added ?? [] { nodes[node] = hash }
            size += batch
        }
        return (leaves, nodes)
    }

    @Test func theCertificateTransparencyTestTreeHasItsKnownRoots() {
        let data: [[UInt8]] = [[], [0x00], [0x10], [0x20, 0x21], [0x30, 0x31], [0x40, 0x41, 0x42, 0x43],
                               [0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57], Array(0x60...0x6f)]
        let roots = ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                     "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                     "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4", "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
                     "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c", "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"]
        let leaves = data.map { MerkleLog.leafHash(data: $0) }
        var nodes: [LogNode: Digest256] = [:]
        for (node, hash) in MerkleLog.appending(leaves, to: 0, frontier: [:]) ?? [] { nodes[node] = hash }
        for size in 1...8 {
            #expect(MerkleLog.root(size: UInt64(size)) { nodes[$0] ?? .zero }.hex == roots[size - 1])
        }
        #expect(MerkleLog.emptyRoot.hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func storedNodesGiveTheRootOfEveryPrefix() {
        var generator = SeededGenerator(seed: 62)
        for _ in 0..<60 {
            let count = Int.random(in: 1...300, using: &generator)
            let (leaves, nodes) = Self.stored(count, using: &generator)
            for size in [1, count / 2 + 1, count] {
                var asked = 0
                let root = MerkleLog.root(size: UInt64(size)) { node in
                    asked += 1
                    return nodes[node] ?? .zero
                }
                #expect(root == Self.reference(leaves[..<size]))
                #expect(asked <= 64 - UInt64(size).leadingZeroBitCount, "O(log n) reads: \(asked) for \(size)")
            }
        }
    }

    @Test func inclusionProofsHoldAndNothingElseDoes() {
        var generator = SeededGenerator(seed: 6962)
        let (leaves, nodes) = Self.stored(700, using: &generator)
        for _ in 0..<2_000 {
            let size = UInt64.random(in: 1...700, using: &generator)
            let index = UInt64.random(in: 0..<size, using: &generator)
            let root = Self.reference(leaves[..<Int(size)])
            let path = MerkleLog.inclusionProof(index: index, size: size) { nodes[$0] ?? .zero }
            #expect(MerkleLog.verifyInclusion(leaf: leaves[Int(index)], index: index, size: size, path: path, root: root))
            // Another leaf, another place, another size, a path a hash short or long: refused.
            let other = leaves[(Int(index) + 1) % 700]
            #expect(!MerkleLog.verifyInclusion(leaf: other, index: index, size: size, path: path, root: root))
            if size > 1 {
                let moved = (index + 1) % size
                #expect(!MerkleLog.verifyInclusion(leaf: leaves[Int(index)], index: moved, size: size, path: path, root: root))
                #expect(!MerkleLog.verifyInclusion(leaf: leaves[Int(index)], index: index, size: size, path: Array(path.dropLast()), root: root))
            }
            #expect(!MerkleLog.verifyInclusion(leaf: leaves[Int(index)], index: index, size: size, path: path + [leaves[0]], root: root))
            if size < 700 {
                #expect(!MerkleLog.verifyInclusion(leaf: leaves[Int(index)], index: index, size: size + 1, path: path,
                                                   root: Self.reference(leaves[..<Int(size + 1)])))
            }
        }
    }

    @Test func consistencyProofsHoldAndNothingElseDoes() {
        var generator = SeededGenerator(seed: 9162)
        let (leaves, nodes) = Self.stored(700, using: &generator)
        for _ in 0..<2_000 {
            let new = UInt64.random(in: 1...700, using: &generator)
            let old = UInt64.random(in: 1...new, using: &generator)
            let oldRoot = Self.reference(leaves[..<Int(old)])
            let newRoot = Self.reference(leaves[..<Int(new)])
            let proof = MerkleLog.consistencyProof(old: old, new: new) { nodes[$0] ?? .zero }
            #expect(MerkleLog.verifyConsistency(old: old, oldRoot: oldRoot, new: new, newRoot: newRoot, proof: proof), "\(old) → \(new)")
            #expect(proof.count <= 2 * (64 - new.leadingZeroBitCount))
            if old < new {
                // A history that differs in one old leaf does not extend; nor does a proof cut short.
                var forked = Array(leaves[..<Int(new)])
                forked[Int.random(in: 0..<Int(old), using: &generator)] = MerkleLog.leafHash(.zero)
                #expect(!MerkleLog.verifyConsistency(old: old, oldRoot: oldRoot, new: new, newRoot: Self.reference(forked[...]), proof: proof))
                #expect(!MerkleLog.verifyConsistency(old: old, oldRoot: oldRoot, new: new, newRoot: newRoot, proof: Array(proof.dropLast())))
                #expect(!MerkleLog.verifyConsistency(old: new, oldRoot: newRoot, new: old, newRoot: oldRoot, proof: proof), "no shrinking")
            } else {
                #expect(!MerkleLog.verifyConsistency(old: old, oldRoot: oldRoot, new: new, newRoot: MerkleLog.leafHash(.zero), proof: proof))
            }
        }
    }

    @Test func batchProofsHoldForAnySetOfLeavesAndNothingElseDoes() {
        var generator = SeededGenerator(seed: 1114)
        let (leaves, nodes) = Self.stored(700, using: &generator)
        for _ in 0..<2_000 {
            let size = UInt64.random(in: 1...700, using: &generator)
            let root = Self.reference(leaves[..<Int(size)])
            let density = Double.random(in: 0...1, using: &generator)
            let indexes = (0..<size).filter { _ in Double.random(in: 0..<1, using: &generator) < density * density }
            let given = indexes.map { (index: $0, hash: leaves[Int($0)]) }
            let proof = MerkleLog.batchProof(indexes: indexes, size: size) { nodes[$0] ?? .zero }
            #expect(MerkleLog.batchRoot(leaves: given, size: size, proof: proof) == root)
            if let dropped = given.indices.randomElement(using: &generator) {
                // A leaf left out, or changed, does not make the root.
                var fewer = given
                fewer.remove(at: dropped)
                #expect(MerkleLog.batchRoot(leaves: fewer, size: size, proof: proof) != root)
                var changed = given
                changed[dropped].hash = MerkleLog.leafHash(.zero)
                #expect(MerkleLog.batchRoot(leaves: changed, size: size, proof: proof) != root)
                if given.count > 1 {
                    var swapped = given
                    let other = (dropped + 1) % given.count
                    (swapped[dropped].hash, swapped[other].hash) = (given[other].hash, given[dropped].hash)
                    #expect(MerkleLog.batchRoot(leaves: swapped, size: size, proof: proof) != root)
                }
            }
            #expect(MerkleLog.batchRoot(leaves: given, size: size, proof: proof + [root]) == nil, "a hash too many")
        }
    }

    @Test func appendingRefusesAMissingFrontier() {
        #expect(MerkleLog.appending([MerkleLog.leafHash(.zero)], to: 1, frontier: [:]) == nil)
        #expect(MerkleLog.frontier(size: 6) == [LogNode(level: 1, index: 2), LogNode(level: 2, index: 0)])
    }

    @Test func checkpointsAreSignedNotesThatOnlyTheServerKeySigns() throws {
        let key = try SigningKey(seed: [UInt8](repeating: 7, count: 32))
        let other = try SigningKey(seed: [UInt8](repeating: 8, count: 32))
        let checkpoint = LogCheckpoint(origin: LogCheckpoint.origin(for: key.publicKey), size: 7, root: MerkleLog.emptyRoot)
        let note = checkpoint.signed(with: key)
        #expect(try LogCheckpoint.verified(note, key: key.publicKey) == checkpoint)
        #expect(throws: LogCheckpoint.Problem.wrongOrigin(checkpoint.origin)) { try LogCheckpoint.verified(note, key: other.publicKey) }
        let forged = LogCheckpoint(origin: LogCheckpoint.origin(for: key.publicKey), size: 8, root: MerkleLog.emptyRoot)
        let forgedNote = forged.body + note[note.range(of: "\n\n")!.lowerBound...].dropFirst()
        #expect(throws: LogCheckpoint.Problem.badSignature) { try LogCheckpoint.verified(String(forgedNote), key: key.publicKey) }
        #expect(throws: LogCheckpoint.Problem.self) { try LogCheckpoint.verified("provident/x\n7\n", key: key.publicKey) }
        let receipt = LogReceipt.signed(id: Digest256(hashing: [1]), position: 5, time: 1_795_397_400_000, key: key)
        #expect(receipt.isValid(for: key.publicKey))
        #expect(!LogReceipt(id: receipt.id, position: 6, time: receipt.time, signature: receipt.signature).isValid(for: key.publicKey))
        #expect(LogReceipt(receipt.canonicalValue, id: receipt.id) == receipt)
    }

    @Test func witnessKeysAndCosignaturesRoundTripForAnyKey() throws {
        let checkpoint = LogCheckpoint(origin: "provident/0011223344556677", size: 9, root: Digest256(hashing: [9]))
        let note = checkpoint.signed(with: SigningKey.generate())
        for _ in 0..<300 {
            // Base64 of a key often holds "+", the verifier key's separator.
            let key = SigningKey.generate()
            let witness = LogWitness(device: DeviceID(publicKey: key.publicKey), key: key.publicKey)
            #expect(LogWitness(verifierKey: witness.verifierKey) == witness, "\(witness.verifierKey)")
            let line = LogWitness.cosign(checkpoint, time: 1_795_397_400, name: witness.name, key: key)
            let cosigned = LogWitness.adding([line], to: note)
            #expect(witness.cosigned(cosigned, checkpoint: checkpoint) == 1_795_397_400)
            #expect(LogWitness.lines(of: cosigned) == [line])
            let moved = LogCheckpoint(origin: checkpoint.origin, size: 10, root: checkpoint.root)
            #expect(witness.cosigned(cosigned, checkpoint: moved) == nil)
        }
        #expect(LogWitness(verifierKey: "provident-witness/x+00000000+AAAA") == nil)
        #expect(LogWitness(verifierKey: "no separators") == nil)
    }
}
