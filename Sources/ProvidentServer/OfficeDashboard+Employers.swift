import Foundation
import Hummingbird
import ProvidentDomain
import ProvidentServerCore
import ProvidentSync

/// The field's work on the dashboard: employers (searched by name or credit code, filtered by
/// branch and status), each employer's file (its visits, documents served, applications and
/// months owed), and deciding an application from its page.
extension OfficeDashboard {
    func addEmployerRoutes(to group: RouterGroup<OfficeContext>) {
        group.get("employers", use: employersPage)
        group.get("employers/:id", use: employerPage)
        group.post("applications/:id/decide", use: decideApplication)
        group.get("visits", use: visitsPage)
        group.get("applications", use: applicationsPage)
    }

    /// A link to an employer's page.
    static func employerLink(_ name: String, id: String) -> Part {
        .link(name, href: "/office/employers/\(PathSegment.encode(id))")
    }

    /// A filter's value from the query, trimmed; nil when absent or empty.
    static func filterValue(_ request: Request, _ name: String) -> String? {
        request.uri.queryParameters[Substring(name)].map { String($0).trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A visit as a table row: date, purpose, staff, people met, outcome, documents served, notes.
    static func visitCells(_ visit: Visit, voided: Bool, _ l: Language) -> [Cell] {
        let documents = visit.documents.map { document in
            document.kind.label(l) + " " + document.number + (document.deadline.map { l.pick(" (due \($0.iso))", "（期限 \($0.iso)）") } ?? "")
        }.joined(separator: l.pick("; ", "；"))
        return [[.text(visit.date.iso)], [.text(visit.purpose.label(l))], [.text(visit.staff.joined(separator: l.pick(", ", "、")))],
                [.text(visit.persons.map { "\($0.name)（\($0.role)）" }.joined(separator: l.pick(", ", "、")))],
                [.text(visit.outcome?.label(l) ?? "-")], [.text(documents.isEmpty ? "-" : documents)],
                [.text(visit.notes)] + (voided ? [.text(" "), .tag(l.pick("voided", "已作废"), kind: "")] : [])]
    }

    /// An application's decision, or the forms to decide it; `back` is where the decision returns.
    static func decisionCell(_ application: ReliefApplication, _ decision: ApplicationDecision?, session: OfficeSession, back: String?) -> Cell {
        let l = session.language
        if let decision { return [.text(decision.verdict.label(l) + l.pick(": ", "：") + decision.reason)] }
        let reason = Form.Input(name: "reason", placeholder: l.pick("reason", "理由"))
        let returning = back.map { [("back", $0)] } ?? []
        let action = "/office/applications/\(application.id)/decide"
        return [.form(Form(action: action, csrf: session.csrfToken, hidden: [("verdict", "approved")] + returning, inputs: [reason], button: l.pick("Approve", "批准"))),
                .form(Form(action: action, csrf: session.csrfToken, hidden: [("verdict", "rejected")] + returning, inputs: [reason],
                           button: l.pick("Reject", "不予批准"), danger: true))]
    }

    /// The field's visits across employers and places: by branch, staff, purpose and date.
    @Sendable func visitsPage(_ request: Request, context: OfficeContext) async throws -> Response {
        let session = try context.signedIn()
        let l = session.language
        let text = { (name: String) in Self.filterValue(request, name) }
        let branch = text("branch"), staff = text("staff"), purposeText = text("purpose"), sinceText = text("since")
        var errors: [String] = []
        let purpose = purposeText.flatMap { value in VisitPurpose.allCases.first { $0.rawValue == value } }
        if let purposeText, purpose == nil { errors.append(l.pick("“\(purposeText)” is not a purpose; showing every purpose.", "“\(purposeText)”不是有效的走访目的；已显示全部目的。")) }
        let since = sinceText.flatMap(CivilDate.init(iso:))
        if let sinceText, since == nil { errors.append(l.pick("“\(sinceText)” is not a date (YYYY-MM-DD); showing every date.", "“\(sinceText)”不是日期（YYYY-MM-DD）；已显示全部日期。")) }
        let all = try await core.visitLog(branch: nil, since: nil)
        let branches = Array(Set(all.map(\.visit.branch))).sorted()
        if let branch, !branches.contains(branch) { errors.append(l.pick("No visit was recorded in the branch “\(branch)”.", "管理部“\(branch)”没有走访记录。")) }
        let listed = all.filter { visit, _, _ in
            (branch == nil || visit.branch == branch) && (purpose == nil || visit.purpose == purpose)
                && (since.map { visit.date >= $0 } ?? true) && (staff.map { name in visit.staff.contains { $0.contains(name) } } ?? true)
        }
        let paging = Paging(request, total: listed.count, l)
        let rows = paging.slice(listed).map { visit, voided, employer -> [Cell] in
            let whom: Part = visit.unitID.map { id in Self.employerLink(employer ?? id, id: id) } ?? .text(visit.place?.name ?? "-")
            return [[whom], [.text(visit.branch)]] + Self.visitCells(visit, voided: voided, l)
        }
        let filters = HTML.filters(action: "/office/visits", fields: [
            .choice(name: "branch", options: [("", l.pick("every branch", "全部管理部"))] + branches.map { ($0, $0) }, selected: branch),
            .text(name: "staff", value: staff ?? "", placeholder: l.pick("staff", "走访人员")),
            .choice(name: "purpose", options: [("", l.pick("every purpose", "全部目的"))] + VisitPurpose.allCases.map { ($0.rawValue, $0.label(l)) }, selected: purpose?.rawValue),
            .date(name: "since", value: since?.iso ?? "", label: l.pick("since", "起始日期")),
        ], button: l.pick("Show", "查询"))
        var body = Body(heading: l.pick("Visits", "走访记录") + " (\(listed.count))", errors: errors + paging.problems)
        var paragraphs: [String] = []
        if all.isEmpty {
            paragraphs.append(l.pick("No visit recorded yet: field staff record them on their laptops (provident visit record) and sync.", "尚无走访记录：外勤人员在电脑上记录（provident visit record）并同步后即可看到。"))
        } else if listed.isEmpty {
            paragraphs.append(l.pick("No visit matches these filters.", "没有符合条件的走访记录。"))
        }
        body.panels = [.init(filters: filters, paragraphs: paragraphs, content: listed.isEmpty ? "" : HTML.table(headers: [
            l.pick("Employer or place", "单位或场所"), l.pick("Branch", "管理部"), l.pick("Date", "日期"), l.pick("Purpose", "目的"), l.pick("Staff", "走访人员"),
            l.pick("Met", "接待人"), l.pick("Outcome", "结果"), l.pick("Documents served", "送达文书"), l.pick("Notes", "备注"),
        ], rows: Array(rows)), pages: paging.links(request, l))]
        return page(l, title: l.pick("Visits", "走访记录"), body: body.rendered, session: session, current: "/office/visits", status: paging.status)
    }

    /// Employers' applications to defer or lower their rate, those waiting for a decision first,
    /// each decided from the page with its reason.
    @Sendable func applicationsPage(_ request: Request, context: OfficeContext) async throws -> Response {
        let session = try context.signedIn()
        let l = session.language
        let all = try await core.applications().sorted { a, b in
            a.1 == nil && b.1 != nil || (a.1 == nil) == (b.1 == nil) && (a.0.submittedOn, a.0.id) > (b.0.submittedOn, b.0.id)
        }
        let waiting = all.filter { $0.1 == nil }.count
        let paging = Paging(request, total: all.count, l)
        let rows = paging.slice(all).map { application, decision, employer -> [Cell] in
            [[Self.employerLink(employer?.name ?? application.unitID, id: application.unitID)],
             [.text(employer?.branch ?? "-")], [.text(application.submittedOn.iso)], [.text(application.kind.label(l))],
             [.text("\(application.from.description) – \(application.through.description)")],
             [.text(l.pick("\(application.months) months", "\(application.months) 个月"))],
             Self.decisionCell(application, decision, session: session, back: "/office/applications")]
        }
        var body = Body(heading: l.pick("Applications to defer or lower the rate", "缓缴、降低缴存比例申请") + " (\(all.count))",
                        notice: notice(request, l), errors: paging.problems)
        body.panels = [all.isEmpty
            ? .init(paragraphs: [l.pick("No application yet: field staff record an employer's application on their laptop (provident application record) and sync.",
                                        "尚无申请：外勤人员在电脑上记录单位的申请（provident application record）并同步后即可看到。")])
            : .init(paragraphs: [l.pick("\(waiting) waiting for a decision.", "\(waiting) 件待审批。")],
                    content: HTML.table(headers: [l.pick("Employer", "单位"), l.pick("Branch", "管理部"), l.pick("Submitted", "提交日期"), l.pick("Kind", "类型"),
                                                  l.pick("Months", "期间"), l.pick("Length", "时长"), l.pick("Decision", "审批")], rows: Array(rows)),
                    pages: paging.links(request, l))]
        return page(l, title: l.pick("Applications", "申请"), body: body.rendered, session: session, current: "/office/applications", status: paging.status)
    }

    static func statusTag(_ status: ComplianceStatus, _ l: Language) -> Part {
        let kind = switch status {
        case .normal: "ok"
        case .inArrears, .stopped: "bad"
        case .deferred, .reducedRate: "warn"
        case .notEstablished: ""
        }
        return .tag(status.label(l), kind: kind)
    }

    @Sendable func employersPage(_ request: Request, context: OfficeContext) async throws -> Response {
        let session = try context.signedIn()
        let l = session.language
        let search = Self.filterValue(request, "q") ?? ""
        let branch = Self.filterValue(request, "branch"), statusText = Self.filterValue(request, "status")
        let wanted = statusText.flatMap { text in ComplianceStatus.allCases.first { $0.rawValue == text } }
        let today = now().shanghaiDate
        let all = try await core.units(branch: nil, today: today)
        let branches = Array(Set(all.map(\.0.branch))).sorted()
        var errors: [String] = []
        if let statusText, wanted == nil { errors.append(l.pick("“\(statusText)” is not a status; showing every status.", "“\(statusText)”不是有效状态；已显示全部状态。")) }
        if let branch, !branches.contains(branch) { errors.append(l.pick("No employer is in the branch “\(branch)”.", "没有单位属于管理部“\(branch)”。")) }
        let needle = search.uppercased()
        let listed = all.filter { employer, status in
            (branch == nil || employer.branch == branch) && (wanted == nil || status == wanted)
                && (needle.isEmpty || employer.name.uppercased().contains(needle) || employer.creditCode.contains(needle))
        }
        let paging = Paging(request, total: listed.count, l)
        let rows = paging.slice(listed).map { employer, status -> [Cell] in
            [[Self.employerLink(employer.name, id: employer.id)], [.text(employer.creditCode)], [.text(employer.branch)],
             [Self.statusTag(status, l)], [.number(String(employer.monthsOwed(asOf: today)))],
             [.number("\(employer.contributors) / \(employer.employees)")], [.text(employer.lastPaid?.description ?? "-")]]
        }
        let filters = HTML.filters(action: "/office/employers", fields: [
            .text(name: "q", value: search, placeholder: l.pick("name or credit code", "单位名称或统一社会信用代码")),
            .choice(name: "branch", options: [("", l.pick("every branch", "全部管理部"))] + branches.map { ($0, $0) }, selected: branch),
            .choice(name: "status", options: [("", l.pick("every status", "全部状态"))] + ComplianceStatus.allCases.map { ($0.rawValue, $0.label(l)) },
                    selected: wanted?.rawValue),
        ], button: l.pick("Search", "查询"))
        var body = Body(heading: l.pick("Employers", "单位") + " (\(listed.count))", notice: notice(request, l), errors: errors + paging.problems)
        body.panels = [.init(filters: filters, paragraphs: all.isEmpty ? [l.pick(
            "No employers yet. Import the list from market regulation or pension insurance: provident-server units import FILE (CSV or .xlsx), or on the Uploads page.",
            "还没有单位。请导入市场监管或养老保险的单位名单：provident-server units import 文件（CSV 或 .xlsx），或在“上传”页面上传。")] : [],
                             content: HTML.table(headers: [l.pick("Name", "单位名称"), l.pick("Credit code", "统一社会信用代码"), l.pick("Branch", "管理部"), l.pick("Status", "状态"),
                                                           l.pick("Months owed", "欠缴月数"), l.pick("Contributors / employees", "缴存人数 / 职工人数"),
                                                           l.pick("Last paid", "最后缴存月份")], rows: Array(rows)),
                             pages: paging.links(request, l))]
        return page(l, title: l.pick("Employers", "单位"), body: body.rendered, session: session, current: "/office/employers", status: paging.status)
    }

    @Sendable func employerPage(_ request: Request, context: OfficeContext) async throws -> Response {
        let session = try context.signedIn()
        guard let id = context.parameters.get("id")?.removingPercentEncoding else { return notFound(session.language, session: session) }
        return try await employer(id, session: session, request: request)
    }

    func employer(_ id: String, session: OfficeSession, request: Request, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let l = session.language
        let today = now().shanghaiDate
        guard let file = try await core.employerFile(id, today: today) else { return notFound(l, session: session) }
        let employer = file.employer
        let facts: [(label: String, value: Cell)] = [
            (l.pick("Credit code", "统一社会信用代码"), [.text(employer.creditCode)]),
            (l.pick("Branch", "管理部"), [.text(employer.branch)]),
            (l.pick("Kind", "单位类型"), [.text(employer.kind.label(l))]),
            (l.pick("Status", "状态"), [Self.statusTag(file.status, l)]),
            (l.pick("Months owed", "欠缴月数"), [.number(String(file.monthsOwed))]),
            (l.pick("Last paid", "最后缴存月份"), [.text(employer.lastPaid?.description ?? "-")]),
            (l.pick("Contributors / employees", "缴存人数 / 职工人数"), [.text("\(employer.contributors) / \(employer.employees)")]),
            (l.pick("Pension insured", "养老保险参保人数"), [.text("\(employer.pensionInsured)")]),
            (l.pick("Address", "地址"), [.text(employer.address ?? "-")]),
            (l.pick("Contact", "联系人"), [.text(employer.contact.map { contact in [contact.name, contact.phone.map(ContactPhone.mask)].compactMap { $0 }.joined(separator: " ") } ?? "-")]),
            (l.pick("History", "变更记录"), [Self.historyLink(employer.recordKey, l)]),
        ]
        let visitRows = file.visits.map { visit, voided in Self.visitCells(visit, voided: voided, l) }
        let applicationRows = file.applications.map { application, decision -> [Cell] in
            [[.text(application.submittedOn.iso)], [.text(application.kind.label(l))], [.text("\(application.from.description) – \(application.through.description)")],
             [.text(l.pick("\(application.months) months", "\(application.months) 个月"))], Self.decisionCell(application, decision, session: session, back: nil)]
        }
        var body = Body(heading: employer.name, notice: notice(request, l), errors: error.map { [$0] } ?? [])
        body.links = [(l.pick("← All employers", "← 全部单位"), "/office/employers")]
        body.panels = [
            .init(content: HTML.facts(facts)),
            .init(title: l.pick("Visits", "走访记录") + " (\(file.visits.count))",
                  paragraphs: file.visits.isEmpty ? [l.pick("No visit recorded yet: field staff record them on their laptops (provident visit record) and sync.",
                                                            "尚无走访记录：外勤人员在电脑上记录（provident visit record）并同步后即可看到。")] : [],
                  content: HTML.table(headers: [l.pick("Date", "日期"), l.pick("Purpose", "目的"), l.pick("Staff", "走访人员"), l.pick("Met", "接待人"),
                                                l.pick("Outcome", "结果"), l.pick("Documents served", "送达文书"), l.pick("Notes", "备注")], rows: visitRows)),
            .init(title: l.pick("Applications to defer or lower the rate", "缓缴、降低缴存比例申请") + " (\(file.applications.count))",
                  content: HTML.table(headers: [l.pick("Submitted", "提交日期"), l.pick("Kind", "类型"), l.pick("Months", "期间"), l.pick("Length", "时长"),
                                                l.pick("Decision", "审批")], rows: applicationRows)),
        ]
        return page(l, title: employer.name, body: body.rendered, session: session, current: "/office/employers", status: status)
    }

    @Sendable func decideApplication(_ request: Request, context: OfficeContext) async throws -> Response {
        let session = try context.signedIn(), form = context.form, l = session.language
        guard let id = context.parameters.get("id") else { return notFound(l, session: session) }
        guard let verdict = form["verdict"].flatMap(ApplicationDecision.Verdict.init(rawValue:)) else {
            return refusal(l, l.pick("Choose approve or reject; nothing was decided.", "请选择批准或不予批准；未做任何审批。"), status: .badRequest, session: session)
        }
        let reason = (form["reason"] ?? "").trimmingCharacters(in: .whitespaces)
        let unit = try await core.application(id)?.unitID
        guard let unit else { return notFound(l, session: session) }
        guard !reason.isEmpty else {
            return try await employer(unit, session: session, request: request, error: DomainError.reasonEmpty.message(l), status: .badRequest)
        }
        do {
            _ = try await core.decideApplication(id, verdict: verdict, reason: reason)
        } catch {
            return try await employer(unit, session: session, request: request, error: Self.message(error, l), status: .conflict)
        }
        context.logger.info("application decided", metadata: ["office.user": .string(session.userName), "outreach.application": .string(id)])
        // Back to the list it was decided from, or else to the employer's page.
        if form["back"] == "/office/applications" { return redirect("/office/applications?done=decided") }
        return redirect("/office/employers/\(unit)?done=decided")
    }
}
