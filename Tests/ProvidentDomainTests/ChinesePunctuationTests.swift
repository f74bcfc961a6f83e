import Foundation
import Testing

/// Chinese text uses full-width punctuation (，：；（）): this scans every Chinese string in the
/// sources of both programs and their libraries — messages, prompts, help — for ASCII
/// punctuation between Chinese characters. Input formats the user types (“姓名,职务,电话”,
/// `名称:YYYY-MM-DD`, command examples) keep their ASCII characters and are not flagged.
@Suite struct ChinesePunctuationTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A Chinese character, or full-width punctuation.
    static func isChinese(_ character: Character?) -> Bool {
        guard let scalar = character?.unicodeScalars.first else { return false }
        return (0x4E00...0x9FFF).contains(scalar.value) || (0x3000...0x303F).contains(scalar.value) || (0xFF00...0xFFEF).contains(scalar.value)
    }

    /// The line with every interpolation `\(…)` replaced by `·`, its parentheses balanced
    /// (it may hold string literals of its own).
    static func withoutInterpolations(_ line: String) -> String {
        splitInterpolations(line).outside
    }

    /// The line outside its interpolations (each replaced by `·`), and the code inside each.
    static func splitInterpolations(_ line: String) -> (outside: String, inside: [String]) {
        var result = "", inside: [String] = []
        var characters = line[...]
        while let character = characters.popFirst() {
            guard character == "\\", characters.first == "(" else {
                result.append(character)
                continue
            }
            var depth = 0, code = ""
            while let inner = characters.popFirst() {
                if inner == "(" { depth += 1; if depth == 1 { continue } } else if inner == ")" { depth -= 1; if depth == 0 { break } }
                code.append(inner)
            }
            inside.append(code)
            result.append("·")
        }
        return (result, inside)
    }

    /// The string literals of one line of code, those inside interpolations included
    /// (`"<p>\\(l.pick("…", "…"))</p>"` holds two).
    static func literals(in line: String) -> [String] {
        let (outside, inside) = splitInterpolations(line)
        return outside.matches(of: /"((?:[^"\\]|\\.)*)"/).map { String($0.1) } + inside.flatMap(literals(in:))
    }

    /// The ASCII punctuation in one string's text that should be full-width.
    static func problems(in text: String) -> [String] {
        // The parts the user types (in “…” or \"…\"), addresses and English glosses of a
        // Chinese term (“Detail (明细表)”) are not Chinese prose.
        var prose = withoutInterpolations(text)
        prose = prose.replacing(/“[^”]*”/, with: "“”").replacing(/\\"[^"\\]*\\"/, with: "“”")
        prose = prose.replacing(/[^\s]*@[^\s]*/, with: "·").replacing(/([A-Za-z_]) \([^()]*\)/) { "\($0.1) ·" }
        let characters = Array(prose)
        let chinese = characters.filter { isChinese($0) }.count
        let latin = characters.filter { $0.isASCII && $0.isLetter }.count
        guard chinese > 0, chinese * 4 >= latin else { return [] }
        var found: [String] = []
        for (index, character) in characters.enumerated() {
            let before = index > 0 ? characters[index - 1] : nil
            let after = index + 1 < characters.count ? characters[index + 1] : nil
            let bad = switch character {
            case ";": isChinese(before) || isChinese(after)
            case ",": isChinese(before) && isChinese(after)
            case ":": isChinese(before) && !(after.map { $0.isUppercase || $0.isNumber || $0 == "/" } ?? false)
            case "(": isChinese(before) || isChinese(after)
            case ")": isChinese(before) || isChinese(after)
            default: false
            }
            if bad { found.append(String(characters[max(0, index - 6)..<min(characters.count, index + 7)])) }
        }
        return found
    }

    /// Every string literal with Chinese in it, with its file and line: one-line literals, and the
    /// lines of multi-line ones.
    static func chineseStrings() throws -> [(place: String, text: String)] {
        var result: [(String, String)] = []
        for folder in ["Sources", "clients"] {
            let root = repository.appendingPathComponent(folder)
            guard let files = FileManager.default.enumerator(atPath: root.path) else { continue }
            for case let path as String in files where path.hasSuffix(".swift") {
                let lines = try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8).components(separatedBy: "\n")
                var inBlock = false
                for (number, line) in lines.enumerated() {
                    let place = "\(folder)/\(path):\(number + 1)"
                    let fences = line.components(separatedBy: "\"\"\"").count - 1
                    // Examples of commands keep what the user types.
                    let example = line.contains("--met") || line.contains("--served")
                    if inBlock, fences == 0, !example {
                        result.append((place, line))
                    } else if fences == 0, !example {
                        for literal in literals(in: line) { result.append((place, literal)) }
                    }
                    if fences % 2 == 1 { inBlock.toggle() }
                }
            }
        }
        return result.filter { $0.1.contains { isChinese($0) } }
    }

    @Test func chineseTextUsesFullWidthPunctuation() throws {
        let strings = try Self.chineseStrings()
        #expect(strings.count > 500, "found only \(strings.count) Chinese strings: is the scan looking in the right place?")
        let problems = strings.flatMap { string in Self.problems(in: string.text).map { "\(string.place): …\($0)…" } }
        #expect(problems.isEmpty, "ASCII punctuation in Chinese text:\n\(problems.joined(separator: "\n"))")
    }

    @Test func theScanFindsWhatItLooksFor() {
        #expect(Self.problems(in: "本设备尚未设置服务器;请指定:provident sync").count == 2)
        #expect(Self.problems(in: "已保存在本机,下次同步时上传(可离线)。").count == 3)
        #expect(Self.problems(in: "本设备尚未设置服务器；请指定：provident sync（可离线）").isEmpty)
        // What the user types, interpolations and English text are left alone.
        #expect(Self.problems(in: "接谈人员，格式“姓名,职务,电话”（直接回车结束）：").isEmpty)
        #expect(Self.problems(in: "每个阶段写成 名称:YYYY-MM-DD..YYYY-MM-DD。").isEmpty)
        #expect(Self.problems(in: "缴存 \\(deposit.reference)（\\(money(deposit.amountFen))）已冲正。").isEmpty)
        #expect(Self.problems(in: "The branch (管理部) that takes it over.").isEmpty)
    }
}
