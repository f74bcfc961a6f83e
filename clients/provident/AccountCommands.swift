import ArgumentParser
import Foundation
import ProvidentCLIKit
import ProvidentClient
import ProvidentDomain

struct Enroll: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "enroll",
            abstract: t("Open your voluntary account on this device.", "在本设备上开立个人自愿缴存账户。"),
            discussion: t("""
                Give the name and ID number as on your ID card, a mobile number, your kind of work, \
                and the agreement: a contribution base and combined rate (--base 5000 --rate 12), or a \
                fixed monthly amount (--monthly 600), within the city's policy (`provident policy show`). \
                Run in a terminal, it asks for whatever you leave out. The account stays pending until \
                the office or an outreach visit verifies you.
                """, """
                请按身份证填写姓名和身份证号码，并提供手机号码、就业类别和缴存协议：缴存基数和缴存比例\
                （--base 5000 --rate 12），或固定月缴存额（--monthly 600），须在本市政策范围内\
                （`provident policy show`）。在终端中运行时，未提供的内容会逐项询问。账户在中心或外勤人员\
                核验身份前处于待核验状态。
                """))
    }

    @OptionGroup var data: DataOptions
    @OptionGroup var passphrase: PassphraseOptions

    @Option(help: ArgumentHelp(t("Name, as on the ID card.", "姓名（与身份证一致）。")))
    var name: String?
    @Option(name: .customLong("id-number"), help: ArgumentHelp(t("Resident ID number (18 characters).", "居民身份证号码（18 位）。")))
    var idNumber: String?
    @Option(help: ArgumentHelp(t("Mobile number.", "手机号码。")))
    var phone: String?
    @Option(help: ArgumentHelp(t("Kind of work: gig, trader, part-time or other.", "就业类别：gig（新就业形态）、trader（个体工商户）、part-time（非全日制）或 other（其他）。"),
                               valueName: "kind"))
    var category: AccountCategory?
    @Option(help: ArgumentHelp(t("Monthly contribution base, in yuan.", "月缴存基数（元）。"), valueName: "yuan"))
    var base: String?
    @Option(help: ArgumentHelp(t("Combined rate, in whole percent.", "缴存比例（整数百分比）。"), valueName: "percent"))
    var rate: String?
    @Option(help: ArgumentHelp(t("A fixed monthly amount instead of base and rate, in yuan.", "固定月缴存额（元），代替基数和比例。"),
                               valueName: "yuan"))
    var monthly: String?
    @OptionGroup var format: FormatOptions

    struct Output: Encodable {
        let account, status, firstMonth: String
        let monthlyFen: Int64
        let claimCode: String?
    }

    func validate() throws {
        if monthly != nil, base != nil || rate != nil {
            throw ValidationError(t("Give either --base and --rate, or --monthly, not both.", "请提供 --base 和 --rate，或者 --monthly，不要同时提供。"))
        }
    }

    func run() throws {
        var draft = Draft.start(.enroll, in: data.directory)
        draft.stored.enroll = EnrollAnswers(name: name, idNumber: idNumber, phone: phone, category: category?.typed, base: base, rate: rate,
                                            monthly: monthly)
        try enroll(from: draft, resumed: false)
    }

    /// Asks at a terminal for what is missing, each answer checked by the domain's rules as it is
    /// given and kept in the draft; then opens the account. The draft goes once it is open; a
    /// wrong passphrase (three times), a refusal or an interruption leaves it for
    /// `provident drafts resume`.
    func enroll(from initial: Draft, resumed: Bool = true) throws {
        var draft = initial
        var answers = draft.stored.enroll ?? EnrollAnswers()
        let device = try data.open()
        let keeps = Terminal.isInteractive || resumed
        let form = try completedForm(&answers, policy: device.policy) { answered in
            draft.stored.enroll = answered
            draft.save()
        }
        let started = ContinuousClock.now
        let account: Account, claimCode: ClaimCode?
        do {
            (account, claimCode) = try device.enroll(form, unlock: { try passphrase.unlock(device) }, now: currentInstant())
        } catch {
            if keeps {
                let again = RefusedAnswers.forget(error, in: &answers)
                draft.stored.enroll = answers
                draft.save()
                draft.tellKept(asksAgain: again)
            }
            throw error
        }
        draft.discard()
        Timing.report("command", since: started)
        if format.json {
            try JSONOutput.print(Output(account: account.id, status: account.status.rawValue, firstMonth: account.firstPeriod.iso,
                                        monthlyFen: account.agreement.monthlyFen, claimCode: claimCode?.description))
            return
        }
        Terminal.say(t("Account opened: ", "账户已开立：") + account.id)
        Terminal.say(t("Status:          ", "状态：        ") + account.status.label(language))
        Terminal.say(t("Monthly deposit: ", "月缴存额：    ") + money(account.agreement.monthlyFen))
        Terminal.say(t("First month due: ", "首个缴存月：  ") + account.firstPeriod.iso)
        if let claimCode {
            Terminal.say()
            Terminal.say(t("Claim code for the worker: ", "交给本人的认领码：") + claimCode.description)
            Terminal.say(t("Give it to the worker (write it on the slip): on their own laptop they run",
                           "请交给本人（写在凭条上）：本人在自己的电脑上运行"))
            Terminal.say("  provident init --server URL --claim \(claimCode.description)")
            Terminal.say(t("It works once. Record the first deposit here with `provident deposit --account \(account.id)` if paid today.",
                           "认领码只能使用一次。如今日缴存，可在此用 `provident deposit --account \(account.id)` 登记。"))
            return
        }
        Terminal.say(t("Next: record this month's deposit with `provident deposit`.", "下一步：用 `provident deposit` 登记本月缴存。"))
    }

    /// The form: what the options and the draft gave, and at a terminal what is still missing,
    /// each answer checked as it is given (asked again until it passes) and kept.
    func completedForm(_ answers: inout EnrollAnswers, policy: Policy, saved: (EnrollAnswers) -> Void) throws -> EnrollmentForm {
        let interactive = Terminal.isInteractive
        let today = currentInstant().shanghaiDate
        var missing: [String] = []
        func need(_ key: WritableKeyPath<EnrollAnswers, String?>, _ option: String, _ prompt: String,
                  _ field: @autoclosure () -> Account.FormField) {
            guard answers[keyPath: key] == nil else { return }
            guard interactive else {
                missing.append(option)
                return
            }
            saved(answers)
            while true {
                guard let text = Terminal.ask(prompt)?.trimmingCharacters(in: .whitespaces), !text.isEmpty else {
                    Terminal.warn(t("  This one is needed.", "  此项必填。"))
                    continue
                }
                do {
                    try Account.checkAnswer(field(), text, today: today, policy: policy)
                    answers[keyPath: key] = text
                    return
                } catch {
                    Terminal.warn("  " + Failure(error, language: language).message)
                }
            }
        }
        need(\.name, "--name", t("Name (as on the ID card): ", "姓名（与身份证一致）："), .name)
        need(\.idNumber, "--id-number", t("ID number: ", "身份证号码："), .idNumber)
        need(\.phone, "--phone", t("Mobile number: ", "手机号码："), .phone)
        need(\.category, "--category", t("Kind of work (gig, trader, part-time, other): ", "就业类别（gig、trader、part-time、other）："), .category)
        if answers.base == nil, answers.rate == nil, answers.monthly == nil {
            if interactive {
                saved(answers)
                let modes = policy.agreementModes
                let byBase = modes.contains(.baseAndRate) && (!modes.contains(.fixedAmount)
                    || Terminal.ask(t("Contribute by base and rate (b) or a fixed monthly amount (f)? [b] ", "按基数和比例（b）还是按固定月缴存额（f）缴存？[b] "))?
                        .trimmingCharacters(in: .whitespaces).lowercased().hasPrefix("f") != true)
                if byBase {
                    need(\.base, "--base", t("Contribution base in yuan: ", "月缴存基数（元）："), .base)
                } else {
                    need(\.monthly, "--monthly", t("Fixed monthly amount in yuan: ", "固定月缴存额（元）："), .monthly)
                }
            } else {
                missing.append("--base/--rate or --monthly")
            }
        }
        if let base = answers.base { need(\.rate, "--rate", t("Combined rate in percent: ", "缴存比例（%）："), .rate(base: base)) }
        saved(answers)
        guard missing.isEmpty, let name = answers.name, let idNumber = answers.idNumber, let phone = answers.phone,
              let category = answers.category else {
            throw ValidationError(t("Missing: \(missing.joined(separator: ", ")).", "缺少：\(missing.joined(separator: "、"))。"))
        }
        return EnrollmentForm(name: name, idNumber: idNumber, phone: phone, category: category, base: answers.base, rate: answers.rate,
                              monthly: answers.monthly)
    }
}

struct AccountCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "account", abstract: t("Show or change your account.", "查看或修改账户。"),
                             subcommands: [Show.self, Update.self, Verify.self, Transfer.self], defaultSubcommand: Show.self)
    }

    struct Show: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(commandName: "show", abstract: t("Show the account: holder, agreement and status.", "查看账户：持有人、缴存协议和状态。"))
        }

        @OptionGroup var data: DataOptions
        @OptionGroup var format: FormatOptions
        @OptionGroup var which: AccountOption
        @Flag(help: ArgumentHelp(t("Show the full ID and phone numbers instead of masked ones.", "显示完整的身份证号码和手机号码（默认部分隐藏）。")))
        var reveal = false

        struct Output: Encodable {
            let id, name, idNumber, phone, category, agreementMode, status, channel, enrolledOn, firstPeriod: String
            let baseFen: Int64?
            let rateBasisPoints: Int?
            let monthlyFen: Int64
            let closedOn: String?
            let closeReason: String?
        }

        func run() throws {
            let account = try data.open().account(id: which.account)
            let idNumber = reveal ? account.idNumber : ResidentID.mask(account.idNumber)
            let phone = reveal ? account.phone : MobileNumber.mask(account.phone)
            if format.json {
                try JSONOutput.print(Output(id: account.id, name: account.name, idNumber: idNumber, phone: phone,
                                            category: account.category.typed, agreementMode: account.agreement.mode.rawValue,
                                            status: account.status.rawValue, channel: account.channel.rawValue,
                                            enrolledOn: account.enrolledOn.iso, firstPeriod: account.firstPeriod.iso,
                                            baseFen: account.agreement.baseFen, rateBasisPoints: account.agreement.rateBasisPoints,
                                            monthlyFen: account.agreement.monthlyFen, closedOn: account.closedOn?.iso,
                                            closeReason: account.closeReason))
                return
            }
            Terminal.say(t("Account:     ", "账户：      ") + account.id)
            Terminal.say(t("Holder:      ", "持有人：    ") + account.name)
            Terminal.say(t("ID number:   ", "身份证号：  ") + idNumber)
            Terminal.say(t("Mobile:      ", "手机：      ") + phone)
            Terminal.say(t("Work:        ", "就业类别：  ") + account.category.label(language))
            Terminal.say(t("Agreement:   ", "缴存协议：  ") + Self.describe(account.agreement))
            Terminal.say(t("Status:      ", "状态：      ") + account.status.label(language))
            Terminal.say(t("Opened:      ", "开户日期：  ") + account.enrolledOn.iso)
            if let closed = account.closedOn {
                Terminal.say(t("Closed:      ", "封存日期：  ") + closed.iso + (account.closeReason.map { " (\($0))" } ?? ""))
            }
        }

        static func describe(_ agreement: Agreement) -> String {
            switch agreement.mode {
            case .baseAndRate:
                let rate = (agreement.rateBasisPoints ?? 0) / 100
                return t("base \(money(agreement.baseFen ?? 0)) × \(rate)% = \(money(agreement.monthlyFen)) a month",
                         "基数 \(money(agreement.baseFen ?? 0)) × \(rate)% = 每月 \(money(agreement.monthlyFen))")
            case .fixedAmount:
                return t("fixed \(money(agreement.monthlyFen)) a month", "固定每月 \(money(agreement.monthlyFen))")
            }
        }
    }

    struct Update: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(commandName: "update", abstract: t("Change the mobile number or the agreement.", "修改手机号码或缴存协议。"))
        }

        @OptionGroup var data: DataOptions
        @OptionGroup var passphrase: PassphraseOptions
        @OptionGroup var which: AccountOption
        @Option(help: ArgumentHelp(t("New mobile number.", "新手机号码。"))) var phone: String?
        @Option(help: ArgumentHelp(t("New contribution base, in yuan (with --rate).", "新缴存基数（元，与 --rate 一起使用）。"), valueName: "yuan"))
        var base: String?
        @Option(help: ArgumentHelp(t("New combined rate, in whole percent (with --base).", "新缴存比例（整数百分比，与 --base 一起使用）。"), valueName: "percent"))
        var rate: String?
        @Option(help: ArgumentHelp(t("New fixed monthly amount, in yuan.", "新的固定月缴存额（元）。"), valueName: "yuan"))
        var monthly: String?

        func validate() throws {
            if phone == nil, base == nil, rate == nil, monthly == nil {
                throw ValidationError(t("Give --phone, or --base and --rate, or --monthly.", "请提供 --phone，或 --base 和 --rate，或 --monthly。"))
            }
        }

        func run() throws {
            let device = try data.open()
            let account = try device.updateAccount(accountID: which.account, phone: phone, base: base, rate: rate, monthly: monthly,
                                                   unlock: { try passphrase.unlock(device) }, now: currentInstant())
            Terminal.say(t("Account updated.", "账户已更新。"))
            Terminal.say(t("Mobile:      ", "手机：      ") + MobileNumber.mask(account.phone))
            Terminal.say(t("Agreement:   ", "缴存协议：  ") + Show.describe(account.agreement))
        }
    }
}

struct Pause: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "pause", abstract: t("Pause monthly deposits.", "暂停按月缴存。"))
    }

    @OptionGroup var data: DataOptions
    @OptionGroup var passphrase: PassphraseOptions
    @OptionGroup var which: AccountOption

    func run() throws {
        let device = try data.open()
        let account = try device.pause(accountID: which.account, unlock: { try passphrase.unlock(device) }, now: currentInstant())
        Terminal.say(t("Deposits paused. Resume with `provident resume`.", "已暂停缴存。可用 `provident resume` 恢复。"))
        Terminal.say(t("Status: ", "状态：") + account.status.label(language))
    }
}

struct Resume: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "resume", abstract: t("Resume monthly deposits.", "恢复按月缴存。"))
    }

    @OptionGroup var data: DataOptions
    @OptionGroup var passphrase: PassphraseOptions
    @OptionGroup var which: AccountOption

    func run() throws {
        let device = try data.open()
        let account = try device.resume(accountID: which.account, unlock: { try passphrase.unlock(device) }, now: currentInstant())
        Terminal.say(t("Deposits resumed.", "已恢复缴存。"))
        Terminal.say(t("Status: ", "状态：") + account.status.label(language))
    }
}

struct Close: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "close", abstract: t("Close (seal) the account. This cannot be undone from this device.",
                                         "封存（销户）账户。本设备无法撤销此操作。"))
    }

    @OptionGroup var data: DataOptions
    @OptionGroup var passphrase: PassphraseOptions
    @OptionGroup var which: AccountOption
    @Option(help: ArgumentHelp(t("Why the account is closed.", "封存原因。"))) var reason: String

    func run() throws {
        let device = try data.open()
        let account = try device.close(accountID: which.account, reason: reason, unlock: { try passphrase.unlock(device) }, now: currentInstant())
        Terminal.say(t("Account closed on \(account.closedOn?.iso ?? "").", "账户已于 \(account.closedOn?.iso ?? "") 封存。"))
    }
}

/// Which account a command is about: on a worker's device, their own; on a staff laptop, the one named.
struct AccountOption: ParsableArguments {
    @Option(help: ArgumentHelp(t("An account held on this device, by id (default: your own).", "本设备上的账户 ID（默认：本人账户）。"),
                               valueName: "id"))
    var account: String?
}

extension AccountCommand {
    struct Verify: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(commandName: "verify", abstract: t("Record that you have verified the account holder in person (office and outreach staff).",
                                             "记录已当面核验账户持有人身份（中心和外勤人员）。"))
        }

        @OptionGroup var data: DataOptions
        @OptionGroup var passphrase: PassphraseOptions
        @Option(help: ArgumentHelp(t("The account to verify.", "要核验的账户。"), valueName: "id")) var account: String

        func run() throws {
            let device = try data.open()
            let verified = try device.verify(accountID: account, unlock: { try passphrase.unlock(device) }, now: currentInstant())
            Terminal.say(t("Account \(verified.id) verified: ", "账户 \(verified.id) 已核验：") + verified.status.label(language))
        }
    }

    struct Transfer: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(commandName: "transfer", abstract: t("Move an account into another branch's care (the office).", "将账户移交另一管理部负责（中心）。"))
        }

        @OptionGroup var data: DataOptions
        @OptionGroup var passphrase: PassphraseOptions
        @Option(help: ArgumentHelp(t("The account to move.", "要移交的账户。"), valueName: "id")) var account: String
        @Option(help: ArgumentHelp(t("The branch (管理部) that takes it over.", "接手的管理部。"), valueName: "name")) var branch: String

        func run() throws {
            let device = try data.open()
            let moved = try device.transfer(accountID: account, toBranch: branch, unlock: { try passphrase.unlock(device) }, now: currentInstant())
            Terminal.say(t("Account \(moved.id) moved to \(branch). It leaves the other branch's laptops at their next sync.",
                           "账户 \(moved.id) 已移交 \(branch)。原管理部的笔记本将在下次同步时移除该账户。"))
        }
    }
}
