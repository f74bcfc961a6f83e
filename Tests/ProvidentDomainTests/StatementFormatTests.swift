import Foundation
import ProvidentDomain
import ProvidentSpreadsheet
import Testing
import ZIPFoundation

/// Statements as banks export them: title blocks, totals, debits beside credits, GBK, .xlsx.
@Suite struct StatementFormatTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    static func read(_ name: String) throws -> StatementReading {
        let bytes = try #require(FileManager.default.contents(atPath: fixtures + "/" + name))
        return try BankStatement.read(try OfficeFile.table(Array(bytes)).table, language: .english)
    }

    /// The same two credits, whichever bank and format they come in.
    static func expectTheTwoCredits(_ reading: StatementReading, headerLine: Int, titleRows: Int) {
        #expect(reading.problems.isEmpty, "\(reading.problems)")
        #expect(reading.lines.map(\.amountFen) == [60_000, 123_456])
        #expect(reading.lines.map(\.date.iso) == ["2026-11-03", "2026-11-04"])
        #expect(reading.lines.map(\.payerName) == ["张三", "李四"])
        #expect(reading.lines[0].memo.contains("PVABCDEFGHJKLMN"), "\(reading.lines[0].memo)")
        #expect(reading.headerLine == headerLine)
        // Rows above the header that are there to skip: an empty line of a CSV or an absent row of a sheet is none.
        #expect(reading.titleRows == titleRows)
    }

    @Test func aConstructionBankWorkbookWithAMergedTitleAFeeAndATotal() throws {
        let reading = try Self.read("ccb-statement.xlsx")
        Self.expectTheTwoCredits(reading, headerLine: 4, titleRows: 2)
        #expect(reading.debits == 1 && reading.totals == 1)
        #expect(reading.lines.map(\.line) == [5, 7], "Excel's own row numbers")
        #expect(reading.lines.map(\.serial) == ["CCB20261103001", "CCB20261104001"])
        #expect(reading.skippedSummary(.english) == "Header on line 4; skipped 2 title row(s) above the header, 1 total row(s), 1 debit(s) such as fees.")
        #expect(reading.skippedSummary(.chinese) == "表头在第 4 行；已跳过表头上方 2 行标题、1 行合计、1 笔支出（如手续费）。")
    }

    @Test func aConstructionBankCSVInGBKWithBlankRows() throws {
        let reading = try Self.read("ccb-statement-gbk.csv")
        Self.expectTheTwoCredits(reading, headerLine: 4, titleRows: 3)
        #expect(reading.debits == 1 && reading.totals == 1 && reading.blanks == 1)
    }

    @Test func anIndustrialBankCSVWithIncomeAndExpenseColumnsAndPageTotals() throws {
        let reading = try Self.read("icbc-statement.csv")
        Self.expectTheTwoCredits(reading, headerLine: 4, titleRows: 2)
        #expect(reading.debits == 1 && reading.totals == 2)
        // 用途 and 附言 are both read as the memo.
        #expect(reading.lines[0].memo == "住房公积金 PVABCDEFGHJKLMN")
    }

    @Test func aSecondHeaderRowIsABadRowByLineAndNothingElseIsSkippedSilently() throws {
        let text = "标题\n交易日期,金额,对方户名,对方账号,摘要\n交易日期,金额,对方户名,对方账号,摘要\n2026-11-03,600,张三,1,x\n2026-11-03,abc,张三,1,x\n"
        let reading = try BankStatement.read(try CSVTable(parsing: text), language: .english)
        #expect(reading.lines.count == 1)
        #expect(reading.problems.map(\.line) == [3, 5])
    }

    @Test func excelSerialDatesAreDates() {
        #expect(BankStatement.parseDate("46329")?.iso == "2026-11-03")
        #expect(BankStatement.parseDate("46329.3854")?.iso == "2026-11-03")
        #expect(BankStatement.parseDate("20261103")?.iso == "2026-11-03")
    }

    @Test func filesThatAreNotWorkbooksAreRefusedPlainly() throws {
        // A ZIP header and nothing else.
        #expect(throws: SpreadsheetError.notAWorkbook("not a ZIP archive")) { try OfficeFile.table([0x50, 0x4B, 0x03, 0x04, 0, 0, 0]) }
        // A real ZIP that is not a workbook.
        let archive = try Archive(accessMode: .create)
        try archive.addEntry(with: "notes.txt", type: .file, uncompressedSize: Int64(5), provider: { _, _ in Data("hello".utf8) })
        let data = try #require(archive.data)
        #expect(throws: SpreadsheetError.notAWorkbook("xl/workbook.xml is missing")) { try OfficeFile.table(Array(data)) }
    }

    /// A workbook of one sheet, its rows given as cells of text by reference (`A3`), and merged cells.
    static func workbook(_ rows: [[(String, String)]], merged: [String]) throws -> [UInt8] {
        let sheet = "<worksheet><sheetData>" + rows.map { cells in
            let number = cells.first.map { String($0.0.drop { $0.isLetter }) } ?? "1"
            return "<row r=\"\(number)\">" + cells.map { "<c r=\"\($0.0)\" t=\"inlineStr\"><is><t>\($0.1)</t></is></c>" }.joined() + "</row>"
        }.joined() + "</sheetData><mergeCells>" + merged.map { "<mergeCell ref=\"\($0)\"/>" }.joined() + "</mergeCells></worksheet>"
        let archive = try Archive(accessMode: .create)
        for (path, text) in [("xl/workbook.xml", "<workbook><sheets><sheet name=\"明细\"/></sheets></workbook>"), ("xl/worksheets/sheet1.xml", sheet)] {
            let data = Data(text.utf8)
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count), provider: { position, length in
                data.subdata(in: Int(position)..<Int(position) + length)
            })
        }
        return Array(try #require(archive.data))
    }

    @Test func aHeaderWithMergedCellsIsRefusedWithWhereAndWhatToDo() throws {
        // A merged title row is fine; a header whose cells are merged (a two-row header) is not.
        let title = [("A1", "中国建设银行账户交易明细")]
        let data = [("A5", "2026-11-03"), ("B5", "600.00"), ("C5", ""), ("D5", "张三"), ("E5", "6222"), ("F5", "公积金")]
        let twoRows = try Self.workbook([title, [("A3", "交易日期"), ("B3", "金额"), ("D3", "对方户名"), ("E3", "对方账号"), ("F3", "摘要")],
                                         [("B4", "贷方"), ("C4", "借方")], data], merged: ["A1:F1", "A3:A4", "B3:C3"])
        let table = try OfficeFile.table(twoRows).table
        #expect(table.mergedCells.map(\.reference) == ["A1:F1", "A3:A4", "B3:C3"])
        #expect(throws: ImportError.mergedHeader(line: 3, cells: "A3:A4, B3:C3")) { try BankStatement.read(table, language: .english) }
        #expect(ImportError.mergedHeader(line: 3, cells: "A3:A4, B3:C3").message(.chinese)
            == "第 3 行表头有合并单元格（A3:A4, B3:C3），部分列没有自己的列名。请取消合并，在该行为每一列填写列名，保存后重新上传；未导入任何数据。")
        // The same sheet with only its title merged reads.
        let plain = try Self.workbook([title, [("A3", "交易日期"), ("B3", "金额"), ("C3", "备注"), ("D3", "对方户名"), ("E3", "对方账号"), ("F3", "摘要")], data],
                                      merged: ["A1:F1"])
        let reading = try BankStatement.read(try OfficeFile.table(plain).table, language: .english)
        #expect(reading.headerLine == 3 && reading.lines.map(\.amountFen) == [60_000])
    }

    @Test func aZipBombStopsAtTheExpansionLimit() throws {
        // 80 MiB of zeros compress to well under 1 MiB; reading stops at 64 MiB.
        let archive = try Archive(accessMode: .create)
        let size = 80 * 1_048_576, chunk = Data(count: 1_048_576)
        try archive.addEntry(with: "xl/workbook.xml", type: .file, uncompressedSize: Int64(5), provider: { _, _ in Data("<a/> ".utf8) })
        try archive.addEntry(with: "xl/worksheets/sheet1.xml", type: .file, uncompressedSize: Int64(size), compressionMethod: .deflate,
                             provider: { position, length in chunk.prefix(length) })
        let data = try #require(archive.data)
        #expect(data.count < 1_048_576)
        #expect(throws: SpreadsheetError.tooLarge(limit: Workbook.expansionLimit)) { try OfficeFile.table(Array(data)) }
    }
}

/// Inputs the workbook fuzzer (tools/fuzz workbook) found; each must be refused, never crash.
@Suite struct WorkbookFuzzFindingsTests {
    @Test(arguments: ["fuzz-workbook-1.xlsx", "fuzz-workbook-2.xlsx"])
    func aDamagedWorkbookIsRefused(name: String) throws {
        let bytes = try #require(FileManager.default.contents(atPath: StatementFormatTests.fixtures + "/" + name))
        #expect(throws: SpreadsheetError.self) { try OfficeFile.table(Array(bytes)) }
    }
}
