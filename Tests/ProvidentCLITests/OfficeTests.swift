import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// A browser without JavaScript: keeps cookies, does not follow redirects, posts forms.
final class Browser: @unchecked Sendable {
    struct Page {
        let status: Int
        let headers: HTTPHeaders
        let body: String
        var location: String? { headers.first(name: "location") }
        var setCookies: [String] { headers["set-cookie"] }
        /// The first hidden CSRF token on the page.
        var csrf: String? { body.firstMatch(of: /name="csrf" value="([0-9a-f]+)"/).map { String($0.output.1) } }
    }

    let base: String
    private let client = HTTPClient(eventLoopGroupProvider: .singleton,
                                    configuration: HTTPClient.Configuration(redirectConfiguration: .disallow))
    private(set) var cookies: [String: String] = [:]

    init(_ base: String) {
        self.base = base
    }

    deinit {
        try? client.syncShutdown()
    }

    func get(_ path: String, headers extra: [(String, String)] = []) async throws -> Page {
        try await send(.GET, path, body: nil, headers: extra)
    }

    func post(_ path: String, _ form: [(String, String)], headers extra: [(String, String)] = []) async throws -> Page {
        let body = form.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        return try await send(.POST, path, body: body, headers: extra + [("content-type", "application/x-www-form-urlencoded")])
    }

    private func send(_ method: HTTPMethod, _ path: String, body: String?, headers extra: [(String, String)]) async throws -> Page {
        try await send(method, path, bytes: body.map { Array($0.utf8) }, headers: extra)
    }

    private func send(_ method: HTTPMethod, _ path: String, bytes body: [UInt8]?, headers extra: [(String, String)]) async throws -> Page {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if !cookies.isEmpty { request.headers.add(name: "cookie", value: cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")) }
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await client.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 16 * 1_048_576)
        for header in response.headers["set-cookie"] {
            let pair = header.split(separator: ";").first.map(String.init) ?? ""
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            if parts[1].isEmpty || header.contains("Max-Age=0") { cookies[parts[0]] = nil } else { cookies[parts[0]] = parts[1] }
        }
        return Page(status: Int(response.status.code), headers: response.headers, body: String(buffer: bytes))
    }

    /// Posts a multipart form with one file, as a browser's upload form does.
    func upload(_ path: String, _ fields: [(String, String)], file: (field: String, name: String, bytes: [UInt8])) async throws -> Page {
        let boundary = "----provident-test-\(UUID().uuidString)"
        var body: [UInt8] = []
        for (name, value) in fields {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
        }
        body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(file.field)\"; filename=\"\(file.name)\"\r\nContent-Type: text/csv\r\n\r\n".utf8)
        body += file.bytes + Array("\r\n--\(boundary)--\r\n".utf8)
        return try await send(.POST, path, bytes: body, headers: [("content-type", "multipart/form-data; boundary=\(boundary)")])
    }

    /// Posts a body as it is, labelled as form encoding.
    func send(raw body: String, to path: String) async throws -> Page {
        try await send(.POST, path, body: body, headers: [("content-type", "application/x-www-form-urlencoded")])
    }

    func forget(_ cookie: String) {
        cookies[cookie] = nil
    }

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }

    /// Signs in; returns the page the sign-in answered.
    @discardableResult
    func signIn(_ name: String, _ password: String, headers extra: [(String, String)] = []) async throws -> Page {
        let form = try await get("/office/login")
        return try await post("/office/login", [("csrf", form.csrf ?? ""), ("lang", "zh"), ("name", name), ("password", password)], headers: extra)
    }
}

extension ServerProcess {
    static let clerkPassword = "a long clerk password 2026"

    /// An office user `clerk` added with the command line, signed in to the dashboard in a browser.
    func signedInClerk() async throws -> Browser {
        let passwordFile = folder + "/clerk.pass"
        try (Self.clerkPassword + "\n").write(toFile: passwordFile, atomically: true, encoding: .utf8)
        #expect(try admin(["office", "add-user", "clerk", "--password-file", passwordFile]).status == 0)
        let browser = Browser(url)
        #expect(try await browser.signIn("clerk", Self.clerkPassword).status == 303)
        return browser
    }
}

/// The central office end to end: bank statements, interest, reports and the dashboard, on the
/// real server with real devices.
@Suite(.serialized) struct OfficeTests {
    static func statement(_ rows: [String], bom: Bool = true) -> String {
        (bom ? "\u{FEFF}" : "") + (["交易日期,交易金额,付款人名称,付款人账号,摘要,流水号"] + rows).joined(separator: "\r\n") + "\r\n"
    }

    static func write(_ text: String, _ server: ServerProcess, _ name: String) throws -> String {
        let path = server.folder + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    struct Worker {
        let cli: CLI
        let reference: String
    }

    /// A worker who enrols and deposits offline, then syncs.
    static func worker(_ server: ServerProcess, name: String, id: String, agreement: [String]) throws -> Worker {
        let cli = try CLI()
        #expect(try cli.sign(["init", "--server", server.url]).status == 0)
        let enrolled = try cli.sign(["enroll", "--name", name, "--id-number", id, "--phone", "13800138000", "--category", "gig"] + agreement)
        #expect(enrolled.status == 0, "\(enrolled.stderr)")
        let deposited = try cli.sign(["deposit"])
        #expect(deposited.status == 0, "\(deposited.stderr)")
        let reference = String(try #require(deposited.stdout.firstMatch(of: /PV[0-9A-Z]{13}/)).output)
        try cli.sync()
        return Worker(cli: cli, reference: reference)
    }

    static func status(_ worker: Worker) throws -> (status: String?, note: String?) {
        let line = (try worker.cli.json(["statement"])["lines"] as? [[String: Any]])?.first
        return (line?["status"] as? String, line?["note"] as? String)
    }

    @Test func aDepositIsConfirmedAfterTheOfficeImportsTheBankStatement() throws {
        let server = try ServerProcess()
        let wang = try Self.worker(server, name: "王芳", id: "360426199101010071", agreement: ["--base", "5000", "--rate", "12"])
        let li = try Self.worker(server, name: "李梅", id: "110102199101010078", agreement: ["--monthly", "800"])
        let zhao = try Self.worker(server, name: "赵强", id: "412723199010050012", agreement: ["--monthly", "700"])
        #expect(try Self.status(wang).status == "pending")

        // The settlement year whose day has passed, and a bank date 30 days before its end.
        let today = Days.iso()
        let thisYear = Int(today.prefix(4)) ?? 2026
        let year = today > "\(thisYear)-06-30" ? thisYear : thisYear - 1
        let bankDate = "\(year)-05-31"
        let first = try Self.write(Self.statement([
            "\(bankDate),\"600.00\",王芳,6222021234567890123,\"缴存 \(wang.reference)\",S1",      // by reference code
            "\(today),\"¥1,000.00\",李梅,6222020000000000001,\(li.reference),S2",                    // wrong amount
            "\(today),700,赵 强,6222020000000000002,公积金缴存,S3",                                   // by amount, date and name
            "\(today),50.00,某公司,6222020000000000003,货款,S4",                                       // no deposit
        ]), server, "statement-1.csv")
        let imported = try server.admin(["reconcile", "import", first])
        #expect(imported.status == 0, "\(imported.stderr)")
        for expected in ["matched, confirmed: 2", "amount mismatch:   1", "no deposit:        1", "duplicate payment: 0"] {
            #expect(imported.stdout.contains(expected), "\(imported.stdout)")
        }

        // The workers sync and see the office's findings.
        for worker in [wang, li, zhao] { try worker.cli.sync() }
        #expect(try Self.status(wang).status == "confirmed")
        #expect(try Self.status(zhao).status == "confirmed")
        #expect(try Self.status(li).status == "pending")
        let rejected = try server.admin(["reconcile", "reject", li.reference, "--reason", "到账金额 ¥1,000.00 与登记金额不符"])
        #expect(rejected.status == 0, "\(rejected.stderr)")
        try li.cli.sync()
        #expect(try Self.status(li) == ("rejected", "到账金额 ¥1,000.00 与登记金额不符"))
        let listed = try server.adminObject(["reconcile", "list"])
        #expect((listed["lines"] as? [[String: Any]])?.map { $0["status"] as? String } == ["noDeposit"])

        // The same statement again changes nothing; an overlapping one counts its old lines once
        // and finds a second payment of a deposit already paid.
        let digest = try server.digest()
        let again = try server.admin(["reconcile", "import", first])
        #expect(again.stdout.contains("already imported:  4"))
        #expect(try server.digest() == digest)
        let overlapping = try Self.write(Self.statement([
            "\(bankDate),\"600.00\",王芳,6222021234567890123,\"缴存 \(wang.reference)\",S1",
            "\(today),600.00,王芳,6222021234567890123,\(wang.reference),S5",
        ]), server, "statement-2.csv")
        let second = try server.admin(["reconcile", "import", overlapping])
        #expect(second.stdout.contains("already imported:  1") && second.stdout.contains("duplicate payment: 1"), "\(second.stdout)")
        #expect(try server.digest() == digest)

        // A malformed statement is refused whole, every bad row named.
        let malformed = try Self.write(Self.statement([
            "\(today),600.00,王芳,1,ok,S6",
            "2026-02-30,600.00,王芳,1,bad date,S7",
            "\(today),六百,王芳,1,bad amount,S8",
            "\(today),600.00,王芳",
        ]), server, "statement-3.csv")
        let refused = try server.admin(["reconcile", "import", malformed])
        #expect(refused.status == 3)
        for line in ["line 3:", "line 4:", "line 5:"] { #expect(refused.stderr.contains(line), "\(refused.stderr)") }
        #expect(!refused.stderr.contains("line 2:"))
        #expect(refused.stderr.contains("nothing was imported"))
        #expect(try server.adminObject(["reconcile", "list", "--all"])["lines"].flatMap { $0 as? [Any] }?.count == 5)
        // A value outside a closed set is refused by the command line itself (usage, 64).
        #expect(try server.admin(["reconcile", "import", malformed, "--encoding", "big5"]).status == 64)

        // Interest: Wang's ¥600 counts 31 days (31 May to 30 June) at 1.5% over 360 days:
        // 60,000 × 31 × 150 / 3,600,000 = 77.5 → 78 fen. Settling twice credits once.
        let settled = try server.admin(["interest", "settle", "--year", String(year)])
        #expect(settled.status == 0, "\(settled.stderr)")
        #expect(settled.stdout.contains("accounts credited:  1, total ¥0.78"), "\(settled.stdout)")
        let digestAfter = try server.digest()
        let twice = try server.admin(["interest", "settle", "--year", String(year)])
        #expect(twice.stdout.contains("already settled:    1"))
        #expect(try server.digest() == digestAfter)
        #expect(try server.admin(["interest", "settle", "--year", String(thisYear + 1)]).status == 4)
        try wang.cli.sync()
        let statement = try wang.cli.json(["statement"])
        #expect((statement["interest"] as? [[String: Any]])?.first?["amountFen"] as? Int == 78)
        #expect(try wang.cli.json(["balance"])["interestCreditedFen"] as? Int == 78)
    }

    @Test func theOfficeUploadsAStatementAndAnEmployerListPreviewedFirst() async throws {
        let server = try ServerProcess()
        let wang = try Self.worker(server, name: "王芳", id: "360426199101010071", agreement: ["--base", "5000", "--rate", "12"])
        let browser = try await server.signedInClerk()
        let form = try await browser.get("/office/uploads")
        let csrf = try #require(form.csrf)
        let statement = Array("中国建设银行账户交易明细\n交易时间,借方发生额,贷方发生额,对方户名,对方账号,摘要\n\(Days.iso()) 09:00:00,,600.00,王芳,6222021234567890123,\(wang.reference)\n\(Days.iso()) 10:00:00,2.50,,,,手续费\n合计,2.50,600.00,,,\n".utf8)

        // Without the form's token, or not as a form upload: refused, nothing read.
        #expect(try await browser.upload("/office/uploads/statement", [("csrf", "00")], file: ("file", "建行.csv", statement)).status == 403)
        #expect(try await browser.post("/office/uploads/statement", [("csrf", csrf)]).status == 400)

        // The preview says what would happen and changes nothing.
        let digest = try server.digest()
        let preview = try await browser.upload("/office/uploads/statement", [("csrf", csrf)], file: ("file", "建行.csv", statement))
        #expect(preview.status == 200)
        for expected in ["仅为试运行：尚未导入任何内容。", "表头在第 2 行；已跳过表头上方 1 行标题、1 行合计、1 笔支出（如手续费）。", "<dt>将匹配确认</dt><dd>1</dd>"] {
            #expect(preview.body.contains(expected), "“\(expected)” not in the preview")
        }
        #expect(try server.digest() == digest)
        let file = try #require(preview.body.firstMatch(of: /name="file" value="([^"]+)"/).map { String($0.output.1) })
        let confirmed = try await browser.post("/office/uploads/statement/confirm", [("csrf", csrf), ("name", "建行.csv"), ("file", file)])
        #expect(confirmed.status == 303 && confirmed.location == "/office/reconcile?done=imported")
        try wang.cli.sync()
        #expect(try Self.status(wang).status == "confirmed")

        // A statement with a bad row is refused whole, by line, with no way to confirm it.
        let bad = Array("交易日期,金额,对方户名,对方账号,摘要\n\(Days.iso()),600,王芳,1,x\n2026-02-30,600,王芳,1,x\n".utf8)
        let refused = try await browser.upload("/office/uploads/statement", [("csrf", csrf)], file: ("file", "bad.csv", bad))
        #expect(refused.status == 400 && refused.body.contains("第 3 行") && !refused.body.contains("/confirm"))

        // An employer list: previewed, then imported.
        let employers = Array("单位名册\n统一社会信用代码,单位名称,管理部\n91110000600037341L,甲公司,西工区\n".utf8)
        let listed = try await browser.upload("/office/uploads/employers", [("csrf", csrf)], file: ("file", "名单.csv", employers))
        #expect(listed.status == 200 && listed.body.contains("<dt>将新登记</dt><dd>1</dd>"))
        let list = try #require(listed.body.firstMatch(of: /name="file" value="([^"]+)"/).map { String($0.output.1) })
        let imported = try await browser.post("/office/uploads/employers/confirm", [("csrf", csrf), ("name", "名单.csv"), ("file", list)])
        #expect(imported.status == 303)
        #expect(try await browser.get("/office/employers").body.contains(">甲公司<"))
    }

    @Test func officeUsersAreAddedRemovedAndChangeTheirPasswordOnTheDashboard() async throws {
        let server = try ServerProcess()
        let clerk = try await server.signedInClerk()
        let elsewhere = Browser(server.url)
        #expect(try await elsewhere.signIn("clerk", ServerProcess.clerkPassword).status == 303)
        let csrf = try #require(try await clerk.get("/office/users").csrf)

        // Adding: the two passwords must agree and be long enough; then the new user signs in.
        let differ = try await clerk.post("/office/users", [("csrf", csrf), ("name", "li.na"), ("password", "another long password"), ("again", "other")])
        #expect(differ.status == 400 && differ.body.contains("两次输入的密码不同"))
        #expect(try await clerk.post("/office/users", [("csrf", csrf), ("name", "li.na"), ("password", "short"), ("again", "short")]).status == 400)
        let added = try await clerk.post("/office/users", [("csrf", csrf), ("name", "li.na"), ("password", "another long password"), ("again", "another long password")])
        #expect(added.status == 303 && added.location == "/office/users?done=user-added")
        #expect(try await clerk.post("/office/users", [("csrf", csrf), ("name", "li.na"), ("password", "another long password"), ("again", "another long password")]).status == 400)
        let lina = Browser(server.url)
        #expect(try await lina.signIn("li.na", "another long password").status == 303)
        #expect(try await lina.get("/office").status == 200)

        // Disabling: not oneself; the user's session ends and they cannot sign in until enabled,
        // on the dashboard or the command line; the name stays.
        #expect(try await clerk.post("/office/users/clerk/disable", [("csrf", csrf)]).status == 400)
        let disabled = try await clerk.post("/office/users/li.na/disable", [("csrf", csrf)])
        #expect(disabled.status == 303 && disabled.location == "/office/users?done=user-disabled")
        #expect(try await lina.get("/office").location == "/office/login")
        let refusedDisabled = try await Browser(server.url).signIn("li.na", "another long password")
        #expect(refusedDisabled.status == 401 && refusedDisabled.body.contains("用户名或密码错误"))
        let listed = try await clerk.get("/office/users")
        #expect(listed.body.contains("已停用") && listed.body.contains("/office/users/li.na/enable"))
        #expect(try server.admin(["office", "users"]).stdout.contains("li.na") && server.admin(["office", "users"]).stdout.contains("disabled"))
        #expect(try await clerk.post("/office/users/nobody/disable", [("csrf", csrf)]).status == 409)
        #expect(try server.admin(["office", "enable-user", "li.na"]).status == 0)
        #expect(try await lina.signIn("li.na", "another long password").status == 303)
        #expect(try server.admin(["office", "disable-user", "li.na"]).status == 0)
        #expect(try await lina.get("/office").location == "/office/login")
        #expect(try await clerk.post("/office/users/li.na/enable", [("csrf", csrf)]).location == "/office/users?done=user-enabled")
        #expect(try await lina.signIn("li.na", "another long password").status == 303)

        // Removing: not oneself; the removed user's session ends at once.
        #expect(try await clerk.post("/office/users/clerk/remove", [("csrf", csrf)]).status == 400)
        #expect(try await clerk.post("/office/users/li.na/remove", [("csrf", "00")]).status == 403)
        #expect(try await clerk.post("/office/users/li.na/remove", [("csrf", csrf)]).status == 303)
        #expect(try await lina.get("/office").location == "/office/login")
        let remaining = try server.admin(["office", "users"]).stdout
        #expect(remaining.contains("clerk") && !remaining.contains("li.na"), "\(remaining)")

        // Changing one's password: the current one is checked; other sessions end, this one goes on.
        let wrong = try await clerk.post("/office/password", [("csrf", csrf), ("current", "not it at all, no"), ("password", "a newer clerk password 2027"),
                                                              ("again", "a newer clerk password 2027")])
        #expect(wrong.status == 403 && wrong.body.contains("当前密码不正确"))
        let changed = try await clerk.post("/office/password", [("csrf", csrf), ("current", "a long clerk password 2026"), ("password", "a newer clerk password 2027"),
                                                                ("again", "a newer clerk password 2027")])
        #expect(changed.status == 303 && changed.location == "/office/users?done=password-changed")
        #expect(try await clerk.get("/office").status == 200)
        #expect(try await elsewhere.get("/office").location == "/office/login")
        #expect(try await Browser(server.url).signIn("clerk", "a long clerk password 2026").location == nil)
        #expect(try await Browser(server.url).signIn("clerk", "a newer clerk password 2027").status == 303)
    }

    @Test func reportsAddUpToTheHandComputedFixture() throws {
        let server = try ServerProcess()
        // The employers of ReportTests, as the office imports them.
        let list = try Self.write("""
            credit_code,name,branch,kind,established,employees,contributors,pension_insured,last_paid,months_in_arrears
            914103000010000008,甲,西工区,private,yes,40,30,38,2026-10,0
            91410300001001001J,乙,西工区,private,yes,120,60,110,2026-05,2
            91410300001002002W,丙,西工区,private,yes,25,20,20,2026-09,0
            914103000010030037,丁,洛龙区,state-owned,yes,60,50,55,2026-10,3
            91410300001004004H,戊,洛龙区,social-organisation,no,10,0,8,,0

            """, server, "employers.csv")
        #expect(try server.admin(["units", "import", list]).status == 0)
        let coverage = try server.adminObject(["report", "coverage", "--as-of", "2026-11-23"])
        let branches = try #require((coverage["tables"] as? [[String: Any]])?.first?["rows"] as? [[String: Any]])
        #expect(branches.map { $0["branch"] as? String } == ["洛龙区", "西工区", "Total"])
        #expect(branches.map { $0["coverage"] as? Int } == [7_937, 6_548, 6_926])
        #expect(branches.map { $0["contributors"] as? Int } == [50, 110, 160])
        let arrears = try server.adminObject(["report", "arrears", "--as-of", "2026-11-23"])
        let summary = try #require((arrears["tables"] as? [[String: Any]])?.first?["rows"] as? [[String: Any]])
        #expect(summary.map { [$0["inArrears"] as? Int, $0["stopped"] as? Int, $0["employees"] as? Int, $0["unpaidMonths"] as? Int] }
            == [[1, 0, 60, 3], [1, 1, 145, 6], [2, 1, 205, 9]])
        // CSV for spreadsheets: UTF-8 with a byte-order mark, CRLF.
        let csv = try server.admin(["report", "arrears", "--as-of", "2026-11-23", "--csv", "--table", "detail"])
        #expect(csv.output.starts(with: [0xEF, 0xBB, 0xBF]))
        #expect(csv.stdout.contains("\r\n西工区,91410300001001001J,乙,private enterprise,stopped,2026-05,5,120,60,\r\n"))
        let folder = server.folder + "/reports"
        #expect(try server.admin(["report", "enrolment", "--out", folder]).status == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).count == 3)
    }

    @Test func theDashboardNeedsASignInAndAValidFormToken() async throws {
        let server = try ServerProcess(environment: ["PROVIDENT_OFFICE_LOGIN_ATTEMPTS_PER_HOUR": "5"])
        let password = server.folder + "/password"
        try "a long office password\n".write(toFile: password, atomically: true, encoding: .utf8)
        #expect(try server.admin(["office", "add-user", "zhangwei", "--password-file", password]).status == 0)
        #expect(try server.admin(["office", "add-user", "zhangwei", "--password-file", password]).status == 4)
        let field = try CLI()
        #expect(try field.sign(["init", "--server", server.url, "--invite", try server.invite(role: "field", branch: "西工区")]).status == 0)
        let fieldDevice = try #require(try field.json(["whoami"])["deviceId"] as? String)

        let browser = Browser(server.url)
        let start = try await browser.get("/office")
        #expect(start.status == 303 && start.location == "/office/login")
        let login = try await browser.get("/office/login")
        #expect(login.status == 200 && login.body.contains("登录"))
        #expect(login.headers["content-security-policy"].first?.contains("default-src 'none'") == true)

        // Wrong password and unknown user: the same answer, no hint.
        for (name, secret) in [("zhangwei", "wrong password"), ("nobody", "a long office password")] {
            let refused = try await browser.signIn(name, secret)
            #expect(refused.status == 401)
            #expect(refused.body.contains("用户名或密码错误"))
            #expect(!refused.setCookies.contains { $0.hasPrefix("provident_session=") })
        }
        // A sign-in without the form's token is refused.
        #expect(try await browser.post("/office/login", [("name", "zhangwei"), ("password", "a long office password")]).status == 403)

        let signedIn = try await browser.signIn("zhangwei", "a long office password", headers: [("X-Forwarded-Proto", "https")])
        #expect(signedIn.status == 303 && signedIn.location == "/office")
        let session = try #require(signedIn.setCookies.first { $0.hasPrefix("provident_session=") })
        for attribute in ["HttpOnly", "SameSite=Strict", "Path=/office", "Secure"] { #expect(session.contains(attribute), "\(session)") }

        // Every page answers, in Chinese, with its charts and tables.
        let pages: [(String, [String])] = [
            ("/office", ["概览", "<svg", "各管理部覆盖率"]),
            ("/office/reports/coverage", ["住房公积金覆盖率", "各管理部覆盖率", "<table>"]),
            ("/office/reports/arrears?as-of=2026-11-23", ["汇总表", "明细表", "2026-11-23"]),
            ("/office/reports/campaign", ["专项行动进度"]),
            ("/office/reports/enrolment", ["灵活就业人员缴存情况", "对账完成率"]),
            ("/office/reports/conflicts", ["待处理的冲突"]),
            ("/office/reconcile", ["待处理的银行流水"]),
            ("/office/conflicts", ["待处理的冲突"]),
            ("/office/devices", ["外勤电脑", "西工区", String(fieldDevice.prefix(16))]),
        ]
        for (path, texts) in pages {
            let page = try await browser.get(path)
            #expect(page.status == 200, "\(path)")
            for text in texts { #expect(page.body.contains(text), "\(path) lacks \(text)") }
            #expect(page.headers["cache-control"].first == "no-store")
        }
        // The security headers come from one place: pages, redirects, the style sheet, downloads.
        for path in ["/office", "/office/style.css", "/office/reports/arrears/summary.csv", "/office/campaigns"] {
            let answer = try await browser.get(path)
            #expect(answer.headers["x-frame-options"].first == "DENY" && answer.headers["x-content-type-options"].first == "nosniff", "\(path)")
            #expect(answer.headers["content-security-policy"].first?.contains("frame-ancestors 'none'") == true, "\(path)")
        }
        let campaigns = try await browser.get("/office/campaigns")
        #expect(campaigns.status == 200 && campaigns.body.contains("尚无专项行动") && campaigns.body.contains("provident-server campaign create"))
        let csv = try await browser.get("/office/reports/arrears/summary.csv?as-of=2026-11-23")
        #expect(csv.status == 200 && csv.body.hasPrefix("\u{FEFF}管理部,") && csv.headers["content-disposition"].first?.contains("attachment") == true)
        #expect(try await browser.get("/office/reports/nothing").status == 404)

        // Revoking a device: a missing or forged token changes nothing; the right one revokes.
        let devices = try await browser.get("/office/devices")
        let token = try #require(devices.csrf)
        let action = "/office/devices/\(fieldDevice)/revoke"
        #expect(try await browser.post(action, [("reason", "丢失")]).status == 403)
        #expect(try await browser.post(action, [("csrf", String(repeating: "0", count: token.count)), ("reason", "丢失")]).status == 403)
        #expect(try server.adminJSON(["device", "list"]).first { $0["device"] as? String == fieldDevice }?["status"] as? String == "active")
        let revoked = try await browser.post(action, [("csrf", token), ("reason", "笔记本丢失")])
        #expect(revoked.status == 303)
        #expect(try server.adminJSON(["device", "list"]).first { $0["device"] as? String == fieldDevice }?["status"] as? String == "revoked")
        #expect(try field.sign(["sync"]).status == 11)

        // A form that arrives damaged (not form encoding) is refused plainly; nothing changes.
        let damaged = try await browser.post("/office/devices/\(fieldDevice)/revoke", [], headers: [("content-type", "application/x-www-form-urlencoded")])
        #expect(damaged.status == 403)
        let mangled = try await browser.send(raw: "csrf=\(token)&reason=%E4%B8%A2%zz[", to: "/office/devices/\(fieldDevice)/revoke")
        #expect(mangled.status == 400 && mangled.body.contains("表单内容已损坏"), "\(mangled.status) \(mangled.body.prefix(300))")

        // English on request, for the session.
        let switched = try await browser.post("/office/language", [("csrf", token), ("lang", "en"), ("back", "/office/devices")])
        #expect(switched.status == 303 && switched.location == "/office/devices")
        #expect(try await browser.get("/office").body.contains("Overview"))

        // Signing out ends the session: the old cookie no longer opens a page.
        let cookie = try #require(browser.cookies["provident_session"])
        #expect(try await browser.post("/office/logout", [("csrf", token)]).status == 303)
        let stale = Browser(server.url)
        _ = try await stale.get("/office/login")
        let replay = try await stale.get("/office", headers: [("cookie", "provident_session=\(cookie)")])
        #expect(replay.status == 303 && replay.location == "/office/login")

        // Failed sign-ins are limited per address: after five (two above), even the right password waits.
        let guesser = Browser(server.url)
        for _ in 0..<3 { #expect(try await guesser.signIn("zhangwei", "guess").status == 401) }
        let limited = try await guesser.signIn("zhangwei", "a long office password")
        #expect(limited.status == 429)
        #expect(limited.headers["retry-after"].first != nil)
    }

    @Test func theDashboardResolvesAConflictForEveryDevice() async throws {
        let story = try SyncServiceTests.Story()
        let (server, worker, field, account) = (story.server, story.worker, story.field, story.account)
        #expect(try worker.sign(["account", "update", "--phone", "13700137000"]).status == 0)
        #expect(try field.sign(["account", "update", "--account", account, "--phone", "13600136000"]).status == 0)
        for cli in [worker, field] { try cli.sync() }
        let password = server.folder + "/password"
        try "a long office password\n".write(toFile: password, atomically: true, encoding: .utf8)
        #expect(try server.admin(["office", "add-user", "li.na", "--password-file", password]).status == 0)
        let browser = Browser(server.url)
        #expect(try await browser.signIn("li.na", "a long office password").status == 303)
        let page = try await browser.get("/office/conflicts")
        #expect(page.body.contains("137****7000") && page.body.contains("136****6000"))
        #expect(!page.body.contains("13700137000") && !page.body.contains("13600136000"))
        let resolve = try #require(page.body.firstMatch(of: /action="(\/office\/conflicts\/[0-9a-f]{64}\/resolve)"/)).output.1
        let token = try #require(page.csrf)
        // Which side is the worker's phone: pick the one showing 137.
        let keepA = page.body.range(of: "a: 137****7000") != nil
        let done = try await browser.post(String(resolve), [("csrf", token), ("keep", keepA ? "a" : "b")])
        #expect(done.status == 303)
        #expect(try await browser.get("/office/conflicts").body.contains("(0)"))
        // The account's history: every change-set that wrote it, with device, role and fields — not their values.
        let history = try await browser.get("/office/records/account/\(account)")
        #expect(history.status == 200, "\(history.body.prefix(400))")
        for text in ["记录变更历史 (4)", "开户", "修改账户", "处理冲突", "外勤电脑", "个人设备", "中心（系统或管理端）", "phone"] {
            #expect(history.body.contains(text), "history lacks \(text)")
        }
        #expect(!history.body.contains("13700137000") && !history.body.contains("137****7000"))
        #expect(try await browser.get("/office/records/account/nobody").status == 404)
        let beyond = try await browser.get("/office/records/account/\(account)?page=7")
        #expect(beyond.status == 404 && beyond.body.contains("没有第 7 页：共 1 页。") && beyond.body.contains("开户"))
        let notANumber = try await browser.get("/office/records/account/\(account)?page=x")
        #expect(notANumber.status == 400 && notANumber.body.contains("“x”不是页码"))
        for cli in [worker, field] { try cli.sync() }
        #expect(try worker.json(["account", "show", "--reveal"])["phone"] as? String == "13700137000")
        #expect(try field.json(["account", "show", "--account", account, "--reveal"])["phone"] as? String == "13700137000")
    }
}

extension ServerProcess {
    /// Parses an administration command's JSON object output.
    func adminObject(_ arguments: [String]) throws -> [String: Any] {
        let result = try admin(arguments + ["--json"])
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }
}
