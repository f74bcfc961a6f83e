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

        let started = Date()
        let result = try worker.sign(["sync"])
        let seconds = Date().timeIntervalSince(started)
        print("offline: a sync against a closed port ended after \(String(format: "%.1f", seconds)) s")
        #expect(result.status == 10, "\(result.stderr)")
        #expect(seconds < Self.bound)
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
        let started = Date()
        let result = try worker.sign(["sync", "--server", "http://provident-server.invalid:8080"])
        let seconds = Date().timeIntervalSince(started)
        print("offline: a sync to an unknown host ended after \(String(format: "%.1f", seconds)) s")
        #expect(result.status == 10, "\(result.stderr)")
        #expect(seconds < Self.bound)
        #expect(result.stderr.contains("当前离线"), "\(result.stderr)")
        #expect(result.stderr.contains("1 项更改正在等待同步"), "\(result.stderr)")
    }
}
