import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import ProvidentCrypto
import ProvidentSync
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The real `provident-server` binary, serving on 127.0.0.1 from a temporary database.
final class ServerProcess: @unchecked Sendable {
    static var binary: String {
        URL(fileURLWithPath: CLI.binary).deletingLastPathComponent().appendingPathComponent("provident-server").path
    }

    let folder: String
    let policyFile: String?
    let extraEnvironment: [String: String]
    private(set) var port = 0
    private var process: Process?
    private var output = ""

    /// The address clients use.
    var url: String { "http://127.0.0.1:\(port)" }
    var database: String { folder + "/provident.sqlite" }

    init(policy: String? = nil, environment: [String: String] = [:]) throws {
        extraEnvironment = environment
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("provident-server-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if let policy {
            policyFile = folder + "/policy.yaml"
            try policy.write(toFile: folder + "/policy.yaml", atomically: true, encoding: .utf8)
        } else {
            policyFile = nil
        }
        try start()
    }

    deinit {
        process.map { kill($0.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Starts the server (on the same port as before, after a restart) and waits until it listens.
    func start() throws {
        output = folder + "/stdout-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: output, contents: nil)
        if !FileManager.default.fileExists(atPath: folder + "/stderr") { FileManager.default.createFile(atPath: folder + "/stderr", contents: nil) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["serve", "--db", database, "--port", String(port)] + (policyFile.map { ["--policy", $0] } ?? [])
        process.environment = ["PATH": "/usr/bin:/bin", "LOG_LEVEL": "warning"].merging(extraEnvironment) { _, new in new }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: folder + "/stderr"))
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            if let match = text.firstMatch(of: /listening on http:\/\/127\.0\.0\.1:([0-9]+)/), let port = Int(match.output.1) {
                self.port = port
                return
            }
            guard process.isRunning else { break }
            usleep(20_000)
        }
        let errors = (try? String(contentsOfFile: folder + "/stderr", encoding: .utf8)) ?? ""
        throw ServerFailure.didNotStart(errors)
    }

    /// Kills the server at once (SIGKILL), as a crash or power cut would.
    func crash() {
        guard let process else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    /// Runs an administration command against the database.
    @discardableResult
    func admin(_ arguments: [String]) throws -> CLI.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments + ["--db", database]
        process.environment = ["PATH": "/usr/bin:/bin"]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CLI.Result(status: process.terminationStatus, output: stdout, stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// A one-time invite code for a staff laptop.
    func invite(role: String, branch: String? = nil) throws -> String {
        let result = try admin(["device", "invite", "--role", role] + (branch.map { ["--branch", $0] } ?? []))
        #expect(result.status == 0, "\(result.stderr)")
        return String(try #require(result.stdout.firstMatch(of: /[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{5}/)).output)
    }

    /// The state digest of everything the server holds.
    func digest() throws -> String {
        let result = try admin(["check"])
        return String(try #require(result.stdout.firstMatch(of: /State digest: ([0-9a-f]{64})/)).output.1)
    }

    enum ServerFailure: Error {
        case didNotStart(String)
    }
}

extension CLI {
    /// The state digest of the device's replica, after checking it is consistent.
    func digest() throws -> String {
        let result = try run(["check", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: result.output) as? [String: Any])
        return try #require(object["digest"] as? String)
    }

    /// Syncs, expecting success.
    @discardableResult
    func sync() throws -> CLI.Result {
        let result = try sign(["sync"])
        #expect(result.status == 0, "sync failed: \(result.stderr)")
        return result
    }

    /// The device's signing key, unsealed with the test passphrase.
    func signingKey() throws -> SigningKey {
        try SealedKeyFile.open(try SealedKeyFile.read(from: dataDirectory + "/device.key"),
                               passphrase: SecretBytes(utf8: "correct horse 电池 staple"))
    }
}

/// A client of the sync protocol written only from the spec's building blocks (canonical
/// encoding, envelopes, request signatures), the way an independent implementation would be.
struct RawClient {
    let url: String
    let key: SigningKey

    var device: DeviceID { DeviceID(publicKey: key.publicKey) }

    struct Answer {
        let status: Int
        let body: CanonicalValue?
        var code: String? { body?.objectValue?["code"]?.stringValue }
    }

    /// Sends a signed request; `nonce` and `date` may be fixed to build replays and skews.
    func send(_ method: HTTPMethod, _ path: String, query: String = "", body: CanonicalValue? = nil,
              nonce: String = Hex.encode(SecureRandom.bytes(count: 16)), dateMillis: Int64? = nil) async throws -> Answer {
        let bytes = try body.map { try CanonicalEncoder.encode($0) } ?? []
        let date = dateMillis ?? Int64(Date().timeIntervalSince1970 * 1_000)
        let signature = RequestSignature(method: method.rawValue, path: path, query: query, device: device, dateMillis: date,
                                         nonce: nonce, body: bytes)
        var request = HTTPClientRequest(url: url + path + query)
        request.method = method
        for header in signature.headers(signedWith: key) { request.headers.add(name: header.name, value: header.value) }
        if method == .POST { request.body = .bytes(ByteBuffer(bytes: bytes)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let answer = Array(try await response.body.collect(upTo: 64 * 1_048_576).readableBytesView)
        return Answer(status: Int(response.status.code), body: try? CanonicalDecoder.decode(answer, limit: 64 * 1_048_576))
    }

    func push(_ changeSets: [SignedChangeSet]) async throws -> Answer {
        try await send(.POST, "/v1/push", body: .object(["changeSets": .array(changeSets.map(\.envelopeValue))]))
    }
}
