import Foundation
import Testing

/// Whole help screens, compared with the text kept in HelpScreens/. When a help text changes on
/// purpose, run the tests once with PROVIDENT_RECORD_HELP=1 to rewrite the files, and read the diff.
@Suite struct HelpScreenTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("HelpScreens")

    static let screens: [(name: String, arguments: [String])] = [
        ("root", ["--help"]),
        ("enroll", ["enroll", "--help"]),
        ("deposit", ["deposit", "record", "--help"]),
        ("statement", ["statement", "--help"]),
    ]

    @Test(arguments: ["en", "zh"], 0..<4)
    func helpScreenIsAsWritten(language: String, screen: Int) throws {
        let (name, arguments) = Self.screens[screen]
        let cli = try CLI(language: language == "zh" ? "zh_CN.UTF-8" : "en_US.UTF-8")
        let result = try cli.run(arguments)
        #expect(result.status == 0)
        let file = Self.folder.appendingPathComponent("\(language)-\(name).txt")
        if ProcessInfo.processInfo.environment["PROVIDENT_RECORD_HELP"] == "1" {
            try result.stdout.write(to: file, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: file, encoding: .utf8)
        #expect(result.stdout == expected)
    }

    @Test func everyExitStatusIsListedInTheRootHelp() throws {
        let english = try String(contentsOf: Self.folder.appendingPathComponent("en-root.txt"), encoding: .utf8)
        for status in [0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 64] {
            #expect(english.contains("\n  \(status) "), "exit status \(status) is not documented")
        }
    }
}
