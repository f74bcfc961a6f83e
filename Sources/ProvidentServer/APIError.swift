import Hummingbird
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import ProvidentServerCore
import ProvidentSync

/// An error as the server answers it: an HTTP status and the one JSON error shape of
/// sync-protocol.md §10. Nothing of the server's internals (SQL, stack traces, file paths) and
/// no personal data is ever put in one.
struct APIError: HTTPResponseError {
    let status: HTTPResponse.Status
    let report: ErrorReport
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String, details: [String: CanonicalValue] = [:]) {
        self.status = status
        report = ErrorReport(code: code, message: message, details: details)
    }

    /// One of Provident's errors, with the status its kind calls for.
    init(_ error: any ProvidentError, language: Language) {
        status = Self.status(error.kind)
        report = error.report(language)
        let wait = (error as? StoreFailure)?.retryAfterSeconds
            ?? (error as? ServerError).flatMap { if case let .rateLimited(seconds) = $0 { seconds } else { nil } }
        if let wait { headers[.retryAfter] = String(wait) }
    }

    /// The status of each kind of error (sync-protocol.md §11.11).
    static func status(_ kind: ErrorKind) -> HTTPResponse.Status {
        switch kind {
        case .invalidInput: .badRequest
        case .unauthenticated: .unauthorized
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .refused: .conflict
        case .tooLarge: .contentTooLarge
        case .rateLimited: .tooManyRequests
        case .unavailable: .serviceUnavailable
        case .storageFull: HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage")
        case .credentials, .notSetUp, .alreadySetUp, .configuration, .remoteRefusal, .damaged, .internal: .internalServerError
        }
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        let body = (try? CanonicalEncoder.encode(report.canonicalValue)) ?? []
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// The body is larger than the server accepts: 413.
    static func tooLarge(limit: Int, _ l: Language) -> APIError {
        APIError(.contentTooLarge, "request.too_large",
                 l.pick("The request body is over the limit of \(limit) bytes; send fewer change-sets at once.",
                        "请求正文超过 \(limit) 字节的上限；请一次少发一些变更集。"),
                 details: ["limit": .integer(Int64(limit))])
    }

    /// Anything unexpected: 500, logged by the server, described to no one.
    static func unexpected(_ l: Language) -> APIError {
        APIError(.internalServerError, "server.internal",
                 l.pick("The server failed unexpectedly; it has logged the cause. Try again later.", "服务器意外出错，已记录原因。请稍后再试。"))
    }
}

/// Turns every error a route throws into the one error shape, so a client never sees another
/// format, and logs what was unexpected.
struct ErrorShapeMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await shaped(request, context: context, next: next)
        } catch let error as APIError {
            // Every refusal counted by its code (`/metrics`).
            Counter(label: "provident_errors_total", dimensions: [("code", error.report.code), ("status", String(error.status.code))]).increment()
            throw error
        }
    }

    private func shaped(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch is HTTPParserError {
            // Bytes that are not HTTP (a chunk size that is not hex…): the client's fault.
            let l = Self.language(request)
            throw APIError(.badRequest, "request.malformed", l.pick("The request could not be read as HTTP (a malformed body or header); nothing was applied.",
                                                                    "无法按 HTTP 读取该请求（正文或头部格式有误）；未应用任何内容。"))
        } catch is NIOTooManyBytesError {
            throw APIError.tooLarge(limit: context.maxUploadSize, Self.language(request))
        } catch let error as HTTPError {
            let l = Self.language(request)
            switch error.status {
            case .contentTooLarge: throw APIError.tooLarge(limit: context.maxUploadSize, l)
            case .notFound:
                throw APIError(.notFound, "request.not_found", l.pick("There is no such endpoint; see sync-protocol.md §11.", "没有这个接口；见 sync-protocol.md 第 11 节。"))
            case .methodNotAllowed:
                throw APIError(.methodNotAllowed, "request.method", l.pick("This endpoint does not take that method.", "这个接口不接受该方法。"))
            default: throw APIError(error.status, "request.invalid", l.pick("The request could not be read.", "无法读取请求。"))
            }
        } catch let error as any ProvidentError where error.kind != .internal {
            let answer = APIError(error, language: Self.language(request))
            if answer.status.code >= 500 {
                context.logger.error("request failed", metadata: ["http.path": .string(request.uri.path), "error.code": .string(error.code)])
            }
            throw answer
        } catch {
            context.logger.error("request failed", metadata: ["http.path": .string(request.uri.path),
                                                              "error.type": .string(String(describing: type(of: error)))])
            throw APIError.unexpected(Self.language(request))
        }
    }

    static func language(_ request: Request) -> Language {
        (request.headers[.acceptLanguage] ?? "").lowercased().hasPrefix("zh") ? .chinese : .english
    }
}
