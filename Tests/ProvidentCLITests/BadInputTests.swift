import Foundation
import Testing

/// Every bad input gets a clear message in the user's language, a documented exit status, and
/// changes nothing: the outbox and the replica's digest stay as they were.
@Suite struct BadInputTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let arguments: [String]
        let status: Int32
        let english: String
        let chinese: String
        var testDescription: String { arguments.joined(separator: " ") }
    }

    static let enroll = ["enroll", "--name", "张三", "--phone", "13800138000", "--category", "gig"]

    static let cases: [Case] = [
        Case(arguments: enroll + ["--id-number", "36042619910102009X", "--base", "5000", "--rate", "12"], status: 3,
             english: "ID number's last character does not match", chinese: "身份证号码校验位不符"),
        Case(arguments: enroll + ["--id-number", "360426199113010079", "--base", "5000", "--rate", "12"], status: 3,
             english: "(1991-13-01) is not a real date", chinese: "（1991-13-01）不是有效日期"),
        Case(arguments: enroll + ["--id-number", "T60426199101010078", "--base", "5000", "--rate", "12"], status: 3,
             english: "must be 18 characters", chinese: "应为 18 位"),
        Case(arguments: enroll + ["--id-number", "44011320141005001X", "--base", "5000", "--rate", "12"], status: 3,
             english: "aged 16 to 60; this person is 12", chinese: "此人现年 12 周岁"),
        Case(arguments: enroll + ["--id-number", "110102199101010078", "--base", "1999", "--rate", "12"], status: 3,
             english: "base ¥1,999.00 is outside the policy's ¥2,000.00–¥28,000.00", chinese: "缴存基数 ¥1,999.00 超出政策范围"),
        Case(arguments: enroll + ["--id-number", "110102199101010078", "--base", "5000", "--rate", "25"], status: 3,
             english: "rate 25% is outside the policy's 10%–24%", chinese: "缴存比例 25% 超出政策范围 10%–24%"),
        Case(arguments: enroll + ["--id-number", "110102199101010078", "--monthly", "7000"], status: 3,
             english: "monthly amount ¥7,000.00 is outside", chinese: "月缴存额 ¥7,000.00 超出政策范围"),
        Case(arguments: enroll + ["--id-number", "110102199101010078", "--base", "5000", "--rate", "12"], status: 4,
             english: "already has an account", chinese: "已开立账户"),
        Case(arguments: ["deposit", "--amount", "600.001"], status: 3,
             english: "more than two decimals", chinese: "小数超过两位"),
        Case(arguments: ["deposit", "--amount=-600"], status: 3, english: "The amount is negative", chinese: "金额为负数"),
        Case(arguments: ["deposit", "--amount", "0"], status: 3, english: "The amount is zero", chinese: "金额为零"),
        Case(arguments: ["deposit", "--amount", "100000.01"], status: 3,
             english: "above the policy's cap of ¥100,000.00", chinese: "超过政策规定的单笔上限 ¥100,000.00"),
        Case(arguments: ["deposit"], status: 4, english: "is already paid by an earlier deposit", chinese: "已由此前的一笔缴存缴清"),
        Case(arguments: ["deposit", "--period", "2026-13"], status: 3, english: "is not a month", chinese: "不是有效月份"),
        Case(arguments: ["deposit", "--lump", "--amount", "500"], status: 3,
             english: "does not allow lump-sum deposits", chinese: "不允许一次性（灵活）缴存"),
        Case(arguments: ["account", "update", "--base", "30000", "--rate", "12"], status: 3,
             english: "base ¥30,000.00 is outside", chinese: "缴存基数 ¥30,000.00 超出政策范围"),
        Case(arguments: ["deposit", "reverse", "PV0000000000001", "--reason", "x"], status: 3,
             english: "reference code's last character does not match", chinese: "缴存识别码校验位不符"),
        Case(arguments: ["deposit", "--method", "cheque"], status: 64, english: "The value 'cheque' is invalid for '--method",
             chinese: "“cheque”不是 --method <method> 的有效取值；可选：'bank-transfer'、'bank-counter'、'mobile-banking'"),
    ]

    /// One device, enrolled and with this month paid, takes every refused command in turn.
    @Test(arguments: ["en_US.UTF-8", "zh_CN.UTF-8"])
    func refusedCommandsChangeNothing(language: String) throws {
        let cli = try CLI(language: language)
        try cli.enrolledWorker()
        #expect(try cli.sign(["deposit"]).status == 0)
        let outboxBefore = try cli.run(["outbox", "--json"]).stdout
        for badInput in Self.cases {
            let result = try cli.sign(badInput.arguments)
            let expected = language.hasPrefix("zh") ? badInput.chinese : badInput.english
            #expect(result.status == badInput.status, "\(badInput.testDescription): \(result.stderr)")
            #expect(result.stderr.contains(expected), "\(badInput.testDescription): \(result.stderr)")
            #expect(result.stdout.isEmpty, "\(badInput.testDescription) printed \(result.stdout)")
            #expect(!result.stderr.contains("360426199101010071") && !result.stderr.contains("13800138000"))
        }
        #expect(try cli.run(["outbox", "--json"]).stdout == outboxBefore)
        #expect(try cli.run(["check"]).status == 0)
    }

    @Test func anAmountOtherThanTheAgreedOneIsRefused() throws {
        let cli = try CLI(language: "zh_CN.UTF-8")
        try cli.enrolledWorker()
        let result = try cli.sign(["deposit", "--amount", "500"])
        #expect(result.status == 3)
        #expect(result.stderr.contains("按缴存协议，本次应缴 ¥600.00，而不是 ¥500.00"))
        #expect(try cli.sign(["deposit", "--amount", "600.00"]).status == 0)
    }

    @Test func aPausedOrClosedAccountTakesNoDeposits() throws {
        let cli = try CLI()
        try cli.enrolledWorker()
        #expect(try cli.sign(["pause"]).status == 0)
        var result = try cli.sign(["deposit"])
        #expect(result.status == 4)
        #expect(result.stderr.contains("The account is paused; resume it with `provident resume`"))
        #expect(try cli.sign(["close", "--reason", "leaving the city"]).status == 0)
        result = try cli.sign(["deposit"])
        #expect(result.status == 4)
        #expect(result.stderr.contains("The account is closed"))
        #expect(try cli.sign(["resume"]).status == 4)
        #expect(try cli.json(["whoami"])["waitingToSync"] as? Int == 3)
    }

    @Test func aWrongPassphraseIsRefusedAndChangesNothing() throws {
        let cli = try CLI(language: "zh_CN.UTF-8")
        try cli.enrolledWorker()
        let wrong = cli.home + "/wrong.pass"
        try "correct horse 电池 stable\n".write(toFile: wrong, atomically: true, encoding: .utf8)
        let result = try cli.run(["deposit", "--passphrase-file", wrong])
        #expect(result.status == 5)
        #expect(result.stderr.contains("口令错误；未做任何更改。"))
        #expect(try cli.json(["whoami"])["waitingToSync"] as? Int == 1)
        #expect(try cli.run(["deposit", "--passphrase-file", cli.home + "/missing.pass"]).status == 5)
    }

    @Test func aMissingDataDirectorySaysWhatToDo() throws {
        let cli = try CLI()
        for command in [["statement"], ["balance"], ["whoami"], ["outbox"]] {
            let result = try cli.run(command)
            #expect(result.status == 6)
            #expect(result.stderr.contains("run `provident init` first"))
        }
        let chinese = try CLI(language: "zh_CN.UTF-8")
        let result = try chinese.run(["statement"])
        #expect(result.status == 6)
        #expect(result.stderr.contains("请先运行 `provident init`"))
    }

    @Test func aCorruptReplicaIsReportedAndLeftAsItWas() throws {
        let cli = try CLI()
        try cli.enrolledWorker()
        let path = cli.dataDirectory + "/replica.sqlite"
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        let garbage = Data((0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try garbage.write(to: URL(fileURLWithPath: path))
        for command in [["statement"], ["deposit", "--passphrase-file", cli.passphraseFile], ["check"]] {
            let result = try cli.run(command)
            #expect(result.status == 7, "\(command): \(result.stderr)")
            #expect(result.stderr.contains("is damaged"))
        }
        #expect(FileManager.default.contents(atPath: path) == garbage)
    }

    @Test func initOverAnExistingKeyIsRefusedUnlessForcedAndConfirmed() throws {
        let cli = try CLI()
        try cli.enrolledWorker()
        let device = try #require(try cli.json(["whoami"])["deviceId"] as? String)

        var result = try cli.sign(["init"])
        #expect(result.status == 9)
        #expect(result.stderr.contains("already set up"))
        // --force asks again; with no terminal to ask on, only the device id confirms.
        result = try cli.sign(["init", "--force"])
        #expect(result.status == 4)
        #expect(result.stderr.contains("Not confirmed; nothing was changed."))
        result = try cli.sign(["init", "--force", "--confirm-device", "0000"])
        #expect(result.status == 4)
        #expect(try cli.json(["whoami"])["deviceId"] as? String == device)

        result = try cli.sign(["init", "--force", "--confirm-device", device])
        #expect(result.status == 0, "\(result.stderr)")
        let backup = try #require(result.stdout.firstMatch(of: /moved to (\S+)\./)).output.1
        #expect(FileManager.default.fileExists(atPath: "\(backup)/device.key"))
        #expect(FileManager.default.fileExists(atPath: "\(backup)/replica.sqlite"))
        #expect(try cli.json(["whoami"])["deviceId"] as? String != device)
        #expect(try cli.run(["statement"]).status == 4)
    }

    @Test func theCommandLineItselfIsCheckedByTheParser() throws {
        let cli = try CLI()
        let result = try cli.run(["deposit", "--no-such-option"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("--no-such-option"))
        let both = try cli.run(["deposit", "--lump", "--period", "2026-11"])
        #expect(both.status == 64)
    }

    @Test func keysAndDataFoldersOthersMayReadAreRefusedWithTheFix() throws {
        let cli = try CLI()
        #expect(try cli.sign(["init"]).status == 0)
        let key = cli.dataDirectory + "/device.key"
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: key)
        let exposed = try cli.sign(["enroll", "--name", "张三", "--id-number", "360426199101010071", "--phone", "13800138000",
                                    "--category", "gig", "--monthly", "600"])
        #expect(exposed.status == 5 && exposed.stderr.contains("chmod 600 \(key)"), "\(exposed.stderr)")
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: key)

        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: cli.dataDirectory)
        let folder = try cli.run(["whoami"])
        #expect(folder.status == 5 && folder.stderr.contains("chmod 700 \(cli.dataDirectory)"), "\(folder.stderr)")
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: cli.dataDirectory)
        #expect(try cli.run(["whoami"]).status == 0)

        // A flipped format-version byte is damage, not a newer program's file.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: key))
        bytes[4] ^= 0x04
        try bytes.write(to: URL(fileURLWithPath: key))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: key)
        let flipped = try cli.sign(["enroll", "--name", "张三", "--id-number", "360426199101010071", "--phone", "13800138000",
                                    "--category", "gig", "--monthly", "600"])
        #expect(flipped.status == 5 && flipped.stderr.contains("damaged or was altered") && !flipped.stderr.contains("newer"), "\(flipped.stderr)")

        // The server's key too.
        let server = try ServerProcess()
        server.crash()
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: server.folder + "/server.key")
        let check = try server.admin(["check"])
        #expect(check.status == 7 && check.stderr.contains("chmod 600"), "\(check.stderr)")
    }
}
