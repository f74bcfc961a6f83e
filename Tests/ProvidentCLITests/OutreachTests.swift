import Foundation
import ProvidentCrypto
import ProvidentDomain
import ProvidentSync
import Testing

/// Days relative to today in Shanghai, for visits and campaigns that must be in the present.
enum Days {
    static func iso(_ offset: Int = 0) -> String {
        let shanghai = Date().addingTimeInterval(8 * 3_600 + Double(offset) * 86_400)
        let formatter = DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.string(from: shanghai)
    }
}

/// Field outreach end to end: the real server on 127.0.0.1, two field laptops of different
/// branches and the office, all real `provident` and `provident-server` binaries.
@Suite(.serialized) struct OutreachTests {
    // Employers: A, B, C in 西工区; D, E in 洛龙区. Credit codes with correct GB 32100 check characters.
    static let a = "914103000010000008", b = "91410300001001001J", c = "91410300001002002W"
    static let d = "914103000010030037", e = "91410300001004004H"

    /// The employer list as the office receives it, with the last month paid relative to now:
    /// A stopped (6 months unpaid), B in arrears (1 month), C normal; D stopped, E normal.
    static func employerList(aPaid: String = Months.iso(-7), cBranch: String = "西工区") -> String {
        """
        统一社会信用代码,单位名称,管理部,单位类型,地址,联系人,联系电话,是否建制,职工人数,缴存人数,养老保险参保人数,最后缴存月份,欠缴月数
        \(a),洛阳恒达商贸有限公司,西工区,民营企业,中州路12号,王芳,0379-63212345,是,40,30,38,\(aPaid),0
        \(b),洛阳宏远建筑有限公司,西工区,民营企业,唐宫路8号,刘强,13800138000,是,120,60,110,\(Months.iso(-2)),0
        \(c),洛阳新兴餐饮管理有限公司,\(cBranch),民营企业,,,,是,25,20,20,\(Months.iso(-1)),0
        \(d),洛龙区物流有限公司,洛龙区,民营企业,开元大道1号,,,是,60,50,55,\(Months.iso(-8)),0
        \(e),洛龙区某商店,洛龙区,个体工商户,,,,是,3,3,3,\(Months.iso(-1)),0

        """
    }

    struct Branches {
        let server: ServerProcess
        let west: CLI, east: CLI, office: CLI

        init() throws {
            server = try ServerProcess(policy: "name: 测试城市\n")
            let list = server.folder + "/employers.csv"
            try OutreachTests.employerList().write(toFile: list, atomically: true, encoding: .utf8)
            let imported = try server.admin(["units", "import", list])
            #expect(imported.status == 0, "\(imported.stdout) \(imported.stderr)")
            west = try CLI()
            east = try CLI(language: "zh_CN.UTF-8")
            office = try CLI()
            #expect(try west.sign(["init", "--server", server.url, "--invite", try server.invite(role: "field", branch: "西工区")]).status == 0)
            #expect(try east.sign(["init", "--server", server.url, "--invite", try server.invite(role: "field", branch: "洛龙区")]).status == 0)
            #expect(try office.sign(["init", "--server", server.url, "--invite", try server.invite(role: "office")]).status == 0)
        }

        func creditCodes(_ cli: CLI) throws -> Set<String> {
            Set(try cli.jsonArray(["unit", "list"]).compactMap { $0["creditCode"] as? String })
        }
    }

    @Test func branchesStayApartAndCampaignFiguresAddUp() async throws {
        let world = try Branches()
        let (server, west, east, office) = (world.server, world.west, world.east, world.office)
        let created = try server.admin(["campaign", "create", "--name", "缴存专项行动", "--cutoff", Days.iso(),
                                        "--phase", "摸底:\(Days.iso(-30))..\(Days.iso(-1))", "--phase", "催缴:\(Days.iso())..\(Days.iso(30))"])
        #expect(created.status == 0, "\(created.stderr)")
        for cli in [west, east, office] { try cli.sync() }

        // Each laptop holds its own branch's employers and targets, nothing of the other's.
        #expect(try world.creditCodes(west) == [Self.a, Self.b, Self.c])
        #expect(try world.creditCodes(east) == [Self.d, Self.e])
        #expect(try world.creditCodes(office) == [Self.a, Self.b, Self.c, Self.d, Self.e])
        let outside = try west.run(["unit", "show", Self.d])
        #expect(outside.status == 4)
        #expect(outside.stderr.contains("own branch"))

        // Offline, both laptops record visits; bad ones are refused and leave nothing behind.
        let pendingBefore = try west.jsonArray(["outbox"]).count
        let oneStaff = try west.sign(["visit", "record", "--unit", Self.a, "--purpose", "collection", "--staff", "张伟",
                                      "--notes", "约谈", "--outcome", "refused"])
        #expect(oneStaff.status == 3)
        #expect(oneStaff.stderr.contains("at least 2 staff"))
        let farDeadline = try west.sign(["visit", "record", "--unit", Self.a, "--purpose", "collection", "--staff", "张伟", "--staff", "李娜",
                                         "--served", "order-to-pay,洛公积金催〔2026〕1号,\(Days.iso(31))", "--outcome", "refused"])
        #expect(farDeadline.status == 3)
        #expect(farDeadline.stderr.contains("at most 30 days"))
        let otherBranch = try west.sign(["visit", "record", "--unit", Self.d, "--purpose", "survey", "--staff", "张伟"])
        #expect(otherBranch.status == 4)
        #expect(try west.jsonArray(["outbox"]).count == pendingBefore)

        let collection = try west.sign(["visit", "record", "--unit", Self.a, "--purpose", "collection", "--staff", "张伟", "--staff", "李娜",
                                        "--met", "王芳,财务负责人,13800138000", "--notes", "单位拒绝补缴",
                                        "--served", "guidance-letter,洛公积金指〔2026〕12号", "--outcome", "refused"])
        #expect(collection.status == 0, "\(collection.stderr)")
        #expect(try west.sign(["visit", "record", "--unit", Self.b, "--purpose", "survey", "--staff", "张伟"]).status == 0)
        #expect(try west.sign(["visit", "record", "--place", "关林市场", "--place-kind", "market", "--purpose", "promotion",
                               "--staff", "张伟", "--outcome", "informed"]).status == 0)
        let application = try west.sign([
            "application", "record", "--unit", Self.b, "--kind", "reduce-rate", "--employer-rate", "5", "--employee-rate", "5",
            "--from", Months.iso(1), "--months", "12", "--resolution", "staff-congress", "--resolution-date", Days.iso(-20),
            "--votes-for", "80", "--votes-cast", "100", "--notice-from", Days.iso(-19), "--notice-to", Days.iso(-5),
            "--submitted", Days.iso(-1), "--document", "2025年度财务报表"])
        #expect(application.status == 0, "\(application.stderr)")
        let belowFive = try west.sign([
            "application", "record", "--unit", Self.b, "--kind", "reduce-rate", "--employer-rate", "4", "--employee-rate", "5",
            "--from", Months.iso(1), "--months", "12", "--resolution", "union", "--resolution-date", Days.iso(-20),
            "--votes-for", "80", "--votes-cast", "100", "--notice-from", Days.iso(-19), "--notice-to", Days.iso(-5)])
        #expect(belowFive.status == 3)

        let eastVisit = try east.sign(["visit", "record", "--unit", Self.d, "--purpose", "collection", "--staff", "赵敏", "--staff", "钱进",
                                       "--met", "孙丽,法定代表人", "--notes", "同意分期补缴",
                                       "--served", "order-to-pay,洛公积金催〔2026〕3号,\(Days.iso(30)),签收", "--outcome", "agreed-to-pay"])
        #expect(eastVisit.status == 0, "\(eastVisit.stderr)")
        let mistaken = try east.sign(["visit", "record", "--unit", Self.e, "--purpose", "survey", "--staff", "赵敏"])
        let mistakenID = String(try #require(mistaken.stdout.firstMatch(of: /vis-[0-9a-f]+/)).output)
        #expect(try east.sign(["visit", "void", mistakenID, "--reason", "录错单位"]).status == 0)
        #expect(try east.sign(["visit", "void", mistakenID, "--reason", "again"]).status == 4)

        let westVisits = Set(try west.jsonArray(["visit", "list"]).compactMap { $0["id"] as? String })
        let eastVisits = Set(try east.jsonArray(["visit", "list"]).compactMap { $0["id"] as? String })
        #expect(westVisits.count == 3 && eastVisits.count == 2)

        // Online: everything syncs; each laptop still holds only its own branch's records.
        for cli in [west, east, office, west, east] { try cli.sync() }
        #expect(Set(try west.jsonArray(["visit", "list"]).compactMap { $0["id"] as? String }) == westVisits)
        #expect(Set(try east.jsonArray(["visit", "list"]).compactMap { $0["id"] as? String }) == eastVisits)
        #expect(Set(try office.jsonArray(["visit", "list"]).compactMap { $0["id"] as? String }) == westVisits.union(eastVisits))
        let voided = try office.json(["visit", "show", mistakenID])
        #expect(voided["voided"] as? Bool == true && voided["voidReason"] as? String == "录错单位")

        // The office approves the application; the laptop sees the decision and the new status.
        let pending = try server.adminJSON(["application", "list", "--pending"])
        #expect(pending.count == 1)
        let applicationID = try #require(pending.first?["id"] as? String)
        let decided = try server.admin(["application", "decide", applicationID, "--approve", "--reason", "连续两年亏损属实"])
        #expect(decided.status == 0, "\(decided.stderr)")
        #expect(try server.admin(["application", "decide", applicationID, "--reject", "--reason", "again"]).status == 4)
        try west.sync()
        let listed = try west.jsonArray(["application", "list"])
        #expect(listed.first?["decision"] as? String == "approved")
        #expect(try east.jsonArray(["application", "list"]).isEmpty)

        // Campaign progress, counted by hand from the records above.
        let expected: [String: [String: Int]] = [
            "西工区": ["targets": 2, "surveyed": 2, "letterServed": 1, "interviewed": 1, "complied": 0, "applied": 1, "refused": 1],
            "洛龙区": ["targets": 1, "surveyed": 1, "letterServed": 1, "interviewed": 1, "complied": 0, "applied": 0, "refused": 0],
        ]
        let officeView = try #require(try server.adminJSON(["campaign", "show"]).first)
        try Self.expectFigures(officeView, expected)
        try Self.expectFigures(try #require(try west.jsonArray(["campaign", "show"]).first), ["西工区": expected["西工区"]!])
        try Self.expectFigures(try #require(try east.jsonArray(["campaign", "show"]).first), ["洛龙区": expected["洛龙区"]!])

        // New data from the office: A has paid up (complied), and C moves to 洛龙区 with its records.
        let list = server.folder + "/employers-2.csv"
        try Self.employerList(aPaid: Months.iso(-1), cBranch: "洛龙区").write(toFile: list, atomically: true, encoding: .utf8)
        let reimported = try server.admin(["units", "import", list])
        #expect(reimported.status == 0, "\(reimported.stderr)")
        #expect(reimported.stdout.contains("updated:       2"))
        for cli in [west, east] { try cli.sync() }
        #expect(try world.creditCodes(west) == [Self.a, Self.b])
        #expect(try world.creditCodes(east) == [Self.c, Self.d, Self.e])
        let westProgress = try #require(try west.jsonArray(["campaign", "show"]).first)
        let westBranch = try #require((westProgress["branches"] as? [[String: Any]])?.first)
        #expect(westBranch["complied"] as? Int == 1)

        // Written around the client: a visit to another branch's employer is refused with 403.
        let state = try ProvidentStoreAccess.deviceState(west)
        let raw = RawClient(url: server.url, key: try west.signingKey())
        let now = Instant(millisSinceEpoch: Int64(Date().timeIntervalSince1970 * 1_000))
        let forged = Visit(id: "vis-forged", unitID: "unit-" + Self.d, place: nil, branch: "洛龙区", purpose: .survey,
                           date: now.shanghaiDate, staff: ["张伟"], persons: [], notes: "", documents: [], outcome: nil, followUpOn: nil,
                           recordedAt: now)
        let changeSet = try SignedChangeSet(signing: ChangeSet(
            device: raw.device, sequence: state.sequence + 1, previous: state.lastChangeSet,
            time: HLCTimestamp(wallMillis: UInt64(now.millisSinceEpoch), counter: 0), action: "visit.record",
            operations: [Operation(record: forged.recordKey, kind: .fact, fields: forged.fields)]), with: try west.signingKey())
        let before = try server.digest()
        let answer = try await raw.push([changeSet])
        #expect(answer.status == 403)
        #expect(answer.code == "scope.forbidden")
        #expect(try server.digest() == before)
    }

    /// Text in GBK, converted by the system's iconv (independently of the code under test).
    static func gbk(_ text: String) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/iconv")
        process.arguments = ["-f", "UTF-8", "-t", "GBK"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return data
    }

    static func expectFigures(_ view: [String: Any], _ expected: [String: [String: Int]]) throws {
        let branches = try #require(view["branches"] as? [[String: Any]])
        #expect(Set(branches.compactMap { $0["branch"] as? String }) == Set(expected.keys))
        for branch in branches {
            let name = try #require(branch["branch"] as? String)
            for (figure, value) in expected[name] ?? [:] {
                #expect(branch[figure] as? Int == value, "\(name) \(figure)")
            }
        }
    }

    @Test func aWorkerRegisteredInTheFieldClaimsTheAccountOnHerOwnLaptop() throws {
        let world = try Branches()
        let (server, west) = (world.server, world.west)
        try west.sync()
        // A promotion visit at a market, where a trader opens an account on the spot.
        #expect(try west.sign(["visit", "record", "--place", "关林市场", "--place-kind", "市场", "--purpose", "宣传", "--staff", "张伟",
                               "--outcome", "informed"]).status == 0)
        let enrolled = try west.sign(["enroll", "--name", "李梅", "--id-number", "110102199101010078", "--phone", "13900139000",
                                      "--category", "trader", "--monthly", "600"])
        #expect(enrolled.status == 0, "\(enrolled.stderr)")
        let account = String(try #require(enrolled.stdout.firstMatch(of: /acc-[0-9a-f]+/)).output)
        let claim = String(try #require(enrolled.stdout.firstMatch(of: /[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{5}/)).output)
        try west.sync()

        let trader = try CLI(language: "zh_CN.UTF-8")
        let claimed = try trader.sign(["init", "--server", server.url, "--claim", claim])
        #expect(claimed.status == 0, "\(claimed.stderr)")
        try trader.sync()
        #expect(try trader.json(["whoami"])["account"] as? String == account)
        let shown = try trader.json(["account", "show"])
        #expect(shown["channel"] as? String == "outreach")
        #expect(shown["name"] as? String == "李梅")
        // Her device is hers: it records her deposit, which her branch's laptop then sees.
        #expect(try trader.sign(["deposit"]).status == 0)
        try trader.sync()
        try west.sync()
        #expect(try west.json(["statement", "--account", account])["lines"].flatMap { $0 as? [Any] }?.count == 1)
        // Her laptop holds nothing of the branch's employers or visits.
        #expect(try trader.jsonArray(["unit", "list"]).isEmpty)
        #expect(try trader.jsonArray(["visit", "list"]).isEmpty)
        // The code works once.
        let again = try CLI()
        #expect(try again.sign(["init", "--server", server.url, "--claim", claim]).status == 11)
    }

    @Test func anEmployerListWithBadRowsImportsTheGoodOnesAndReportsTheRest() throws {
        let server = try ServerProcess()
        // GBK, as a spreadsheet on Chinese Windows saves it; a quoted name with a comma.
        let text = """
            统一社会信用代码,单位名称,管理部,职工人数,最后缴存月份
            \(Self.a),"洛阳恒达商贸有限公司,分公司",西工区,40,2026-10
            91410300001001001K,坏校验位,西工区,10,2026-10
            \(Self.c),,西工区,10,2026-10
            \(Self.d),洛龙区物流有限公司,洛龙区,-5,2026-10
            \(Self.e),洛龙区某商店,洛龙区,3,2026-13
            \(Self.a),重复,西工区,40,2026-10
            \(Self.b),洛阳宏远建筑有限公司,西工区,120

            """
        let file = server.folder + "/list.csv"
        try Self.gbk(text.replacingOccurrences(of: "\n", with: "\r\n")).write(to: URL(fileURLWithPath: file))
        let imported = try server.admin(["units", "import", file])
        #expect(imported.status == 3)
        #expect(imported.stdout.contains("(gbk)"))
        for (line, reason) in [(3, "GB 32100"), (4, "name is empty"), (5, "employees must be a whole number"), (6, "not a month"),
                               (7, "appears again"), (8, "the row has 4 fields")] {
            #expect(imported.stdout.contains("line \(line): ") && imported.stdout.contains(reason), "line \(line)")
        }
        #expect(imported.stdout.contains("registered:    1"))
        let listed = try server.adminJSON(["units", "list"])
        #expect(listed.count == 1)
        #expect(listed.first?["name"] as? String == "洛阳恒达商贸有限公司,分公司")
        // Importing it again changes nothing.
        let digest = try server.digest()
        let again = try server.admin(["units", "import", file, "--encoding", "gbk"])
        #expect(again.stdout.contains("unchanged:     1"))
        #expect(try server.digest() == digest)
        // A file in neither UTF-8 nor GBK, and an unknown encoding name, import nothing.
        try Data([0xFF, 0xFE, 0x00, 0x41, 0x81, 0x20]).write(to: URL(fileURLWithPath: file))
        let garbage = try server.admin(["units", "import", file])
        #expect(garbage.status == 3)
        #expect(garbage.stderr.contains("neither UTF-8 nor GBK"))
        #expect(try server.admin(["units", "import", file, "--encoding", "latin1"]).status == 64)
        #expect(try server.digest() == digest)
    }

    @Test func monthsOwedIsOneFigureOnTheLaptopInTheReportTheCSVAndTheDashboard() async throws {
        // 乙 paid last seven months ago; the ledger says 6 months owed (the months since then).
        let server = try ServerProcess(policy: "name: 测试城市\n")
        let list = server.folder + "/employers.csv"
        try """
            统一社会信用代码,单位名称,管理部,单位类型,是否建制,职工人数,缴存人数,养老保险参保人数,最后缴存月份,欠缴月数
            \(Self.a),甲,西工区,民营企业,是,40,30,38,\(Months.iso(-1)),0
            \(Self.b),乙,西工区,民营企业,是,120,60,110,\(Months.iso(-7)),6
            \(Self.c),丙,西工区,民营企业,是,25,20,20,\(Months.iso(-1)),3

            """.write(toFile: list, atomically: true, encoding: .utf8)
        #expect(try server.admin(["units", "import", list]).status == 0)
        let west = try CLI()
        #expect(try west.sign(["init", "--server", server.url, "--invite", try server.invite(role: "field", branch: "西工区")]).status == 0)
        try west.sync()
        let laptop = Dictionary(uniqueKeysWithValues: try west.jsonArray(["unit", "list"]).compactMap { row -> (String, Int)? in
            guard let code = row["creditCode"] as? String, let owed = row["monthsOwed"] as? Int else { return nil }
            return (code, owed)
        })
        #expect(laptop == [Self.a: 0, Self.b: 6, Self.c: 3])
        let report = try server.admin(["report", "arrears", "--json"])
        let tables = try #require((try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])?["tables"] as? [[String: Any]])
        let detail = try #require(tables.last?["rows"] as? [[String: Any]])
        for row in detail {
            let code = try #require(row["creditCode"] as? String)
            #expect(row["unpaidMonths"] as? Int == laptop[code], "\(code): report \(row["unpaidMonths"] ?? "-"), laptop \(laptop[code] ?? -1)")
        }
        #expect(detail.count == 2)
        let csv = try server.admin(["report", "arrears", "--csv", "--table", "detail"])
        #expect(csv.stdout.contains(",\(Months.iso(-7)),6,120,"), "\(csv.stdout)")
        #expect(try west.run(["unit", "show", Self.b]).stdout.contains("6 months owed"))

        // The dashboard: the same figure in the list and on the employer's page, with the visit
        // and the application the field recorded; the application decided from the page.
        let visit = try west.sign(["visit", "record", "--unit", Self.b, "--purpose", "collection", "--staff", "张伟", "--staff", "李娜",
                                   "--met", "孙丽,法定代表人", "--notes", "同意分期补缴", "--outcome", "agreed-to-pay"])
        #expect(visit.status == 0, "\(visit.stderr)")
        let application = try west.sign([
            "application", "record", "--unit", Self.b, "--kind", "defer", "--from", Months.iso(1), "--months", "6", "--resolution", "staff-congress",
            "--resolution-date", Days.iso(-20), "--votes-for", "80", "--votes-cast", "100", "--notice-from", Days.iso(-19), "--notice-to", Days.iso(-5),
            "--submitted", Days.iso(-1)])
        #expect(application.status == 0, "\(application.stderr)")
        try west.sync()
        let browser = try await server.signedInClerk()
        let listed = try await browser.get("/office/employers?q=%E4%B9%99")
        #expect(listed.status == 200 && listed.body.contains(">乙<") && !listed.body.contains(">甲<"), "\(listed.body)")
        #expect(listed.body.contains("<span class=\"n\">6</span>"), "the list says another figure")
        let wrongStatus = try await browser.get("/office/employers?status=bogus")
        #expect(wrongStatus.status == 200 && wrongStatus.body.contains("“bogus”不是有效状态"))
        // The visits and applications across employers, filtered; bad filters are said, not fatal.
        let visits = try await browser.get("/office/visits?purpose=collection&staff=%E5%BC%A0%E4%BC%9F")
        #expect(visits.status == 200 && visits.body.contains("张伟、李娜") && visits.body.contains(">乙<"), "\(visits.body)")
        let promotions = try await browser.get("/office/visits?purpose=promotion")
        #expect(promotions.status == 200 && !promotions.body.contains("张伟、李娜"))
        let badSince = try await browser.get("/office/visits?since=yesterday")
        #expect(badSince.status == 200 && badSince.body.contains("“yesterday”不是日期"), "\(badSince.body)")
        let waiting = try await browser.get("/office/applications")
        #expect(waiting.status == 200 && waiting.body.contains("1 件待审批") && waiting.body.contains("name=\"back\""), "\(waiting.body)")
        // The list links to the employer's page, and that page to the employer's history.
        let link = try #require(listed.body.firstMatch(of: /href="(\/office\/employers\/[^"]+)"/)).output.1
        #expect(link == "/office/employers/unit-\(Self.b)")
        let page = try await browser.get(String(link))
        let history = try #require(page.body.firstMatch(of: /href="(\/office\/records\/unit\/[^"]+)"/)).output.1
        let changes = try await browser.get(String(history))
        #expect(changes.status == 200 && changes.body.contains("登记单位"), "\(changes.body.prefix(300))")
        #expect(page.status == 200)
        #expect(page.body.contains("<dt>欠缴月数</dt><dd><span class=\"n\">6</span></dd>"), "\(page.body)")
        #expect(page.body.contains("张伟、李娜") && page.body.contains("孙丽（法定代表人）") && page.body.contains("同意缴存"), "\(page.body)")
        let applicationID = try #require(page.body.firstMatch(of: /\/office\/applications\/([^\/"]+)\/decide/).map { String($0.output.1) })
        let csrf = try #require(page.csrf)
        let forged = try await browser.post("/office/applications/\(applicationID)/decide", [("csrf", "00"), ("verdict", "approved"), ("reason", "x")])
        #expect(forged.status == 403)
        let noReason = try await browser.post("/office/applications/\(applicationID)/decide", [("csrf", csrf), ("verdict", "approved"), ("reason", " ")])
        #expect(noReason.status == 400 && noReason.body.contains("class=\"error\""))
        let decided = try await browser.post("/office/applications/\(applicationID)/decide",
                                             [("csrf", csrf), ("verdict", "approved"), ("reason", "职工代表大会决议合规")])
        #expect(decided.status == 303 && decided.location == "/office/employers/unit-\(Self.b)?done=decided", "\(decided.status) \(decided.body)")
        let after = try await browser.get("/office/employers/unit-\(Self.b)")
        #expect(after.body.contains("已批准：职工代表大会决议合规") && !after.body.contains("/decide\""), "\(after.body)")
        let twice = try await browser.post("/office/applications/\(applicationID)/decide", [("csrf", csrf), ("verdict", "rejected"), ("reason", "再次")])
        #expect(twice.status == 409)
        let decidedList = try await browser.get("/office/applications")
        #expect(decidedList.body.contains("0 件待审批") && decidedList.body.contains("已批准：职工代表大会决议合规"), "\(decidedList.body)")
        try west.sync()
        #expect(try west.run(["unit", "show", Self.b]).stdout.contains("approved"), "the laptop has the decision")
    }
}

extension CLI {
    /// Parses a command's JSON array output.
    func jsonArray(_ arguments: [String]) throws -> [[String: Any]] {
        let result = try run(arguments + ["--json"])
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
    }
}

extension ServerProcess {
    /// Parses an administration command's JSON array output.
    func adminJSON(_ arguments: [String]) throws -> [[String: Any]] {
        let result = try admin(arguments + ["--json"])
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
    }
}
