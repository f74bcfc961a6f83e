import Foundation
import Testing

/// What operators see: `/metrics` behind its token, and logs as one JSON object a line.
@Suite(.serialized) struct OperationsTests {
    static let token = "metrics-token-for-tests-0123456789"

    /// The status and body of a GET with curl, with a bearer token when given.
    static func get(_ url: String, token: String?) throws -> (status: Int, body: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("provident-get-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = try runProgram("/usr/bin/curl", ["-s", "-o", folder + "/body", "-w", "%{http_code}", "--max-time", "10"]
                                        + (token.map { ["-H", "Authorization: Bearer \($0)"] } ?? []) + [url], environment: [:])
        let body = (try? String(contentsOfFile: folder + "/body", encoding: .utf8)) ?? ""
        return (Int(result.stdout) ?? 0, body)
    }

    @Test func metricsAnswerOnlyTheTokenAndCountWhatHappened() throws {
        let server = try ServerProcess(environment: ["PROVIDENT_METRICS_TOKEN": Self.token])
        let worker = try CLI()
        #expect(try worker.sign(["init", "--server", server.url]).status == 0)
        #expect(try worker.sign(["enroll", "--name", "赵六", "--id-number", "360426199101010071", "--phone", "13600136000",
                                 "--category", "gig", "--monthly", "400"]).status == 0)
        try worker.sync()

        let anonymous = try Self.get(server.url + "/metrics", token: nil)
        #expect(anonymous.status == 401 && anonymous.body.contains("auth.metrics_token"), "\(anonymous)")
        #expect(try Self.get(server.url + "/metrics", token: "not-the-token").status == 401)
        let scraped = try Self.get(server.url + "/metrics", token: Self.token)
        #expect(scraped.status == 200)
        for expected in [#"provident_change_sets_total{channel="push",status="accepted",code=""} 1"#,
                         #"provident_devices{status="active"} "#, "provident_connections ", "provident_database_bytes{backend=", #"provident_devices{status="revoked"} 0.0"#, "provident_feed_head ", "provident_snapshot_pages_total ",
                         #"provident_errors_total{code="auth.metrics_token",status="401"} 2"#, #"hb_requests{http_route="/v1/push",http_request_method="POST",http_response_status_code="200"} 1"#,
                         #"http_server_request_duration_bucket{http_route="/v1/pull""#, "provident_ingest_transaction_seconds_count 1\n"] {
            #expect(scraped.body.contains(expected), "“\(expected)” not in:\n\(scraped.body)")
        }
        #expect(!scraped.body.contains(Self.token))

        // Without a token configured there is no /metrics at all.
        let plain = try ServerProcess()
        #expect(try Self.get(plain.url + "/metrics", token: Self.token).status == 404)
    }

    /// A snapshot page counts as served once it is the answer. On PostgreSQL a device the server
    /// has seen has its page read while the request's nonce is recorded; a replay's page is read
    /// that way too, then thrown away with the refusal, and must not be counted.
    @Test func aReplayedSnapshotRequestIsNotCountedAsAPageServed() async throws {
        let server = try ServerProcess(environment: ["PROVIDENT_METRICS_TOKEN": Self.token], backend: .postgres)
        let worker = try CLI()
        #expect(try worker.sign(["init", "--server", server.url]).status == 0)
        let raw = RawClient(url: server.url, key: try worker.signingKey())
        func served() throws -> Double? {
            try Self.get(server.url + "/metrics", token: Self.token).body.split(separator: "\n")
                .first { $0.hasPrefix("provident_snapshot_pages_total ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
        }
        // Seen once signing with this key, the device is remembered with it.
        #expect(try await raw.send(.GET, "/v1/snapshot").status == 200)
        let nonce = "fedcba9876543210fedcba9876543210"
        let date = Int64(Date().timeIntervalSince1970 * 1_000)
        #expect(try await raw.send(.GET, "/v1/snapshot", nonce: nonce, dateMillis: date).status == 200)
        let before = try #require(try served())
        let replay = try await raw.send(.GET, "/v1/snapshot", nonce: nonce, dateMillis: date)
        #expect(replay.status == 401 && replay.code == "auth.replay")
        #expect(try served() == before)
    }

    @Test func jsonLogsAreOneObjectALineWithStableKeys() throws {
        let server = try ServerProcess(environment: ["PROVIDENT_LOG_FORMAT": "json", "LOG_LEVEL": "info"])
        let worker = try CLI()
        #expect(try worker.sign(["init", "--server", server.url]).status == 0)
        try worker.sync()
        let lines = try String(contentsOfFile: server.folder + "/stderr", encoding: .utf8).split(separator: "\n")
        #expect(!lines.isEmpty)
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
            #expect(Set(object.keys) == ["time", "level", "label", "message", "metadata", "source"], "\(line)")
            #expect((object["time"] as? String)?.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil, "\(line)")
        }
        #expect(lines.contains { $0.contains(#""level":"info""#) }, "\(lines)")
        // A bad log format stops the service with a clear message.
        #expect(throws: (any Error).self) { try ServerProcess(environment: ["PROVIDENT_LOG_FORMAT": "xml"]) }
    }

    @Test func aMalformedChunkedBodyIsA400InTheErrorShapeNotA500() throws {
        let server = try ServerProcess()
        // Raw bytes, as a fuzzer sends them: chunk sizes that are not hex, or absurdly large.
        let script = """
            import socket, sys
            for body in (b"ZZZ\\r\\nabc\\r\\n0\\r\\n\\r\\n", b"ffffffffffffffffff\\r\\nabc\\r\\n0\\r\\n\\r\\n"):
                s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
                s.settimeout(5)
                s.sendall(b"POST /v1/push HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\nContent-Type: application/json\\r\\n\\r\\n" + body)
                print(s.recv(4096).decode("utf-8", "replace").replace("\\r\\n", " "))
                s.close()
            """
        let result = try runProgram("/usr/bin/python3", ["-c", script, String(server.url.split(separator: ":").last ?? "")], environment: [:])
        let answers = result.stdout.split(separator: "\n")
        #expect(answers.count == 2, "\(result.stdout)\(result.stderr)")
        for answer in answers {
            #expect(answer.hasPrefix("HTTP/1.1 400") && answer.contains(#""code":"request.malformed""#), "\(answer)")
        }
    }

    @Test func theBareAddressSendsABrowserToTheDashboardAndTellsAProgramWhereThingsAre() throws {
        let server = try ServerProcess()
        let browser = try runProgram("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "-H", "Accept: text/html,*/*;q=0.8",
                                                       server.url + "/"], environment: [:])
        #expect(browser.stdout == "303 \(server.url)/office", "\(browser.stdout)")
        let program = try Self.get(server.url + "/", token: nil)
        #expect(program.status == 200 && program.body.contains(#""openapi":"/openapi.yaml""#), "\(program)")
        let document = try Self.get(server.url + "/openapi.yaml", token: nil)
        #expect(document.status == 200 && document.body.hasPrefix("openapi: 3.1.0"))
    }
}
