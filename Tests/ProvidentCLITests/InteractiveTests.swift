import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Answers typed at a terminal survive mistakes: each answer is checked as it is given and
/// asked again, three passphrase tries, and a draft that outlives a wrong passphrase or a kill.
@Suite(.serialized) struct InteractiveTests {
    @Test(arguments: ["en_US.UTF-8", "zh_CN.UTF-8"])
    func anEnrolmentReasksBadAnswersAndKeepsADraftAfterThreeWrongPassphrases(language: String) throws {
        let zh = language.hasPrefix("zh")
        let cli = try CLI(language: language)
        #expect(try cli.sign(["init"]).status == 0)
        let session = try TerminalSession(cli, ["enroll"])
        session.answer(zh ? "姓名" : "Name", "张\u{1B}[D三")                                // the left arrow pressed
        session.answer(zh ? "姓名" : "Name", "张三", count: 2)
        session.answer(zh ? "身份证号码" : "ID number", "36042619910101007")               // 17 characters
        session.answer(zh ? "身份证号码" : "ID number", "360426199101010071", count: 2)
        session.answer(zh ? "手机号码" : "Mobile number", "138001380")                     // 9 digits
        session.answer(zh ? "手机号码" : "Mobile number", "13800138000", count: 2)
        session.answer(zh ? "就业类别" : "Kind of work", "cook")                            // not a category
        session.answer(zh ? "就业类别" : "Kind of work", "gig", count: 2)
        session.answer("[b]", "b")
        session.answer(zh ? "月缴存基数" : "Contribution base", "50")                       // under the policy's base
        session.answer(zh ? "月缴存基数" : "Contribution base", "5000", count: 2)
        session.answer(zh ? "缴存比例" : "Combined rate", "12")
        for attempt in 1...3 { session.answer(zh ? "口令：" : "Passphrase:", "not the passphrase", count: attempt) }
        let (status, screen) = session.finish()
        #expect(status == 5, "\(screen)")
        for explained in zh ? ["回答中含有方向键或功能键", "身份证号码应为 18 位", "手机号码应为 11 位", "不是有效类别", "超出政策范围", "还可再试 2 次", "已保存为草稿"]
            : ["The answer holds an arrow or function key", "ID number must be 18 characters", "must be 11 digits", "is not a category", "is outside the policy", "2 tries left",
               "kept as draft"] {
            #expect(screen.contains(explained), "“\(explained)” not shown: \(screen)")
        }
        #expect(!screen.contains("not the passphrase"))
        let draft = String(try #require(screen.firstMatch(of: /enr-[0-9a-f]{6}/)).output)
        #expect(try cli.run(["drafts", "list"]).stdout.contains(draft))

        // Resumed with the passphrase: nothing is asked again, the account is opened, the draft gone.
        let resumed = try cli.sign(["drafts", "resume", draft])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains(zh ? "月缴存额：    ¥600.00" : "Monthly deposit: ¥600.00"), "\(resumed.stdout)")
        #expect(try cli.run(["drafts", "list"]).stdout.contains(zh ? "没有草稿" : "No drafts"))

        // A damaged draft file is named, not passed over in silence.
        try "{\"kind\":".write(toFile: cli.dataDirectory + "/drafts/enr-000000.json", atomically: true, encoding: .utf8)
        let listed = try cli.run(["drafts", "list"])
        #expect(listed.stderr.contains("enr-000000.json") && listed.stderr.contains(zh ? "可能已损坏" : "damaged"), "\(listed.stderr)")
    }

    @Test func aVisitDraftSurvivesTheKillOfThePromptAndIsResumed() throws {
        let branches = try OutreachTests.Branches()
        let west = branches.west
        try west.sync()
        let session = try TerminalSession(west, ["visit", "record"])
        session.answer("Purpose", "collection")
        session.answer("credit code", OutreachTests.a)
        session.answer("Staff on the visit", "张伟")                                    // a collection needs two
        session.answer("Staff on the visit", "张伟,李娜", count: 2)
        session.answer("Person met", "王芳,财务负责人,13800138000")
        session.answer("Person met", "", count: 2)
        session.answer("Notes", "单位称资金紧张，同意分期补缴")
        session.answer("Document served", "order-to-pay,洛公积金责〔2026〕17号,\(Days.iso(45))")  // past the 30 days
        session.answer("Document served", "order-to-pay,洛公积金责〔2026〕17号,\(Days.iso(20))", count: 2)
        session.answer("Document served", "", count: 3)
        session.answer("Outcome", "agreed-to-pay")
        session.answer("Follow-up date", "")
        #expect(session.wait(for: "Passphrase:"), "\(session.screen)")
        session.killProgram()
        let screen = session.finish().screen
        #expect(screen.contains("at least 2 staff") || screen.contains("needs at least 2"), "\(screen)")
        #expect(screen.contains("30 days"), "\(screen)")

        let list = try west.run(["drafts", "list"])
        let draft = String(try #require(list.stdout.firstMatch(of: /vis-[0-9a-f]{6}/), "\(list.stdout)").output)
        #expect(list.stdout.contains("collection") && list.stdout.contains("张伟、李娜"), "\(list.stdout)")
        let resumed = try west.sign(["drafts", "resume", draft])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("Visit recorded"), "\(resumed.stdout)")
        let visits = try west.run(["visit", "list"])
        #expect(visits.stdout.contains("洛阳恒达商贸有限公司") && visits.stdout.contains("agreed to pay"), "\(visits.stdout)")
        #expect(try west.run(["drafts", "list"]).stdout.contains("No drafts"))
    }

    @Test func anApplicationReasksBadAnswersAndIsResumedAfterThreeWrongPassphrases() throws {
        let branches = try OutreachTests.Branches()
        let west = branches.west
        try west.sync()
        let session = try TerminalSession(west, ["application", "record"])
        session.answer("credit code", "91410300001000000X")                           // a wrong check character
        session.answer("credit code", OutreachTests.a, count: 2)
        session.answer("Kind", "reduce-rate")
        session.answer("First month", Months.iso(1))
        session.answer("Months (at most 12)", "13")                                   // past the policy's 12
        session.answer("Months (at most 12)", "6", count: 2)
        session.answer("Resolved by", "union")
        session.answer("Resolution date", Days.iso(-20))
        session.answer("Votes for", "31")
        session.answer("Votes cast", "40")
        session.answer("Public notice from", Days.iso(-15))
        session.answer("Public notice to", Days.iso(-6))
        session.answer("employer's rate", "3")                                        // under the policy's 5 %
        session.answer("employer's rate", "5", count: 2)
        session.answer("employee's rate", "5")
        for attempt in 1...3 { session.answer("Passphrase:", "not the passphrase", count: attempt) }
        let (status, screen) = session.finish()
        #expect(status == 5, "\(screen)")
        #expect(screen.contains("GB 32100 check"), "\(screen)")
        #expect(screen.contains("at most 12 months") || screen.contains("12 months"), "\(screen)")
        let draft = String(try #require(screen.firstMatch(of: /app-[0-9a-f]{6}/), "\(screen)").output)
        let resumed = try west.sign(["drafts", "resume", draft])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("Application recorded"), "\(resumed.stdout)")
        #expect(try west.run(["drafts", "list"]).stdout.contains("No drafts"))
    }

    @Test func aDraftRefusedForOneAnswerAsksOnlyThatOneAgainWhenResumed() throws {
        let branches = try OutreachTests.Branches()
        let west = branches.west
        try west.sync()
        // A well-formed credit code of an employer this laptop does not hold (洛龙区's): the
        // answer passes at the prompt, the whole visit is refused when it is recorded.
        let session = try TerminalSession(west, ["visit", "record"])
        session.answer("Purpose", "survey")
        session.answer("credit code", OutreachTests.d)
        session.answer("Staff on the visit", "张伟")
        session.answer("Person met", "王芳，财务负责人，13800138000")                      // Chinese commas, as typed
        session.answer("Person met", "", count: 2)
        session.answer("Notes", "摸底")
        session.answer("Outcome", "informed")
        // Refused before the passphrase is asked: the rules are checked first.
        let (status, screen) = session.finish()
        #expect(status == 4, "\(screen)")
        #expect(screen.contains("asks again for what was refused: --unit"), "\(screen)")
        let draft = String(try #require(screen.firstMatch(of: /vis-[0-9a-f]{6}/), "\(screen)").output)

        // Resumed: only the employer is asked again; everything else was kept.
        let resumed = try TerminalSession(west, ["drafts", "resume", draft])
        resumed.answer("credit code", OutreachTests.a)
        resumed.answer("Passphrase:", "correct horse 电池 staple")
        let (again, shown) = resumed.finish()
        #expect(again == 0, "\(shown)")
        #expect(shown.contains("Visit recorded") && !shown.contains("Staff on the visit"), "\(shown)")
        let visits = try west.run(["visit", "list", "--json"])
        #expect(visits.stdout.contains("财务负责人") && visits.stdout.contains(OutreachTests.a), "\(visits.stdout)")
    }
}
