import Hummingbird
import NIOCore
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

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        let body = (try? CanonicalEncoder.encode(report.canonicalValue)) ?? []
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// A malformed request or change-set: 400.
    static func malformed(_ error: SyncError) -> APIError {
        APIError(.badRequest, error.code, error.message, details: error.details)
    }

    /// The body is larger than the server accepts: 413.
    static func tooLarge(limit: Int) -> APIError {
        APIError(.contentTooLarge, "request.too_large", "The request body is over the limit of \(limit) bytes; send fewer change-sets at once.",
                 details: ["limit": .integer(Int64(limit))])
    }

    /// Anything unexpected: 500, logged by the server, described to no one.
    static let unexpected = APIError(.internalServerError, "server.internal",
                                     "The server failed unexpectedly; it has logged the cause. Try again later.")
}

/// Turns every error a route throws into the one error shape, so a client never sees another
/// format, and logs what was unexpected.
struct ErrorShapeMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch is NIOTooManyBytesError {
            throw APIError.tooLarge(limit: context.maxUploadSize)
        } catch let error as HTTPError {
            switch error.status {
            case .contentTooLarge: throw APIError.tooLarge(limit: context.maxUploadSize)
            case .notFound: throw APIError(.notFound, "request.not_found", "There is no such endpoint; see sync-protocol.md §11.")
            case .methodNotAllowed: throw APIError(.methodNotAllowed, "request.method", "This endpoint does not take that method.")
            default: throw APIError(error.status, "request.invalid", "The request could not be read.")
            }
        } catch {
            context.logger.error("request failed", metadata: ["http.path": .string(request.uri.path),
                                                              "error.type": .string(String(describing: type(of: error)))])
            throw APIError.unexpected
        }
    }
}
