/// The canonical transfer form of a record's merged state (sync-protocol.md §9.1): how the server
/// sends whole records in snapshots and scope changes, and how replicas store them.
///
/// A mutable record keeps every field's whole write history, which later merges need:
/// `{"created":…,"fields":{name:[{"ctx":…,"device":…,"hlc":…,"seq":…,"value":…},…]},"kind":"mutable","vv":…}`.
/// A fact never changes after its first write, so it keeps only its values, the dots that
/// delivered it and the time of the first: `{"fields":{name:value},"hlc":…,"kind":"fact","vv":…}`.
extension RecordState {
    /// The largest transfer form accepted, in bytes.
    public static let transferByteLimit = 16 * 1_048_576

    /// The transfer form as a canonical value.
    public var transferValue: CanonicalValue {
        var object: [String: CanonicalValue] = ["kind": .string(mutability.rawValue), "vv": versionVector.canonicalValue]
        switch mutability {
        case .fact:
            object["fields"] = .object(values)
            object["hlc"] = .string((fields.values.first?.winner.time ?? .zero).wireValue)
        case .mutable:
            object["created"] = .bool(created)
            object["fields"] = .object(fields.mapValues { history in
                .array(history.writes.map { write in
                    .object(["device": .string(write.dot.device.rawValue), "seq": .integer(Int64(write.dot.sequence)),
                             "hlc": .string(write.time.wireValue), "ctx": write.context.canonicalValue, "value": write.value])
                })
            })
        }
        return .object(object)
    }

    /// The transfer form's canonical bytes.
    public func transferBytes() throws(SyncError) -> [UInt8] {
        do {
            return try CanonicalEncoder.encode(transferValue)
        } catch {
            throw .notCanonical(error)
        }
    }

    /// Reads a record from its transfer form, checking every part; nil when malformed.
    public init?(key: RecordKey, transferValue value: CanonicalValue) {
        guard let object = value.objectValue,
              let kind = object["kind"]?.stringValue.flatMap(RecordState.Mutability.init(rawValue:)),
              let vv = object["vv"].flatMap(VersionVector.init(canonicalValue:)),
              let fields = object["fields"]?.objectValue, !vv.counters.isEmpty else { return nil }
        switch kind {
        case .fact:
            guard object.count == 4, let time = object["hlc"]?.stringValue.flatMap(HLCTimestamp.init(wireValue:)),
                  let first = vv.counters.min(by: { ($0.key, $0.value) < ($1.key, $1.value) }) else { return nil }
            let dot = Dot(device: first.key, sequence: first.value)
            var histories: [String: FieldHistory] = [:]
            for (name, value) in fields {
                histories[name] = FieldHistory(writes: [FieldWrite(dot: dot, time: time, context: VersionVector(), value: value)])
            }
            self.init(key: key, mutability: .fact, created: true, versionVector: vv, fields: histories)
        case .mutable:
            guard object.count == 4, let created = object["created"]?.boolValue else { return nil }
            var histories: [String: FieldHistory] = [:]
            for (name, list) in fields {
                var writes: [FieldWrite] = []
                for entry in list.arrayValue ?? [] {
                    guard let w = entry.objectValue, w.count == 5, let device = w["device"]?.stringValue.flatMap(DeviceID.init),
                          let seq = w["seq"]?.integerValue, seq > 0,
                          let time = w["hlc"]?.stringValue.flatMap(HLCTimestamp.init(wireValue:)),
                          let ctx = w["ctx"].flatMap(VersionVector.init(canonicalValue:)), let value = w["value"] else { return nil }
                    writes.append(FieldWrite(dot: Dot(device: device, sequence: UInt64(seq)), time: time, context: ctx, value: value))
                }
                guard let history = FieldHistory(writes: writes) else { return nil }
                histories[name] = history
            }
            self.init(key: key, mutability: .mutable, created: created, versionVector: vv, fields: histories)
        }
    }

    /// Reads a record from transfer-form bytes; nil when they are not a canonical transfer form.
    public init?(key: RecordKey, transferBytes bytes: [UInt8]) {
        guard let value = try? CanonicalDecoder.decode(bytes, limit: Self.transferByteLimit) else { return nil }
        self.init(key: key, transferValue: value)
    }
}

extension VersionVector {
    /// Reads a version vector from its canonical form: device ids to counters of at least 1.
    public init?(canonicalValue value: CanonicalValue) {
        guard let object = value.objectValue else { return nil }
        var counters: [DeviceID: UInt64] = [:]
        for (key, counter) in object {
            guard let device = DeviceID(key), let n = counter.integerValue, n > 0 else { return nil }
            counters[device] = UInt64(n)
        }
        self.init(counters)
    }
}
