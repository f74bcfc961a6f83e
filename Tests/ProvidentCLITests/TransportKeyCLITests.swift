import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Syncing without the passphrase: the transport key made at `init` signs sync requests, and
/// nothing else (sync-protocol.md §5.1). The real server and the real `provident`.
@Suite(.serialized) struct TransportKeyCLITests {
    static let policy = "name: 测试城市\ndeposits: {lumpAllowed: true}\n"

    /// A worker's device set up against `server`, with its account opened and one deposit, both
    /// waiting to be synced.
    static func worker(_ server: ServerProcess, language: String = "en_US.UTF-8") throws -> CLI {
        let cli = try CLI(language: language)
        try cli.enrolledWorker(server: server.url)
        #expect(try cli.sign(["deposit", "--lump", "--amount", "100"]).status == 0)
        return cli
    }

    @Test func aSecondShellSyncsWithoutThePassphraseAfterInit() throws {
        let server = try ServerProcess(policy: Self.policy)
        let cli = try Self.worker(server)
        let mode = try FileManager.default.attributesOfItem(atPath: cli.dataDirectory + "/transport.key")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        // No passphrase file and no terminal: the transport key signs.
        let sync = try cli.run(["sync"])
        #expect(sync.status == 0, "\(sync.stderr)")
        #expect(sync.stdout.contains("Sent 2 change(s): 2 accepted."), "\(sync.stdout)")
        #expect(try cli.digest() == (try server.digest()))
        // It cannot make a change: that still needs the passphrase.
        let deposit = try cli.run(["deposit", "--lump", "--amount", "100"])
        #expect(deposit.status == 5, "\(deposit.stderr)")
    }

    @Test(arguments: ["en_US.UTF-8", "zh_CN.UTF-8"])
    func aTransportKeyOthersMayReadOrThatWasAlteredIsNotUsed(language: String) throws {
        let server = try ServerProcess(policy: Self.policy)
        let cli = try Self.worker(server, language: language)
        let keyPath = cli.dataDirectory + "/transport.key"
        let secret = try Data(contentsOf: URL(fileURLWithPath: keyPath))
        chmod(keyPath, 0o644)
        let loose = try cli.run(["sync"])
        #expect(loose.status == 5)
        #expect(loose.stderr.contains(language.hasPrefix("zh") ? "其他用户可以读取它" : "other users may read it"), "\(loose.stderr)")
        #expect(!loose.stderr.contains(secret.base64EncodedString()))
        #expect(try cli.run(["outbox", "--json"]).stdout.contains("\"sequence\" : 2"))

        // The passphrase replaces it (mode 0600 again) and registers the new one.
        let withPassphrase = try cli.sync()
        #expect(withPassphrase.stdout.contains(language.hasPrefix("zh") ? "已发送 2 项更改" : "Sent 2 change(s)"), "\(withPassphrase.stdout)")
        #expect(try FileManager.default.attributesOfItem(atPath: keyPath)[.posixPermissions] as? Int == 0o600)
        #expect(try Data(contentsOf: URL(fileURLWithPath: keyPath)) != secret)
        #expect(try cli.run(["sync"]).status == 0)

        // An altered delegation.
        let delegation = cli.dataDirectory + "/transport.delegation"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: delegation))
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: delegation))
        let altered = try cli.run(["sync"])
        #expect(altered.status == 5)
        #expect(altered.stderr.contains(language.hasPrefix("zh") ? "它已损坏或被改动" : "it is damaged or was altered"), "\(altered.stderr)")
    }

    @Test func aDeviceWithoutATransportKeyGetsOneWithThePassphraseAndTheOldOneStopsWhenRotated() throws {
        let server = try ServerProcess(policy: Self.policy)
        let cli = try Self.worker(server)
        // A device set up before transport keys: neither file.
        for name in ["transport.key", "transport.delegation"] { try FileManager.default.removeItem(atPath: cli.dataDirectory + "/" + name) }
        #expect(try cli.run(["sync"]).status == 5)
        // Its next passphrase-unlocked action makes one; the server does not know it yet.
        #expect(try cli.sign(["deposit", "--lump", "--amount", "100"]).status == 0)
        let unknown = try cli.run(["sync"])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("sync once with the passphrase"), "\(unknown.stderr)")
        // Syncing with the passphrase registers it; then no passphrase is needed.
        try cli.sync()
        #expect(try cli.run(["sync"]).status == 0)

        // Rotated: the old key file, put back, is refused by the server.
        let old = try Data(contentsOf: URL(fileURLWithPath: cli.dataDirectory + "/transport.key"))
        let oldDelegation = try Data(contentsOf: URL(fileURLWithPath: cli.dataDirectory + "/transport.delegation"))
        let rotated = try cli.sign(["key", "rotate-transport"])
        #expect(rotated.status == 0, "\(rotated.stderr)")
        #expect(try cli.run(["sync"]).status == 0)
        try old.write(to: URL(fileURLWithPath: cli.dataDirectory + "/transport.key"))
        try oldDelegation.write(to: URL(fileURLWithPath: cli.dataDirectory + "/transport.delegation"))
        chmod(cli.dataDirectory + "/transport.key", 0o600)
        let stale = try cli.run(["sync"])
        #expect(stale.status != 0 && stale.stderr.contains("sync once with the passphrase"), "\(stale.stderr)")
    }
}

/// `provident sync --watch`: background sync with the transport key, one watcher per folder.
@Suite(.serialized) struct SyncWatchTests {
    /// Whether the device's outbox empties (something else sends it) within `seconds`.
    static func outboxEmpties(_ cli: CLI, within seconds: TimeInterval) throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try cli.run(["outbox"]).stdout.contains("Nothing is waiting") { return true }
            Thread.sleep(forTimeInterval: 0.5)
        }
        return false
    }

    @Test func aChangeMadeWhileTheServerWasDownIsSentOnceItIsBack() throws {
        let server = try ServerProcess(policy: TransportKeyCLITests.policy)
        let cli = try TransportKeyCLITests.worker(server)
        #expect(try cli.run(["sync"]).status == 0)
        let watcher = try cli.start(["sync", "--watch", "--interval", "30"])
        defer {
            if watcher.isRunning { kill(watcher.processIdentifier, SIGTERM) }
            watcher.waitUntilExit()
            _ = cli.collect(watcher)
        }
        // A second watcher on the same folder says so and stops (once the first holds the folder).
        let lock = cli.dataDirectory + "/sync-watch.lock"
        let held = Date().addingTimeInterval(30)
        while Date() < held {
            let fd = open(lock, O_RDWR)
            defer { if fd >= 0 { close(fd) } }
            if fd >= 0, flock(fd, LOCK_EX | LOCK_NB) != 0 { break }
            if fd >= 0 { flock(fd, LOCK_UN) }
            usleep(50_000)
        }
        let second = try cli.run(["sync", "--watch"])
        #expect(second.status == 9 && second.stderr.contains("already running"), "\(second.stderr)")

        server.crash()
        #expect(try cli.sign(["deposit", "--lump", "--amount", "300"]).status == 0)
        Thread.sleep(forTimeInterval: 2)
        try server.start()
        #expect(try Self.outboxEmpties(cli, within: 90), "the watcher did not send the change within 90 s")
        #expect(try cli.digest() == (try server.digest()))
        #expect(watcher.isRunning)
    }

    @Test func aChangeMadeSoonAfterASyncIsSentInTheBackground() throws {
        let server = try ServerProcess(policy: TransportKeyCLITests.policy)
        let cli = try TransportKeyCLITests.worker(server)
        #expect(try cli.run(["sync"]).status == 0)
        let on = ["PROVIDENT_BACKGROUND_SYNC": "1"]
        let deposit = try cli.run(["deposit", "--lump", "--amount", "300", "--passphrase-file", cli.passphraseFile], environment: on)
        #expect(deposit.status == 0, "\(deposit.stderr)")
        #expect(try Self.outboxEmpties(cli, within: 30), "the background sync did not send the deposit")
        #expect(try cli.digest() == (try server.digest()))

        // With the server gone, the edit still ends at once and the change waits.
        server.crash()
        let offline = try cli.run(["deposit", "--lump", "--amount", "400", "--passphrase-file", cli.passphraseFile], environment: on)
        #expect(offline.status == 0 && offline.stderr.isEmpty, "\(offline.stderr)")
        #expect(try cli.run(["outbox"]).stdout.contains("1 change(s) waiting"))
        Thread.sleep(forTimeInterval: 7)   // the background sync gives up after 5 s; nothing is lost
        #expect(try cli.run(["outbox"]).stdout.contains("1 change(s) waiting"))
    }
}
