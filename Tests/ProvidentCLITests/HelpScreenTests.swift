import Foundation
import Testing

/// Every command's whole help screen, in both languages, compared with the text kept in
/// HelpScreens/ (`<language>-<command path>.txt`). The commands are found by walking the help
/// itself, so a new command without its recorded screens fails here. When a help text changes on
/// purpose, run the tests once with PROVIDENT_RECORD_HELP=1 to rewrite the files, and read the diff.
@Suite struct HelpScreenTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("HelpScreens")
    static var recording: Bool { ProcessInfo.processInfo.environment["PROVIDENT_RECORD_HELP"] == "1" }

    /// The command paths under `path`, itself first, from the SUBCOMMANDS section of each help.
    static func commands(_ cli: CLI, _ path: [String] = []) throws -> [[String]] {
        let help = try cli.run(path + ["--help"]).stdout
        var found = [path]
        guard let section = help.range(of: "SUBCOMMANDS:\n") else { return found }
        for line in help[section.upperBound...].split(separator: "\n") {
            guard let match = line.firstMatch(of: /^  ([a-z][a-z-]*)(?: \(default\))?(?: |$)/) else { continue }
            found += try commands(cli, path + [String(match.1)])
        }
        return found
    }

    static func fileName(_ language: String, _ path: [String]) -> String {
        "\(language)-\(path.isEmpty ? "root" : path.joined(separator: "-")).txt"
    }

    @Test(arguments: ["en", "zh"])
    func everyHelpScreenIsAsWritten(language: String) throws {
        let cli = try CLI(language: language == "zh" ? "zh_CN.UTF-8" : "en_US.UTF-8")
        let paths = try Self.commands(cli)
        #expect(paths.count > 40, "only \(paths.count) commands found")
        for path in paths {
            let result = try cli.run(path + ["--help"])
            #expect(result.status == 0, "\(path)")
            let file = Self.folder.appendingPathComponent(Self.fileName(language, path))
            if Self.recording { try result.stdout.write(to: file, atomically: true, encoding: .utf8) }
            let expected = try? String(contentsOf: file, encoding: .utf8)
            #expect(expected != nil, "no recorded help for `provident \(path.joined(separator: " "))` (\(language))")
            #expect(result.stdout == expected, "`provident \(path.joined(separator: " ")) --help` (\(language)) differs from \(file.lastPathComponent)")
        }
        // No screen is kept for a command that is gone.
        let kept = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path).filter { $0.hasPrefix(language + "-") }
        #expect(Set(kept) == Set(paths.map { Self.fileName(language, $0) }))
    }

    /// The same for `provident-server`, whose screens are kept as `server-<language>-<path>.txt`.
    @Test(arguments: ["en", "zh"])
    func everyServerHelpScreenIsAsWritten(language: String) throws {
        let environment = ["PATH": "/usr/bin:/bin", "LANG": language == "zh" ? "zh_CN.UTF-8" : "en_US.UTF-8", "COLUMNS": "100"]
        func help(_ path: [String]) throws -> CLI.Result {
            try runProgram(ServerProcess.binary, path + ["--help"], environment: environment)
        }
        func commands(_ path: [String] = []) throws -> [[String]] {
            let text = try help(path).stdout
            var found = [path]
            guard let section = text.range(of: "SUBCOMMANDS:\n") else { return found }
            for line in text[section.upperBound...].split(separator: "\n") {
                guard let match = line.firstMatch(of: /^  ([a-z][a-z-]*)(?: \(default\))?(?: |$)/) else { continue }
                found += try commands(path + [String(match.1)])
            }
            return found
        }
        let paths = try commands()
        #expect(paths.count > 25, "only \(paths.count) commands found")
        for path in paths {
            let result = try help(path)
            #expect(result.status == 0, "\(path)")
            let file = Self.folder.appendingPathComponent("server-" + Self.fileName(language, path))
            if Self.recording { try result.stdout.write(to: file, atomically: true, encoding: .utf8) }
            let expected = try? String(contentsOf: file, encoding: .utf8)
            #expect(result.stdout == expected, "`provident-server \(path.joined(separator: " ")) --help` (\(language)) differs from \(file.lastPathComponent)")
        }
        let kept = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path).filter { $0.hasPrefix("server-\(language)-") }
        #expect(Set(kept) == Set(paths.map { "server-" + Self.fileName(language, $0) }))
    }

    @Test func everyExitStatusIsListedInTheRootHelp() throws {
        let english = try String(contentsOf: Self.folder.appendingPathComponent("en-root.txt"), encoding: .utf8)
        for status in [0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 64] {
            #expect(english.contains("\n  \(status) "), "exit status \(status) is not documented")
        }
    }
}
