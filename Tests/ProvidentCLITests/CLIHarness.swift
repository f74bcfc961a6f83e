import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Runs a program to its end, or kills it after `deadline` seconds (so a command that wrongly
/// goes on serving fails its test rather than hanging it); its output goes through temporary
/// files, removed afterwards.
func runProgram(_ executable: String, _ arguments: [String], environment: [String: String], deadline: TimeInterval = 60) throws -> CLI.Result {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("provident-run-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    FileManager.default.createFile(atPath: folder + "/out", contents: nil)
    FileManager.default.createFile(atPath: folder + "/err", contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = environment
    process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: folder + "/out"))
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: folder + "/err"))
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let end = Date().addingTimeInterval(deadline)
    while process.isRunning, Date() < end { usleep(20_000) }
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
    return CLI.Result(status: process.terminationStatus, output: try Data(contentsOf: URL(fileURLWithPath: folder + "/out")),
                      stderr: try String(contentsOfFile: folder + "/err", encoding: .utf8))
}

/// Runs the real `provident` binary, built next to this test bundle, in a temporary home.
final class CLI: @unchecked Sendable {
    struct Result {
        let status: Int32
        /// Standard output exactly as written, byte-order mark included.
        let output: Data
        let stderr: String

        var stdout: String { String(decoding: output, as: UTF8.self) }
    }

    /// The built binary: PROVIDENT_BIN if set, else `provident` in the build folder this test runs from.
    static let binary: String = {
        if let path = ProcessInfo.processInfo.environment["PROVIDENT_BIN"], !path.isEmpty { return path }
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // On some platforms the tests run from inside a bundle; walk up to the products folder.
        while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("provident").path), folder.path != "/" {
            folder.deleteLastPathComponent()
        }
        return folder.appendingPathComponent("provident").path
    }()

    let home: String
    let language: String
    let passphraseFile: String

    init(language: String = "en_US.UTF-8", policy: String? = nil) throws {
        home = FileManager.default.temporaryDirectory.appendingPathComponent("provident-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        self.language = language
        // Beside the data folder, not inside it: a device must read it without owning it. A plain
        // path, so that it can still be removed after the folder is (a `folder/..` path cannot).
        passphraseFile = home + ".pass"
        try "correct horse 电池 staple\n".write(toFile: passphraseFile, atomically: true, encoding: .utf8)
        if let policy {
            try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            try policy.write(toFile: dataDirectory + "/policy.yaml", atomically: true, encoding: .utf8)
        }
    }

    deinit {
        try? FileManager.default.removeItem(atPath: home)
        try? FileManager.default.removeItem(atPath: passphraseFile)
    }

    /// The device's data folder.
    var dataDirectory: String { home + "/data" }

    var environment: [String: String] {
        // No background sync after an edit: the tests sync when they choose (one test turns it on).
        ["PATH": "/usr/bin:/bin", "HOME": home, "PROVIDENT_HOME": dataDirectory, "LANG": language, "COLUMNS": "100",
         "PROVIDENT_BACKGROUND_SYNC": "0"]
    }

    /// Runs `provident` with `arguments`, waiting for it to end.
    @discardableResult
    func run(_ arguments: [String], environment extra: [String: String] = [:]) throws -> Result {
        let process = try start(arguments, environment: extra)
        process.waitUntilExit()
        return collect(process)
    }

    /// Runs a command that signs, giving it the passphrase file.
    @discardableResult
    func sign(_ arguments: [String]) throws -> Result {
        try run(arguments + ["--passphrase-file", passphraseFile])
    }

    private var outputs: [ObjectIdentifier: (String, String)] = [:]

    /// Starts `provident` without waiting; output goes to files read by `collect`.
    func start(_ arguments: [String], environment extra: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        process.environment = environment.merging(extra) { _, new in new }
        let out = home + "/stdout-\(UUID().uuidString)", err = home + "/stderr-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: out, contents: nil)
        FileManager.default.createFile(atPath: err, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        outputs[ObjectIdentifier(process)] = (out, err)
        return process
    }

    func collect(_ process: Process) -> Result {
        let (out, err) = outputs.removeValue(forKey: ObjectIdentifier(process)) ?? ("", "")
        defer {
            try? FileManager.default.removeItem(atPath: out)
            try? FileManager.default.removeItem(atPath: err)
        }
        let output = FileManager.default.contents(atPath: out) ?? Data()
        let stderr = String(decoding: FileManager.default.contents(atPath: err) ?? Data(), as: UTF8.self)
        return Result(status: process.terminationStatus, output: output, stderr: stderr)
    }

    /// Parses a command's JSON output.
    func json(_ arguments: [String]) throws -> [String: Any] {
        let result = try run(arguments + ["--json"])
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    /// Sets up a device (enrolled with `server` if given) and enrols a worker born 1991-01-01
    /// (base ¥5,000 × 12% = ¥600 a month).
    func enrolledWorker(server: String? = nil, idNumber: String = "360426199101010071") throws {
        let setUp = try sign(["init"] + (server.map { ["--server", $0] } ?? []))
        #expect(setUp.status == 0, "\(setUp.stderr)")
        let enrolled = try sign(["enroll", "--name", "张三", "--id-number", idNumber, "--phone", "13800138000",
                                 "--category", "gig", "--base", "5000", "--rate", "12"])
        #expect(enrolled.status == 0, "\(enrolled.stderr)")
    }
}

/// Months relative to the current one in Shanghai, for deposits that must be in the present.
enum Months {
    static var current: (year: Int, month: Int) {
        let shanghai = Date().addingTimeInterval(8 * 3_600)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
        let parts = calendar.dateComponents([.year, .month], from: shanghai)
        return (parts.year ?? 2026, parts.month ?? 1)
    }

    /// `YYYY-MM`, `offset` months from the current one.
    static func iso(_ offset: Int = 0) -> String {
        let ordinal = current.year * 12 + current.month - 1 + offset
        return String(format: "%04d-%02d", ordinal / 12, ordinal % 12 + 1)
    }
}

/// `provident` on a pseudo-terminal (through util-linux `script`), typed at as a person would:
/// wait for a prompt, type an answer. Everything the terminal shows is collected.
final class TerminalSession {
    let process: Process
    private let input = Pipe()
    private let transcript: String

    init(_ cli: CLI, _ arguments: [String], environment extra: [String: String] = [:]) throws {
        // An answer typed after the program has ended must fail that test, not kill the runner.
        signal(SIGPIPE, SIG_IGN)
        transcript = cli.home + "/terminal-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: transcript, contents: nil)
        let command = ([CLI.binary] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qfec", command, "/dev/null"]
        process.environment = cli.environment.merging(extra) { _, new in new }
        process.standardInput = input
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: transcript))
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// What the terminal has shown so far.
    var screen: String {
        String(decoding: FileManager.default.contents(atPath: transcript) ?? Data(), as: UTF8.self)
    }

    /// Waits until the screen shows `text` `count` times (at most `timeout` seconds).
    @discardableResult
    func wait(for text: String, count: Int = 1, timeout: TimeInterval = 20) -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if screen.components(separatedBy: text).count - 1 >= count { return true }
            usleep(50_000)
        }
        return false
    }

    /// Waits for `prompt`, then types `answer` and Enter.
    func answer(_ prompt: String, _ answer: String, count: Int = 1) {
        #expect(wait(for: prompt, count: count), "no prompt “\(prompt)” (\(count)): \(screen)")
        input.fileHandleForWriting.write(Data((answer + "\n").utf8))
    }

    /// Kills `provident` itself with SIGKILL, as a crash or a pulled plug would.
    func killProgram() {
        let children = (try? runProgram("/usr/bin/pgrep", ["-P", String(process.processIdentifier)], environment: [:]))?.stdout ?? ""
        for pid in children.split(separator: "\n").compactMap({ Int32($0) }) { kill(pid, SIGKILL) }
        process.waitUntilExit()
    }

    /// Waits for the end; the exit status and the whole screen.
    func finish(timeout: TimeInterval = 30) -> (status: Int32, screen: String) {
        let end = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < end { usleep(50_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        defer { try? FileManager.default.removeItem(atPath: transcript) }
        return (process.terminationStatus, screen)
    }
}
