import ArgumentParser
import Foundation
import ProvidentCLIKit
import ProvidentDomain
import ProvidentServer
import ProvidentServerCore
import ProvidentSpreadsheet
import ProvidentSync

/// Reads a file to import and the encoding asked for (nil: detect), or says what is wrong.
func importFile(_ file: String, encoding chosen: TextEncoding?) throws -> (data: Data, encoding: TextEncoding?) {
    guard let data = FileManager.default.contents(atPath: file) else {
        throw AdminFailure(status: 3, message: t("Cannot read \(file); check the path.", "无法读取 \(file)；请检查路径。"))
    }
    return (data, chosen)
}

/// Prints JSON for scripts, in the style both programs share.
func printJSON(_ value: Any) throws {
    print(try JSONOutput.text(object: value))
}

struct UnitsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "units", abstract: t("Import and list employers (单位).", "导入和列出单位。"),
        subcommands: [Import.self, List.self], defaultSubcommand: List.self)

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "import",
            abstract: t("Import an employer list (CSV in UTF-8 or GBK, or .xlsx) from market regulation or pension-insurance data.", "导入来自市场监管或养老保险数据的单位名单（UTF-8 或 GBK 的 CSV，或 .xlsx）。"),
            discussion: t("""
                The header row names the columns, in English or Chinese, in any order:
                  credit_code 统一社会信用代码 (required), name 单位名称, branch 管理部, kind 单位类型,
                  address 地址, contact_name 联系人, contact_phone 联系电话, established 是否建制,
                  employees 职工人数, contributors 缴存人数, pension_insured 养老保险参保人数,
                  last_paid 最后缴存月份 (YYYY-MM), months_in_arrears 欠缴月数.
                A new employer needs its name and branch. For one already held, an empty cell leaves the \
                field as it is; a different branch moves the employer and its records to that branch. Good \
                rows are imported in one transaction; bad rows are reported by line and change nothing. \
                Importing the same file twice changes nothing. Exit status 0 when every row was good, 3 when \
                some were reported.
                """, """
                表头行以英文或中文列名标明各列，顺序不限：
                  credit_code 统一社会信用代码（必填）、name 单位名称、branch 管理部、kind 单位类型、
                  address 地址、contact_name 联系人、contact_phone 联系电话、established 是否建制、
                  employees 职工人数、contributors 缴存人数、pension_insured 养老保险参保人数、
                  last_paid 最后缴存月份（YYYY-MM）、months_in_arrears 欠缴月数。
                新单位须有名称和管理部。已有的单位，空单元格保留原值；管理部不同则把该单位及其记录移到新管理部。\
                正确的行在一个事务中导入；错误的行按行号报告，不做任何更改。同一文件导入两次不做任何更改。\
                全部行正确时退出码为 0，有报告的错误行时为 3。
                """))
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: ArgumentHelp(t("The CSV or .xlsx file.", "CSV 或 .xlsx 文件。"))) var file: String
        @Option(help: ArgumentHelp(t("utf-8 or gbk (default: UTF-8 if the file is valid UTF-8, else GBK).", "utf-8 或 gbk（默认：文件是有效的 UTF-8 时按 UTF-8，否则按 GBK）。"))) var encoding: TextEncoding?
        @Flag(help: ArgumentHelp(t("Check every row and report, but import nothing.", "检查每一行并报告，但不导入。"))) var dryRun = false

        /// Decodes and parses the file (synchronously: typed throws in async code trips the compiler).
        static func read(_ bytes: [UInt8], encoding: TextEncoding?) throws -> ([EmployerRow], [EmployerList.RowProblem], String) {
            do {
                let (table, used) = try OfficeFile.table(bytes, encoding: encoding)
                let read = try EmployerList.rows(of: table, language: language)
                return (read.rows.map { EmployerRow(line: $0.line, form: $0.form) }, read.problems, used?.rawValue ?? "xlsx")
            } catch let error as any ProvidentError {
                throw AdminFailure(status: 3, message: error.message(language) + t(" Nothing was imported.", "未导入任何数据。"))
            }
        }

        func run() async throws {
            let (data, chosen) = try importFile(file, encoding: encoding)
            let (rows, problems, encodingUsed) = try Self.read(Array(data), encoding: chosen)
            var report = try await options.withCore { try await $0.importEmployers(rows, language: language, dryRun: dryRun) }
            report.errors += problems.map { .init(line: $0.line, code: "import.row", message: $0.message) }
            report.errors.sort { $0.line < $1.line }
            print(t("\(file) (\(encodingUsed)): \(rows.count + problems.count) rows\(dryRun ? ", checked only: nothing was imported" : "").",
                    "\(file)（\(encodingUsed)）：共 \(rows.count + problems.count) 行\(dryRun ? "，仅检查，未导入任何数据" : "")。"))
            print(t("  registered:    \(report.created)", "  新登记单位：\(report.created)"))
            print(t("  updated:       \(report.updated)\(report.moved > 0 ? " (\(report.moved) moved to another branch)" : "")",
                    "  更新单位：  \(report.updated)\(report.moved > 0 ? "（其中 \(report.moved) 个转到其他管理部）" : "")"))
            print(t("  unchanged:     \(report.unchanged)", "  无变化：    \(report.unchanged)"))
            if !report.errors.isEmpty {
                print(t("  not imported:  \(report.errors.count)", "  未导入：    \(report.errors.count)"))
                for error in report.errors {
                    print(t("    line \(error.line): \(error.message) [\(error.code)]", "    第 \(error.line) 行：\(error.message) [\(error.code)]"))
                }
                print(t("Correct those rows and import the file again: rows already imported are not imported twice.",
                        "请更正这些行后重新导入该文件：已导入的行不会重复导入。"))
                throw ExitCode(3)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: t("List employers with their status (as of today).", "列出单位及其（今日）状态。"))
        @OptionGroup var options: ConfigurationOptions
        @Option(help: ArgumentHelp(t("Only this branch.", "只列本管理部。"))) var branch: String?
        @Option(help: ArgumentHelp(t("Only this status: normal, in-arrears, stopped, deferred, reduced-rate, not-established.", "只列此状态：normal、in-arrears、stopped、deferred、reduced-rate、not-established。"))) var status: String?
        @Flag(help: ArgumentHelp(t("Print JSON for scripts.", "以 JSON 格式输出（供脚本使用）。"))) var json = false

        func run() async throws {
            let wanted = try status.map { text -> ComplianceStatus in
                guard let value = ComplianceStatus.allCases.first(where: { $0.rawValue.lowercased() == text.replacingOccurrences(of: "-", with: "").lowercased()
                    || $0.label(.chinese) == text }) else {
                    throw AdminFailure(status: 3, message: t("“\(text)” is not a status.", "“\(text)”不是有效状态。"))
                }
                return value
            }
            let listed = try await options.withCore { try await $0.units(branch: branch, today: $0.today) }.filter { wanted == nil || $0.1 == wanted }
            if json {
                try printJSON(listed.map { employer, status in
                    ["creditCode": employer.creditCode, "name": employer.name, "branch": employer.branch, "kind": employer.kind.rawValue,
                     "status": status.rawValue, "employees": employer.employees, "contributors": employer.contributors,
                     "pensionInsured": employer.pensionInsured, "lastPaid": employer.lastPaid?.iso ?? NSNull(),
                     "monthsInArrears": employer.monthsInArrears] as [String: Any]
                })
                return
            }
            if listed.isEmpty { print(t("No employers.", "没有单位。")) }
            printTable([[t("credit code", "统一社会信用代码"), t("name", "单位名称"), t("branch", "管理部"), t("status", "状态"),
                         t("contributors/insured", "缴存/参保"), t("last paid", "最后缴存")]]
                + listed.map { employer, status in
                    [employer.creditCode, employer.name, employer.branch, status.label(language),
                     "\(employer.contributors)/\(employer.pensionInsured)", employer.lastPaid?.iso ?? "-"]
                })
        }
    }
}

struct CampaignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "campaign", abstract: t("Create campaigns to regularise payments and follow their progress.", "创建缴存专项行动并跟踪进度。"),
        subcommands: [Create.self, Show.self], defaultSubcommand: Show.self)

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create",
            abstract: t("Create a campaign: its targets are the employers in arrears or stopped on the cut-off date, per branch.", "创建专项行动：目标为截止日欠缴或停缴的单位，按管理部划分。"),
            discussion: t("""
                Example (the Yangquan plan):
                  provident-server campaign create --name 2026年缴存专项行动 --cutoff 2026-02-28 \\
                    --phase 启动部署:2026-03-01..2026-03-15 --phase 摸底调查:2026-03-16..2026-03-31 \\
                    --phase 集中催缴:2026-04-01..2026-04-30 --phase 整改落实:2026-05-01..2026-06-15 \\
                    --phase 总结:2026-06-16..2026-06-30
                Targets are judged from the employers held when the campaign is created and frozen then; \
                each branch's laptops receive the campaign and their own branch's targets at their next sync.
                """, """
                示例（阳泉方案）：
                  provident-server campaign create --name 2026年缴存专项行动 --cutoff 2026-02-28 \\
                    --phase 启动部署:2026-03-01..2026-03-15 --phase 摸底调查:2026-03-16..2026-03-31 \\
                    --phase 集中催缴:2026-04-01..2026-04-30 --phase 整改落实:2026-05-01..2026-06-15 \\
                    --phase 总结:2026-06-16..2026-06-30
                目标按创建专项行动时持有的单位判定并就此固定；各管理部的电脑在下次同步时收到专项行动及本管理部的目标。
                """))
        @OptionGroup var options: ConfigurationOptions
        @Option(help: ArgumentHelp(t("The campaign's name.", "专项行动名称。"))) var name: String
        @Option(help: ArgumentHelp(t("The cut-off date (YYYY-MM-DD).", "截止日期（YYYY-MM-DD）。"))) var cutoff: String
        @Option(help: ArgumentHelp(t("A phase, NAME:YYYY-MM-DD..YYYY-MM-DD; repeat in order.", "一个阶段，格式 名称:YYYY-MM-DD..YYYY-MM-DD；按顺序每个阶段一次。"))) var phase: [String] = []

        static func parse(cutoff: String, phases: [String]) throws -> (CivilDate, [CampaignPhase]) {
            (try CivilDate.typed(cutoff), try phases.map { text throws(DomainError) in try CampaignPhase(typed: text) })
        }

        func run() async throws {
            let (cutoffDate, phases) = try Self.parse(cutoff: cutoff, phases: phase)
            let (campaign, targets) = try await options.withCore { try await $0.createCampaign(name: name, cutoff: cutoffDate, phases: phases) }
            print(t("Campaign \(campaign.id) “\(campaign.name)”, cut-off \(campaign.cutoff.iso), \(campaign.phases.count) phases.",
                    "专项行动 \(campaign.id)“\(campaign.name)”，截止日期 \(campaign.cutoff.iso)，共 \(campaign.phases.count) 个阶段。"))
            let total = targets.values.reduce(0) { $0 + $1.count }
            print(t("Targets (in arrears or stopped on \(campaign.cutoff.iso)): \(total)", "目标单位（截至 \(campaign.cutoff.iso) 欠缴或停缴）：\(total)"))
            for branch in targets.keys.sorted() { print("  \(branch): \(targets[branch]?.count ?? 0)") }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: t("Show each campaign's progress per branch and phase (all campaigns without an id).", "按管理部和阶段查看专项行动进度（不带编号时列出全部）。"))
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: ArgumentHelp(t("The campaign id.", "专项行动编号。"))) var campaign: String?
        @Flag(help: ArgumentHelp(t("Print JSON for scripts.", "以 JSON 格式输出（供脚本使用）。"))) var json = false

        func run() async throws {
            var all = try await options.withCore { try await $0.campaignProgress(today: $0.today) }
            if let campaign {
                all = all.filter { $0.0.id == campaign }
                guard !all.isEmpty else { throw AdminFailure(status: 4, message: DomainError.campaignNotFound(campaign).message(language)) }
            }
            if json {
                try printJSON(all.map { campaign, progress in campaignJSON(campaign, progress) })
                return
            }
            if all.isEmpty { print(t("No campaigns yet; create one with `provident-server campaign create`.", "尚无专项行动；可用 `provident-server campaign create` 创建。")) }
            for (campaign, progress) in all { printCampaign(campaign, progress) }
        }
    }
}

/// A campaign and its progress, for scripts.
func campaignJSON(_ campaign: Campaign, _ progress: [CampaignProgress]) -> [String: Any] {
    ["id": campaign.id, "name": campaign.name, "cutoff": campaign.cutoff.iso,
     "phases": campaign.phases.map { ["name": $0.name, "from": $0.from.iso, "to": $0.to.iso] },
     "branches": progress.map { p in
         ["branch": p.branch, "targets": p.targets, "surveyed": p.surveyed, "letterServed": p.letterServed,
          "interviewed": p.interviewed, "complied": p.complied, "applied": p.applied, "refused": p.refused,
          "phases": p.phases.map { ["phase": $0.phase, "visited": $0.visited, "letterServed": $0.letterServed,
                                    "interviewed": $0.interviewed, "applied": $0.applied] }] as [String: Any]
     }]
}

/// A campaign and its progress, for people.
func printCampaign(_ campaign: Campaign, _ progress: [CampaignProgress]) {
    print("\(campaign.name)  [\(campaign.id)]  " + t("cut-off ", "截止日期 ") + campaign.cutoff.iso)
    for phase in campaign.phases { print("  \(phase.name)  \(phase.from.iso) – \(phase.to.iso)") }
    let header = [t("branch", "管理部"), t("targets", "目标"), t("surveyed", "已摸底"), t("letter served", "已送达"),
                  t("interviewed", "已约谈"), t("complied", "已整改"), t("applied", "已申请"), t("refused", "拒绝")]
    var rows = [header]
    for p in progress {
        rows.append([p.branch, "\(p.targets)", "\(p.surveyed)", "\(p.letterServed)", "\(p.interviewed)", "\(p.complied)", "\(p.applied)", "\(p.refused)"])
    }
    if progress.isEmpty { print(t("  No targets: no employer was in arrears or stopped on the cut-off date.", "  无目标单位：截止日期时没有欠缴或停缴的单位。")) }
    else { printTable(rows) }
}

struct ApplicationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "application", abstract: t("Review employers' applications to defer or lower their rate.", "审核单位的缓缴或降低缴存比例申请。"),
        subcommands: [List.self, Decide.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: t("List applications (only those awaiting a decision with --pending).", "列出申请（加 --pending 只列待审核的）。"))
        @OptionGroup var options: ConfigurationOptions
        @Flag(help: ArgumentHelp(t("Only applications awaiting a decision.", "只列待审核的申请。"))) var pending = false
        @Flag(help: ArgumentHelp(t("Print JSON for scripts.", "以 JSON 格式输出（供脚本使用）。"))) var json = false

        func run() async throws {
            let listed = try await options.withCore { try await $0.applications() }.filter { !pending || $0.1 == nil }
            if json {
                try printJSON(listed.map { application, decision, employer in
                    applicationJSON(application, decision, employer)
                })
                return
            }
            if listed.isEmpty { print(pending ? t("No application awaits a decision.", "没有待审核的申请。") : t("No applications.", "没有申请。")) }
            for (application, decision, employer) in listed {
                print(describeApplication(application, decision, employer))
            }
        }
    }

    struct Decide: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "decide",
            abstract: t("Approve or reject an application, with the reason; the decision syncs to the branch's laptops.", "批准或驳回申请并写明理由；审核结果同步到该管理部的电脑。"))
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: ArgumentHelp(t("The application id.", "申请编号。"))) var application: String
        @Flag(help: ArgumentHelp(t("Approve it.", "批准。"))) var approve = false
        @Flag(help: ArgumentHelp(t("Reject it.", "驳回。"))) var reject = false
        @Option(help: ArgumentHelp(t("Why (required either way).", "理由（两种情况都须填写）。"))) var reason: String

        func validate() throws {
            guard approve != reject else { throw ValidationError(t("Give --approve or --reject.", "请给出 --approve 或 --reject。")) }
        }

        func run() async throws {
            let id = application, verdict: ApplicationDecision.Verdict = approve ? .approved : .rejected
            let (decided, decision) = try await options.withCore { try await $0.decideApplication(id, verdict: verdict, reason: reason) }
            print(t("Application \(decided.id) \(decision.verdict.label(.english)).", "申请 \(decided.id) \(decision.verdict.label(.chinese))。"))
            if decision.verdict == .approved {
                print(t("The employer is \(decided.kind.label(.english)) from \(decided.from.iso) to \(decided.through.iso).",
                        "该单位 \(decided.from.iso) 至 \(decided.through.iso) \(decided.kind.label(.chinese))。"))
            }
        }
    }
}

func applicationJSON(_ application: ReliefApplication, _ decision: ApplicationDecision?, _ employer: Employer?) -> [String: Any] {
    var row: [String: Any] = [
        "id": application.id, "unit": application.unitID, "kind": application.kind.rawValue, "from": application.from.iso,
        "through": application.through.iso, "months": application.months, "submittedOn": application.submittedOn.iso,
        "resolution": ["body": application.resolution.body.rawValue, "date": application.resolution.date.iso,
                       "votesFor": application.resolution.votesFor, "votesCast": application.resolution.votesCast],
        "notice": ["from": application.noticeFrom.iso, "to": application.noticeTo.iso], "documents": application.documents,
    ]
    row["employer"] = employer?.name
    row["employerRatePercent"] = application.employerRateBasisPoints.map { $0 / 100 }
    row["employeeRatePercent"] = application.employeeRateBasisPoints.map { $0 / 100 }
    if let decision { row["decision"] = ["verdict": decision.verdict.rawValue, "reason": decision.reason, "decidedAt": decision.decidedAt.utcISO] }
    return row
}

func describeApplication(_ application: ReliefApplication, _ decision: ApplicationDecision?, _ employer: Employer?) -> String {
    var rates = ""
    if let employerRate = application.employerRateBasisPoints, let employeeRate = application.employeeRateBasisPoints {
        rates = t(" to \(employerRate / 100)% + \(employeeRate / 100)%", " 至单位 \(employerRate / 100)% + 职工 \(employeeRate / 100)%")
    }
    let state = decision.map { "\($0.verdict.label(language)): \($0.reason)" } ?? t("awaiting decision", "待审核")
    return """
        \(application.id)  \(employer?.name ?? application.unitID)  \(application.kind.label(language))\(rates)  \(application.from.iso)–\(application.through.iso)
          \(t("resolution", "决议")): \(application.resolution.body.label(language)) \(application.resolution.date.iso), \(application.resolution.votesFor)/\(application.resolution.votesCast) \(t("for", "票赞成"));  \(t("notice", "公示")) \(application.noticeFrom.iso)–\(application.noticeTo.iso);  \(t("submitted", "提交")) \(application.submittedOn.iso)
          \(state)
        """
}
