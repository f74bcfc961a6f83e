import ArgumentParser
import Foundation
import ProvidentCLIKit
import ProvidentCrypto
import ProvidentDomain
import ProvidentServer
import ProvidentServerCore
import ProvidentSpreadsheet
import ProvidentSync

#if canImport(Glibc)
import Glibc
#endif

struct ReconcileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile", abstract: t("Match deposits against the bank statement, and confirm or reject them.", "将缴存与银行对账单核对，并确认或驳回。"),
        subcommands: [Import.self, List.self, Show.self, Confirm.self, Reject.self, Dismiss.self], defaultSubcommand: List.self)

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "import",
            abstract: t("Import a bank statement (CSV in UTF-8 or GBK, or .xlsx) and match its lines to deposits.", "导入银行对账单（UTF-8 或 GBK 的 CSV，或 .xlsx），并将流水与缴存匹配。"),
            discussion: t("""
                The header row names the columns, in English or Chinese, in any order: date 交易日期 or 交易时间 \
                or 记账日期 (a time after the date is fine), amount 金额 or else credit 贷方发生额 or 收入金额 with \
                debit 借方发生额 or 支出金额, payer_name 付款人名称 or 对方户名, payer_account 付款人账号 or 对方账号, \
                memo 摘要 with any of 附言 and 用途 and 备注 read too, and optionally serial 交易流水号. A balance \
                column is ignored. \
                A bank's title rows above the header, total rows (合计, 小计, 总计, 本页合计), blank rows and \
                debits (fees: only credits can be deposits) are skipped and counted. Amounts may carry ¥ and \
                thousands separators; dates may be 2026-11-03, 2026/11/03, 20261103 or a spreadsheet's date. \
                A statement is imported whole or not at all: if any other row is malformed, every bad row is \
                reported by line and nothing is imported. --dry-run shows what would happen and changes nothing.
                Matching, in order: the payment reference code in the memo (its check character verified); \
                then the one open deposit with the same amount, recorded within the window of the bank date, \
                whose holder's name is the payer's; then by hand (`reconcile confirm LINE --deposit CODE`). \
                Each match confirms its deposit with an outcome signed by the office key: the worker's next \
                sync shows it confirmed. Lines already imported (the same file again, or an overlapping \
                statement) are recognised and counted once.
                """, """
                表头行以英文或中文列名标明各列，顺序不限：date 交易日期（或交易时间、记账日期；日期后可带时间）、\
                amount 金额 或 credit 贷方发生额/收入金额 与 debit 借方发生额/支出金额、payer_name 付款人名称/对方户名、\
                payer_account 付款人账号/对方账号、memo 摘要（附言、用途、备注也一并读取），可选 serial 交易流水号；\
                余额列不读取。表头上方的银行标题行、合计行（合计、小计、总计、本页合计）、空行和支出（手续费等：\
                只有收入才可能是缴存）会被跳过并计数。金额可带 ¥ 和千位分隔符；日期可写作 2026-11-03、\
                2026/11/03、20261103 或表格日期。对账单整体导入或不导入：只要其他行有格式错误，就按行号报告\
                每个错误行，什么也不导入。--dry-run 只显示将会发生什么，不做任何更改。
                匹配顺序：先按摘要中的缴存识别码（核验校验位）；再按同金额、在银行日期窗口内登记、持有人姓名\
                与付款人相同的唯一一笔待确认缴存；最后手工匹配（`reconcile confirm 行号 --deposit 识别码`）。\
                每次匹配都以中心密钥签名的结果确认该笔缴存：缴存人下次同步即显示已确认。已导入过的流水\
                （同一文件再次导入，或重叠的对账单）会被识别，只计一次。
                """))
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: ArgumentHelp(t("The statement file.", "对账单文件。"))) var file: String
        @Option(help: ArgumentHelp(t("utf-8 or gbk (default: UTF-8 if valid, else GBK).", "utf-8 或 gbk（默认：有效的 UTF-8 时按 UTF-8，否则按 GBK）。"))) var encoding: TextEncoding?
        @Option(help: ArgumentHelp(t("Days a bank date may be from the day a deposit was recorded (default: reconciliation.windowDays, 10).", "银行日期与缴存登记日可相差的天数（默认：reconciliation.windowDays，10）。")))
        var windowDays: Int?
        @Flag(help: ArgumentHelp(t("Read and match every line and report, but change nothing.", "读取并匹配每一行并报告，但不做任何更改。"))) var dryRun = false

        static func read(_ bytes: [UInt8], encoding: TextEncoding?) throws -> (StatementReading, String) {
            do {
                let (table, used) = try OfficeFile.table(bytes, encoding: encoding)
                return (try BankStatement.read(table, language: language), used?.rawValue ?? "xlsx")
            } catch let error as any ProvidentError {
                throw AdminFailure(status: 3, message: error.message(language) + t(" Nothing was imported.", "未导入任何数据。"))
            }
        }

        func run() async throws {
            let (data, chosen) = try importFile(file, encoding: encoding)
            let (reading, used) = try Self.read(Array(data), encoding: chosen)
            let (lines, problems) = (reading.lines, reading.problems)
            if let skipped = reading.skippedSummary(language) { print(skipped) }
            guard problems.isEmpty else {
                for problem in problems {
                    FileHandle.standardError.write(Data(t("line \(problem.line): \(problem.message)\n", "第 \(problem.line) 行：\(problem.message)\n").utf8))
                }
                throw AdminFailure(status: 3, message: t("\(problems.count) rows of \(file) are malformed (listed above); nothing was imported. Correct them and import the file again.",
                                                         "\(file) 中有 \(problems.count) 行格式有误（见上）；未导入任何数据。请更正后重新导入。"))
            }
            try await options.withCore { core in try await importLines(lines, encoding: used, into: core) }
        }

        func importLines(_ lines: [BankLine], encoding used: String, into core: ServerCore) async throws {
            let window = windowDays ?? core.settings.reconciliationWindowDays
            guard (0...90).contains(window) else { throw AdminFailure(status: 3, message: t("--window-days must be 0 to 90.", "--window-days 须为 0 到 90。")) }
            let report = try await core.importStatement(lines, fileName: (file as NSString).lastPathComponent, windowDays: window, dryRun: dryRun)
            print(t("\(file) (\(used)): \(report.lines) lines\(dryRun ? "; a dry run: nothing was imported or confirmed" : "").",
                    "\(file)（\(used)）：共 \(report.lines) 行\(dryRun ? "；仅试运行：未导入或确认任何内容" : "")。"))
            print(t("  already imported:  \(report.alreadyImported)", "  此前已导入：\(report.alreadyImported)"))
            print(dryRun ? t("  would be confirmed: \(report.confirmed)", "  将匹配确认：\(report.confirmed)")
                         : t("  matched, confirmed: \(report.confirmed)", "  已匹配确认：\(report.confirmed)"))
            print(t("  amount mismatch:   \(report.amountMismatch)", "  金额不符：  \(report.amountMismatch)"))
            print(t("  no deposit:        \(report.noDeposit)", "  无对应缴存：\(report.noDeposit)"))
            print(t("  duplicate payment: \(report.duplicate)", "  重复缴款：  \(report.duplicate)"))
            let missing = try await core.missingPayments(windowDays: window).count
            print(t("Deposits still without a bank line after \(window) days: \(missing).", "登记超过 \(window) 天仍无银行流水的缴存：\(missing) 笔。"))
            if report.amountMismatch + report.noDeposit + report.duplicate + missing > 0 {
                print(t("Review them with `provident-server reconcile list`.", "请用 `provident-server reconcile list` 查看并处理。"))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list",
            abstract: t("List what awaits the office: lines to review and deposits still without a bank line (everything with --all).", "列出待中心处理的事项：待核对的流水和尚无银行流水的缴存（加 --all 列出全部）。"))
        @OptionGroup var options: ConfigurationOptions
        @Option(help: ArgumentHelp(t("confirmed, amount-mismatch, no-deposit, duplicate, rejected, dismissed, or missing (deposits without a bank line).", "confirmed（已确认）、amount-mismatch（金额不符）、no-deposit（无对应缴存）、duplicate（重复）、rejected（已驳回）、dismissed（已搁置）或 missing（无银行流水的缴存）。")))
        var status: String?
        @Flag(help: ArgumentHelp(t("Every line, settled ones too.", "全部流水，包括已处理的。"))) var all = false
        @Flag(help: ArgumentHelp(t("Print JSON for scripts.", "以 JSON 格式输出（供脚本使用）。"))) var json = false

        func run() async throws {
            try await options.withCore { core in try await list(core) }
        }

        func list(_ core: ServerCore) async throws {
            let window = core.settings.reconciliationWindowDays
            let wantMissing = status == nil || status == "missing"
            var lines: [ReconciliationLine] = []
            if status != "missing" {
                let wanted = try status.map { text -> ReconciliationLine.Status in
                    let key = text.replacingOccurrences(of: "-", with: "").lowercased()
                    guard let value = ReconciliationLine.Status.allCases.first(where: { $0.rawValue.lowercased() == key }) else {
                        throw AdminFailure(status: 3, message: t("“\(text)” is not a status.", "“\(text)”不是有效状态。"))
                    }
                    return value
                }
                lines = try await core.reconciliationLines(status: wanted).filter { all || wanted != nil || $0.status.open }
            }
            let missing = wantMissing && !all || status == "missing" ? try await core.missingPayments(windowDays: window) : []
            if json {
                try printJSON(["lines": lines.map(lineJSON), "missing": missing.map { ["reference": $0.deposit.reference, "holder": $0.holder,
                                                                                        "amountFen": $0.deposit.amountFen,
                                                                                        "recordedAt": $0.deposit.recordedAt.utcISO] as [String: Any] }])
                return
            }
            if lines.isEmpty, missing.isEmpty { print(t("Nothing awaits review.", "没有待处理的事项。")) }
            if !lines.isEmpty {
                printTable([[t("line", "编号"), t("bank date", "银行日期"), t("amount", "金额"), t("payer", "付款人"), t("memo", "摘要"),
                             t("status", "状态"), t("deposit", "缴存识别码")]]
                    + lines.map { line in
                        [String(line.id), line.bankLine.date.iso, Money(fen: line.bankLine.amountFen).formatted, line.bankLine.payerName,
                         line.bankLine.memo, line.status.label(language), line.reference ?? (line.candidates.isEmpty ? "-" : t("\(line.candidates.count) possible", "\(line.candidates.count) 笔可能"))]
                    })
            }
            if !missing.isEmpty {
                print(t("Deposits without a bank line after \(window) days (reject with `reconcile reject CODE --reason …`):",
                        "登记超过 \(window) 天仍无银行流水的缴存（可用 `reconcile reject 识别码 --reason …` 退回）："))
                printTable([[t("reference", "识别码"), t("holder", "持有人"), t("amount", "金额"), t("recorded (Beijing)", "登记时间")]]
                    + missing.map { [$0.deposit.reference, $0.holder, Money(fen: $0.deposit.amountFen).formatted, $0.deposit.recordedAt.shanghaiDisplay] })
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: t("Show a bank line: what it says, what it matched and what fits it.", "查看一条银行流水：其内容、已匹配的缴存及可能对应的缴存。"))
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: ArgumentHelp(t("The line number from `reconcile list`.", "`reconcile list` 中的流水行号。"))) var line: Int64

        func run() async throws {
            try await options.withCore { core in try await show(core) }
        }

        func show(_ core: ServerCore) async throws {
            guard let found = try await core.reconciliationLine(line) else {
                throw AdminFailure(status: 4, message: ReconciliationError.lineUnknown(line).message(language))
            }
            let bank = found.bankLine
            print(t("Bank line \(found.id) (statement \(found.statementID), file line \(bank.line))", "银行流水 \(found.id)（对账单 \(found.statementID)，文件第 \(bank.line) 行）"))
            print(t("Date:     ", "日期：    ") + bank.date.iso)
            print(t("Amount:   ", "金额：    ") + Money(fen: bank.amountFen).formatted)
            print(t("Payer:    ", "付款人：  ") + "\(bank.payerName)  \(bank.maskedAccount)")
            print(t("Memo:     ", "摘要：    ") + bank.memo)
            if let serial = bank.serial { print(t("Serial:   ", "流水号：  ") + serial) }
            print(t("Status:   ", "状态：    ") + found.status.label(language) + (found.method.map { " (\($0.label(language)))" } ?? ""))
            if let reference = found.reference { print(t("Deposit:  ", "缴存：    ") + reference) }
            if let note = found.note { print(t("Note:     ", "备注：    ") + MatchResult.NoDepositNote.label(stored: note, language)) }
            let suggestions = try await core.suggestions(forLine: found.id)
            if let best = suggestions.first {
                print(t("Deposits that may be the one, best first:", "可能对应的缴存（最可能的在前）："))
                printTable([[t("reference", "识别码"), t("holder", "持有人"), t("amount", "金额"), t("recorded (Beijing)", "登记时间"), t("why", "依据")]]
                    + suggestions.map { [$0.candidate.deposit.reference, $0.candidate.holder, Money(fen: $0.candidate.deposit.amountFen).formatted,
                                         $0.candidate.deposit.recordedAt.shanghaiDisplay, $0.because(language)] })
                print(t("Confirm it with: provident-server reconcile confirm \(found.id) --deposit \(best.candidate.deposit.reference)",
                        "确认请用：provident-server reconcile confirm \(found.id) --deposit \(best.candidate.deposit.reference)"))
            } else if found.status == .noDeposit {
                print(t("No open deposit fits. If the money is not an HPF payment, set it aside: provident-server reconcile dismiss \(found.id) --reason …",
                        "没有相符的待确认缴存。如该款项不是公积金缴存，请搁置：provident-server reconcile dismiss \(found.id) --reason …"))
            }
        }
    }

    struct Confirm: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "confirm", abstract: t("Confirm by hand the deposit a bank line pays (amounts must be equal).", "手工确认银行流水对应的缴存（金额须相等）。"))
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: ArgumentHelp(t("The line number from `reconcile list`.", "`reconcile list` 中的流水行号。"))) var line: Int64
        @Option(help: ArgumentHelp(t("The deposit's payment reference code, when the memo does not name it.", "缴存识别码（转账附言未写明时填写）。"))) var deposit: String?

        func run() async throws {
            let (_, confirmed) = try await options.withCore { try await $0.confirmLine(line, reference: deposit) }
            print(t("Deposit \(confirmed.reference) confirmed; the worker sees it at the next sync.", "缴存 \(confirmed.reference) 已确认；本人下次同步即可看到。"))
        }
    }

    struct Reject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "reject", abstract: t("Reject a deposit with the reason (no payment came, or the wrong amount).", "驳回一笔缴存并写明理由（未到账或金额不符）。"))
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: ArgumentHelp(t("The deposit's payment reference code.", "缴存识别码。"))) var reference: String
        @Option(help: ArgumentHelp(t("Why; the worker reads it.", "理由；缴存人会看到。"))) var reason: String

        func run() async throws {
            let rejected = try await options.withCore { try await $0.rejectDeposit(reference: reference, reason: reason) }
            print(t("Deposit \(rejected.reference) rejected; the worker sees the reason at the next sync.", "缴存 \(rejected.reference) 已退回；本人下次同步即可看到原因。"))
        }
    }

    struct Dismiss: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "dismiss", abstract: t("Set a bank line aside with the reason (refunded, not an HPF payment…).", "搁置一条银行流水并写明理由（已退回、非公积金款项等）。"))
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: ArgumentHelp(t("The line number.", "流水行号。"))) var line: Int64
        @Option(help: ArgumentHelp(t("Why.", "理由。"))) var reason: String

        func run() async throws {
            _ = try await options.withCore { try await $0.dismissLine(line, reason: reason) }
            print(t("Bank line \(line) set aside.", "银行流水 \(line) 已处理。"))
        }
    }
}

func lineJSON(_ line: ReconciliationLine) -> [String: Any] {
    var row: [String: Any] = ["id": line.id, "statement": line.statementID, "fileLine": line.bankLine.line, "date": line.bankLine.date.iso,
                              "amountFen": line.bankLine.amountFen, "payerName": line.bankLine.payerName,
                              "payerAccount": line.bankLine.maskedAccount, "memo": line.bankLine.memo, "status": line.status.rawValue,
                              "candidates": line.candidates.count]
    row["reference"] = line.reference
    row["method"] = line.method?.rawValue
    row["note"] = line.note
    return row
}

struct InterestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interest", abstract: t("Settle the annual interest (结息).", "办理年度结息。"),
        subcommands: [Settle.self])

    struct Settle: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "settle",
            abstract: t("Credit every account's interest for the year ending on this year's settlement day.", "为每个账户记入截至本年结息日的年度利息。"),
            discussion: t("""
                Daily-balance accumulation (积数计息): each confirmed deposit counts from the bank's date \
                (or the start of the interest year) to the settlement day, earlier interest from the day \
                after it was credited; interest = Σ amount × days × annual rate ÷ 360, rounded half-up to \
                the fen. One insert-only interest fact per account, signed by the office key; running it \
                again for the same year changes nothing. Settle after the year's bank statements are reconciled: \
                deposits confirmed later are not counted in a year already settled.
                """, """
                积数计息：每笔已确认的缴存从银行日期（或计息年度起始日）计至结息日，以前的利息从记入次日起计；\
                利息 = Σ 金额 × 天数 × 年利率 ÷ 360，四舍五入到分。每个账户一条只增的利息记录，由中心密钥签名；\
                同一年度再次运行不做任何更改。请在本年度银行对账单核对完毕后结息：之后才确认的缴存不计入已结息的年度。
                """))
        @OptionGroup var options: ConfigurationOptions
        @Option(help: ArgumentHelp(t("The settlement year (the interest year ends on its settlement day, 30 June by default).", "结息年度（计息年度截至该年结息日，默认 6 月 30 日）。"))) var year: Int

        func run() async throws {
            let report = try await options.withCore { try await $0.settleInterest(year: year) }
            print(t("Interest year \(report.from.iso) to \(report.to.iso):", "结息年度 \(report.from.iso) 至 \(report.to.iso):"))
            print(t("  accounts credited:  \(report.credited), total \(Money(fen: report.totalFen).formatted)",
                    "  本次结息账户：\(report.credited) 户，合计 \(Money(fen: report.totalFen).formatted)"))
            print(t("  already settled:    \(report.alreadySettled)", "  此前已结息：  \(report.alreadySettled) 户"))
            print(t("  nothing to credit:  \(report.nothingToCredit)", "  无利息：      \(report.nothingToCredit) 户"))
        }
    }
}

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: t("The reports the policy documents ask for, for people, spreadsheets (CSV) or scripts (JSON).", "政策文件要求的报表：供人阅读、供表格软件（CSV）或脚本（JSON）使用。"),
        discussion: t("""
            coverage   HPF contributors against pension-insured employees, per branch and per employer
            arrears    employers in arrears or stopped on --as-of: the summary (汇总表) and detail (明细表) tables
            campaign   campaign progress per branch and per phase
            enrolment  flexible-employment accounts by category and channel, deposits per month, share reconciled
            conflicts  conflicts awaiting review
            CSV files are UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese text.
            """, """
            coverage   按管理部和单位统计公积金缴存人数与养老保险参保人数之比
            arrears    截至 --as-of 欠缴或停缴的单位：汇总表和明细表
            campaign   按管理部和阶段统计专项行动进度
            enrolment  按类别和渠道统计灵活就业人员账户、每月缴存及已核对比例
            conflicts  待处理的冲突
            CSV 文件为带 BOM 的 UTF-8，表格软件可正确显示中文。
            """))
    @OptionGroup var options: ConfigurationOptions
    @Argument(help: ArgumentHelp(t("coverage, arrears, campaign, enrolment or conflicts.", "coverage（覆盖率）、arrears（欠缴停缴）、campaign（专项行动）、enrolment（灵活就业缴存）或 conflicts（冲突）。"))) var name: ReportName
    @Option(name: .customLong("as-of"), help: ArgumentHelp(t("The day the report is as of (default today).", "报表截至日期（默认今天）。"))) var asOf: String?
    @Flag(help: ArgumentHelp(t("Print JSON.", "以 JSON 格式输出。"))) var json = false
    @Flag(help: ArgumentHelp(t("Print one table as CSV (see --table).", "以 CSV 输出一张表（见 --table）。"))) var csv = false
    @Option(help: ArgumentHelp(t("With --csv, which table (default the first).", "与 --csv 一起使用：哪张表（默认第一张）。"))) var table: String?
    @Option(help: ArgumentHelp(t("Write every table as a CSV file into this folder.", "把每张表写成 CSV 文件放入此文件夹。"))) var out: String?

    func validate() throws {
        if [json, csv, out != nil].filter({ $0 }).count > 1 {
            throw ValidationError(t("Give at most one of --json, --csv and --out.", "--json、--csv 和 --out 最多只能给一个。"))
        }
    }

    static func day(_ text: String?) throws -> CivilDate {
        try text.map { text throws(DomainError) in try CivilDate.typed(text) } ?? SyncService.systemNow().shanghaiDate
    }

    func run() async throws {
        let day = try Self.day(asOf)
        let report = try await options.withCore { try await $0.report(name, asOf: day, language: language) }
        if json {
            try printJSON(reportJSON(report))
        } else if csv {
            guard let chosen = table.map({ name in report.tables.first { $0.name == name } }) ?? report.tables.first else {
                throw AdminFailure(status: 3, message: t("The \(report.name) report has the tables \(report.tables.map(\.name).joined(separator: ", ")).",
                                                         "\(report.name) 报表包含以下表格：\(report.tables.map(\.name).joined(separator: "、"))。"))
            }
            FileHandle.standardOutput.write(Data(chosen.csv.utf8))
        } else if let out {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            for table in report.tables {
                let path = (out as NSString).appendingPathComponent("\(report.name)-\(table.name)-\(report.asOf.iso).csv")
                try Data(table.csv.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
                print(path)
            }
        } else {
            print("\(report.title)  " + t("as of ", "截至 ") + report.asOf.iso)
            for table in report.tables {
                print("\n\(table.title)")
                if table.rows.isEmpty { print(t("  (none)", "  （无）")) } else { printTable([table.labels] + table.rows.map { $0.map(\.display) }) }
            }
        }
    }
}

/// A report for scripts: each table's rows as objects keyed by column, numbers as numbers
/// (money in fen, shares in basis points).
func reportJSON(_ report: Report) -> [String: Any] {
    ["report": report.name, "asOf": report.asOf.iso, "tables": report.tables.map { table in
        ["name": table.name, "title": table.title, "rows": table.rows.map { row in
            Dictionary(uniqueKeysWithValues: zip(table.keys, row.map { value -> Any in
                switch value {
                case let .text(text): text
                case let .count(count): count
                case let .money(fen): fen
                case let .share(basisPoints): basisPoints.map { $0 as Any } ?? NSNull()
                }
            }))
        }] as [String: Any]
    }]
}

struct OfficeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "office", abstract: t("The people who sign in to the dashboard at /office.", "登录 /office 看板的人员。"),
        subcommands: [AddUser.self, DisableUser.self, EnableUser.self, RemoveUser.self, Users.self])

    struct AddUser: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-user", abstract: t("Add a dashboard user; the password is asked without echo (or read from --password-file).", "添加看板用户；密码在终端无回显输入（或从 --password-file 读取）。"))
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: ArgumentHelp(t("The user name.", "用户名。"))) var name: String
        @Option(help: ArgumentHelp(t("Read the password from the first line of this file (for scripts).", "从此文件第一行读取密码（供脚本使用）。"))) var passwordFile: String?

        func run() async throws {
            let password: SecretBytes
            if let passwordFile {
                guard let text = try? String(contentsOfFile: passwordFile, encoding: .utf8) else {
                    throw AdminFailure(status: 3, message: t("Cannot read \(passwordFile).", "无法读取 \(passwordFile)。"))
                }
                password = SecretBytes(utf8: String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? ""))
            } else {
                guard let first = getpass(t("Password: ", "密码：")).map({ String(cString: $0) }),
                      let second = getpass(t("Again: ", "再次输入：")).map({ String(cString: $0) }) else {
                    throw AdminFailure(status: 3, message: t("No terminal to ask the password on; use --password-file.", "没有终端可以输入密码；请使用 --password-file。"))
                }
                guard first == second else { throw AdminFailure(status: 3, message: t("The two passwords differ.", "两次输入的密码不一致。")) }
                password = SecretBytes(utf8: first)
            }
            try await options.withCore { try await $0.addOfficeUser(name, password: password) }
            print(t("User \(name) added; sign in at /office.", "已添加用户 \(name)；可在 /office 登录。"))
        }
    }

    struct RemoveUser: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove-user", abstract: t("Remove a dashboard user and end their sessions.", "删除看板用户并结束其会话。"))
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: ArgumentHelp(t("The user name.", "用户名。"))) var name: String

        func run() async throws {
            try await options.withCore { try await $0.removeOfficeUser(name) }
            print(t("User \(name) removed.", "已删除用户 \(name)。"))
        }
    }

    struct DisableUser: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "disable-user", abstract: t("Stop a dashboard user signing in and end their sessions; their name and what they did stay.", "停用看板用户并结束其会话；用户名及其操作记录保留。"))
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: ArgumentHelp(t("The user name.", "用户名。"))) var name: String

        func run() async throws {
            try await options.withCore { try await $0.setOfficeUserDisabled(name, true) }
            print(t("User \(name) disabled; enable again with `provident-server office enable-user \(name)`.", "已停用用户 \(name)；可用 `provident-server office enable-user \(name)` 重新启用。"))
        }
    }

    struct EnableUser: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "enable-user", abstract: t("Let a disabled dashboard user sign in again.", "重新启用已停用的看板用户。"))
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: ArgumentHelp(t("The user name.", "用户名。"))) var name: String

        func run() async throws {
            try await options.withCore { try await $0.setOfficeUserDisabled(name, false) }
            print(t("User \(name) may sign in again.", "用户 \(name) 可以重新登录。"))
        }
    }

    struct Users: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "users", abstract: t("List dashboard users.", "列出看板用户。"))
        @OptionGroup var options: ConfigurationOptions

        func run() async throws {
            let users = try await options.withCore { try await $0.officeUsers() }
            if users.isEmpty { print(t("No users yet; add one with `provident-server office add-user NAME`.", "尚无用户；可用 `provident-server office add-user 用户名` 添加。")) }
            for user in users {
                print("\(user.name)  \(user.createdAt.shanghaiDisplay)" + (user.disabledAt.map { t("  disabled \($0.shanghaiDisplay)", "  已于 \($0.shanghaiDisplay) 停用") } ?? ""))
            }
        }
    }
}

extension ReportName: ExpressibleByArgument {}
