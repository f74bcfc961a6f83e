import Foundation
import Hummingbird
import ProvidentDomain
import ProvidentServerCore
import ProvidentSpreadsheet
import ProvidentSync

/// Uploads from the office: a bank statement or an employer list (CSV or .xlsx), first shown as
/// a dry run (what would happen, nothing changed), then imported with one more click. The file
/// travels back with the confirmation (base64 in the form), so any server of a deployment can
/// take the second step.
extension OfficeDashboard {
    /// The largest file taken (a statement of a year is well under it).
    static let uploadLimit = 8 * 1_048_576

    enum UploadKind: String {
        case statement, employers
    }

    func addUploadRoutes(to group: RouterGroup<OfficeContext>) {
        group.get("uploads", use: uploadsPage)
        group.post("uploads/:kind", use: previewUpload)
        group.post("uploads/:kind/confirm", use: confirmUpload)
    }

    @Sendable func uploadsPage(_ request: Request, context: OfficeContext) async throws -> Response {
        uploads(try context.signedIn(), request: request)
    }

    func uploads(_ session: OfficeSession, request: Request, error: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        let l = session.language
        func panel(_ kind: UploadKind, _ title: String, _ explanation: String) -> Body.Panel {
            .init(title: title, paragraphs: [explanation],
                  content: Form(action: "/office/uploads/\(kind.rawValue)", csrf: session.csrfToken,
                                inputs: [Form.Input(type: "file", name: "file", accept: ".csv,.xlsx,text/csv")], button: l.pick("Preview", "预览"),
                                block: true, multipart: true).rendered)
        }
        var body = Body(heading: l.pick("Uploads", "上传文件"), notice: notice(request, l), errors: error.map { [$0] } ?? [])
        body.panels = [
            panel(.statement, l.pick("Bank statement", "银行对账单"),
                  l.pick("CSV (UTF-8 or GBK) or .xlsx as the bank exports it. You see what would be matched before anything is imported.",
                         "银行导出的 CSV（UTF-8 或 GBK）或 .xlsx。导入前先显示将会匹配的结果。")),
            panel(.employers, l.pick("Employer list", "单位名单"),
                  l.pick("From market regulation or pension insurance, CSV or .xlsx, with a 统一社会信用代码 column. You see what would change before anything is imported.",
                         "来自市场监管或养老保险的名单，CSV 或 .xlsx，须有“统一社会信用代码”列。导入前先显示将会变更的内容。")),
        ]
        return page(l, title: l.pick("Uploads", "上传文件"), body: body.rendered, session: session, current: "/office/uploads", status: status)
    }

    /// The first step: the file from a multipart form (read by the session middleware, which
    /// checked its CSRF token), imported as a dry run.
    @Sendable func previewUpload(_ request: Request, context: OfficeContext) async throws -> Response {
        let session = try context.signedIn()
        let l = session.language
        guard let kind = context.parameters.get("kind").flatMap(UploadKind.init(rawValue:)) else { return notFound(l, session: session) }
        guard let file = context.form.files["file"], !file.bytes.isEmpty else {
            return uploads(session, request: request, error: l.pick("Choose a file to upload.", "请选择要上传的文件。"), status: .badRequest)
        }
        return try await importUpload(kind, bytes: file.bytes, name: file.filename ?? kind.rawValue, dryRun: true, session: session, request: request)
    }

    /// The second step: the same bytes, sent back with the confirmation, imported for real.
    @Sendable func confirmUpload(_ request: Request, context: OfficeContext) async throws -> Response {
        let session = try context.signedIn(), form = context.form
        let l = session.language
        guard let kind = context.parameters.get("kind").flatMap(UploadKind.init(rawValue:)),
              let bytes = form["file"].flatMap(Base64.decode), let name = form["name"] else {
            return uploads(session, request: request, error: l.pick("The confirmation did not carry the file; upload it again.", "确认请求中没有文件；请重新上传。"),
                           status: .badRequest)
        }
        return try await importUpload(kind, bytes: bytes, name: name, dryRun: false, session: session, request: request)
    }

    func importUpload(_ kind: UploadKind, bytes: [UInt8], name: String, dryRun: Bool, session: OfficeSession, request: Request) async throws -> Response {
        let l = session.language
        let table: CSVTable
        do {
            table = try OfficeFile.table(bytes).table
        } catch {
            return uploads(session, request: request, error: error.message(l) + l.pick(" Nothing was imported.", "未导入任何数据。"), status: .badRequest)
        }
        var summary: [(String, String)] = []
        var problems: [(line: Int, message: String)] = []
        var skipped: String?
        switch kind {
        case .statement:
            let reading: StatementReading
            do { reading = try BankStatement.read(table, language: l) } catch {
                return uploads(session, request: request, error: error.message(l) + l.pick(" Nothing was imported.", "未导入任何数据。"), status: .badRequest)
            }
            skipped = reading.skippedSummary(l)
            problems = reading.problems.map { ($0.line, $0.message) }
            if problems.isEmpty {
                let report = try await core.importStatement(reading.lines, fileName: name, windowDays: core.settings.reconciliationWindowDays, dryRun: dryRun)
                summary = [(l.pick("Lines", "流水行数"), "\(report.lines)"), (l.pick("Already imported", "此前已导入"), "\(report.alreadyImported)"),
                           (dryRun ? l.pick("Would be confirmed", "将匹配确认") : l.pick("Confirmed", "已匹配确认"), "\(report.confirmed)"),
                           (l.pick("Amount mismatch", "金额不符"), "\(report.amountMismatch)"), (l.pick("No deposit", "无对应缴存"), "\(report.noDeposit)"),
                           (l.pick("Duplicate payment", "重复缴款"), "\(report.duplicate)")]
            }
        case .employers:
            let read: (rows: [(line: Int, form: EmployerForm)], problems: [EmployerList.RowProblem])
            do { read = try EmployerList.rows(of: table, language: l) } catch {
                return uploads(session, request: request, error: error.message(l) + l.pick(" Nothing was imported.", "未导入任何数据。"), status: .badRequest)
            }
            let report = try await core.importEmployers(read.rows.map { EmployerRow(line: $0.line, form: $0.form) }, language: l, dryRun: dryRun)
            problems = (read.problems.map { ($0.line, $0.message) } + report.errors.map { ($0.line, $0.message) }).sorted { $0.line < $1.line }
            summary = [(dryRun ? l.pick("Would be registered", "将新登记") : l.pick("Registered", "已新登记"), "\(report.created)"),
                       (dryRun ? l.pick("Would be updated", "将更新") : l.pick("Updated", "已更新"), "\(report.updated)"),
                       (l.pick("Unchanged", "无变化"), "\(report.unchanged)"), (l.pick("Rows with errors (not imported)", "有错误的行（不导入）"), "\(problems.count)")]
        }
        if !dryRun, problems.isEmpty || kind == .employers {
            return redirect(kind == .statement ? "/office/reconcile?done=imported" : "/office/employers?done=imported")
        }
        let refusedWhole = kind == .statement && !problems.isEmpty
        var body = Body(heading: l.pick("Preview: ", "预览：") + name, notice: l.pick("A dry run: nothing has been imported yet.", "仅为试运行：尚未导入任何内容。"),
                        errors: refusedWhole ? [l.pick("These rows do not parse; a statement is imported whole or not at all. Correct the file and upload it again.",
                                                       "以下各行无法读取；对账单须整体导入。请更正文件后重新上传。")] : [])
        body.intro = skipped
        if !problems.isEmpty {
            body.panels.append(.init(content: HTML.items(problems.prefix(200).map { l.pick("line \($0.line): \($0.message)", "第 \($0.line) 行：\($0.message)") })))
        }
        if !summary.isEmpty { body.panels.append(.init(content: HTML.facts(summary.map { ($0.0, [.text($0.1)]) }))) }
        if !refusedWhole {
            body.panels.append(.init(content: Form(action: "/office/uploads/\(kind.rawValue)/confirm", csrf: session.csrfToken,
                                                   hidden: [("name", name), ("file", Base64.encode(bytes))], button: l.pick("Import it", "确认导入"), block: true,
                                                   cancel: (l.pick("Cancel", "取消"), "/office/uploads")).rendered))
        }
        return page(l, title: l.pick("Preview", "预览"), body: body.rendered, session: session, current: "/office/uploads",
                    status: refusedWhole ? .badRequest : .ok)
    }
}
