import Foundation
import ProvidentTestSupport
import Testing

/// With no network, `provident` says so quickly: the field is where the network is poor.
@Suite struct OfflineTests {
    /// A generous bound around the 12 s the device tries before reporting it is offline (15 s in all is the aim).
    static let bound = 25.0

    @Test func aSyncWithNoServerListeningSaysOfflineQuicklyAndLosesNothing() throws {
        let server = try ServerProcess(policy: SyncServiceTests.policy)
        let worker = try CLI()
        try worker.enrolledWorker(server: server.url)
        try worker.sync()
        #expect(try worker.sign(["deposit", "--lump", "--amount", "10"]).status == 0)
        server.crash()

        let result = try Self.offlineSync(worker, ["sync"], against: "a closed port")
        #expect(result.stderr.contains("Offline"), "\(result.stderr)")
        #expect(result.stderr.contains("1 change(s) are waiting"), "\(result.stderr)")
        #expect(try worker.json(["whoami"])["waitingToSync"] as? Int == 1)

        // The server back: the waiting change goes.
        try server.start()
        try worker.sync()
        #expect(try worker.json(["whoami"])["waitingToSync"] as? Int == 0)
    }

    @Test func aSyncToAHostThatDoesNotExistSaysOfflineQuicklyInChinese() throws {
        let worker = try CLI(language: "zh_CN.UTF-8")
        try worker.enrolledWorker()
        let result = try Self.offlineSync(worker, ["sync", "--server", "http://provident-server.invalid:8080"], against: "an unknown host")
        #expect(result.stderr.contains("当前离线"), "\(result.stderr)")
        #expect(result.stderr.contains("1 项更改正在等待同步"), "\(result.stderr)")
    }

    /// Runs a sync that finds no server: it must end with exit 10 within the bound. Prints how long it took.
    static func offlineSync(_ worker: CLI, _ arguments: [String], against what: String,
                            sourceLocation: SourceLocation = #_sourceLocation) throws -> CLI.Result {
        let started = Date()
        let result = try worker.sign(arguments)
        let seconds = Date().timeIntervalSince(started)
        print("offline: a sync against \(what) ended after \(String(format: "%.1f", seconds)) s")
        #expect(result.status == 10, "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(seconds < bound, sourceLocation: sourceLocation)
        return result
    }
}
