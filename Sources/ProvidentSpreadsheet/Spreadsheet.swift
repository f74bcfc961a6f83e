import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import ProvidentDomain
import ProvidentSync
import ZIPFoundation

/// The office's files as they come: CSV (UTF-8 with or without a BOM, or GBK) or an Excel
/// workbook (.xlsx, read with ZIPFoundation and Foundation's XML parser), as a table of rows.
public enum OfficeFile {
    /// Whether the bytes are a ZIP archive (an .xlsx is one).
    public static func isZip(_ bytes: [UInt8]) -> Bool {
        bytes.starts(with: [0x50, 0x4B, 0x03, 0x04])
    }

    /// The file's rows as a table whose first row is the first row of the file, and how its
    /// text was read (`nil` for a workbook).
    public static func table(_ bytes: [UInt8], encoding: TextEncoding? = nil) throws(SpreadsheetError) -> (table: CSVTable, encoding: TextEncoding?) {
        if isZip(bytes) { return (try Workbook.firstSheet(bytes), nil) }
        do {
            let (text, used) = try TextDecoding.decode(bytes, as: encoding)
            return (try CSVTable(parsing: text), used)
        } catch {
            throw .text(error)
        }
    }
}

/// Why a file cannot be read as a table.
public enum SpreadsheetError: ProvidentError, Hashable {
    /// A CSV problem.
    case text(ImportError)
    /// A ZIP file that is not a workbook, or a damaged one.
    case notAWorkbook(String)
    /// A workbook that would expand beyond the limit (a ZIP bomb, or simply too big).
    case tooLarge(limit: Int)
    /// A workbook with no rows in its first sheet.
    case emptySheet

    public var kind: ErrorKind { .invalidInput }

    public var code: String {
        switch self {
        case let .text(problem): problem.code
        case .notAWorkbook: "import.xlsx_unreadable"
        case .tooLarge: "import.xlsx_too_large"
        case .emptySheet: "import.empty"
        }
    }

    public func message(_ l: Language) -> String {
        switch self {
        case let .text(problem):
            problem.message(l)
        case let .notAWorkbook(detail):
            l.pick("The file is a ZIP archive but not an Excel workbook that can be read (\(detail)); save it again as .xlsx or as CSV.",
                   "该文件是 ZIP 压缩包，但不是可读取的 Excel 工作簿（\(detail)）；请重新另存为 .xlsx 或 CSV。")
        case let .tooLarge(limit):
            l.pick("The workbook expands to more than \(limit / 1_048_576) MiB; split it, or save the sheet as CSV.",
                   "该工作簿解压后超过 \(limit / 1_048_576) MiB；请拆分，或把工作表另存为 CSV。")
        case .emptySheet:
            l.pick("The workbook's first sheet has no rows.", "工作簿的第一个工作表没有任何行。")
        }
    }
}

/// The first worksheet of an .xlsx workbook as rows of text: shared and inline strings, numbers
/// as written (a float artefact such as 600.1000000001 rounded to fen), empty cells filled in.
/// Dates stored as numbers stay serial numbers; the statement reader knows them.
public enum Workbook {
    /// What a workbook may expand to in all (its parts are read into memory).
    public static let expansionLimit = 64 * 1_048_576

    public static func firstSheet(_ bytes: [UInt8]) throws(SpreadsheetError) -> CSVTable {
        // Read from a private temporary file, not from memory: ZIPFoundation's in-memory archive
        // traps on an offset past the end of a damaged file (its MemoryFile.readData computes a
        // negative length), where reading a real file just finds nothing.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("provident-xlsx-\(UUID().uuidString)")
        let file = folder.appendingPathComponent("upload.xlsx")
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            try Data(bytes).write(to: file)
        } catch {
            throw .notAWorkbook("it could not be held in a temporary file")
        }
        defer { try? FileManager.default.removeItem(at: folder) }
        let archive: Archive
        do { archive = try Archive(url: file, accessMode: .read) } catch { throw .notAWorkbook("not a ZIP archive") }
        var budget = expansionLimit
        func part(_ path: String) throws(SpreadsheetError) -> Data? {
            guard let entry = archive[path] else { return nil }
            var data = Data()
            do {
                _ = try archive.extract(entry, skipCRC32: false) { chunk in
                    budget -= chunk.count
                    guard budget >= 0 else { throw SpreadsheetError.tooLarge(limit: expansionLimit) }
                    data.append(chunk)
                }
            } catch let error as SpreadsheetError {
                throw error
            } catch {
                throw .notAWorkbook("\(path) is damaged")
            }
            // Foundation's XML parser traps on names that are not UTF-8 (swift-corelibs-foundation
            // unwraps them), so a part that is not UTF-8 is refused before it is parsed; Excel
            // writes every part in UTF-8.
            guard String(validating: data, as: UTF8.self) != nil else { throw .notAWorkbook("\(path) is not UTF-8 XML") }
            return data
        }
        let sheetPath = try firstSheetPath(workbook: try part("xl/workbook.xml"), relations: try part("xl/_rels/workbook.xml.rels"))
        guard let sheet = try part(sheetPath) else { throw .notAWorkbook("\(sheetPath) is missing") }
        let shared = try part("xl/sharedStrings.xml").map { data throws(SpreadsheetError) in try SharedStrings.read(data) } ?? []
        let (rows, merged) = try SheetRows.read(sheet, shared: shared)
        guard !rows.isEmpty else { throw .emptySheet }
        do {
            var table = try CSVTable(rows: rows)
            table.mergedCells = merged
            return table
        } catch {
            throw .emptySheet
        }
    }

    /// The part holding the workbook's first sheet, by its relation id; `xl/worksheets/sheet1.xml` by default.
    static func firstSheetPath(workbook: Data?, relations: Data?) throws(SpreadsheetError) -> String {
        guard let workbook else { throw .notAWorkbook("xl/workbook.xml is missing") }
        let sheets = XMLElements.collect(workbook, named: "sheet")
        guard let id = sheets.first?["r:id"] else { return "xl/worksheets/sheet1.xml" }
        let target = relations.map { XMLElements.collect($0, named: "Relationship") }?.first { $0["Id"] == id }?["Target"]
        guard let target else { return "xl/worksheets/sheet1.xml" }
        if target.hasPrefix("/") { return String(target.dropFirst()) }
        return "xl/" + target
    }
}

/// Attributes of every element with a name, in document order (for the small index parts).
enum XMLElements {
    final class Collector: NSObject, XMLParserDelegate {
        let name: String
        var found: [[String: String]] = []
        init(name: String) { self.name = name }
        func parser(_ parser: XMLParser, didStartElement element: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            if element == name { found.append(attributes) }
        }
    }

    static func collect(_ data: Data, named name: String) -> [[String: String]] {
        let parser = XMLParser(data: data)
        let collector = Collector(name: name)
        parser.delegate = collector
        _ = parser.parse()
        return collector.found
    }
}

/// `xl/sharedStrings.xml`: each `<si>`'s text, runs joined.
enum SharedStrings {
    final class Reader: NSObject, XMLParserDelegate {
        var strings: [String] = []
        var current = ""
        var inText = false
        func parser(_ parser: XMLParser, didStartElement element: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            if element == "si" { current = "" }
            if element == "t" { inText = true }
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if inText { current += string }
        }
        func parser(_ parser: XMLParser, didEndElement element: String, namespaceURI: String?, qualifiedName: String?) {
            if element == "t" { inText = false }
            if element == "si" { strings.append(current) }
        }
    }

    static func read(_ data: Data) throws(SpreadsheetError) -> [String] {
        let parser = XMLParser(data: data)
        let reader = Reader()
        parser.delegate = reader
        guard parser.parse() else { throw .notAWorkbook("xl/sharedStrings.xml is not XML") }
        return reader.strings
    }
}

/// A worksheet's `<sheetData>`: rows by their number (the line a person sees in Excel), cells by
/// their column letters.
enum SheetRows {
    final class Reader: NSObject, XMLParserDelegate {
        let shared: [String]
        var rows: [CSVTable.Record] = []
        var cells: [Int: String] = [:]
        var rowNumber = 0
        var column = 0
        var type = ""
        var value = ""
        var inValue = false
        var bad = false
        var merged: [CSVTable.MergedCells] = []

        init(shared: [String]) { self.shared = shared }

        func parser(_ parser: XMLParser, didStartElement element: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            switch element {
            case "row":
                rowNumber = attributes["r"].flatMap(Int.init) ?? rowNumber + 1
                cells = [:]
                column = 0
            case "c":
                column = attributes["r"].flatMap(SheetRows.column) ?? column + 1
                type = attributes["t"] ?? "n"
                value = ""
            case "v", "t":
                inValue = true
            case "mergeCell":
                if let cells = attributes["ref"].flatMap(CSVTable.MergedCells.init(reference:)) { merged.append(cells) }
            default:
                break
            }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if inValue { value += string }
        }

        func parser(_ parser: XMLParser, didEndElement element: String, namespaceURI: String?, qualifiedName: String?) {
            switch element {
            case "v", "t":
                inValue = false
            case "c":
                switch type {
                case "s":
                    if let index = Int(value), shared.indices.contains(index) { cells[column] = shared[index] } else if !value.isEmpty { bad = true }
                case "n":
                    cells[column] = SheetRows.number(value)
                default:
                    cells[column] = value
                }
            case "row":
                let width = cells.keys.max() ?? 0
                rows.append(CSVTable.Record(line: rowNumber, fields: (1...max(width, 1)).map { cells[$0] ?? "" }))
            default:
                break
            }
        }
    }

    static func read(_ data: Data, shared: [String]) throws(SpreadsheetError) -> (rows: [CSVTable.Record], merged: [CSVTable.MergedCells]) {
        let parser = XMLParser(data: data)
        let reader = Reader(shared: shared)
        parser.delegate = reader
        guard parser.parse() else { throw .notAWorkbook("the sheet is not XML") }
        if reader.bad { throw .notAWorkbook("a cell names a shared string that is not there") }
        // Rows padded to one width, so a short row is not mistaken for a malformed one.
        let width = reader.rows.map(\.fields.count).max() ?? 0
        return (reader.rows.map { CSVTable.Record(line: $0.line, fields: $0.fields + Array(repeating: "", count: width - $0.fields.count)) }, reader.merged)
    }

    /// `AB12` → 28.
    static func column(_ reference: String) -> Int? {
        var number = 0
        for scalar in reference.unicodeScalars {
            guard scalar.value >= 65, scalar.value <= 90 else { break }
            number = number * 26 + Int(scalar.value - 64)
        }
        return number > 0 ? number : nil
    }

    /// A number as the sheet stores it, without binary-float noise: 600.1000000000001 → 600.1.
    static func number(_ text: String) -> String {
        guard let value = Double(text), text.contains(".") || text.contains("E") || text.contains("e") else { return text }
        let cents = (value * 100).rounded()
        guard abs(value * 100 - cents) < 1e-6, abs(value) < 1e13 else { return text }
        if cents.truncatingRemainder(dividingBy: 100) == 0 { return String(Int64(cents / 100)) }
        return String(format: "%.2f", cents / 100)
    }
}
