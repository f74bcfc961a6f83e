import Foundation
import Testing

/// A small tmpfs, mounted for one test and unmounted after it.
struct SmallDisk {
    let path: String

    /// Whether this machine lets the tests mount a tmpfs (root, or a container that allows it).
    static let possible: Bool = {
        guard let disk = try? SmallDisk(megabytes: 1, at: FileManager.default.temporaryDirectory.appendingPathComponent("provident-mount-probe-\(UUID().uuidString)").path)
        else { return false }
        disk.unmount()
        return true
    }()

    init(megabytes: Int, at path: String) throws {
        self.path = path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let mounted = try runProgram("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=\(megabytes)m,mode=0700", "tmpfs", path], environment: [:])
        guard mounted.status == 0 else {
            try? FileManager.default.removeItem(atPath: path)
            throw CocoaError(.fileWriteNoPermission)
        }
    }

    func unmount() {
        _ = try? runProgram("/usr/bin/umount", [path], environment: [:])
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Fills the disk with a file, leaving almost nothing free.
    func fill() throws {
        _ = try runProgram("/usr/bin/dd", ["if=/dev/zero", "of=\(path)/filler", "bs=4k"], environment: [:])
    }

    func empty() throws {
        try FileManager.default.removeItem(atPath: path + "/filler")
    }
}

/// A full disk under the device's data folder: the change is refused with what to do, nothing is
/// lost, and it goes through once space is freed.
@Suite(.serialized) struct DiskFullTests {
    @Test(.enabled(if: SmallDisk.possible, "this machine does not let tests mount a tmpfs"))
    func aFullDiskIsSaidPlainlyAndLosesNothing() throws {
        let cli = try CLI()
        let disk = try SmallDisk(megabytes: 4, at: cli.dataDirectory)
        defer { disk.unmount() }
        try "deposits: {lumpAllowed: true}\n".write(toFile: cli.dataDirectory + "/policy.yaml", atomically: true, encoding: .utf8)
        #expect(try cli.sign(["init"]).status == 0)
        #expect(try cli.sign(["enroll", "--name", "张三", "--id-number", "360426199101010071", "--phone", "13800138000",
                              "--category", "gig", "--monthly", "600"]).status == 0)
        let digest = try cli.digest()
        try disk.fill()
        var refused: CLI.Result?
        // SQLite may still find room in free pages for a change or two; it runs out soon after.
        for _ in 0..<50 {
            let result = try cli.sign(["deposit", "--lump", "--amount", "1"])
            if result.status != 0 { refused = result; break }
        }
        let full = try #require(refused)
        #expect(full.status == 4 && full.stderr.contains("is full") && !full.stderr.contains("damaged"), "\(full.stderr)")
        try disk.empty()
        #expect(try cli.run(["check"]).status == 0)
        let after = try cli.sign(["deposit", "--lump", "--amount", "1"])
        #expect(after.status == 0, "\(after.stderr)")
        #expect(try cli.digest() != digest)
    }

    @Test(.enabled(if: SmallDisk.possible, "this machine does not let tests mount a tmpfs"))
    func theServersFullDiskIsAnsweredAs507AndLosesNothing() throws {
        let holder = FileManager.default.temporaryDirectory.appendingPathComponent("provident-disk-\(UUID().uuidString)").path
        let disk = try SmallDisk(megabytes: 8, at: holder)
        defer { disk.unmount() }
        let server = try ServerProcess(policy: "deposits: {lumpAllowed: true}\n", backend: .sqlite, sqlitePath: holder + "/provident.sqlite")
        defer { server.crash() }
        let worker = try CLI()
        #expect(try worker.sign(["init", "--server", server.url]).status == 0)
        #expect(try worker.sign(["enroll", "--name", "张三", "--id-number", "360426199101010071", "--phone", "13800138000",
                                 "--category", "gig", "--monthly", "600"]).status == 0)
        try worker.sync()
        try disk.fill()
        // The log file may hold room for a few pushes; the disk runs out soon after.
        var answer: CLI.Result?
        for _ in 0..<20 {
            try ProvidentStoreAccess.recordLumpDeposits(worker, count: 300)
            let result = try worker.sign(["sync"])
            if result.status != 0 { answer = result; break }
        }
        let refused = try #require(answer, "the server never ran out of space")
        #expect(refused.stderr.contains("full"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("server.internal"), "\(refused.stderr)")
        // Space freed: the same change-sets go through, none lost, none doubled.
        try disk.empty()
        try worker.sync()
        #expect(try worker.run(["outbox", "--json"]).stdout.contains("pending") == false)
        #expect(try worker.digest() == (try server.digest()))
    }
}
