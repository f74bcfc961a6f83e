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

    @Test func onATerminalTheSyncSaysItIsConnectingThenClearsTheLineForTheAnswer() throws {
        let worker = try CLI()
        try worker.enrolledWorker()
        // `script` gives the command a pseudo-terminal, as a person's shell would.
        let command = ([CLI.binary, "sync", "--server", "http://127.0.0.1:1", "--passphrase-file", worker.passphraseFile])
            .map { "'\($0)'" }.joined(separator: " ")
        let result = try runProgram("/usr/bin/script", ["-qec", command, "/dev/null"],
                                    environment: worker.environment.merging(["PROVIDENT_OFFLINE_SECONDS": "3"]) { _, new in new })
        #expect(result.status == 10, "\(result.stdout)")
        #expect(result.stdout.contains("Connecting to the server (attempt 1; up to 3 s more before reporting offline)"), "\(result.stdout)")
        // The status line is erased before the error is written.
        #expect(result.stdout.contains("\r\u{1B}[KError: Offline"), "\(result.stdout)")
        // A bound that is not whole seconds is reported, and the default used.
        let odd = try worker.run(["outbox"], environment: ["PROVIDENT_OFFLINE_SECONDS": "nan"])
        #expect(odd.status == 0 && odd.stderr.contains("PROVIDENT_OFFLINE_SECONDS is “nan”, not whole seconds"), "\(odd.stderr)")
        // Not on a terminal: no status line at all.
        let quiet = try worker.run(["sync", "--server", "http://127.0.0.1:1", "--passphrase-file", worker.passphraseFile],
                                   environment: ["PROVIDENT_OFFLINE_SECONDS": "3"])
        #expect(quiet.status == 10)
        #expect(!quiet.stderr.contains("Connecting"), "\(quiet.stderr)")
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
