import ProvidentSync

/// The canonical storage form of a record's merged state (the `records.state` column).
///
/// Mutable records keep every field's whole write history, which the merge rules need:
/// `{"created":…,"fields":{name:[{"ctx":…,"device":…,"hlc":…,"seq":…,"value":…},…]},"kind":"mutable","vv":…}`.
/// Facts never change after their first write, so they keep only their values, the dots that
/// delivered them and the time of the first: `{"fields":{name:value},"hlc":…,"kind":"fact","vv":…}`.
enum RecordStorage {
    static let byteLimit = 16 * 1_048_576

    static func encode(_ state: RecordState) throws -> [UInt8] {
        var object: [String: CanonicalValue] = ["kind": .string(state.mutability.rawValue), "vv": state.versionVector.canonicalValue]
        switch state.mutability {
        case .fact:
            object["fields"] = .object(state.values)
            let time = state.fields.values.first?.winner.time ?? .zero
            object["hlc"] = .string(time.wireValue)
        case .mutable:
            object["created"] = .bool(state.created)
            object["fields"] = .object(state.fields.mapValues { history in
                .array(history.writes.map { write in
                    .object(["device": .string(write.dot.device.rawValue), "seq": .integer(Int64(write.dot.sequence)),
                             "hlc": .string(write.time.wireValue), "ctx": write.context.canonicalValue, "value": write.value])
                })
            })
        }
        return try CanonicalEncoder.encode(.object(object))
    }

    static func decode(_ bytes: [UInt8], key: RecordKey) -> RecordState? {
        guard let object = (try? CanonicalDecoder.decode(bytes, limit: byteLimit))?.objectValue,
              let kind = object["kind"]?.stringValue.flatMap(RecordState.Mutability.init(rawValue:)),
              let vv = object["vv"].flatMap(versionVector), let fields = object["fields"]?.objectValue else { return nil }
        switch kind {
        case .fact:
            guard let time = object["hlc"]?.stringValue.flatMap(HLCTimestamp.init(wireValue:)),
                  let first = vv.counters.min(by: { ($0.key, $0.value) < ($1.key, $1.value) }) else { return nil }
            let dot = Dot(device: first.key, sequence: first.value)
            var histories: [String: FieldHistory] = [:]
            for (name, value) in fields {
                histories[name] = FieldHistory(writes: [FieldWrite(dot: dot, time: time, context: VersionVector(), value: value)])
            }
            return RecordState(key: key, mutability: .fact, created: true, versionVector: vv, fields: histories)
        case .mutable:
            var histories: [String: FieldHistory] = [:]
            for (name, list) in fields {
                var writes: [FieldWrite] = []
                for entry in list.arrayValue ?? [] {
                    guard let w = entry.objectValue, let device = w["device"]?.stringValue.flatMap(DeviceID.init),
                          let seq = w["seq"]?.integerValue, seq > 0,
                          let time = w["hlc"]?.stringValue.flatMap(HLCTimestamp.init(wireValue:)),
                          let ctx = w["ctx"].flatMap(versionVector), let value = w["value"] else { return nil }
                    writes.append(FieldWrite(dot: Dot(device: device, sequence: UInt64(seq)), time: time, context: ctx, value: value))
                }
                guard let history = FieldHistory(writes: writes) else { return nil }
                histories[name] = history
            }
            return RecordState(key: key, mutability: .mutable, created: object["created"]?.boolValue ?? false,
                               versionVector: vv, fields: histories)
        }
    }

    static func versionVector(_ value: CanonicalValue) -> VersionVector? {
        guard let object = value.objectValue else { return nil }
        var counters: [DeviceID: UInt64] = [:]
        for (key, counter) in object {
            guard let device = DeviceID(key), let n = counter.integerValue, n > 0 else { return nil }
            counters[device] = UInt64(n)
        }
        return VersionVector(counters)
    }
}
