import Foundation
import Hummingbird
import Logging
import NIOCore
import ProvidentCrypto
import ProvidentDomain
import ProvidentStore
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

    public var maxUploadSize: Int { SyncController.maxBodyBytes }
}

/// The sync endpoints (sync-protocol.md §11): enrolment, push, pull, snapshot, and health.
struct SyncController: Sendable {
    static let maxBodyBytes = 8 * 1_048_576
    static let maxChangeSetsPerPush = 500
    static let defaultPage = 500
    static let maxFeedPage = 2_000
    static let maxSnapshotPage = 5_000

    let database: ServerDatabase
    let admission: Admission
    let policyText: String
    let configuration: ServerConfiguration
    let limiter: RateLimiter
    let now: @Sendable () -> Instant

    func addRoutes(to router: Router<ProvidentRequestContext>) {
        router.get("/health", use: health)
        router.post("/v1/devices", use: enrol)
        router.get("/v1/device", use: me)
        router.post("/v1/push", use: push)
        router.get("/v1/pull", use: pull)
        router.get("/v1/snapshot", use: snapshot)
    }

    // MARK: Endpoints

    @Sendable func health(_ request: Request, context: ProvidentRequestContext) async throws -> Response {
        let head = try await database.head()
        return respond(["status": "ok", "version": .string(ServerVersion.current), "head": .integer(Int64(head)),
                        "device": .string(database.id.rawValue)])
    }

    @Sendable func enrol(_ request: Request, context: ProvidentRequestContext) async throws -> Response {
        let (body, value) = try await readBody(request, context: context)
        guard let object = value.objectValue, let keyText = object["publicKey"]?.stringValue,
              let keyBytes = Base64.decode(keyText), let publicKey = try? PublicKey(bytes: keyBytes),
              let kind = object["enrolment"]?.stringValue, Set(object.keys).isSubset(of: ["publicKey", "enrolment", "code"]) else {
            throw APIError(.badRequest, "request.malformed", "The enrolment must give publicKey (base64), enrolment and, for invite or claim, code.")
        }
        let language = Self.language(request)
        // Proof of possession: the request is signed by the key being enrolled.
        _ = try await verifySignature(request, body: body, publicKey: publicKey)
        let enrolment: ServerDatabase.Enrolment
        switch kind {
        case "self":
            enrolment = .selfService
        case "invite", "claim":
            guard let code = object["code"]?.stringValue, let parsed = try? ClaimCode(code) else {
                throw APIError(.badRequest, DomainError.claimCodeInvalid.code, DomainError.claimCodeInvalid.message(language))
            }
            enrolment = kind == "invite" ? .invite(parsed) : .claim(parsed)
        default:
            throw APIError(.badRequest, "request.malformed", "enrolment must be self, invite or claim.")
        }
        if kind != "invite", try await database.device(DeviceID(publicKey: publicKey)) == nil,
           let wait = await limiter.attempt(from: context.remoteAddress, now: Double(now().millisSinceEpoch) / 1_000) {
            var error = APIError(.tooManyRequests, "rate_limited",
                                 "Too many enrolments from this address; try again in \(wait / 60 + 1) minutes.",
                                 details: ["retryAfterSeconds": .integer(Int64(wait))])
            error.headers[.retryAfter] = String(wait)
            throw error
        }
        do {
            let device = try await database.enrol(publicKey: publicKey, as: enrolment, now: now())
            context.logger.info("device enrolled", metadata: ["sync.device": .string(device.id.rawValue),
                                                              "sync.role": .string(device.grant.role.rawValue)])
            return respond(describe(device), status: .created)
        } catch let error as ServerError {
            throw APIError(.forbidden, error.code, error.message(language))
        }
    }

    @Sendable func me(_ request: Request, context: ProvidentRequestContext) async throws -> Response {
        let (device, _) = try await authenticate(request, body: [])
        return respond(describe(device))
    }

    @Sendable func push(_ request: Request, context: ProvidentRequestContext) async throws -> Response {
        let (body, value) = try await readBody(request, context: context)
        // The nonce is recorded with the push itself, in one transaction.
        let (device, signed) = try await authenticate(request, body: body, recordNonce: false)
        guard let object = value.objectValue, object.count == 1, let envelopes = object["changeSets"]?.arrayValue else {
            throw APIError(.badRequest, "request.malformed", "The push must be {\"changeSets\":[envelope, …]}.")
        }
        guard (1...Self.maxChangeSetsPerPush).contains(envelopes.count) else {
            throw APIError(.badRequest, "request.malformed", "Send between 1 and \(Self.maxChangeSetsPerPush) change-sets at once.")
        }
        // Decode and verify every change-set before touching the database: nothing is applied
        // unless all of them are well-formed and signed by this device.
        let batch = try Self.decode(envelopes, signedBy: device)
        let language = Self.language(request)
        do {
            let nowMillis = now().millisSinceEpoch
            let answers = try await database.accept(batch, from: device, admission: admission, now: now(),
                                                    maxDriftMillis: UInt64(configuration.maxDriftSeconds) * 1_000, language: language,
                                                    nonce: (signed.nonce, nowMillis + 2 * Int64(configuration.requestWindowSeconds) * 1_000))
            let accepted = answers.filter { $0.status == .accepted }.count
            context.logger.info("push", metadata: ["sync.device": .string(device.id.rawValue), "sync.batch.count": .stringConvertible(batch.count),
                                                   "sync.batch.accepted": .stringConvertible(accepted)])
            let results: [CanonicalValue] = answers.map { answer in
                var result: [String: CanonicalValue] = ["id": .string(answer.id.hex), "seq": .integer(Int64(answer.sequence)),
                                                        "status": .string(answer.status.rawValue)]
                if answer.status == .duplicate { result["accepted"] = .bool(answer.accepted) }
                if let code = answer.code { result["code"] = .string(code) }
                if let message = answer.message { result["message"] = .string(message) }
                return .object(result)
            }
            // Writing outside the device's scope is a 403 (§11.3): the batch is still committed
            // (what was accepted stays accepted, the refused change-sets are kept with their
            // reason), and the per-change-set results travel in the error's details.
            let forbidden = answers.filter { $0.code == DomainError.outOfScope.code }.count
            if forbidden > 0 {
                throw APIError(.forbidden, DomainError.outOfScope.code,
                               language.pick("\(forbidden) of the \(answers.count) change-sets write records outside this device's scope; they are refused and kept with that reason, the others are answered in details.results.",
                                             "\(answers.count) 个变更集中有 \(forbidden) 个写入了本设备范围以外的记录,已被拒绝并记录原因;其余的结果见 details.results。"),
                               details: ["results": .array(results)])
            }
            return respond(["results": .array(results)])
        } catch ServerError.replay {
            throw APIError(.unauthorized, "auth.replay", "This request was already received (same nonce); a replay is refused.")
        } catch let refusal as PushRefusal {
            switch refusal {
            case let .gap(expected, index):
                let error = SyncError.chainGap(expected: expected)
                throw APIError(.conflict, error.code, error.message, details: ["expected": .integer(Int64(expected)), "index": .integer(Int64(index))])
            case let .fork(sequence, index):
                try await database.quarantine(device.id, reason: "signed two different change-sets for sequence \(sequence)", now: now())
                context.logger.warning("device quarantined after a fork", metadata: ["sync.device": .string(device.id.rawValue),
                                                                                     "sync.sequence": .stringConvertible(sequence)])
                let error = SyncError.chainFork(sequence: sequence)
                throw APIError(.conflict, error.code, error.message + " The device is stopped; the office has been told.",
                               details: ["sequence": .integer(Int64(sequence)), "index": .integer(Int64(index))])
            case let .clockRegression(index):
                let error = SyncError.chainTimeNotAfterPrevious
                throw APIError(.conflict, error.code, error.message, details: ["index": .integer(Int64(index))])
            case let .foreignDevice(index):
                throw APIError(.forbidden, "scope.foreign_change_set", "A device may only push its own change-sets.",
                               details: ["index": .integer(Int64(index))])
            }
        }
    }

    @Sendable func pull(_ request: Request, context: ProvidentRequestContext) async throws -> Response {
        let (device, _) = try await authenticate(request, body: [])
        guard let cursorText = request.uri.queryParameters["cursor"], let cursor = UInt64(String(cursorText)) else {
            throw APIError(.badRequest, "request.query", "Give cursor, the last feed position you applied (0 after a snapshot of an empty scope).")
        }
        let limit = try Self.limit(request, default: Self.defaultPage, maximum: Self.maxFeedPage)
        let (entries, head) = try await database.feed(for: device.grant, after: cursor, limit: limit)
        guard cursor <= head else {
            throw APIError(.conflict, "feed.cursor_ahead", "The cursor \(cursor) is beyond the feed's end \(head): the server was restored from an older copy. Take a new snapshot.",
                           details: ["head": .integer(Int64(head))])
        }
        let items: [CanonicalValue] = entries.map { entry in
            switch entry.content {
            case let .changeSet(bytes, signature, author):
                .object(["position": .integer(Int64(entry.position)), "author": .string(Base64.encode(author.bytes)),
                         "changeSet": .object(["changeSet": .string(Base64.encode(bytes)), "signature": .string(Base64.encode(signature))])])
            case let .document(bytes, signature):
                .object(["position": .integer(Int64(entry.position)),
                         "document": .object(["document": .string(Base64.encode(bytes)), "signature": .string(Base64.encode(signature))])])
            }
        }
        let last = entries.last?.position ?? (entries.isEmpty ? max(cursor, head) : cursor)
        return respond(["entries": .array(items), "cursor": .integer(Int64(last)), "head": .integer(Int64(head)),
                        "more": .bool(entries.count == limit)])
    }

    @Sendable func snapshot(_ request: Request, context: ProvidentRequestContext) async throws -> Response {
        let (device, _) = try await authenticate(request, body: [])
        var after: RecordKey?
        if let text = request.uri.queryParameters["after"] {
            let parts = String(text).split(separator: "/", maxSplits: 1)
            guard parts.count == 2 else { throw APIError(.badRequest, "request.query", "after must be type/id, as given in next.") }
            after = RecordKey(type: String(parts[0]), id: String(parts[1]))
        }
        let limit = try Self.limit(request, default: 1_000, maximum: Self.maxSnapshotPage)
        let (document, next, total) = try await database.snapshot(for: device.grant, after: after, limit: limit)
        return respond(["document": document.envelopeValue, "next": next.map { .string("\($0.type)/\($0.id)") } ?? .null,
                        "total": .integer(Int64(total))])
    }

    // MARK: Authentication

    /// Checks the request signature of a known, active device, its time window and (unless the
    /// caller records it itself) its nonce.
    func authenticate(_ request: Request, body: [UInt8], recordNonce: Bool = true) async throws -> (RegisteredDevice, RequestSignature) {
        let (signed, signature) = try received(request, body: body)
        guard let device = try await database.device(signed.device) else {
            throw APIError(.unauthorized, "device.unknown", ServerError.unknownDevice.message(.english))
        }
        switch device.status {
        case .active: break
        case .revoked: throw APIError(.forbidden, ServerError.deviceRevoked.code, ServerError.deviceRevoked.message(Self.language(request)))
        case .quarantined:
            throw APIError(.forbidden, ServerError.deviceQuarantined.code, ServerError.deviceQuarantined.message(Self.language(request)))
        }
        try await check(signed, signature, publicKey: device.publicKey, recordNonce: recordNonce)
        return (device, signed)
    }

    /// Checks a request signed by a key not yet known: an enrolment.
    func verifySignature(_ request: Request, body: [UInt8], publicKey: PublicKey) async throws -> RequestSignature {
        let (signed, signature) = try received(request, body: body)
        guard signed.device == DeviceID(publicKey: publicKey) else {
            throw APIError(.unauthorized, "auth.signature", "The request is not signed by the key being enrolled.")
        }
        try await check(signed, signature, publicKey: publicKey)
        return signed
    }

    private func received(_ request: Request, body: [UInt8]) throws -> (RequestSignature, Signature) {
        let headers = request.headers
        // Through a Result: a typed catch here trips an ownership bug in the Swift 6.3 compiler.
        let result = Result { () throws(RequestSignature.Problem) -> (RequestSignature, Signature) in
            try RequestSignature.received(method: request.method.rawValue, path: request.uri.path,
                                          query: request.uri.query.map { "?" + $0 } ?? "", body: body) { name in
                headers.first { $0.name.canonicalName == name }?.value
            }
        }
        switch result {
        case let .success(received):
            return received
        case .failure(.missingHeader(let name)):
            throw APIError(.unauthorized, "auth.missing_header", "The request is not signed: the \(name) header is missing or malformed.",
                           details: ["header": .string(name)])
        case .failure(.digestMismatch):
            throw APIError(.unauthorized, "auth.digest", "The body does not match its Content-Digest.")
        case .failure:
            throw APIError(.unauthorized, "auth.signature", "The request signature is not valid.")
        }
    }

    private func check(_ signed: RequestSignature, _ signature: Signature, publicKey: PublicKey, recordNonce: Bool = true) async throws {
        let nowMillis = now().millisSinceEpoch
        let window = Int64(configuration.requestWindowSeconds) * 1_000
        let verified = Result { () throws(RequestSignature.Problem) in
            try signed.verify(signature, publicKey: publicKey, nowMillis: nowMillis, windowMillis: window)
        }
        switch verified {
        case .success:
            break
        case .failure(.outsideWindow(let skew, _)):
            throw APIError(.unauthorized, "auth.clock_skew",
                           "The request's time is \(abs(skew) / 1_000) s \(skew > 0 ? "ahead of" : "behind") the server's; the device's clock is wrong.",
                           details: ["serverTime": .integer(nowMillis), "skewMillis": .integer(skew)])
        case .failure:
            throw APIError(.unauthorized, "auth.signature", "The request signature does not verify with the device's key.")
        }
        guard recordNonce else { return }
        guard try await database.useNonce(signed.nonce, device: signed.device, expiresAtMillis: nowMillis + 2 * window, nowMillis: nowMillis) else {
            throw APIError(.unauthorized, "auth.replay", "This request was already received (same nonce); a replay is refused.")
        }
    }

    // MARK: Helpers

    private func readBody(_ request: Request, context: ProvidentRequestContext) async throws -> ([UInt8], CanonicalValue) {
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        let bytes = Array(buffer.readableBytesView)
        do {
            return (bytes, try CanonicalDecoder.decode(bytes, limit: Self.maxBodyBytes))
        } catch {
            throw APIError.malformed(.notCanonical(error))
        }
    }

    private func respond(_ object: [String: CanonicalValue], status: HTTPResponse.Status = .ok) -> Response {
        var body = object
        body["serverTime"] = .integer(now().millisSinceEpoch)
        let bytes = (try? CanonicalEncoder.encode(.object(body))) ?? []
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    private func describe(_ device: RegisteredDevice) -> [String: CanonicalValue] {
        var result: [String: CanonicalValue] = [
            "device": .string(device.id.rawValue), "role": .string(device.grant.role.rawValue), "status": .string(device.status.rawValue),
            "serverKey": .string(Base64.encode(database.key.publicKey.bytes)), "serverDevice": .string(database.id.rawValue),
            "policy": .string(policyText),
        ]
        if let branch = device.grant.branch { result["branch"] = .string(branch) }
        if let account = device.grant.accountID { result["account"] = .string(account) }
        return result
    }

    /// Decodes every envelope of a push and checks it was signed by `device`; the first that
    /// is not refuses the whole push (400 malformed, 401 not this device's signature).
    static func decode(_ envelopes: [CanonicalValue], signedBy device: RegisteredDevice) throws -> [SignedChangeSet] {
        var batch: [SignedChangeSet] = []
        batch.reserveCapacity(envelopes.count)
        for (index, envelope) in envelopes.enumerated() {
            let signed: SignedChangeSet
            do {
                signed = try SignedChangeSet(envelopeValue: envelope)
            } catch {
                var details = error.details
                details["index"] = .integer(Int64(index))
                throw APIError(.badRequest, error.code, error.message, details: details)
            }
            do {
                try signed.verify(with: device.publicKey)
            } catch {
                throw APIError(.unauthorized, SyncError.badSignature.code, SyncError.badSignature.message,
                               details: ["index": .integer(Int64(index))])
            }
            batch.append(signed)
        }
        return batch
    }

    static func language(_ request: Request) -> Language {
        (request.headers[.acceptLanguage] ?? "").lowercased().hasPrefix("zh") ? .chinese : .english
    }

    static func limit(_ request: Request, default value: Int, maximum: Int) throws -> Int {
        guard let text = request.uri.queryParameters["limit"] else { return value }
        guard let limit = Int(String(text)), (1...maximum).contains(limit) else {
            throw APIError(.badRequest, "request.query", "limit must be 1 to \(maximum).")
        }
        return limit
    }
}

/// The service's version, as `/health` reports it.
public enum ServerVersion {
    public static let current = "0.1.0"
}
