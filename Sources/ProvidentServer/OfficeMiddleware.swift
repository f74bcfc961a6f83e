import Foundation
import Hummingbird
import MultipartKit
import NIOCore
import ProvidentDomain
import ProvidentServerCore
import ProvidentSync

/// The dashboard's request context: the server's own, plus what the office middleware finds —
/// the signed-in session, and for a form the fields Hummingbird's form decoder read.
struct OfficeContext: ChildRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: String
    /// Set by `OfficeSessionMiddleware` on every signed-in route.
    var session: OfficeSession?
    /// The fields of a POST, set by `OfficeSessionMiddleware` after the CSRF check.
    var form = OfficeForm()

    init(context: ProvidentRequestContext) throws {
        coreContext = context.coreContext
        remoteAddress = context.remoteAddress
    }

    /// A form's body may carry an upload (base64 in the confirmation step).
    var maxUploadSize: Int { OfficeDashboard.uploadLimit * 4 / 3 + 65_536 }

    /// The signed-in session; the middleware of the signed-in group sets it before any handler runs.
    func signedIn() throws -> OfficeSession {
        guard let session else { throw OfficeRouteError.notSignedIn }
        return session
    }
}

/// A handler reached without the middleware that must run before it: a wiring mistake.
enum OfficeRouteError: Error {
    case notSignedIn
}

/// A form's fields: text fields by name, and the files of a `multipart/form-data` upload.
struct OfficeForm: Sendable {
    struct File: Sendable {
        let filename: String?
        let bytes: [UInt8]
    }

    var fields: [String: String] = [:]
    var files: [String: File] = [:]

    subscript(_ name: String) -> String? { fields[name] }

    /// Reads the body of a form: `application/x-www-form-urlencoded` with Hummingbird's
    /// `URLEncodedFormDecoder`, or `multipart/form-data` with MultipartKit's parser.
    static func read(_ request: inout Request, limit: Int) async throws -> OfficeForm {
        let type = request.headers[.contentType]?.lowercased() ?? ""
        if type.hasPrefix("multipart/form-data") { return try await multipart(&request, limit: OfficeDashboard.uploadLimit + 65_536) }
        let body: ByteBuffer
        do { body = try await request.collectBody(upTo: limit) } catch { throw OfficeFormProblem.tooLarge }
        do {
            return OfficeForm(fields: try URLEncodedFormDecoder().decode([String: String].self, from: String(buffer: body)))
        } catch {
            throw OfficeFormProblem.malformed
        }
    }

    /// A parameter of a header value such as `multipart/form-data; boundary="…"` or
    /// `form-data; name="file"; filename="…"`, its name compared without case.
    static func parameter(_ key: String, of header: String) -> String? {
        header.split(separator: ";").lazy.compactMap { part -> String? in
            let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].lowercased() == key else { return nil }
            return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }.first
    }

    static func multipart(_ request: inout Request, limit: Int) async throws -> OfficeForm {
        guard let boundary = request.headers[.contentType].flatMap({ parameter("boundary", of: $0) }) else { throw OfficeFormProblem.malformed }
        let body: ByteBuffer
        do { body = try await request.collectBody(upTo: limit) } catch { throw OfficeFormProblem.tooLarge }
        final class Collector {
            var form = OfficeForm()
            var disposition = ""
            var bytes: [UInt8] = []
        }
        let collector = Collector()
        let parser = MultipartParser(boundary: boundary)
        parser.onHeader = { name, value in if name.lowercased() == "content-disposition" { collector.disposition = value } }
        parser.onBody = { buffer in collector.bytes += buffer.readableBytesView }
        parser.onPartComplete = {
            if let name = parameter("name", of: collector.disposition) {
                if let filename = parameter("filename", of: collector.disposition) {
                    collector.form.files[name] = File(filename: filename, bytes: collector.bytes)
                } else {
                    collector.form.fields[name] = String(decoding: collector.bytes, as: UTF8.self)
                }
            }
            collector.disposition = ""
            collector.bytes = []
        }
        do { try parser.execute(body) } catch { throw OfficeFormProblem.malformed }
        return collector.form
    }
}

/// Why a form could not be read.
enum OfficeFormProblem: Error, Equatable {
    case tooLarge, malformed

    var status: HTTPResponse.Status { self == .tooLarge ? .contentTooLarge : .badRequest }

    func message(_ l: Language) -> String {
        switch self {
        case .tooLarge:
            l.pick("The file is larger than \(OfficeDashboard.uploadLimit / 1_048_576) MiB, so nothing was done; split it and upload each part.",
                   "文件超过 \(OfficeDashboard.uploadLimit / 1_048_576) MiB，未做任何操作；请拆分后分别上传。")
        case .malformed: l.pick("The form arrived damaged, so nothing was done; reload the page and try again.", "表单内容已损坏，未做任何操作；请刷新页面后重试。")
        }
    }
}

/// The security headers of every response under /office, set in one place: a strict content
/// security policy (nothing external, no scripts), no sniffing, no referrer, no framing, and no
/// caching unless the handler chose a cache itself (the style sheet).
struct OfficeHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    static var headers: HTTPFields {
        [
            .contentSecurityPolicy: "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            .xContentTypeOptions: "nosniff", FieldName("Referrer-Policy")!: "no-referrer", FieldName("X-Frame-Options")!: "DENY",
        ]
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        for field in Self.headers where response.headers[field.name] == nil { response.headers.append(field) }
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}

/// Every signed-in route: finds the session the cookie names (or sends the browser to sign in),
/// and for a POST reads the form and checks the session's CSRF token in it, compared in
/// constant time. A refused form changes nothing.
struct OfficeSessionMiddleware: RouterMiddleware {
    typealias Context = OfficeContext
    let dashboard: OfficeDashboard

    func handle(_ request: Request, context: OfficeContext, next: (Request, OfficeContext) async throws -> Response) async throws -> Response {
        guard let token = request.cookies[OfficeDashboard.sessionCookie]?.value, let session = try await dashboard.core.session(token: token) else {
            return dashboard.redirect("/office/login")
        }
        var context = context, request = request
        context.session = session
        guard request.method == .post else { return try await next(request, context) }
        do {
            context.form = try await OfficeForm.read(&request, limit: context.maxUploadSize)
        } catch let problem as OfficeFormProblem {
            return dashboard.refusal(session.language, problem.message(session.language), status: problem.status, session: session)
        }
        guard let csrf = context.form["csrf"], OfficeDashboard.same(csrf, session.csrfToken) else {
            context.logger.warning("office form without a valid CSRF token", metadata: ["office.user": .string(session.userName),
                                                                                         "http.path": .string(request.uri.path)])
            return dashboard.forbidden(session.language)
        }
        return try await next(request, context)
    }
}

/// A failure inside the dashboard answered as a page a clerk can read, not as the sync API's
/// JSON: what went wrong (a database that does not answer, say), the status it calls for, and
/// that nothing was changed. Unexpected errors are logged, without their details on the page.
struct OfficeErrorPageMiddleware: RouterMiddleware {
    typealias Context = OfficeContext
    let dashboard: OfficeDashboard

    func handle(_ request: Request, context: OfficeContext, next: (Request, OfficeContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let l = ErrorShapeMiddleware<OfficeContext>.language(request)
            let status: HTTPResponse.Status
            let message: String
            if let known = error as? any ProvidentError, known.kind != .internal {
                status = APIError.status(known.kind)
                message = known.message(l) + l.pick(" Nothing was changed.", "未做任何更改。")
            } else {
                status = .internalServerError
                message = l.pick("The dashboard failed on this page and nothing was changed; try again, and if it fails again tell whoever runs the server.",
                                 "本页面出错，未做任何更改；请重试，如仍出错请联系服务器管理员。")
            }
            if status.code >= 500 {
                context.logger.error("office page failed", metadata: ["http.path": .string(request.uri.path), "error.type": .string(String(describing: type(of: error)))])
            }
            return dashboard.refusal(l, message, status: status, back: "/office")
        }
    }
}
