import Foundation
import Testing

/// The whole worker story through the real binary: init → enroll → three deposits → statement →
/// balance, in English and in Chinese.
@Suite struct WorkerStoryTests {
    static let policy = """
        name: 测试城市
        deposits: {lumpAllowed: true, advanceMonths: 2}
        payee: {bank: "中国建设银行南山支行", accountName: "深圳市住房公积金管理中心", accountNumber: "4420 1234 5678 9012 3456"}
        """

    @Test func enrolAndDepositAnswerInJSONWithThePayeeAndABadPayeeIsRefused() throws {
        let cli = try CLI(policy: Self.policy)
        #expect(try cli.sign(["init"]).status == 0)
        let enrolled = try cli.sign(["enroll", "--name", "张三", "--id-number", "360426199101010071", "--phone", "13800138000",
                                     "--category", "gig", "--base", "5000", "--rate", "12", "--json"])
        let account = try #require(try JSONSerialization.jsonObject(with: enrolled.output) as? [String: Any], "\(enrolled.stdout)")
        #expect((account["account"] as? String)?.hasPrefix("acc-") == true && account["monthlyFen"] as? Int == 60_000)
        let recorded = try cli.sign(["deposit", "--json"])
        let deposit = try #require(try JSONSerialization.jsonObject(with: recorded.output) as? [String: Any], "\(recorded.stdout)")
        #expect(deposit["amountFen"] as? Int == 60_000 && deposit["status"] as? String == "pending")
        #expect(deposit["memo"] as? String == deposit["reference"] as? String)
        let payee = try #require(deposit["payee"] as? [String: Any])
        #expect(payee["accountNumber"] as? String == "4420 1234 5678 9012 3456")

        let bad = try CLI(policy: "payee: {bank: 某银行, accountName: 某中心, accountNumber: \"12ab\"}\n")
        let refused = try bad.run(["policy", "show"])
        #expect(refused.status != 0 && refused.stderr.contains("payee.accountNumber") && refused.stderr.contains("8–32 digits"),
                "\(refused.stderr)")
    }

    @Test(arguments: ["en_US.UTF-8", "zh_CN.UTF-8"])
    func aWorkerOpensAnAccountDepositsAndReadsTheStatement(language: String) throws {
        let cli = try CLI(language: language, policy: Self.policy)
        let chinese = language.hasPrefix("zh")
        func says(_ result: CLI.Result, _ english: String, _ chineseText: String) {
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains(chinese ? chineseText : english), "\(result.stdout)")
        }

        says(try cli.sign(["init"]), "Device set up", "设备已设置")
        says(try cli.sign(["enroll", "--name", "张三", "--id-number", "360426199101010071", "--phone", "+86 138 0013 8000",
                           "--category", "gig", "--base", "5000", "--rate", "12"]),
             "Monthly deposit: ¥600.00", "月缴存额：    ¥600.00")

        var references: [String] = []
        for arguments in [["deposit"], ["deposit", "--period", Months.iso(1)], ["deposit", "--lump", "--amount", "1,000.50"]] {
            let result = try cli.sign(arguments)
            // A transfer slip: amount, payee, account number, bank, and the reference as the memo.
            says(result, "Transfer slip", "转账凭条")
            for line in [chinese ? "收款人" : "Payee", "深圳市住房公积金管理中心", "4420 1234 5678 9012 3456", "中国建设银行南山支行",
                         chinese ? "转账附言" : "Memo"] {
                #expect(result.stdout.contains(line), "\(result.stdout)")
            }
            let reference = try #require(result.stdout.firstMatch(of: /PV[0-9A-Z]{13}/)).output
            references.append(String(reference))
        }

        let statement = try cli.run(["statement"])
        says(statement, "Total:      ¥2,200.50", "合计：      ¥2,200.50")
        for reference in references { #expect(statement.stdout.contains(reference)) }
        #expect(statement.stdout.contains(chinese ? "待确认" : "pending"))
        #expect(statement.stdout.contains(chinese ? "连续缴存月数：1" : "Continuous months paid: 1"))

        let json = try cli.json(["statement"])
        let lines = try #require(json["lines"] as? [[String: Any]])
        #expect(lines.compactMap { $0["reference"] as? String } == references)
        #expect(lines.compactMap { $0["runningTotalFen"] as? Int } == [60_000, 120_000, 220_050])
        #expect(json["totalFen"] as? Int == 220_050)
        #expect(json["pendingFen"] as? Int == 220_050)
        #expect(json["confirmedFen"] as? Int == 0)

        let csv = try cli.run(["statement", "--csv"])
        #expect(csv.status == 0)
        #expect(Array(csv.output.prefix(3)) == [0xEF, 0xBB, 0xBF])
        let rows = String(decoding: csv.output.dropFirst(3), as: UTF8.self).components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(rows.count == 4)
        #expect(rows[0].hasPrefix(chinese ? "日期," : "Date,"))
        #expect(rows[3].contains("1000.50"))

        says(try cli.run(["balance"]), "Pending:    ¥2,200.50", "待确认：    ¥2,200.50")
        let balance = try cli.json(["balance"])
        #expect(balance["confirmedFen"] as? Int == 0)
        #expect(balance["projectedInterestFen"] as? Int == 0)

        let outbox = try cli.run(["outbox"])
        says(outbox, "4 change(s) waiting to be synced.", "4 项更改等待同步。")

        let whoami = try cli.json(["whoami"])
        #expect(whoami["role"] as? String == "self")
        #expect(whoami["waitingToSync"] as? Int == 4)

        let account = try cli.run(["account", "show"])
        says(account, "3604**********0071", "3604**********0071")
        #expect(!account.stdout.contains("360426199101010071"))
        #expect(account.stdout.contains("138****8000"))

        says(try cli.run(["check"]), "The replica is consistent: 4 change(s)", "数据一致：本设备 4 项更改")
    }

    @Test func pausingResumingUpdatingAndReversingAreRecordedToo() throws {
        let cli = try CLI(policy: Self.policy)
        try cli.enrolledWorker()
        let deposit = try cli.sign(["deposit"])
        let reference = String(try #require(deposit.stdout.firstMatch(of: /PV[0-9A-Z]{13}/)).output)

        #expect(try cli.sign(["deposit", "reverse", reference, "--reason", "wrong amount"]).status == 0)
        let reversed = try cli.json(["statement"])
        #expect(reversed["totalFen"] as? Int == 0)
        #expect((reversed["lines"] as? [[String: Any]])?.first?["status"] as? String == "reversed")
        // The month is free again once its deposit is reversed.
        #expect(try cli.sign(["deposit"]).status == 0)

        #expect(try cli.sign(["account", "update", "--phone", "13900139000", "--monthly", "800"]).status == 0)
        let account = try cli.json(["account", "show", "--reveal"])
        #expect(account["phone"] as? String == "13900139000")
        #expect(account["monthlyFen"] as? Int == 80_000)

        #expect(try cli.sign(["pause"]).status == 0)
        #expect(try cli.json(["account", "show"])["status"] as? String == "paused")
        #expect(try cli.sign(["resume"]).status == 0)
        #expect(try cli.sign(["close", "--reason", "moved away"]).status == 0)
        #expect(try cli.json(["account", "show"])["status"] as? String == "closed")

        let outbox = try cli.run(["outbox", "--json"])
        let actions = try #require(try JSONSerialization.jsonObject(with: Data(outbox.stdout.utf8)) as? [[String: Any]])
            .compactMap { $0["action"] as? String }
        #expect(actions == ["account.enroll", "deposit.record", "deposit.reverse", "deposit.record", "account.update",
                            "account.pause", "account.resume", "account.close"])
        #expect(try cli.run(["check"]).status == 0)
    }
}
