import ArgumentParser
import Foundation
import ProvidentSync

/// What `provident` and `provident-server` share at the keyboard: the language of the run,
/// tables aligned by display width, JSON for scripts, and the argument parser's errors in the
/// user's language.

/// The language of this run: Chinese when LC_ALL, LC_MESSAGES or LANG (the first set) starts with zh.
public let language = Language.from(environment: ProcessInfo.processInfo.environment)

/// Picks the text for this run's language.
public func t(_ english: String, _ chinese: String) -> String {
    language.pick(english, chinese)
}

/// A plain-text table with columns aligned by display width, so Chinese characters (two
/// columns wide in a terminal) line up.
public struct TextTable: Sendable {
    public enum Alignment: Sendable {
        case left
        case right
    }

    public var headers: [String]
    public var alignments: [Alignment]
    public var rows: [[String]] = []
    /// Whether a rule of dashes separates the headers from the rows.
    public var rule: Bool

    public init(_ headers: [String], alignments: [Alignment]? = nil, rule: Bool = true) {
        self.headers = headers
        self.alignments = alignments ?? headers.map { _ in .left }
        self.rule = rule
    }

    /// The first row as headers, the rest as rows.
    public init(rows: [[String]], rule: Bool = false) {
        self.init(rows.first ?? [], rule: rule)
        self.rows = Array(rows.dropFirst())
    }

    public mutating func add(_ row: [String]) {
        rows.append(row)
    }

    public var rendered: String {
        let widths = headers.indices.map { column in
            ([headers[column]] + rows.map { column < $0.count ? $0[column] : "" }).map(Self.displayWidth).max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            headers.indices.map { column in
                let cell = column < cells.count ? cells[column] : ""
                let padding = String(repeating: " ", count: max(0, widths[column] - Self.displayWidth(cell)))
                return alignments[column] == .right ? padding + cell : cell + padding
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        let separator = rule ? [widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")] : []
        return ([line(headers)] + separator + rows.map(line)).joined(separator: "\n")
    }

    /// The text followed by spaces up to `width` terminal columns (at least one space).
    public static func pad(_ text: String, to width: Int) -> String {
        text + String(repeating: " ", count: max(1, width - displayWidth(text)))
    }

    /// Terminal columns a string takes: East Asian wide and full-width characters take two,
    /// combining marks none.
    public static func displayWidth(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { width, scalar in
            switch scalar.value {
            case 0x0300...0x036F, 0x200B...0x200F: width
            case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
                 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F,
                 0x20000...0x3FFFD:
                width + 2
            default: width + 1
            }
        }
    }
}

/// JSON for scripts, in one style for both programs: sorted keys, pretty-printed, UTF-8 text
/// and slashes as they are.
public enum JSONOutput {
    public static func text<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// The same style for values built of dictionaries and arrays.
    public static func text(object: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]),
               as: UTF8.self)
    }
}

/// The argument parser's own messages (an unknown option, a missing value…) in the user's
/// language. The parser writes them in English; its help screens stay as they are.
public enum ParserMessages {
    /// Ends the program for an error `parseAsRoot` threw: help and version as the parser prints
    /// them, usage errors translated.
    public static func exit<Command: ParsableCommand>(_ command: Command.Type, withError error: any Error) -> Never {
        let code = command.exitCode(for: error)
        guard code != .success, language == .chinese else { command.exit(withError: error) }
        FileHandle.standardError.write(Data((translate(command.fullMessage(for: error)) + "\n").utf8))
        Foundation.exit(code.rawValue)
    }

    /// A parser message in Chinese, line by line; lines it does not know stay in English.
    public static func translate(_ message: String) -> String {
        let rules: [(Regex<(Substring, Substring)>, (Substring) -> String)] = [
            (/Error: Unknown option '(.+)'/, { "错误：未知的选项 \($0)。" }),
            (/Error: Unexpected argument '(.+)'/, { "错误：多余的参数 \($0)。" }),
            (/Error: Missing expected argument '(.+)'/, { "错误：缺少参数 \($0)。" }),
            (/Error: Missing value for '(.+)'/, { "错误：选项 \($0) 缺少取值。" }),
            (/Usage: (.+)/, { "用法：\($0)" }),
            (/Help: (.+)/, { "说明：\($0)" }),
            (#/  See '(.+) --help' for more information\./#, { "  详见 '\($0) --help'。" }),
            (/Error: (.+)/, { "错误：\($0)" }),
        ]
        return message.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            if let match = line.wholeMatch(of: /Error: The value '(.*)' is invalid for '([^']+)'(?:\. Please provide one of (.+)\.)?/) {
                let choices = match.3.map { "；可选：" + $0.replacingOccurrences(of: "' and '", with: "'、'").replacingOccurrences(of: "' or '", with: "'、'").replacingOccurrences(of: "', '", with: "'、'") } ?? ""
                return "错误：“\(match.1)”不是 \(match.2) 的有效取值\(choices)。"
            }
            for (pattern, replacement) in rules {
                if let match = line.wholeMatch(of: pattern) { return replacement(match.1) }
            }
            return String(line)
        }.joined(separator: "\n")
    }
}
