import Foundation
import Logging
import ProvidentDomain

/// Logs as one JSON object a line, for collectors: `time` (UTC, milliseconds), `level`,
/// `label`, `message`, `metadata` (every value a string), `source`; keys sorted, so a line reads
/// the same from one run to the next.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let write: @Sendable (String) -> Void

    public init(label: String, level: Logger.Level = .info, write: @escaping @Sendable (String) -> Void = JSONLogHandler.standardError) {
        self.label = label
        logLevel = level
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let object: [String: Any] = [
            "time": SyncService.systemNow().utcISO, "level": event.level.rawValue, "label": label, "message": event.message.description,
            "metadata": merged.mapValues { Self.text($0) }, "source": event.source,
        ]
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        write(String(decoding: data, as: UTF8.self) + "\n")
    }

    /// A metadata value as text: nested values flattened the way the text format prints them.
    static func text(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case let .string(text): text
        case let .stringConvertible(convertible): convertible.description
        default: value.description
        }
    }

    /// Writes a line to standard error in one call, so lines from concurrent tasks do not mix.
    public static let standardError: @Sendable (String) -> Void = { line in
        FileHandle.standardError.write(Data(line.utf8))
    }
}
