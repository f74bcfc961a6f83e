import ArgumentParser
import Foundation
import ProvidentCLIKit
import ProvidentClient
import ProvidentDomain

struct DepositCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "deposit", abstract: t("Record a deposit, or reverse a mistaken one.", "登记缴存，或冲正错误的缴存。"),
                             subcommands: [Record.self, Reverse.self], defaultSubcommand: Record.self)
    }

    struct Record: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(commandName: "record",
                abstract: t("Record a deposit and get the reference code for the bank-transfer memo.", "登记一笔缴存，并获得银行转账附言中要填写的识别码。"),
                discussion: t("""
                    Without options, records this month's deposit at the agreed amount. --period pays a \
                    given month, --catch-up pays missed past months, --lump pays a free amount where the \
                    city allows it. Write the printed reference code in the memo of the bank transfer: the \
                    office matches the payment by it. The deposit stays pending until then.
                    """, """
                    不带选项时，按协议金额登记本月缴存。--period 缴存指定月份，--catch-up 补缴以往月份，\
                    --lump 在本市允许时按任意金额缴存。请把显示的识别码填写在银行转账附言中：中心据此核对到账。\
                    核对前缴存处于待确认状态。
                    """))
        }

        @OptionGroup var data: DataOptions
        @OptionGroup var passphrase: PassphraseOptions
        @Option(help: ArgumentHelp(t("The month paid for (default: this month).", "缴存月份（默认：本月）。"), valueName: "YYYY-MM"))
        var period: String?
        @Option(name: .customLong("catch-up"),
                help: ArgumentHelp(t("Past months to catch up, separated by commas.", "要补缴的以往月份，用逗号分隔。"), valueName: "YYYY-MM,…"))
        var catchUp: String?
        @Flag(help: ArgumentHelp(t("A lump-sum deposit of --amount, where the policy allows it.", "按 --amount 金额灵活缴存（政策允许时）。")))
        var lump = false
        @Option(help: ArgumentHelp(t("The amount in yuan (for monthly and catch-up it must match the agreement).",
                                     "金额（元；按月缴存和补缴时须与协议一致）。"), valueName: "yuan"))
        var amount: String?
        @Option(help: ArgumentHelp(t("An account held on this device, by id (default: your own).", "本设备上的账户 ID（默认：本人账户）。"),
                                   valueName: "id"))
        var account: String?
        @Option(help: ArgumentHelp(t("How you pay: bank-transfer, bank-counter or mobile-banking.", "缴款方式：bank-transfer（银行转账）、bank-counter（银行柜台）或 mobile-banking（手机银行）。"),
                                   valueName: "method"))
        var method: PaymentMethod = .bankTransfer
        @OptionGroup var format: FormatOptions

        struct Output: Encodable {
            struct PayeeOutput: Encodable {
                let bank, accountName, accountNumber: String
                let note: String?
            }
            let deposit, account, kind, method, reference, memo, status, recordedAt: String
            let amountFen: Int64
            let periods: [String]
            let payee: PayeeOutput?
        }

        func validate() throws {
            if [period != nil, catchUp != nil, lump].filter({ $0 }).count > 1 {
                throw ValidationError(t("Give only one of --period, --catch-up and --lump.", "--period、--catch-up 和 --lump 只能选一个。"))
            }
        }

        func run() throws {
            let now = currentInstant()
            let target: DepositRequest.Target
            if let catchUp {
                target = .catchUp(catchUp.split(whereSeparator: { $0 == "," || $0 == "，" || $0 == " " }).map(String.init))
            } else if lump {
                target = .lump
            } else {
                target = .month(period ?? now.shanghaiDate.period.iso)
            }
            let request = DepositRequest(target: target, amount: amount, method: method)
            let device = try data.open()
            let started = ContinuousClock.now
            let deposit = try device.recordDeposit(request, accountID: account, unlock: { try passphrase.unlock(device) }, now: now)
            Timing.report("command", since: started)
            let payee = device.policy.payee
            if format.json {
                try JSONOutput.print(Output(
                    deposit: deposit.id, account: deposit.accountID, kind: deposit.kind.rawValue, method: deposit.method.rawValue,
                    reference: deposit.reference, memo: deposit.reference, status: "pending", recordedAt: deposit.recordedAt.utcISO,
                    amountFen: deposit.amountFen, periods: deposit.periods.map(\.iso),
                    payee: payee.map { .init(bank: $0.bank, accountName: $0.accountName, accountNumber: $0.accountNumber, note: $0.note) }))
                return
            }
            let months = deposit.periods.map(\.iso).joined(separator: ", ")
            Terminal.say(t("Deposit recorded: ", "缴存已登记：") + money(deposit.amountFen) + " · " + deposit.kind.label(language)
                + (months.isEmpty ? "" : " · " + months))
            Terminal.say()
            Terminal.say(t("Transfer slip", "转账凭条"))
            var rows: [[String]] = [[t("Amount", "金额"), money(deposit.amountFen)]]
            if let payee {
                rows += [[t("Payee", "收款人"), payee.accountName], [t("Account number", "收款账号"), payee.accountNumber],
                         [t("Bank", "开户银行"), payee.bank]]
            }
            rows.append([t("Memo", "转账附言"), deposit.reference])
            if let note = payee?.note { rows.append([t("Note", "说明"), note]) }
            for row in rows { Terminal.say("  " + TextTable.pad(row[0], to: 16) + row[1]) }
            Terminal.say()
            if payee == nil {
                Terminal.say(t("The policy names no payee account: ask the office which account to pay into.",
                               "政策未载明收款账户：请向中心询问应转入哪个账户。"))
            }
            Terminal.say(t("Write the reference code in the memo of your bank transfer. The deposit is pending until the office matches it.",
                           "请在银行转账附言中填写识别码。中心核对到账前，本笔缴存为待确认状态。"))
        }
    }

    struct Reverse: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(commandName: "reverse", abstract: t("Reverse a mistaken deposit, by its reference code.", "按识别码冲正错误的缴存。"),
                                 discussion: t("Deposits are never edited or deleted: a reversal is recorded beside it, with the reason.",
                                               "缴存不会被修改或删除：冲正会连同原因另行记录。"))
        }

        @OptionGroup var data: DataOptions
        @OptionGroup var passphrase: PassphraseOptions
        @Argument(help: ArgumentHelp(t("The deposit's reference code.", "缴存识别码。"), valueName: "reference"))
        var reference: String
        @Option(help: ArgumentHelp(t("Why the deposit is reversed.", "冲正原因。"))) var reason: String

        func run() throws {
            let device = try data.open()
            let deposit = try device.reverseDeposit(reference: reference, reason: reason,
                                                    unlock: { try passphrase.unlock(device) }, now: currentInstant())
            Terminal.say(t("Deposit \(deposit.reference) (\(money(deposit.amountFen))) reversed.", "缴存 \(deposit.reference)（\(money(deposit.amountFen))）已冲正。"))
        }
    }
}

struct StatementCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "statement",
                             abstract: t("List the account's deposits with status and running total.", "列出账户的缴存明细、状态和累计金额。"))
    }

    @OptionGroup var data: DataOptions
    @Option(help: ArgumentHelp(t("An account held on this device, by id (default: your own).", "本设备上的账户 ID（默认：本人账户）。"), valueName: "id"))
    var account: String?
    @Flag(help: ArgumentHelp(t("Print JSON for scripts.", "以 JSON 格式输出（供脚本使用）。"))) var json = false
    @Flag(help: ArgumentHelp(t("Print CSV for spreadsheets (UTF-8 with BOM).", "以 CSV 格式输出，供电子表格使用（带 BOM 的 UTF-8）。"))) var csv = false

    func validate() throws {
        if json && csv { throw ValidationError(t("Give --json or --csv, not both.", "--json 和 --csv 只能选一个。")) }
    }

    struct Line: Encodable {
        let date, kind, status, reference, method: String
        let periods: [String]
        let amountFen, runningTotalFen: Int64
        let note: String?
    }

    struct Credit: Encodable {
        let year: Int
        let amountFen: Int64
        let from, to: String
    }

    struct Output: Encodable {
        let account: String
        let lines: [Line]
        let interest: [Credit]
        let totalFen, confirmedFen, pendingFen, interestFen: Int64
        let continuousMonths, continuousConfirmedMonths: Int
    }

    func run() throws {
        let started = ContinuousClock.now
        let today = currentInstant().shanghaiDate
        let device = try data.open()
        let (account, statement) = try device.statement(accountID: self.account, today: today)
        let credits = try device.interestCredits(accountID: account.id)
        let interestFen = credits.reduce(0) { $0 + $1.amountFen }
        if json {
            try JSONOutput.print(Output(
                account: account.id,
                lines: statement.lines.map {
                    Line(date: $0.deposit.recordedAt.shanghaiDate.iso, kind: $0.deposit.kind.rawValue, status: $0.status.rawValue,
                         reference: $0.deposit.reference, method: $0.deposit.method.rawValue, periods: $0.deposit.periods.map(\.iso),
                         amountFen: $0.deposit.amountFen, runningTotalFen: $0.runningTotalFen, note: $0.note)
                },
                interest: credits.map { Credit(year: $0.year, amountFen: $0.amountFen, from: $0.from.iso, to: $0.to.iso) },
                totalFen: statement.totalFen, confirmedFen: statement.confirmedFen, pendingFen: statement.pendingFen, interestFen: interestFen,
                continuousMonths: statement.continuousMonths, continuousConfirmedMonths: statement.continuousConfirmedMonths))
        } else if csv {
            var sheet = CSV()
            sheet.add([t("Date", "日期"), t("Months", "缴存月份"), t("Kind", "类型"), t("Amount (yuan)", "金额（元）"),
                       t("Status", "状态"), t("Running total (yuan)", "累计（元）"), t("Reference", "识别码"), t("Note", "备注")])
            for line in statement.lines {
                sheet.add([line.deposit.recordedAt.shanghaiDate.iso, line.deposit.periods.map(\.iso).joined(separator: " "),
                           line.deposit.kind.label(language), Money(fen: line.deposit.amountFen).plain, line.status.label(language),
                           Money(fen: line.runningTotalFen).plain, line.deposit.reference, line.note ?? ""])
            }
            for credit in credits {
                sheet.add([credit.to.iso, "\(credit.from.iso)..\(credit.to.iso)", t("interest", "结息"), Money(fen: credit.amountFen).plain,
                           DepositStatus.confirmed.label(language), "", "", t("annual interest \(credit.year)", "\(credit.year) 年度结息")])
            }
            FileHandle.standardOutput.write(Data(sheet.text.utf8))
        } else {
            Terminal.say(t("Statement of account \(account.id) (\(account.name)) on \(today.iso)",
                           "账户 \(account.id)（\(account.name)）缴存明细，截至 \(today.iso)"))
            Terminal.say()
            if statement.lines.isEmpty {
                Terminal.say(t("No deposits yet. Record one with `provident deposit`.", "尚无缴存。可用 `provident deposit` 登记。"))
            } else {
                var table = TextTable([t("Date", "日期"), t("Months", "缴存月份"), t("Kind", "类型"), t("Amount", "金额"),
                                   t("Status", "状态"), t("Running total", "累计"), t("Reference", "识别码")],
                                  alignments: [.left, .left, .left, .right, .left, .right, .left])
                for line in statement.lines {
                    let months = Self.months(line.deposit.periods)
                    table.add([line.deposit.recordedAt.shanghaiDate.iso, months, line.deposit.kind.label(language),
                               money(line.deposit.amountFen), line.status.label(language) + (line.note.map { " (\($0))" } ?? ""),
                               money(line.runningTotalFen), line.deposit.reference])
                }
                Terminal.say(table.rendered)
            }
            Terminal.say()
            Terminal.say(t("Total:      ", "合计：      ") + money(statement.totalFen)
                + t("  (confirmed \(money(statement.confirmedFen)), pending \(money(statement.pendingFen)))",
                    "（已确认 \(money(statement.confirmedFen))，待确认 \(money(statement.pendingFen))）"))
            for credit in credits {
                Terminal.say(t("Interest \(credit.year): ", "\(credit.year) 年度结息：") + money(credit.amountFen)
                             + t("  (\(credit.from.iso) to \(credit.to.iso), credited on \(credit.to.iso))", "（\(credit.from.iso) 至 \(credit.to.iso),\(credit.to.iso) 入账）"))
            }
            Terminal.say(t("Continuous months paid: \(statement.continuousMonths) (confirmed: \(statement.continuousConfirmedMonths))",
                           "连续缴存月数：\(statement.continuousMonths)（已确认：\(statement.continuousConfirmedMonths)）"))
        }
        Timing.report("command", since: started)
    }

    /// "2026-07 – 2026-09" for a run of months, else the months listed.
    static func months(_ periods: [Period]) -> String {
        guard let first = periods.first, let last = periods.last else { return "—" }
        if periods.count > 2, last.ordinal - first.ordinal == periods.count - 1 { return "\(first.iso) – \(last.iso)" }
        return periods.map(\.iso).joined(separator: ", ")
    }
}

struct BalanceCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "balance",
                             abstract: t("Show confirmed and pending money, and interest projected to the next settlement.",
                                         "显示已确认和待确认金额，以及到下一结息日的预计利息。"))
    }

    @OptionGroup var data: DataOptions
    @OptionGroup var format: FormatOptions
    @Option(help: ArgumentHelp(t("An account held on this device, by id (default: your own).", "本设备上的账户 ID（默认：本人账户）。"), valueName: "id"))
    var account: String?

    struct Output: Encodable {
        let account: String
        let confirmedFen, pendingFen, interestCreditedFen, projectedInterestFen: Int64
        let settlementDate, interestYearStart: String
        let annualRateBasisPoints: Int
    }

    func run() throws {
        let started = ContinuousClock.now
        let today = currentInstant().shanghaiDate
        let device = try data.open()
        let (account, balance) = try device.balance(accountID: self.account, today: today)
        let rate = device.policy.interestBasisPoints
        if format.json {
            try JSONOutput.print(Output(account: account.id, confirmedFen: balance.confirmedFen, pendingFen: balance.pendingFen,
                                        interestCreditedFen: balance.interestCreditedFen, projectedInterestFen: balance.projectedInterestFen, settlementDate: balance.settlementDate.iso,
                                        interestYearStart: balance.interestYearStart.iso, annualRateBasisPoints: rate))
        } else {
            let percent = "\(rate / 100).\(CivilDateText.pad(rate % 100))%"
            Terminal.say(t("Confirmed:  ", "已确认：    ") + money(balance.confirmedFen))
            Terminal.say(t("Pending:    ", "待确认：    ") + money(balance.pendingFen))
            if balance.interestCreditedFen > 0 {
                Terminal.say(t("Interest credited: ", "已结利息：  ") + money(balance.interestCreditedFen))
            }
            Terminal.say(t("Interest to \(balance.settlementDate.iso): ", "至 \(balance.settlementDate.iso) 预计利息：") + money(balance.projectedInterestFen)
                + t("  (\(percent) a year on the confirmed balance, daily balances since \(balance.interestYearStart.iso))",
                    "（按年利率 \(percent)、自 \(balance.interestYearStart.iso) 起已确认余额的日积数计算）"))
        }
        Timing.report("command", since: started)
    }
}

enum CivilDateText {
    static func pad(_ n: Int) -> String { n < 10 ? "0\(n)" : String(n) }
}
