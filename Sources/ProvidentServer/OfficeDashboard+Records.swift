import Foundation
import Hummingbird
import ProvidentDomain
import ProvidentServerCore
import ProvidentSync

/// A page of a long list: which page was asked for (`?page=`), checked against how many there
/// are. A page that is not a number, or beyond the last, is said on the page and the nearest
/// one is shown instead.
struct Paging {
    static let perPage = 100

    let page: Int
    let pages: Int
    let total: Int
    let problem: String?
    let status: HTTPResponse.Status

    init(_ request: Request, total: Int, _ l: Language) {
        self.total = total
        pages = max(1, (total + Self.perPage - 1) / Self.perPage)
        let text = Self.asked(request)
        switch text.map({ Int($0) }) {
        case .none:
            page = 1
            problem = nil
            status = .ok
        case let .some(number?) where number >= 1 && number <= pages:
            page = number
            problem = nil
            status = .ok
        case let .some(number?) where number > pages:
            page = pages
            problem = l.pick("There is no page \(number): there are \(pages). Showing the last.", "没有第 \(number) 页：共 \(pages) 页。已显示最后一页。")
            status = .notFound
        default:
            page = 1
            problem = l.pick("“\(text ?? "")” is not a page number; showing the first page.", "“\(text ?? "")”不是页码；已显示第一页。")
            status = .badRequest
        }
    }

    /// The `page` the request asks for, as written; an empty one asks for none.
    static func asked(_ request: Request) -> String? {
        request.uri.queryParameters["page"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Where the page asked for starts, when it is a page number at all (it may lie past the end).
    static func offsetAsked(_ request: Request) -> Int {
        asked(request).flatMap { Int($0) }.map { max(0, $0 - 1) * perPage } ?? 0
    }

    var offset: Int { (page - 1) * Paging.perPage }

    /// The problem with the page asked for, as a list of messages (none or one).
    var problems: [String] { problem.map { [$0] } ?? [] }

    /// This page's items of a list held whole.
    func slice<T>(_ items: [T]) -> ArraySlice<T> {
        items.dropFirst(offset).prefix(Paging.perPage)
    }

    /// The links to the pages before and after, keeping the other query parameters.
    func links(_ request: Request, _ l: Language) -> String {
        guard pages > 1 else { return "" }
        func link(_ page: Int) -> String {
            var parts = URLComponents(string: request.uri.description) ?? URLComponents()
            parts.queryItems = (parts.queryItems ?? []).filter { $0.name != "page" } + [URLQueryItem(name: "page", value: String(page))]
            return (parts.path.isEmpty ? request.uri.path : parts.path) + "?" + (parts.percentEncodedQuery ?? "")
        }
        var fields: [String: Any] = ["position": l.pick("page \(page) of \(pages) (\(total))", "第 \(page) 页，共 \(pages) 页（\(total) 条）"),
                                     "previousLabel": l.pick("← previous", "← 上一页"), "nextLabel": l.pick("next →", "下一页 →")]
        if page > 1 { fields["previous"] = link(page - 1) }
        if page < pages { fields["next"] = link(page + 1) }
        return OfficeTemplates.render("pages", fields)
    }
}

/// A record's history on the dashboard: every change-set that wrote it, when, from which device
/// and role, with which action and fields.
extension OfficeDashboard {
    func addRecordRoutes(to group: RouterGroup<OfficeContext>) {
        group.get("records/:type/:id", use: historyPage)
    }

    static func historyLink(_ key: RecordKey, _ l: Language) -> Part {
        .link(l.pick("history", "变更记录"), href: "/office/records/\(PathSegment.encode(key.type))/\(PathSegment.encode(key.id))")
    }

    @Sendable func historyPage(_ request: Request, context: OfficeContext) async throws -> Response {
        let session = try context.signedIn(), l = session.language
        guard let type = context.parameters.get("type")?.removingPercentEncoding, let id = context.parameters.get("id")?.removingPercentEncoding else {
            return notFound(l, session: session)
        }
        let key = RecordKey(type: type, id: id)
        // The page asked for is read with the total; only a page out of range is read again.
        let asked = Paging.offsetAsked(request)
        guard let first = try await core.recordHistory(key, limit: Paging.perPage, offset: asked) else { return notFound(l, session: session) }
        let paging = Paging(request, total: first.total, l)
        let changes = paging.offset == asked ? first.changes : try await core.recordHistory(key, limit: Paging.perPage, offset: paging.offset)?.changes ?? []
        let rows = changes.map { change -> [Cell] in
            let role = change.byServer ? l.pick("office (dashboard or server)", "中心（系统或管理端）") : change.role.map { Self.roleLabel($0, l) } ?? l.pick("unknown device", "未知设备")
            return [[.text(String(change.position))], [.text(change.received.shanghaiDisplay)], [.text(change.written.shanghaiDisplay)],
                    [.text(Action(rawValue: change.action)?.label(l) ?? change.action)], [.text(change.kinds.map(\.rawValue).joined(separator: " "))],
                    [.text(change.fields.isEmpty ? "-" : change.fields.joined(separator: l.pick(", ", "、")))],
                    [.text(role + (change.branch.map { " · \($0)" } ?? ""))], [.text(String(change.device.rawValue.prefix(16)))]]
        }
        var body = Body(heading: l.pick("History of a record", "记录变更历史") + " (\(first.total))", errors: paging.problems)
        body.asof = key.description
        body.panels = [.init(paragraphs: first.total == 0 ? [l.pick("No change-set in the feed wrote this record (it came with an import or a snapshot).",
                                                                     "同步记录中没有写入该记录的变更（可能来自导入）。")] : [],
                             content: HTML.table(headers: [l.pick("Feed position", "序号"), l.pick("Received (Beijing)", "服务器接收时间"),
                                                           l.pick("Written on the device", "设备记录时间"), l.pick("Action", "操作"), l.pick("Kind", "类型"),
                                                           l.pick("Fields", "字段"), l.pick("By", "来源"), l.pick("Device", "设备")], rows: rows),
                             pages: paging.links(request, l))]
        return page(l, title: l.pick("History", "变更记录"), body: body.rendered, session: session, status: paging.status)
    }

    static func roleLabel(_ role: DeviceRole, _ l: Language) -> String {
        switch role {
        case .office: l.pick("office", "中心")
        case .field: l.pick("field laptop", "外勤电脑")
        case .selfService: l.pick("worker's own", "个人设备")
        case .auditor: l.pick("auditor", "审计")
        }
    }
}
