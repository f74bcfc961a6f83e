import Foundation
import Hummingbird
import Logging
import NIOCore
import ProvidentCrypto
import ProvidentServerCore
import ProvidentSync

/// The request context of the sync service: Hummingbird's, plus the peer's address for rate limits.
public struct ProvidentRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's IP address, as seen by the server.
    public let remoteAddress: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }

    public var maxUploadSize: Int { SyncLimits.maxBodyBytes }
}

/// The sync endpoints (sync-protocol.md §11): enrolment, push, pull, snapshot, and health. Each
/// hands the request to the core and renders its answer; the core decides everything else.
struct SyncController: Sendable {
    let core: ServerCore

    func addRoutes(to router: Router<ProvidentRequestContext>) {
        router.get("/health", use: health)
        router.get("/") { request, _ in
            // A browser goes to the dashboard; a program is told where things are.
            if request.headers[.accept]?.contains("text/html") == true {
                return Response(status: .seeOther, headers: [.location: "/office"])
            }
            let body = try CanonicalEncoder.encode(.object(["dashboard": "/office", "health": "/health", "openapi": "/openapi.yaml",
                                                            "protocol": "sync-protocol.md, version 1", "service": "provident-server"]))
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        router.get("/openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml)))
        }
        router.post("/v1/devices", use: enrol)
        router.get("/v1/device", use: me)
        router.post("/v1/device/transport", use: registerTransport)
        router.post("/v1/push", use: push)
        router.get("/v1/pull", use: pull)
        router.get("/v1/snapshot", use: snapshot)
        // The feed's log (§11.14) is public: hashes and signatures only, for anyone to check.
        router.get("/v1/log/checkpoint") { _, _ in try respond(try await core.logCheckpoint()) }
        router.get("/v1/log/proof") { request, context in try respond(try await core.logProof(try await signed(request, context))) }
        router.get("/v1/log/inclusion") { request, context in try respond(try await core.logInclusion(try await signed(request, context))) }
        router.get("/v1/log/consistency") { request, context in try respond(try await core.logConsistency(try await signed(request, context))) }
        // An auditor's cosignature (§11.15), signed like every device request.
        router.post("/v1/log/cosign") { request, context in try respond(try await core.cosign(try await signed(request, context))) }
        // The office's announcement that the log begins again after a restore (§11.16).
        router.post("/v1/log/epoch") { request, context in try respond(try await core.announceEpoch(try await signed(request, context))) }
        router.get("/v1/log/epochs") { _, _ in try respond(try await core.logEpochs()) }
    }

    @Sendable func health(_ request: Request, context: ProvidentRequestContext) async throws -> Response {
        guard await core.store.ping(), let head = try? await core.feedHead() else {
            var error = APIError(StoreFailure.unavailable(location: core.store.backend), language: ErrorShapeMiddleware<ProvidentRequestContext>.language(request))
            error.headers[.retryAfter] = "5"
            throw error
        }
        return try respond(["status": "ok", "version": .string(ServerVersion.current), "head": .integer(Int64(head)),
                        "device": .string(core.id.rawValue), "database": .string(core.store.backend)])
    }

    @Sendable func enrol(_ request: Request, context: ProvidentRequestContext) async throws -> Response {
        let device = try await core.enrol(try await signed(request, context))
        return try respond(core.describe(device), status: .created)
    }

    @Sendable func me(_ request: Request, context: ProvidentRequestContext) async throws -> Response {
        let (device, _) = try await core.authenticate(try await signed(request, context))
        return try respond(core.describe(device))
    }

    @Sendable func registerTransport(_ request: Request, context: ProvidentRequestContext) async throws -> Response {
        let delegation = try await core.registerTransport(try await signed(request, context))
        return try respond(["transportKey": .string(Base64.encode(delegation.transportKey.bytes)), "issuedAt": .integer(delegation.issuedAt)])
    }

    @Sendable func push(_ request: Request, context: ProvidentRequestContext) async throws -> Response {
        try respond(try await core.push(try await signed(request, context)).canonicalMembers)
    }

    @Sendable func pull(_ request: Request, context: ProvidentRequestContext) async throws -> Response {
        let signed = try await signed(request, context)
        let page = try await core.answering(signed) { device in try await core.feedPage(for: device, request: signed) }
        return respond(encoded: try page.canonicalBytes(serverTime: core.clock().millisSinceEpoch))
    }

    @Sendable func snapshot(_ request: Request, context: ProvidentRequestContext) async throws -> Response {
        let signed = try await signed(request, context)
        let page = try await core.answeringSnapshot(signed)
        return respond(encoded: try page.canonicalBytes(serverTime: core.clock().millisSinceEpoch))
    }

    /// The request as the core reads it: method, path, raw query, headers, body, language, address.
    private func signed(_ request: Request, _ context: ProvidentRequestContext) async throws -> SignedRequest {
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        var headers: [String: String] = [:]
        for field in request.headers where headers[field.name.canonicalName] == nil {
            headers[field.name.canonicalName] = field.value
        }
        return SignedRequest(method: request.method.rawValue, path: request.uri.path, query: request.uri.query.map { "?" + $0 } ?? "",
                             headers: headers, body: Array(body.readableBytesView),
                             language: ErrorShapeMiddleware<ProvidentRequestContext>.language(request), address: context.remoteAddress)
    }

    /// The answer's members with the server's time, encoded. A value the encoder refuses is an
    /// error the error middleware answers, never an empty body under this status.
    private func respond(_ object: [String: CanonicalValue], status: HTTPResponse.Status = .ok) throws -> Response {
        var body = object
        body["serverTime"] = .integer(core.clock().millisSinceEpoch)
        return respond(encoded: try CanonicalEncoder.encode(.object(body)), status: status)
    }

    private func respond(encoded bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// The service's version, as `/health` reports it.
public enum ServerVersion {
    public static let current = "0.2.0"
}
