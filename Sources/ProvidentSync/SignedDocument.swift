import ProvidentCrypto

/// A document the server signs with its own key (sync-protocol.md §11.8): whole records for a
/// new device's snapshot or for records entering a device's scope, and the list of records
/// leaving it. Devices check it with the server key they pinned when they enrolled.
public struct SignedDocument: Hashable, Sendable {
    /// What a document says.
    public enum Content: Hashable, Sendable {
        /// Records, whole, in their transfer form, as of feed position `asOf`.
        case records([RecordState])
        /// Records to remove from the replica: they left the scope.
        case scopeExit([RecordKey])
    }

    /// The largest document accepted, in bytes.
    public static let maxByteCount = 32 * 1_048_576

    /// The feed position the document reflects.
    public let asOf: UInt64
    public let content: Content
    /// The canonical bytes that were signed.
    public let bytes: [UInt8]
    public let signature: Signature

    /// Opens an envelope `{"<body>":"<base64>","signature":"<base64>"}`: checks the signature
    /// with `key`, then decodes the signed bytes as one canonical value.
    static func open(_ value: CanonicalValue, body name: String, key: PublicKey,
                     limit: Int) throws(SyncError) -> (bytes: [UInt8], signature: Signature, value: CanonicalValue) {
        var reader = try ObjectReader(value, path: name)
        let body = try reader.string(name)
        let signatureText = try reader.string("signature")
        try reader.finish()
        guard let bytes = Base64.decode(body) else { throw .invalidBase64(field: "\(name).\(name)") }
        guard let signatureBytes = Base64.decode(signatureText) else { throw .invalidBase64(field: "\(name).signature") }
        guard let signature = try? Signature(bytes: signatureBytes) else { throw .signatureLength(signatureBytes.count) }
        guard key.isValidSignature(signature, for: bytes) else { throw .badSignature }
        do {
            return (bytes, signature, try CanonicalDecoder.decode(bytes, limit: limit))
        } catch {
            throw .notCanonical(error)
        }
    }

    /// Encodes and signs a document with the server's key.
    public init(asOf: UInt64, content: Content, signingWith key: SigningKey) throws(SyncError) {
        var object: [String: CanonicalValue] = ["v": .integer(ChangeSet.protocolVersion), "asOf": .integer(Int64(clamping: asOf))]
        switch content {
        case let .records(states):
            object["kind"] = "records"
            object["records"] = .array(states.map { state in
                .object(["type": .string(state.key.type), "id": .string(state.key.id), "state": state.transferValue])
            })
        case let .scopeExit(keys):
            object["kind"] = "scopeExit"
            object["records"] = .array(keys.map { .object(["type": .string($0.type), "id": .string($0.id)]) })
        }
        do {
            bytes = try CanonicalEncoder.encode(.object(object))
        } catch {
            throw .notCanonical(error)
        }
        self.asOf = asOf
        self.content = content
        signature = key.signature(for: bytes)
    }

    /// Signs a `records` document built from records' stored transfer forms, which are copied
    /// into it as they are instead of being decoded and encoded again: the same bytes as
    /// `init(asOf:content:signingWith:)` gives for those records, when each form is canonical
    /// (a form that is not an object is refused). `content` holds no records: the document is
    /// for sending.
    public init(asOf: UInt64, transferForms: [(key: RecordKey, form: [UInt8])], signingWith key: SigningKey) throws(SyncError) {
        // Members in canonical order: asOf, kind, records, v; each record's: id, state, type.
        var bytes = Array("{\"asOf\":\(Int64(clamping: asOf)),\"kind\":\"records\",\"records\":[".utf8)
        bytes.reserveCapacity(transferForms.reduce(bytes.count + 64) { $0 + $1.form.count + $1.key.type.utf8.count + $1.key.id.utf8.count + 32 })
        for (index, record) in transferForms.enumerated() {
            guard record.form.first == UInt8(ascii: "{"), record.form.last == UInt8(ascii: "}") else {
                throw .invalidField(path: "records[\(index)].state", reason: Reason("is not a record's transfer form", "不是记录的传输形式"))
            }
            do {
                bytes += Array((index == 0 ? "{\"id\":" : ",{\"id\":").utf8)
                bytes += try CanonicalEncoder.encode(.string(record.key.id))
                bytes += Array(",\"state\":".utf8)
                bytes += record.form
                bytes += Array(",\"type\":".utf8)
                bytes += try CanonicalEncoder.encode(.string(record.key.type))
                bytes.append(UInt8(ascii: "}"))
            } catch {
                throw .notCanonical(error)
            }
        }
        bytes += Array("],\"v\":\(ChangeSet.protocolVersion)}".utf8)
        guard bytes.count <= Self.maxByteCount else { throw .invalidField(path: "records", reason: Reason("make a document too large", "使文档过大")) }
        self.asOf = asOf
        self.content = .records([])
        self.bytes = bytes
        signature = key.signature(for: bytes)
    }

    /// The transfer form of each record of a `records` document, in order, as it lies in the
    /// signed bytes (canonical already: a device can store it without encoding the record
    /// again); nil for any other document.
    public var transferForms: [ArraySlice<UInt8>]? {
        guard case .records = content else { return nil }
        return bytes.withUnsafeBufferPointer { Self.recordForms(in: $0) }.map { ranges in ranges.map { bytes[$0] } }
    }

    /// Where each record's `state` lies in a canonical records document, or nil when the bytes
    /// are not laid out as `init(asOf:content:signingWith:)` writes them.
    static func recordForms(in bytes: UnsafeBufferPointer<UInt8>) -> [Range<Int>]? {
        var at = 0
        func expect(_ text: StaticString) -> Bool {
            let count = text.utf8CodeUnitCount
            guard at + count <= bytes.count else { return false }
            let expected = UnsafeBufferPointer(start: text.utf8Start, count: count)
            for index in 0..<count where bytes[at + index] != expected[index] { return false }
            at += count
            return true
        }
        func skipString() -> Bool {
            guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { return false }
            at += 1
            while at < bytes.count {
                switch bytes[at] {
                case UInt8(ascii: "\\"): at += 2
                case UInt8(ascii: "\""): at += 1; return true
                default: at += 1
                }
            }
            return false
        }
        func skipValue() -> Bool {
            var depth = 0
            repeat {
                guard at < bytes.count else { return false }
                switch bytes[at] {
                case UInt8(ascii: "\""): guard skipString() else { return false }
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1; at += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    guard depth > 0 else { return false }
                    depth -= 1
                    at += 1
                default: at += 1
                }
            } while depth > 0
            return true
        }
        guard expect("{\"asOf\":") else { return nil }
        while at < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[at]) { at += 1 }
        guard expect(",\"kind\":\"records\",\"records\":[") else { return nil }
        var forms: [Range<Int>] = []
        if expect("]") { return expect(",\"v\":1}") && at == bytes.count ? forms : nil }
        repeat {
            guard expect("{\"id\":"), skipString(), expect(",\"state\":") else { return nil }
            let start = at
            guard bytes.indices.contains(at), bytes[at] == UInt8(ascii: "{"), skipValue() else { return nil }
            forms.append(start..<at)
            guard expect(",\"type\":"), skipString(), expect("}") else { return nil }
        } while expect(",")
        return expect("],\"v\":1}") && at == bytes.count ? forms : nil
    }

    /// Reads a document from its envelope `{"document":"<base64>","signature":"<base64>"}` and
    /// checks its signature with the server's key.
    public init(envelope value: CanonicalValue, serverKey: PublicKey) throws(SyncError) {
        let (bytes, signature, decoded) = try Self.open(value, body: "document", key: serverKey, limit: Self.maxByteCount)
        var document = try ObjectReader(decoded, path: "document")
        let version = try document.integer("v")
        guard version == ChangeSet.protocolVersion else { throw .unsupportedVersion(version) }
        let asOf = try document.integer("asOf")
        guard asOf >= 0 else { throw .invalidField(path: "document.asOf", reason: Reason("must not be negative", "不能为负")) }
        let kind = try document.string("kind")
        let records = try document.array("records")
        try document.finish()
        switch kind {
        case "records":
            var states: [RecordState] = []
            for (index, entry) in records.enumerated() {
                var item = try ObjectReader(entry, path: "document.records[\(index)]")
                let key = RecordKey(type: try item.string("type"), id: try item.string("id"))
                guard let state = RecordState(key: key, transferValue: try item.value("state")) else {
                    throw .invalidField(path: "document.records[\(index)].state", reason: Reason("is not a record's transfer form", "不是记录的传输形式"))
                }
                try item.finish()
                states.append(state)
            }
            content = .records(states)
        case "scopeExit":
            var keys: [RecordKey] = []
            for (index, entry) in records.enumerated() {
                var item = try ObjectReader(entry, path: "document.records[\(index)]")
                keys.append(RecordKey(type: try item.string("type"), id: try item.string("id")))
                try item.finish()
            }
            content = .scopeExit(keys)
        default:
            throw .invalidField(path: "document.kind", reason: Reason("must be records or scopeExit", "须为 records 或 scopeExit"))
        }
        self.asOf = UInt64(asOf)
        self.bytes = bytes
        self.signature = signature
    }

    /// The envelope as a canonical value.
    public var envelopeValue: CanonicalValue {
        .object(["document": .string(Base64.encode(bytes)), "signature": .string(Base64.encode(signature.bytes))])
    }

    /// The envelope's canonical bytes, the base64 written straight into them (a snapshot page's
    /// document is megabytes): what `envelopeValue` encodes to.
    public var envelopeBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Base64.encodedLength(bytes.count) + 120)
        CanonicalEncoder.appendEnvelope("document", bytes: bytes, signature: signature.bytes, to: &out)
        return out
    }
}

extension ObjectReader {
    mutating func value(_ key: String) throws(SyncError) -> CanonicalValue {
        try take(key)
    }
}
