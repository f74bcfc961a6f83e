import Foundation
import Testing
import ZIPFoundation

/// Bank statements as banks make them, end to end through the real `provident-server`: an
/// .xlsx with a title block, a fee and a total row, tried with --dry-run first.
@Suite(.serialized) struct StatementImportTests {
    /// A workbook as Excel writes it: shared strings, a merged title, dates as serial numbers.
    static func workbook(_ rows: [[Cell]]) throws -> Data {
        var shared: [String] = []
        func index(_ text: String) -> Int {
            if let found = shared.firstIndex(of: text) { return found }
            shared.append(text)
            return shared.count - 1
        }
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        }
        var sheetRows = ""
        for (number, row) in rows.enumerated() where !row.isEmpty {
            sheetRows += "<row r=\"\(number + 1)\">"
            for (column, cell) in row.enumerated() {
                let reference = String(UnicodeScalar(UInt8(65 + column))) + String(number + 1)
                switch cell {
                case .empty: continue
                case let .text(text): sheetRows += "<c r=\"\(reference)\" t=\"s\"><v>\(index(text))</v></c>"
                case let .number(text): sheetRows += "<c r=\"\(reference)\" s=\"1\"><v>\(text)</v></c>"
                }
            }
            sheetRows += "</row>"
        }
        let parts: [(String, String)] = [
            ("[Content_Types].xml", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
                <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>\
                <Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
                <Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\
                <Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>
                """),
            ("xl/workbook.xml", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
                xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="交易明细" sheetId="1" r:id="rId1"/></sheets></workbook>
                """),
            ("xl/_rels/workbook.xml.rels", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
                <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>
                """),
            ("xl/worksheets/sheet1.xml", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
                <sheetData>\(sheetRows)</sheetData><mergeCells count="1"><mergeCell ref="A1:H1"/></mergeCells></worksheet>
                """),
        ]
        let strings = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" count=\"\(shared.count)\" uniqueCount=\"\(shared.count)\">"
            + shared.map { "<si><t xml:space=\"preserve\">\(escape($0))</t></si>" }.joined() + "</sst>"
        let archive = try Archive(accessMode: .create)
        for (path, text) in parts + [("xl/sharedStrings.xml", strings)] {
            let data = Data(text.utf8)
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate,
                                 provider: { position, size in data.subdata(in: Int(position)..<Int(position) + size) })
        }
        return try #require(archive.data)
    }

    enum Cell {
        case empty
        case text(String)
        case number(String)
    }

    /// Days since 1899-12-30, as a spreadsheet stores a date.
    static func serial(_ iso: String) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        let date = formatter.date(from: iso) ?? Date()
        return String(Int(date.timeIntervalSince1970 / 86_400) + 25_569) + ".39"
    }

    @Test func aBankWorkbookWithATitleAFeeAndATotalIsTriedThenImported() throws {
        let server = try ServerProcess()
        let wang = try OfficeTests.worker(server, name: "王芳", id: "360426199101010071", agreement: ["--base", "5000", "--rate", "12"])
        let zhao = try OfficeTests.worker(server, name: "赵强", id: "412723199010050012", agreement: ["--monthly", "700"])
        let li = try OfficeTests.worker(server, name: "李梅", id: "110102199101010078", agreement: ["--monthly", "800"])
        // Her husband pays, and types one character of her reference code wrong.
        var typed = Array(li.reference)
        typed[8] = typed[8] == "A" ? "B" : "A"
        let today = Days.iso()
        let data = try Self.workbook([
            [.text("中国建设银行账户交易明细")],
            [.text("账号：6217000010001234567"), .empty, .text("户名：某市住房公积金管理中心")],
            [],
            ["交易时间", "借方发生额", "贷方发生额", "余额", "对方户名", "对方账号", "摘要", "备注"].map(Cell.text),
            [.number(Self.serial(today)), .empty, .number("600"), .number("10600"), .text("王芳"), .text("6222021234567890123"), .text("转账"), .text(wang.reference)],
            [.number(Self.serial(today)), .number("2.5"), .empty, .number("10597.5"), .empty, .empty, .text("手续费"), .empty],
            [.number(Self.serial(today)), .empty, .number("700.00000000000011"), .number("11297.5"), .text("赵 强"), .text("6222020000000000002"),
             .text("公积金缴存"), .empty],
            [.number(Self.serial(today)), .empty, .number("800"), .number("12097.5"), .text("张伟"), .text("6222020000000000009"),
             .text("代缴公积金 " + String(typed)), .empty],
            [.text("合计"), .number("2.5"), .number("2100")],
        ])
        let file = server.folder + "/建行明细.xlsx"
        try data.write(to: URL(fileURLWithPath: file))

        // The dry run says what it found and would do, and changes nothing.
        let digest = try server.digest()
        let tried = try server.admin(["reconcile", "import", file, "--dry-run"])
        #expect(tried.status == 0, "\(tried.stderr)")
        for expected in ["Header on line 4; skipped 2 title row(s) above the header, 1 total row(s), 1 debit(s) such as fees.",
                         "(xlsx): 3 lines; a dry run", "would be confirmed: 2", "no deposit:        1"] {
            #expect(tried.stdout.contains(expected), "“\(expected)” not in:\n\(tried.stdout)")
        }
        #expect(try server.digest() == digest)
        #expect(try server.adminObject(["reconcile", "list", "--all"])["lines"].flatMap { $0 as? [Any] }?.count == 0)

        // Imported for real: both deposits confirmed, the workers see it.
        let imported = try server.admin(["reconcile", "import", file])
        #expect(imported.status == 0 && imported.stdout.contains("matched, confirmed: 2"), "\(imported.stdout)\(imported.stderr)")
        for worker in [wang, zhao] {
            try worker.cli.sync()
            #expect(try OfficeTests.status(worker).status == "confirmed")
        }

        // The line nothing matched offers Li's deposit first, for its near code; confirmed in one command.
        let listed = try server.adminObject(["reconcile", "list"])
        let open = try #require((listed["lines"] as? [[String: Any]])?.first { $0["status"] as? String == "noDeposit" })
        let lineID = try #require(open["id"] as? Int)
        let shown = try server.admin(["reconcile", "show", String(lineID)])
        #expect(shown.stdout.contains("memo code close to its reference (1 character apart)"), "\(shown.stdout)")
        #expect(shown.stdout.contains("Confirm it with: provident-server reconcile confirm \(lineID) --deposit \(li.reference)"), "\(shown.stdout)")
        #expect(shown.stdout.contains("the memo's reference code has a wrong check character"), "\(shown.stdout)")
        let shownInChinese = try server.admin(["reconcile", "show", String(lineID)], environment: ["LANG": "zh_CN.UTF-8"])
        #expect(shownInChinese.stdout.contains("附言中的识别码校验位不对（输错）") && !shownInChinese.stdout.contains("mistypedReference"),
                "\(shownInChinese.stdout)")
        let confirmed = try server.admin(["reconcile", "confirm", String(lineID), "--deposit", li.reference])
        #expect(confirmed.status == 0, "\(confirmed.stderr)")
        try li.cli.sync()
        #expect(try OfficeTests.status(li).status == "confirmed")

        // The same in Chinese, and a workbook that is not one is refused in one line.
        let chinese = try server.admin(["reconcile", "import", file, "--dry-run"], environment: ["LANG": "zh_CN.UTF-8"])
        #expect(chinese.stdout.contains("表头在第 4 行；已跳过表头上方 2 行标题、1 行合计、1 笔支出（如手续费）。"), "\(chinese.stdout)")
        let broken = server.folder + "/broken.xlsx"
        try Data(data.prefix(200)).write(to: URL(fileURLWithPath: broken))
        let refused = try server.admin(["reconcile", "import", broken])
        #expect(refused.status == 3 && refused.stderr.contains("not an Excel workbook that can be read"), "\(refused.stderr)")
    }
}
