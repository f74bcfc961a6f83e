import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import ProvidentCrypto
import ProvidentDomain
import ProvidentServer
import ProvidentServerCore
import ProvidentServerPostgres
import ProvidentServerStore
import ProvidentSync
import ProvidentTestSupport
import Testing

/// The HTTP layer in-process, through Hummingbird's test client: the routes, the status of each
/// kind of error, the error's shape and language, and the answers while the database is down.
@Suite struct HTTPTests {
    @Test(arguments: Backend.allCases)
    func aDeviceEnrolsPushesAndPullsOverHTTP(_ backend: Backend) async throws {
        try await withServer(backend) { server in
            try await SyncService(configuration: ServerConfiguration(), core: server.core).application(logger: TestServer.quiet).test(.router) { client in
                let health = try await client.execute(uri: "/health", method: .get)
                #expect(health.status == .ok)
                let status = try JSON(health.body)
                #expect(status["status"] == "ok")
                #expect(status["database"] == (backend == .sqlite ? "sqlite" : "postgres"))
                #expect(status["head"] == "0")

                let worker = TestDevice(now: { server.clock.now })
                #expect(try await client.send(try worker.enrolment()).status == .created)
                let (account, enroll) = try worker.enroll(61)
                let (_, deposit) = try worker.deposit(account.id)
                let pushed = try await client.send(try worker.push([enroll, deposit]))
                #expect(pushed.status == .ok)
                #expect(String(buffer: pushed.body).components(separatedBy: "\"accepted\"").count == 3)
                let pulled = try await client.send(try worker.request("GET", "/v1/pull", query: "?cursor=0&limit=10"))
                #expect(pulled.status == .ok)
                #expect(try JSON(pulled.body)["cursor"] == "2")
                #expect(try JSON(try await client.execute(uri: "/health", method: .get).body)["head"] == "2")
            }
        }
    }

    @Test func everyRefusalHasItsStatusACodeAndAMessageInTheCallersLanguage() async throws {
        try await withServer(.sqlite) { server in
            try await SyncService(configuration: ServerConfiguration(), core: server.core).application(logger: TestServer.quiet).test(.router) { client in
                let stranger = TestDevice(now: { server.clock.now })
                // Unknown device: 401, in English by default and in Chinese when asked.
                let unknown = try await client.send(try stranger.request("GET", "/v1/device"))
                #expect(unknown.status == .unauthorized)
                let english = try JSON(unknown.body)
                #expect(english["code"]?.hasPrefix("device.") == true || english["code"]?.hasPrefix("auth.") == true)
                #expect(english["message"]?.isEmpty == false)
                let chinese = try await client.send(try stranger.request("GET", "/v1/device"), language: "zh-CN")
                #expect(try JSON(chinese.body)["code"] == english["code"])
                #expect(try JSON(chinese.body)["message"]?.contains("。") == true)

                // No signature at all: 401 with a code, not a crash.
                let unsigned = try await client.execute(uri: "/v1/push", method: .post, body: ByteBuffer(string: "{}"))
                #expect(unsigned.status == .unauthorized)
                #expect(try JSON(unsigned.body)["code"]?.isEmpty == false)

                // A signed body that is not a push: 400.
                let worker = TestDevice(now: { server.clock.now })
                _ = try await server.core.enrol(worker)
                let nonsense = try await client.send(try worker.request("POST", "/v1/push", body: .object(["changeSets": .string("many")])))
                #expect(nonsense.status == .badRequest)

                // Over the size limit: 413 with the limit.
                let huge = try await client.execute(uri: "/v1/push", method: .post,
                                                    body: ByteBuffer(repeating: 0x20, count: SyncLimits.maxBodyBytes + 1))
                #expect(huge.status == .contentTooLarge)
                #expect(try JSON(huge.body)["code"] == "request.too_large")

                // No such endpoint, wrong method.
                #expect(try await client.execute(uri: "/v1/nothing", method: .get).status == .notFound)
                let wrongMethod = try await client.execute(uri: "/v1/push", method: .get)
                #expect([.notFound, .methodNotAllowed].contains(wrongMethod.status))
                #expect(try JSON(wrongMethod.body)["code"]?.hasPrefix("request.") == true)
            }
        }
    }

    @Test func whileTheDatabaseIsDownRequestsGet503WithRetryAfterAndHealthSaysSo() async throws {
        let cluster = try PostgresCluster.startPrivate()
        defer { cluster.stop() }
        let clock = TestClock()
        // Generous while the suites load the machine; short once the database is halted.
        let postgres = try await PostgresDatabase.open(
            PostgresDatabase.Settings(host: "127.0.0.1", port: cluster.port, user: "provident", password: cluster.password, database: "provident",
                                      leaseTimeout: .seconds(60)),
            create: true, logger: TestServer.quiet)
        let store = SQLServerStore(database: postgres)
        let core = try await ServerCore.start(store: store, key: SigningKey.generate(), policy: TestServer.policy, policyText: "",
                                              clock: { clock.now }, logger: TestServer.quiet)
        try await SyncService(configuration: ServerConfiguration(), core: core).application(logger: TestServer.quiet).test(.router) { client in
            let worker = TestDevice(now: { clock.now })
            #expect(try await client.send(try worker.enrolment()).status == .created)
            let (account, enroll) = try worker.enroll(62)
            #expect(try await client.send(try worker.push([enroll])).status == .ok)

            postgres.leaseTimeout = .seconds(2)
            try cluster.halt()
            let health = try await client.execute(uri: "/health", method: .get)
            #expect(health.status == .serviceUnavailable)
            #expect(health.headers[.retryAfter] != nil)
            #expect(try JSON(health.body)["code"] == "storage.unavailable")
            let (_, deposit) = try worker.deposit(account.id)
            let refused = try await client.send(try worker.push([deposit]))
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.headers[.retryAfter] != nil)
            #expect(try JSON(refused.body)["code"] == "storage.unavailable")
            // The answer names no address, user or password.
            #expect(!String(buffer: refused.body).contains(cluster.password))

            try cluster.resume()
            postgres.leaseTimeout = .seconds(60)
            var answer = refused
            for _ in 0..<100 where answer.status != .ok {
                try await Task.sleep(for: .milliseconds(200))
                answer = try await client.send(try worker.push([deposit]))
            }
            #expect(answer.status == .ok)
            #expect(try await core.feedHead() == 2)
        }
        await store.close()
    }
}

extension TestClientProtocol {
    /// Sends a request a test device signed, as its client would.
    func send(_ request: SignedRequest, language: String? = nil) async throws -> TestResponse {
        var headers = HTTPFields()
        for (name, value) in request.headers {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        if let language { headers[.acceptLanguage] = language }
        guard let method = HTTPRequest.Method(request.method) else { throw TestFailure("no method \(request.method)") }
        return try await execute(uri: request.path + request.query, method: method, headers: headers, body: ByteBuffer(bytes: request.body))
    }
}

/// The top-level members of a JSON answer, each as text (numbers written out).
struct JSON {
    private let members: [String: String]

    init(_ body: ByteBuffer) throws {
        let object = try JSONSerialization.jsonObject(with: Data(body.readableBytesView))
        guard let dictionary = object as? [String: Any] else { throw TestFailure("not a JSON object: \(String(buffer: body))") }
        members = dictionary.mapValues { value in
            switch value {
            case let text as String: text
            case let number as NSNumber: number.stringValue
            default: "\(value)"
            }
        }
    }

    subscript(_ name: String) -> String? { members[name] }
}
