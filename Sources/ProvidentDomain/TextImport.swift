import Foundation
import ProvidentSync

#if canImport(Glibc)
import Glibc
#endif

/// The character encodings office files come in: UTF-8 (with or without a byte-order mark) and
/// GBK, which spreadsheet software on Chinese Windows writes (read as its superset GB 18030).
public enum TextEncoding: String, Hashable, Sendable, CaseIterable {
    case utf8 = "utf-8"
    case gbk

    /// Reads the name people give: utf-8, utf8, gbk, gb18030, gb2312.
    public init?(typed text: String) {
        switch text.lowercased() {
        case "utf-8", "utf8": self = .utf8
        case "gbk", "gb18030", "gb2312", "cp936": self = .gbk
        default: return nil
        }
    }
}

/// Why a file could not be imported at all (as opposed to a bad row, which is reported and skipped).
public enum ImportError: ProvidentError, Hashable {
    /// What makes a line not CSV.
    public enum CSVProblem: Hashable, Sendable {
        case quoteInField
        case textAfterQuote
        case unclosedQuote

        func describe(_ l: Language) -> String {
            switch self {
            case .quoteInField: l.pick("a quote inside an unquoted field (quote the whole field and double the quote)", "未加引号的字段中出现引号（请给整个字段加引号，并把其中的引号写两次）")
            case .textAfterQuote: l.pick("text after a closing quote", "右引号后还有文字")
            case .unclosedQuote: l.pick("a quoted field is not closed", "引号字段没有结束")
            }
        }
    }

    case unknownEncoding
    case empty
    case malformed(line: Int, reason: CSVProblem)
    case missingColumns([String])
    /// The header row of a workbook has merged cells (`cells`, as A3:B3), so its columns have no names of their own.
    case mergedHeader(line: Int, cells: String)

    /// A file that cannot be read is bad input.
    public var kind: ErrorKind { .invalidInput }

    public var code: String {
        switch self {
        case .unknownEncoding: "import.encoding"
        case .empty: "import.empty"
        case .malformed: "import.csv"
        case .missingColumns: "import.columns"
        case .mergedHeader: "import.merged_header"
        }
    }

    public func message(_ l: Language) -> String {
        switch self {
        case .unknownEncoding:
            l.pick("The file is neither UTF-8 nor GBK text; save it as CSV (UTF-8) and try again.", "文件既不是 UTF-8 也不是 GBK 文本；请另存为 CSV（UTF-8）后重试。")
        case .empty:
            l.pick("The file has no rows.", "文件中没有数据行。")
        case let .malformed(line, reason):
            l.pick("The file is not valid CSV at line \(line): \(reason.describe(l)).", "文件第 \(line) 行不是有效的 CSV：\(reason.describe(l))。")
        case let .missingColumns(names):
            l.pick("The header lacks the columns \(names.joined(separator: ", ")).", "表头缺少以下列：\(names.joined(separator: "、"))。")
        case let .mergedHeader(line, cells):
            l.pick("The header on line \(line) has merged cells (\(cells)), so some columns have no name of their own. Unmerge them and give every column its name in that one row, then save and upload again; nothing was imported.",
                   "第 \(line) 行表头有合并单元格（\(cells)），部分列没有自己的列名。请取消合并，在该行为每一列填写列名，保存后重新上传；未导入任何数据。")
        }
    }
}

/// Turns the bytes of an office file into text.
public enum TextDecoding {
    /// Decodes `bytes` as `encoding`, or, when nil, as UTF-8 if they are valid UTF-8, else GBK.
    /// A UTF-8 byte-order mark is dropped. Text holds no NUL byte: one means another encoding
    /// (UTF-16 saved without its mark reads as UTF-8 with a NUL after every letter) or no text,
    /// and no database column could keep it.
    public static func decode(_ bytes: [UInt8], as encoding: TextEncoding? = nil) throws(ImportError) -> (text: String, encoding: TextEncoding) {
        var bytes = bytes
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        if bytes.contains(0) { throw .unknownEncoding }
        if encoding != .gbk, let text = String(validating: bytes, as: UTF8.self) { return (text, .utf8) }
        if encoding == .utf8 { throw .unknownEncoding }
        guard let text = gb18030(bytes) else { throw .unknownEncoding }
        return (text, .gbk)
    }

    private static func gb18030(_ bytes: [UInt8]) -> String? {
        #if canImport(Glibc)
        let cd = iconv_open("UTF-8", "GB18030")
        guard cd != iconv_t(bitPattern: -1) else { return nil }
        defer { iconv_close(cd) }
        var input = bytes.map { CChar(bitPattern: $0) }
        var output = [CChar](repeating: 0, count: bytes.count * 4 + 4)
        var inLeft = input.count, outLeft = output.count
        let converted = input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                var inPointer = inBuffer.baseAddress
                var outPointer = outBuffer.baseAddress
                return iconv(cd, &inPointer, &inLeft, &outPointer, &outLeft) != -1
            }
        }
        guard converted, inLeft == 0 else { return nil }
        return String(validating: output.prefix(output.count - outLeft).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        #else
        return nil
        #endif
    }
}

/// A CSV file (RFC 4180: fields separated by commas, quoted with double quotes, a quote inside
/// doubled, records ended by CRLF or LF), its header row and its records with the line each
/// starts on.
public struct CSVTable: Sendable {
    public struct Record: Sendable {
        /// The physical line the record starts on, counting the header as line 1.
        public let line: Int
        public let fields: [String]

        public init(line: Int, fields: [String]) {
            self.line = line
            self.fields = fields
        }
    }

    public let header: [String]
    public let records: [Record]
    /// The line the header row is on (1 unless title rows were skipped above it).
    public let headerLine: Int
    /// Rows above the header that were skipped (a bank's title block: its name, the account, a blank line).
    public let rowsAboveHeader: Int
    /// A workbook's merged cells (a CSV has none).
    public var mergedCells: [MergedCells] = []

    /// A rectangle of merged cells, as a workbook names it (`A3:B4`).
    public struct MergedCells: Sendable, Hashable {
        public let reference: String
        public let rows: ClosedRange<Int>

        /// Reads `A3:B4` (or a single `A3`); nil for anything else.
        public init?(reference: String) {
            let corners = reference.split(separator: ":").map { corner in Int(corner.drop { $0.isLetter }) }
            guard (1...2).contains(corners.count), let top = corners.first ?? nil, let bottom = corners.last ?? nil, top <= bottom else { return nil }
            self.reference = reference
            rows = top...bottom
        }
    }

    /// Refuses a header row that merged cells touch: its columns would have no names of their own.
    public func requireUnmergedHeader() throws(ImportError) {
        let touching = mergedCells.filter { $0.rows.contains(headerLine) }
        guard touching.isEmpty else { throw .mergedHeader(line: headerLine, cells: touching.map(\.reference).joined(separator: ", ")) }
    }

    /// A table whose first row is the header (a spreadsheet's rows, say).
    public init(rows: [Record]) throws(ImportError) {
        guard let first = rows.first else { throw .empty }
        header = first.fields.map { $0.trimmingASCIIWhitespace }
        records = Array(rows.dropFirst())
        headerLine = first.line
        rowsAboveHeader = 0
    }

    private init(header: Record, records: [Record], rowsAbove: Int) {
        self.header = header.fields.map { $0.trimmingASCIIWhitespace }
        self.records = records
        headerLine = header.line
        rowsAboveHeader = rowsAbove
    }

    /// The same table with its header found among its first `within` rows: the first row
    /// `isHeader` accepts (title rows above it are skipped). Nil when no row is accepted.
    public func findingHeader(within: Int = 20, where isHeader: ([String]) -> Bool) -> CSVTable? {
        let rows = [Record(line: headerLine, fields: header)] + records
        guard let index = rows.prefix(within).firstIndex(where: { isHeader($0.fields.map { $0.trimmingASCIIWhitespace }) }) else { return nil }
        var found = CSVTable(header: rows[index], records: Array(rows[(index + 1)...]), rowsAbove: rowsAboveHeader + index)
        found.mergedCells = mergedCells
        return found
    }

    /// Whether a row is empty in every field (a spreadsheet's blank line).
    public static func isBlank(_ fields: [String]) -> Bool {
        fields.allSatisfy { $0.trimmingASCIIWhitespace.isEmpty }
    }

    /// Whether a row is a total or subtotal a bank or a spreadsheet adds (合计, 小计, 总计,
    /// 本页合计, Total): its first non-empty field says so.
    public static func isTotal(_ fields: [String]) -> Bool {
        guard let first = fields.first(where: { !$0.trimmingASCIIWhitespace.isEmpty })?.trimmingASCIIWhitespace.replacingOccurrences(of: " ", with: "") else {
            return false
        }
        let marks = ["合计", "小计", "总计", "本页合计", "本页小计", "累计", "total", "subtotal", "sum"]
        let lowered = first.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: ":："))
        return marks.contains { lowered == $0 || lowered.hasPrefix($0 + ":") || lowered.hasPrefix($0 + "：") || lowered.hasPrefix($0 + "(") || lowered.hasPrefix($0 + "（") }
    }

    /// Parses CSV text; blank lines are skipped.
    public init(parsing text: String) throws(ImportError) {
        var records: [Record] = []
        var field = "", fields: [String] = [], quoted = false, afterQuote = false
        var line = 1, recordLine = 1
        var characters = text.makeIterator()
        var pending: Character?
        func endRecord() {
            fields.append(field)
            if !(fields.count == 1 && fields[0].isEmpty) { records.append(Record(line: recordLine, fields: fields)) }
            fields = []
            field = ""
        }
        while let c = pending ?? characters.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    if let next = characters.next() {
                        if next == "\"" { field.append("\""); continue }
                        pending = next
                    }
                    quoted = false
                    afterQuote = true
                } else {
                    if c == "\n" || c == "\r\n" { line += 1 }
                    field.append(c)
                }
                continue
            }
            switch c {
            case ",":
                fields.append(field)
                field = ""
                afterQuote = false
            case "\n", "\r\n", "\r":
                endRecord()
                afterQuote = false
                line += 1
                recordLine = line
            case "\"":
                guard field.isEmpty, !afterQuote else { throw .malformed(line: line, reason: .quoteInField) }
                quoted = true
            default:
                guard !afterQuote else { throw .malformed(line: line, reason: .textAfterQuote) }
                field.append(c)
            }
        }
        if quoted { throw .malformed(line: recordLine, reason: .unclosedQuote) }
        if !field.isEmpty || !fields.isEmpty { endRecord() }
        guard let first = records.first else { throw .empty }
        header = first.fields.map { $0.trimmingASCIIWhitespace }
        self.records = Array(records.dropFirst())
        headerLine = first.line
        rowsAboveHeader = 0
    }

    /// The index of each named column in the header (names compared without case), or the missing names.
    public func columns(_ names: [String], required: Set<String>) throws(ImportError) -> [String: Int] {
        var found: [String: Int] = [:]
        for name in names {
            if let index = header.firstIndex(where: { $0.lowercased() == name.lowercased() }) { found[name] = index }
        }
        let missing = names.filter { required.contains($0) && found[$0] == nil }
        guard missing.isEmpty else { throw .missingColumns(missing) }
        return found
    }
}

/// Comma-separated values for spreadsheets: RFC 4180 quoting, CRLF line ends, and a UTF-8
/// byte-order mark so Excel reads Chinese text correctly.
public struct CSV: Sendable {
    public var lines: [[String]] = []

    public init() {}

    public mutating func add(_ fields: [String]) {
        lines.append(fields)
    }

    public var text: String {
        "\u{FEFF}" + lines.map { $0.map { Self.quote(Self.neutralised($0)) }.joined(separator: ",") + "\r\n" }.joined()
    }

    /// A cell a spreadsheet would run as a formula (beginning with =, +, -, @, a tab or a
    /// carriage return) with `'` put before it, as OWASP recommends against CSV injection; a
    /// plain number such as -12.50 stays a number.
    public static func neutralised(_ field: String) -> String {
        guard let first = field.unicodeScalars.first, ["=", "+", "-", "@", "\t", "\r"].contains(first) else { return field }
        if field.wholeMatch(of: /[+-]?[0-9]+(\.[0-9]+)?/) != nil { return field }
        return "'" + field
    }

    public static func quote(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
