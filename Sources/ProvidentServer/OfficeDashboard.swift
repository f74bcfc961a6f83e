import Foundation
import Hummingbird
import Logging
import NIOCore
import ProvidentCrypto
import ProvidentDomain
import ProvidentServerCore
import ProvidentSync

/// The central office's dashboard at /office: reports with charts, the reconciliation queue,
/// the conflicts queue and the device list. Server-rendered HTML and SVG, nothing external, so
/// it works on an office network without the internet. Chinese by default, English on request.
///
/// Security: office users sign in with a name and password (Argon2id hashes); the session
/// cookie is HttpOnly and SameSite=Strict (Secure when served over TLS, as a reverse proxy says
/// with `X-Forwarded-Proto: https`); every form that changes something carries the session's
/// CSRF token, compared in constant time; failed sign-ins are limited per address and never say
/// which part was wrong; pages are sent with a strict content security policy and no caching.
struct OfficeDashboard: Sendable {
    let core: ServerCore

    func now() -> Instant { core.clock() }

    static let sessionCookie = "provident_session"
    static let loginCookie = "provident_login"

    /// The dashboard's routes: one group under /office whose middleware sets the security
    /// headers; inside it, the signed-in group whose middleware finds the session and checks
    /// every form's CSRF token, so no handler can forget either.
    func addRoutes(to router: Router<ProvidentRequestContext>) {
        let office = router.group("office", context: OfficeContext.self).add(middleware: OfficeHeadersMiddleware())
            .add(middleware: OfficeErrorPageMiddleware(dashboard: self))
        office.get("style.css", use: style)
        office.get("login", use: loginPage)
        office.post("login", use: login)
        let signed = office.group().add(middleware: OfficeSessionMiddleware(dashboard: self))
        signed.post("logout", use: logout)
        signed.post("language", use: setLanguage)
        signed.get(use: overview)
        signed.get("reports/:name", use: reportPage)
        signed.get("reports/:name/:table", use: csv)
        signed.get("reconcile", use: reconcilePage)
        signed.post("reconcile/:line/confirm", use: confirmLine)
        signed.post("reconcile/:line/dismiss", use: dismissLine)
        signed.post("reconcile/reject", use: rejectDeposit)
        signed.get("conflicts", use: conflictsPage)
        signed.post("conflicts/:id/resolve", use: resolveConflict)
        signed.get("devices", use: devicesPage)
        signed.post("devices/:id/revoke", use: revokeDevice)
        addEmployerRoutes(to: signed)
        addUploadRoutes(to: signed)
        addUserRoutes(to: signed)
        addRecordRoutes(to: signed)
        addCampaignRoutes(to: signed)
    }

    // MARK: Signing in

    @Sendable func style(_ request: Request, context: OfficeContext) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "max-age=3600"],
                 body: .init(byteBuffer: ByteBuffer(string: HTML.style)))
    }

    @Sendable func loginPage(_ request: Request, context: OfficeContext) async throws -> Response {
        let l: Language = request.uri.queryParameters["lang"] == "en" ? .english : .chinese
        return loginForm(l, request: request, error: nil, status: .ok)
    }

    func loginForm(_ l: Language, request: Request, error: String?, status: HTTPResponse.Status) -> Response {
        let token = Hex.encode(SecureRandom.bytes(count: 16))
        var fields: [String: Any] = [
            "heading": l.pick("Provident office sign-in", "公积金管理中心 · 登录"), "csrf": token, "lang": l.rawValue,
            "nameLabel": l.pick("User name", "用户名"), "passwordLabel": l.pick("Password", "密码"), "signIn": l.pick("Sign in", "登录"),
            "otherLanguage": l == .chinese ? "en" : "zh", "otherLanguageLabel": l == .chinese ? "English" : "中文",
        ]
        if let error { fields["error"] = error }
        let body = OfficeTemplates.render("login", fields)
        var response = page(l, title: l.pick("Sign in", "登录"), body: body, status: status)
        response.setCookie(cookie(Self.loginCookie, token, maxAge: 1_800, request: request))
        return response
    }

    @Sendable func login(_ request: Request, context: OfficeContext) async throws -> Response {
        // Outside the signed-in group: the token is the one the sign-in page set in a cookie.
        var request = request
        let form: OfficeForm
        do {
            form = try await OfficeForm.read(&request, limit: 65_536)
        } catch let problem as OfficeFormProblem {
            return refusal(.chinese, problem.message(.chinese), status: problem.status)
        }
        let l: Language = form["lang"] == "en" ? .english : .chinese
        guard let token = form["csrf"], let expected = request.cookies[Self.loginCookie]?.value, Self.same(token, expected) else {
            return forbidden(l)
        }
        let name = form["name"] ?? "", password = SecretBytes(utf8: form["password"] ?? "")
        let signedIn: (token: String, session: OfficeSession)?
        do {
            signedIn = try await core.signIn(name, password: password, language: l, address: context.remoteAddress)
        } catch let ServerError.rateLimited(wait) {
            var response = loginForm(l, request: request, error: l.pick("Too many failed sign-ins from this address; try again in \(wait / 60 + 1) minutes.",
                                                                      "该地址登录失败次数过多；请 \(wait / 60 + 1) 分钟后再试。"), status: .tooManyRequests)
            response.headers[.retryAfter] = String(wait)
            return response
        }
        guard let (sessionToken, session) = signedIn else {
            return loginForm(l, request: request, error: l.pick("The user name or password is wrong.", "用户名或密码错误。"), status: .unauthorized)
        }
        let lifetime = session.expiresAt.millisSinceEpoch - now().millisSinceEpoch
        var response = redirect("/office")
        response.setCookie(cookie(Self.sessionCookie, sessionToken, maxAge: Int(lifetime / 1_000), request: request))
        response.setCookie(cookie(Self.loginCookie, "", maxAge: 0, request: request))
        return response
    }

    @Sendable func logout(_ request: Request, context: OfficeContext) async throws -> Response {
        if let token = request.cookies[Self.sessionCookie]?.value { try await core.endSession(token: token) }
        var response = redirect("/office/login")
        response.setCookie(cookie(Self.sessionCookie, "", maxAge: 0, request: request))
        return response
    }

    @Sendable func setLanguage(_ request: Request, context: OfficeContext) async throws -> Response {
        let form = context.form
        if let token = request.cookies[Self.sessionCookie]?.value {
            try await core.setSessionLanguage(token: token, form["lang"] == "en" ? .english : .chinese)
        }
        return redirect(Self.safeReturn(form["back"]))
    }

    // MARK: Pages

    @Sendable func overview(_ request: Request, context: OfficeContext) async throws -> Response {
        let session = try context.signedIn()
        let l = session.language
        let today = now().shanghaiDate
        let coverage = try await core.report(.coverage, asOf: today, language: l)
        let arrears = try await core.report(.arrears, asOf: today, language: l)
        let enrolment = try await core.report(.enrolment, asOf: today, language: l)
        let campaign = try await core.report(.campaign, asOf: today, language: l)
        let openLines = try await core.reconciliationLines().filter(\.status.open).count
        let missing = try await core.missingPayments(windowDays: core.settings.reconciliationWindowDays).count
        let conflicts = try await core.conflicts().filter { !$0.resolved }.count
        let devices = try await core.devices().filter { $0.status == .active && $0.grant.role != .selfService && $0.enrolledVia != "server" }.count
        let totals = enrolment.tables[0].rows.first ?? []
        let cards: [(String, String, String)] = [
            (enrolment.tables[0].value(totals, "accounts")?.display ?? "0", l.pick("voluntary accounts", "自愿缴存账户"), "/office/reports/enrolment"),
            (enrolment.tables[0].value(totals, "reconciled")?.display ?? "-", l.pick("deposits reconciled", "缴存对账完成率"), "/office/reports/enrolment"),
            (String(openLines + missing), l.pick("reconciliation items to review", "待处理对账事项"), "/office/reconcile"),
            (String(conflicts), l.pick("conflicts awaiting review", "待处理冲突"), "/office/conflicts"),
            (coverage.tables[0].rows.last.flatMap { coverage.tables[0].value($0, "coverage")?.display } ?? "-", l.pick("coverage (all branches)", "总体覆盖率"), "/office/reports/coverage"),
            (String(devices), l.pick("staff devices", "工作人员设备"), "/office/devices"),
        ]
        let body = OfficeTemplates.render("overview", [
            "heading": l.pick("Overview", "概览"), "asof": l.pick("As of ", "截至 ") + today.iso,
            "cards": cards.map { ["value": $0.0, "label": $0.1, "href": $0.2] },
            "charts": [coverageChart(coverage, l), arrearsChart(arrears, l), depositsChart(enrolment, l), campaignChart(campaign, l)],
        ])
        return page(l, title: l.pick("Overview", "概览"), body: body, session: session, current: "/office")
    }

    @Sendable func reportPage(_ request: Request, context: OfficeContext) async throws -> Response {
        let session = try context.signedIn()
        let l = session.language
        guard let name = context.parameters.get("name").flatMap(ReportName.init(rawValue:)) else { return notFound(l, session: session) }
        let asOfText = request.uri.queryParameters["as-of"].map(String.init)
        guard let asOf = asOfText.map({ CivilDate(iso: $0) }) ?? now().shanghaiDate else {
            return page(l, title: l.pick("Report", "报表"), body: Self.messages(errors: [DomainError.dateFormat(asOfText ?? "").message(l)]),
                        session: session, current: "/office/reports/\(name.rawValue)", status: .badRequest)
        }
        let report = try await core.report(name, asOf: asOf, language: l)
        let chart = switch name {
        case .coverage: coverageChart(report, l)
        case .arrears: arrearsChart(report, l)
        case .campaign: campaignChart(report, l)
        case .enrolment: depositsChart(report, l)
        case .conflicts: ""
        }
        let query = asOfText.map { "?as-of=\($0)" } ?? ""
        var fields: [String: Any] = [
            "title": report.title, "asOfLabel": l.pick("As of", "截至"), "asOf": report.asOf.iso, "show": l.pick("Show", "查看"),
            "downloadLabel": l.pick("Download CSV:", "下载 CSV："),
            "downloads": report.tables.map { ["href": "/office/reports/\(name.rawValue)/\($0.name).csv\(query)", "label": $0.title] },
            "tables": report.tables.map { table -> [String: Any] in
                var fields: [String: Any] = ["title": table.title, "table": HTML.table(table, limit: 500)]
                if table.rows.count > 500 {
                    fields["more"] = l.pick("First 500 of \(table.rows.count) rows; download the CSV for all.", "仅显示前 500 行（共 \(table.rows.count) 行）；完整数据请下载 CSV。")
                }
                return fields
            },
        ]
        if !chart.isEmpty { fields["chart"] = chart }
        return page(l, title: report.title, body: OfficeTemplates.render("report", fields), session: session, current: "/office/reports/\(name.rawValue)")
    }

    @Sendable func csv(_ request: Request, context: OfficeContext) async throws -> Response {
        let session = try context.signedIn()
        let l = session.language
        guard let name = context.parameters.get("name").flatMap(ReportName.init(rawValue:)),
              let file = context.parameters.get("table"), file.hasSuffix(".csv") else { return notFound(l, session: session) }
        let asOf = request.uri.queryParameters["as-of"].flatMap { CivilDate(iso: String($0)) } ?? now().shanghaiDate
        let report = try await core.report(name, asOf: asOf, language: l)
        guard let table = report.tables.first(where: { $0.name == String(file.dropLast(4)) }) else { return notFound(l, session: session) }
        return Response(status: .ok, headers: [
            .contentType: "text/csv; charset=utf-8",
            .contentDisposition: "attachment; filename=\"\(name.rawValue)-\(table.name)-\(asOf.iso).csv\"",
        ], body: .init(byteBuffer: ByteBuffer(string: table.csv)))
    }

    @Sendable func reconcilePage(_ request: Request, context: OfficeContext) async throws -> Response {
        try await reconcile(try context.signedIn(), request: request)
    }

    func reconcile(_ session: OfficeSession, request: Request, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let l = session.language
        let lines = try await core.reconciliationLines(limit: 2_000)
        let open = lines.filter(\.status.open)
        let window = core.settings.reconciliationWindowDays
        let missing = try await core.missingPayments(windowDays: window)
        func tag(_ status: ReconciliationLine.Status) -> Part {
            let kind = switch status {
            case .confirmed: "ok"
            case .amountMismatch, .duplicate: "bad"
            case .noDeposit: "warn"
            case .rejected, .dismissed: ""
            }
            return .tag(status.label(l), kind: kind)
        }
        let reason = Form.Input(name: "reason", placeholder: l.pick("reason", "原因"))
        func reject(_ reference: String) -> Part {
            .form(Form(action: "/office/reconcile/reject", csrf: session.csrfToken, hidden: [("reference", reference)], inputs: [reason],
                       button: l.pick("Reject deposit", "退回缴存"), danger: true))
        }
        var suggestions: [Int64: [Suggestion]] = [:]
        for line in open.prefix(200) where line.status == .noDeposit { suggestions[line.id] = try await core.suggestions(forLine: line.id) }
        let openRows = open.map { line -> [Cell] in
            let confirm = "/office/reconcile/\(line.id)/confirm"
            // One action per likely deposit, best first.
            var actions: Cell = (suggestions[line.id] ?? []).prefix(3).map { suggestion in
                let deposit = suggestion.candidate.deposit
                return .form(Form(action: confirm, csrf: session.csrfToken, hidden: [("deposit", deposit.reference)],
                                  button: l.pick("Confirm ", "确认 ") + deposit.reference + " · " + suggestion.candidate.holder + " · "
                                      + Money(fen: deposit.amountFen).formatted + " · " + suggestion.because(l)))
            }
            if line.status == .noDeposit || line.status == .amountMismatch {
                let depositField = line.status == .noDeposit ? [Form.Input(name: "deposit", placeholder: l.pick("reference code", "缴存识别码"), size: 17)] : []
                actions.append(.form(Form(action: confirm, csrf: session.csrfToken, inputs: depositField, button: l.pick("Confirm", "确认"))))
            }
            if line.status == .amountMismatch, let reference = line.reference { actions.append(reject(reference)) }
            actions.append(.form(Form(action: "/office/reconcile/\(line.id)/dismiss", csrf: session.csrfToken, inputs: [reason], button: l.pick("Set aside", "搁置处理"))))
            return [[.text(String(line.id))], [.text(line.bankLine.date.iso)], [.number(Money(fen: line.bankLine.amountFen).formatted)],
                    [.text(line.bankLine.payerName)], [.text(line.bankLine.memo)], [tag(line.status)],
                    [.text(line.reference ?? (line.candidates.isEmpty ? "-" : l.pick("\(line.candidates.count) possible", "\(line.candidates.count) 笔可能")))],
                    actions]
        }
        let missingRows = missing.map { item -> [Cell] in
            [[.text(item.deposit.reference)], [.text(item.holder)], [.text(Money(fen: item.deposit.amountFen).formatted)],
             [.text(item.deposit.recordedAt.shanghaiDisplay)], [reject(item.deposit.reference)]]
        }
        let recentRows = lines.filter { !$0.status.open }.prefix(50).map { line -> [Cell] in
            [[.text(String(line.id))], [.text(line.bankLine.date.iso)], [.text(Money(fen: line.bankLine.amountFen).formatted)], [.text(line.bankLine.payerName)],
             [tag(line.status)], [.text(line.reference ?? "-")],
             [.text(line.method?.label(l) ?? line.note.map { MatchResult.NoDepositNote.label(stored: $0, l) } ?? "")]]
        }
        var body = Body(heading: l.pick("Reconciliation", "缴存对账"), notice: notice(request, l), errors: error.map { [$0] } ?? [])
        body.panels = [
            .init(title: l.pick("Bank lines to review", "待处理的银行流水") + " (\(open.count))",
                  content: HTML.table(headers: [l.pick("Line", "编号"), l.pick("Bank date", "银行日期"), l.pick("Amount", "金额"), l.pick("Payer", "付款人"),
                                                l.pick("Memo", "摘要"), l.pick("Status", "状态"), l.pick("Deposit", "缴存"), l.pick("Action", "操作")], rows: openRows)),
            .init(title: l.pick("Deposits without a bank line after \(window) days", "登记超过 \(window) 天仍无银行流水的缴存") + " (\(missing.count))",
                  content: HTML.table(headers: [l.pick("Reference", "识别码"), l.pick("Holder", "持有人"), l.pick("Amount", "金额"), l.pick("Recorded (Beijing)", "登记时间"),
                                                l.pick("Action", "操作")], rows: missingRows)),
            .init(title: l.pick("Recently settled", "最近已处理"),
                  content: HTML.table(headers: [l.pick("Line", "编号"), l.pick("Bank date", "银行日期"), l.pick("Amount", "金额"), l.pick("Payer", "付款人"),
                                                l.pick("Status", "状态"), l.pick("Deposit", "缴存"), l.pick("How", "方式")], rows: recentRows)),
        ]
        return page(l, title: l.pick("Reconciliation", "缴存对账"), body: body.rendered, session: session, current: "/office/reconcile", status: status)
    }

    @Sendable func confirmLine(_ request: Request, context: OfficeContext) async throws -> Response {
        let session = try context.signedIn(), form = context.form, l = session.language
        guard let line = context.parameters.get("line", as: Int64.self) else { return notFound(l, session: session) }
        do {
            let deposit = form["deposit"].flatMap { $0.isEmpty ? nil : $0 }
            _ = try await core.confirmLine(line, reference: deposit)
            context.logger.info("reconcile confirm", metadata: ["office.user": .string(session.userName), "reconcile.line": .stringConvertible(line)])
            return redirect("/office/reconcile?done=confirmed")
        } catch {
            return try await reconcile(session, request: request, error: Self.message(error, l), status: .conflict)
        }
    }

    @Sendable func dismissLine(_ request: Request, context: OfficeContext) async throws -> Response {
        let session = try context.signedIn(), form = context.form, l = session.language
        guard let line = context.parameters.get("line", as: Int64.self) else { return notFound(l, session: session) }
        do {
            _ = try await core.dismissLine(line, reason: form["reason"] ?? "")
            return redirect("/office/reconcile?done=dismissed")
        } catch {
            return try await reconcile(session, request: request, error: Self.message(error, l), status: .conflict)
        }
    }

    @Sendable func rejectDeposit(_ request: Request, context: OfficeContext) async throws -> Response {
        let session = try context.signedIn(), form = context.form, l = session.language
        do {
            _ = try await core.rejectDeposit(reference: form["reference"] ?? "", reason: form["reason"] ?? "")
            context.logger.info("reconcile reject", metadata: ["office.user": .string(session.userName)])
            return redirect("/office/reconcile?done=rejected")
        } catch {
            return try await reconcile(session, request: request, error: Self.message(error, l), status: .conflict)
        }
    }

    @Sendable func conflictsPage(_ request: Request, context: OfficeContext) async throws -> Response {
        try await conflicts(try context.signedIn(), request: request)
    }

    func conflicts(_ session: OfficeSession, request: Request, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let l = session.language
        let open = try await core.conflicts().filter { !$0.resolved }.map(\.conflict)
        let rows = open.map { conflict -> [Cell] in
            func when(_ write: FieldWrite) -> String { write.time.instant.shanghaiDisplay }
            let keep = { (side: String) -> Part in
                .form(Form(action: "/office/conflicts/\(conflict.id.hex)/resolve", csrf: session.csrfToken, hidden: [("keep", side)],
                           button: l.pick("Keep \(side)", "保留 \(side)")))
            }
            let applied = conflict.winner.dot == conflict.first.dot ? "a" : "b"
            return [[.text(String(conflict.id.hex.prefix(16)))], [.text(conflict.record.description + " "), Self.historyLink(conflict.record, l)],
                    [.text(conflict.field)],
                    [.text("a: " + Reports.masked(conflict.first.value, field: conflict.field)), .lineBreak,
                     .text("b: " + Reports.masked(conflict.second.value, field: conflict.field))],
                    [.text("a: \(conflict.first.dot.device.rawValue.prefix(12)) \(when(conflict.first))"), .lineBreak,
                     .text("b: \(conflict.second.dot.device.rawValue.prefix(12)) \(when(conflict.second))")],
                    [.text(applied)], [keep("a"), .text(" "), keep("b")]]
        }
        var body = Body(heading: l.pick("Conflicts awaiting review", "待处理的冲突") + " (\(open.count))", notice: notice(request, l), errors: error.map { [$0] } ?? [])
        body.intro = l.pick("Two devices changed the same field without seeing each other's change; the later one applies until you choose. Your choice syncs to every device holding the record.",
                            "两台设备在互不知情的情况下修改了同一字段；在您选择之前，以较晚的修改为准。您的选择会同步到所有持有该记录的设备。")
        body.panels = [.init(content: HTML.table(headers: [l.pick("Conflict", "冲突"), l.pick("Record", "记录"), l.pick("Field", "字段"), l.pick("Values", "两个值"),
                                                            l.pick("Written by", "写入设备与时间"), l.pick("Applied", "当前生效"), l.pick("Resolve", "处理")], rows: rows))]
        return page(l, title: l.pick("Conflicts", "冲突"), body: body.rendered, session: session, current: "/office/conflicts", status: status)
    }

    @Sendable func resolveConflict(_ request: Request, context: OfficeContext) async throws -> Response {
        let session = try context.signedIn(), form = context.form, l = session.language
        guard let idText = context.parameters.get("id"), let id = Digest256(hex: idText), let keep = form["keep"], keep == "a" || keep == "b" else {
            return try await conflicts(session, request: request, error: l.pick("Choose a or b.", "请选择 a 或 b。"), status: .badRequest)
        }
        guard let conflict = try await core.conflicts().first(where: { $0.conflict.id == id && !$0.resolved })?.conflict else {
            return try await conflicts(session, request: request, error: ServerError.conflictUnknown.message(l), status: .conflict)
        }
        let value = keep == "a" ? conflict.first.value : conflict.second.value
        _ = try await core.resolveConflict(id, value: value)
        context.logger.info("conflict resolved", metadata: ["office.user": .string(session.userName)])
        return redirect("/office/conflicts?done=resolved")
    }

    @Sendable func devicesPage(_ request: Request, context: OfficeContext) async throws -> Response {
        try await devices(try context.signedIn(), request: request)
    }

    func devices(_ session: OfficeSession, request: Request, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let l = session.language
        let all = try await core.devices().filter { $0.enrolledVia != "server" }
        let rows = all.map { device -> [Cell] in
            let state: Part = switch device.status {
            case .active: .tag(l.pick("active", "正常"), kind: "ok")
            case .revoked: .tag(l.pick("revoked", "已停用"), kind: "bad")
            case .quarantined: .tag(l.pick("quarantined", "已暂停"), kind: "bad")
            }
            let revoke: Part = device.status == .active
                ? .form(Form(action: "/office/devices/\(device.id.rawValue)/revoke", csrf: session.csrfToken,
                             inputs: [Form.Input(name: "reason", placeholder: l.pick("reason", "原因"))], button: l.pick("Revoke", "停用"), danger: true))
                : .text(device.statusReason ?? "")
            return [[.text(String(device.id.rawValue.prefix(16)))], [.text(Self.roleLabel(device.grant.role, l))], [.text(device.grant.branch ?? "-")], [state],
                    [.text(device.lastSeenAt?.shanghaiDisplay ?? l.pick("never", "从未"))], [revoke]]
        }
        var body = Body(heading: l.pick("Devices", "设备") + " (\(all.count))", notice: notice(request, l), errors: error.map { [$0] } ?? [])
        body.panels = [.init(content: HTML.table(headers: [l.pick("Device", "设备"), l.pick("Role", "角色"), l.pick("Branch", "管理部"), l.pick("Status", "状态"),
                                                            l.pick("Last seen (Beijing)", "最近同步"), l.pick("Revoke", "停用")], rows: rows))]
        return page(l, title: l.pick("Devices", "设备"), body: body.rendered, session: session, current: "/office/devices", status: status)
    }

    @Sendable func revokeDevice(_ request: Request, context: OfficeContext) async throws -> Response {
        let session = try context.signedIn(), form = context.form, l = session.language
        guard let id = context.parameters.get("id").flatMap(DeviceID.init) else { return notFound(l, session: session) }
        let reason = (form["reason"] ?? "").trimmingCharacters(in: .whitespaces)
        guard !reason.isEmpty else { return try await devices(session, request: request, error: DomainError.reasonEmpty.message(l), status: .badRequest) }
        do {
            try await core.revoke(id, reason: reason)
        } catch {
            return try await devices(session, request: request, error: Self.message(error, l), status: .conflict)
        }
        context.logger.info("device revoked", metadata: ["office.user": .string(session.userName), "sync.device": .string(id.rawValue)])
        return redirect("/office/devices?done=revoked")
    }

    // MARK: Charts

    func coverageChart(_ report: Report, _ l: Language) -> String {
        let table = report.tables[0]
        let rows = table.rows.dropLast().map { row -> (String, Int, String) in
            let share = table.value(row, "coverage")
            let basisPoints = if case let .share(value?) = share { value } else { 0 }
            return (table.value(row, "branch")?.plain ?? "", basisPoints, share?.plain ?? "-")
        }
        return Charts.bars(title: l.pick("Coverage by branch (HPF contributors ÷ pension-insured)", "各管理部覆盖率（缴存人数 ÷ 养老参保人数）"),
                           rows: rows, maximum: 10_000)
    }

    func arrearsChart(_ report: Report, _ l: Language) -> String {
        let table = report.tables[0]
        let rows = table.rows.dropLast().map { row -> (String, [Int]) in
            func count(_ key: String) -> Int { if case let .count(value)? = table.value(row, key) { value } else { 0 } }
            return (table.value(row, "branch")?.plain ?? "", [count("inArrears"), count("stopped")])
        }
        return Charts.stacked(title: l.pick("Employers in arrears and stopped, by branch", "各管理部欠缴、停缴单位"),
                              series: [l.pick("in arrears", "欠缴"), l.pick("stopped", "停缴")], rows: rows)
    }

    func depositsChart(_ report: Report, _ l: Language) -> String {
        guard let table = report.tables.first(where: { $0.name == "months" }) else { return "" }
        let points = table.rows.map { row -> (String, Int, String) in
            let fen = if case let .money(value)? = table.value(row, "amountFen") { value } else { Int64(0) }
            return (table.value(row, "month")?.plain ?? "", Int(fen / 100), String(fen / 100))
        }
        return Charts.columns(title: l.pick("Voluntary deposits per month (yuan)", "每月自愿缴存金额（元）"), points: points)
    }

    func campaignChart(_ report: Report, _ l: Language) -> String {
        let table = report.tables[0]
        return Self.surveyedChart(title: l.pick("Campaign: targets surveyed, by branch", "专项行动：各管理部摸底进度"), rows: table.rows.map { row in
            func count(_ key: String) -> Int { if case let .count(value)? = table.value(row, key) { value } else { 0 } }
            return (table.value(row, "branch")?.plain ?? "", count("surveyed"), count("targets"), count("complied"))
        }, l)
    }

    /// Bars of the share of targets surveyed per branch, each with surveyed/targets and how many complied.
    static func surveyedChart(title: String, rows: [(branch: String, surveyed: Int, targets: Int, complied: Int)], _ l: Language) -> String {
        Charts.bars(title: title, rows: rows.map { row in
            let basisPoints = if case let .share(value?) = ReportValue.share(row.surveyed, of: row.targets) { value } else { 0 }
            return (row.branch, basisPoints, "\(row.surveyed)/\(row.targets) · " + l.pick("complied \(row.complied)", "已整改 \(row.complied)"))
        }, maximum: 10_000, color: Charts.palette[2])
    }

    // MARK: Plumbing

    /// A refusal on a page of its own: what was wrong and the way back; nothing was changed.
    func refusal(_ l: Language, _ message: String, status: HTTPResponse.Status, session: OfficeSession? = nil, back: String? = nil) -> Response {
        page(l, title: l.pick("Refused", "请求被拒绝"),
             body: OfficeTemplates.render("refusal", ["message": message, "back": back ?? (session == nil ? "/office/login" : "/office"),
                                                      "backLabel": l.pick("Back to the dashboard", "返回首页")]),
             session: session, status: status)
    }

    func forbidden(_ l: Language) -> Response {
        refusal(l, l.pick("This form has expired or did not come from this dashboard, so nothing was done. Reload the page and try again.",
                          "该表单已过期或并非来自本系统，未做任何操作。请刷新页面后重试。"), status: .forbidden)
    }

    func notFound(_ l: Language, session: OfficeSession) -> Response {
        page(l, title: l.pick("Not found", "未找到"), body: Self.messages(errors: [l.pick("There is no such page.", "没有这个页面。")]),
             session: session, current: "", status: .notFound)
    }

    /// What the action before the redirect did (`?done=`), said once on the page it returned to.
    func notice(_ request: Request, _ l: Language) -> String? {
        guard let done = request.uri.queryParameters["done"] else { return nil }
        let text = switch done {
        case "confirmed": l.pick("Deposit confirmed; the worker sees it at the next sync.", "缴存已确认；本人下次同步即可看到。")
        case "rejected": l.pick("Deposit rejected; the worker sees the reason at the next sync.", "缴存已退回；本人下次同步即可看到原因。")
        case "dismissed": l.pick("Bank line set aside.", "银行流水已搁置处理。")
        case "resolved": l.pick("Conflict resolved; the choice syncs to every device holding the record.", "冲突已处理；您的选择将同步到所有相关设备。")
        case "revoked": l.pick("Device revoked; it can no longer sync.", "设备已停用，不能再同步。")
        case "imported": l.pick("Imported.", "已导入。")
        case "user-added": l.pick("User added; give them the password in private.", "用户已添加；请私下把密码交给本人。")
        case "user-removed": l.pick("User removed; their sessions ended.", "用户已删除，其登录会话已结束。")
        case "user-disabled": l.pick("User disabled; their sessions ended and they cannot sign in until enabled.", "用户已停用，其登录会话已结束；重新启用前不能登录。")
        case "user-enabled": l.pick("User enabled; they can sign in again.", "用户已启用，可以重新登录。")
        case "password-changed": l.pick("Password changed; your other sessions ended.", "密码已修改；您的其他登录会话已结束。")
        case "decided": l.pick("Decision recorded; the branch's laptops receive it at their next sync.", "审批结果已记录；该管理部的外勤电脑下次同步即可收到。")
        default: ""
        }
        return text.isEmpty ? nil : text
    }

    /// A notice of what was done and the errors of what was not, escaped by the template.
    static func messages(notice: String? = nil, errors: [String] = []) -> String {
        var fields: [String: Any] = ["errors": errors]
        if let notice { fields["notice"] = notice }
        return OfficeTemplates.render("messages", fields)
    }

    func page(_ l: Language, title: String, body: String, session: OfficeSession? = nil, current: String = "",
              status: HTTPResponse.Status = .ok) -> Response {
        var fields: [String: Any] = ["lang": l == .chinese ? "zh-CN" : "en", "title": title, "body": body,
                                     "heading": l.pick("Provident · HPF office", "Provident · 公积金管理中心")]
        if let session {
            let links: [(String, String)] = [
                ("/office", l.pick("Overview", "概览")), ("/office/reports/coverage", l.pick("Coverage", "覆盖率")),
                ("/office/reports/arrears", l.pick("Arrears", "欠缴停缴")), ("/office/campaigns", l.pick("Campaigns", "专项行动")),
                ("/office/reports/enrolment", l.pick("Flexible employment", "灵活就业")), ("/office/employers", l.pick("Employers", "单位")),
                ("/office/visits", l.pick("Visits", "走访")), ("/office/applications", l.pick("Applications", "申请")), ("/office/reconcile", l.pick("Reconciliation", "对账")),
                ("/office/conflicts", l.pick("Conflicts", "冲突")), ("/office/devices", l.pick("Devices", "设备")),
                ("/office/uploads", l.pick("Uploads", "上传")), ("/office/users", l.pick("Users", "用户")),
            ]
            fields["user"] = [
                "name": session.userName, "csrf": session.csrfToken, "back": current.isEmpty ? "/office" : current,
                "otherLanguage": l == .chinese ? "en" : "zh", "otherLanguageLabel": l == .chinese ? "English" : "中文", "signOut": l.pick("Sign out", "退出"),
                "links": links.map { ["href": $0.0, "label": $0.1, "on": $0.0 == current] as [String: Any] },
            ] as [String: Any]
        }
        let html = OfficeTemplates.render("layout", fields)
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// Post/redirect/get; `OfficeHeadersMiddleware` marks it not to be cached, as every answer.
    func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    func cookie(_ name: String, _ value: String, maxAge: Int, request: Request) -> Cookie {
        let secure = request.headers[FieldName("X-Forwarded-Proto")!] == "https" || request.uri.scheme?.rawValue == "https"
        return Cookie(name: name, value: value, maxAge: maxAge, path: "/office", secure: secure, httpOnly: true, sameSite: .strict)
    }

    /// Only paths of the dashboard itself, so a form cannot send the browser elsewhere.
    static func safeReturn(_ path: String?) -> String {
        guard let path, path.hasPrefix("/office"), !path.contains("//"), !path.contains("\\") else { return "/office" }
        return path
    }

    static func same(_ a: String, _ b: String) -> Bool {
        SecretBytes(utf8: a).constantTimeEquals(SecretBytes(utf8: b))
    }

    static func message(_ error: any Error, _ l: Language) -> String {
        (error as? any ProvidentError)?.message(l) ?? l.pick("The action failed; nothing was changed.", "操作失败；未做任何更改。")
    }
}

/// A header name (HTTPTypes' `HTTPField.Name`, reached through Hummingbird's `HTTPFields`).
typealias FieldName = HTTPFields.Element.Name
