import ArgumentParser
import Foundation
import ProvidentCLIKit
import ProvidentClient
import ProvidentDomain

// MARK: Employers

struct UnitCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "unit", abstract: t("List, search and show employers (staff laptops).", "列出、搜索和查看单位（工作人员电脑）。"),
                             discussion: t("A field laptop holds its own branch's employers only.", "外勤电脑只保存本管理部的单位。"),
                             subcommands: [List.self, Search.self, Show.self, Register.self], defaultSubcommand: List.self)
    }

    struct Row: Encodable {
        let creditCode, name, branch, kind, status: String
        let established: Bool
        let employees, contributors, pensionInsured, monthsInArrears: Int
        /// Months owed today: the figure the office's reports show too.
        let monthsOwed: Int
        let lastPaid: String?
        let coverageBasisPoints: Int?

        init(_ employer: Employer, _ status: ComplianceStatus) {
            creditCode = employer.creditCode
            name = employer.name
            branch = employer.branch
            kind = employer.kind.typed
            self.status = status.rawValue
            established = employer.established
            employees = employer.employees
            contributors = employer.contributors
            pensionInsured = employer.pensionInsured
            monthsInArrears = employer.monthsInArrears
            monthsOwed = employer.monthsOwed(asOf: currentInstant().shanghaiDate)
            lastPaid = employer.lastPaid?.iso
            coverageBasisPoints = employer.coverageBasisPoints
        }
    }

    static func table(_ listed: [(employer: Employer, status: ComplianceStatus)]) {
        Terminal.table([[t("credit code", "统一社会信用代码"), t("name", "单位名称"), t("status", "状态"), t("paying/insured", "缴存/参保"),
                         t("last paid", "最后缴存")]]
            + listed.map { [$0.employer.creditCode, $0.employer.name, $0.status.label(language),
                            "\($0.employer.contributors)/\($0.employer.pensionInsured)", $0.employer.lastPaid?.iso ?? "-"] })
    }

    struct List: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(commandName: "list", abstract: t("List the employers on this laptop with their status today.", "列出本机上的单位及其当前状态。"))
        }

        @OptionGroup var data: DataOptions
        @OptionGroup var format: FormatOptions
        @Option(help: ArgumentHelp(t("Only this status: normal, in-arrears, stopped, deferred, reduced-rate, not-established.",
                                     "只列出此状态：normal（正常）、in-arrears（欠缴）、stopped（停缴）、deferred（缓缴）、reduced-rate（降比例）、not-established（未建制）。")))
        var status: ComplianceStatus?

        func run() throws {
            let listed = try data.open().employers().filter { status == nil || $0.status == status }
            if format.json { return try JSONOutput.print(listed.map { Row($0.employer, $0.status) }) }
            if listed.isEmpty {
                Terminal.say(t("No employers on this laptop yet: they arrive with `provident sync` once the office has imported its lists.",
                               "本机尚无单位：中心导入单位名单后，用 `provident sync` 同步即可获得。"))
                return
            }
            UnitCommand.table(listed)
            Terminal.say(t("\(listed.count) employers.", "共 \(listed.count) 个单位。"))
        }
    }

    struct Search: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(commandName: "search", abstract: t("Find employers by part of the name or address, or the start of the credit code.",
                                             "按名称或地址的一部分、或统一社会信用代码开头查找单位。"))
        }

        @OptionGroup var data: DataOptions
        @OptionGroup var format: FormatOptions
        @Argument(help: ArgumentHelp(t("What to look for.", "查找内容。"))) var text: String

        func run() throws {
            let found = try data.open().searchEmployers(text)
            if format.json { return try JSONOutput.print(found.map { Row($0.employer, $0.status) }) }
            if found.isEmpty {
                Terminal.say(t("No employer on this laptop matches “\(text)”.", "本机上没有与“\(text)”匹配的单位。"))
                return
            }
            UnitCommand.table(found)
        }
    }

    /// ", 6 months owed", or nothing when nothing is owed.
    static func owed(_ months: Int) -> String {
        months > 0 ? t(", \(months) months owed", "，欠缴 \(months) 个月") : ""
    }

    struct Show: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(commandName: "show", abstract: t("Show an employer: its figures, status, visits and applications.", "查看单位：基本情况、状态、走访和申请。"))
        }

        @OptionGroup var data: DataOptions
        @OptionGroup var format: FormatOptions
        @Argument(help: ArgumentHelp(t("The unified social credit code.", "统一社会信用代码。"))) var creditCode: String
        @Flag(help: ArgumentHelp(t("Show full phone numbers.", "显示完整电话号码。"))) var reveal = false

        struct Output: Encodable {
            let employer: Row
            let address, contactName, contactPhone: String?
            let visits: [String]
            let applications: [String]
        }

        func run() throws {
            let file = try data.open().employerFile(creditCode: creditCode, today: currentInstant().shanghaiDate)
            let employer = file.employer
            let phone = employer.contact?.phone.map { reveal ? $0 : ContactPhone.mask($0) }
            if format.json {
                return try JSONOutput.print(Output(employer: Row(employer, file.status), address: employer.address,
                                                   contactName: employer.contact?.name, contactPhone: phone,
                                                   visits: file.visits.map(\.id), applications: file.applications.map(\.id)))
            }
            Terminal.say(employer.name + "  " + employer.creditCode)
            Terminal.say(t("Branch:        ", "管理部：      ") + employer.branch)
            Terminal.say(t("Kind:          ", "单位类型：    ") + employer.kind.label(language))
            if let address = employer.address { Terminal.say(t("Address:       ", "地址：        ") + address) }
            if let contact = employer.contact {
                Terminal.say(t("Contact:       ", "联系人：      ") + [contact.name, phone].compactMap { $0 }.joined(separator: "  "))
            }
            Terminal.say(t("Status today:  ", "当前状态：    ") + file.status.label(language))
            Terminal.say(t("Scheme:        ", "建制情况：    ") + (employer.established ? t("established", "已建制") : t("not established", "未建制")))
            Terminal.say(t("Employees:     ", "职工人数：    ") + "\(employer.employees)")
            let coverage = employer.coverageBasisPoints.map { String(format: "%.1f%%", Double($0) / 100) } ?? "-"
            Terminal.say(t("Paying HPF:    ", "缴存人数：    ") + "\(employer.contributors) / \(employer.pensionInsured)"
                         + t("pension-insured (coverage \(coverage))", "养老参保（覆盖率 \(coverage)）"))
            Terminal.say(t("Last paid:     ", "最后缴存：    ") + (employer.lastPaid?.iso ?? t("never", "从未缴存"))
                         + UnitCommand.owed(employer.monthsOwed(asOf: currentInstant().shanghaiDate)))
            Terminal.say()
            Terminal.say(t("Visits:", "走访记录："))
            if file.visits.isEmpty { Terminal.say(t("  none yet", "  暂无")) }
            for visit in file.visits {
                Terminal.say("  " + VisitCommand.line(visit, voided: file.voided.contains(visit.id), name: nil))
            }
            Terminal.say(t("Applications:", "申请："))
            if file.applications.isEmpty { Terminal.say(t("  none", "  暂无")) }
            for application in file.applications {
                Terminal.say("  " + ApplicationCommand.line(application, decision: file.decisions[application.id], name: nil))
            }
        }
    }

    struct Register: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(commandName: "register", abstract: t("Register an employer found in the field, in this laptop's branch.", "登记外勤中发现的单位（归本机所属管理部）。"))
        }

        @OptionGroup var data: DataOptions
        @OptionGroup var passphrase: PassphraseOptions
        @Option(name: .customLong("credit-code"), help: ArgumentHelp(t("The unified social credit code.", "统一社会信用代码。"))) var creditCode: String
        @Option(help: ArgumentHelp(t("The employer's name.", "单位名称。"))) var name: String
        @Option(help: ArgumentHelp(t("Kind: state-organ, public-institution, state-owned, collective, private, foreign, social-organisation, individual, other.",
                                     "单位类型：机关、事业单位、国有企业、集体企业、民营企业、外资企业、社会组织、个体工商户、其他。"))) var kind: EmployerKind?
        @Option(help: ArgumentHelp(t("Address.", "地址。"))) var address: String?
        @Option(name: .customLong("contact-name"), help: ArgumentHelp(t("Contact person.", "联系人。"))) var contactName: String?
        @Option(name: .customLong("contact-phone"), help: ArgumentHelp(t("Contact phone.", "联系电话。"))) var contactPhone: String?
        @Option(help: ArgumentHelp(t("Number of employees.", "职工人数。"))) var employees: String?
        @Option(help: ArgumentHelp(t("The branch (office laptops only).", "管理部（仅中心电脑）。"))) var branch: String?

        func run() throws {
            let device = try data.open()
            let employer = try device.registerEmployer(
                EmployerForm(creditCode: creditCode, name: name, branch: branch, kind: kind?.typed, address: address, contactName: contactName,
                             contactPhone: contactPhone, employees: employees),
                unlock: { try passphrase.unlock(device) }, now: currentInstant())
            Terminal.say(t("Employer registered: \(employer.name) (\(employer.creditCode)), branch \(employer.branch).",
                           "单位已登记：\(employer.name)（\(employer.creditCode)），管理部 \(employer.branch)。"))
        }
    }
}

// MARK: Visits

struct VisitCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "visit", abstract: t("Record, list, show and void visits (outreach staff).", "登记、列出、查看和作废走访记录（外勤人员）。"),
                             subcommands: [Record.self, List.self, Show.self, VoidVisit.self], defaultSubcommand: List.self)
    }

    static func line(_ visit: Visit, voided: Bool, name: String?) -> String {
        let target = name ?? visit.place.map { "\($0.name) (\($0.kind.label(language)))" } ?? ""
        var parts = [visit.date.iso, visit.purpose.label(language)]
        if !target.isEmpty { parts.append(target) }
        if let outcome = visit.outcome { parts.append(outcome.label(language)) }
        if !visit.documents.isEmpty { parts.append(visit.documents.map { $0.kind.label(language) }.joined(separator: "、")) }
        return "\(visit.id)  " + parts.joined(separator: "  ") + (voided ? t("  [voided]", "  [已作废]") : "")
    }

    struct Output: Encodable {
        struct Person: Encodable { let name, role: String; let phone: String? }
        struct Document: Encodable { let kind, number: String; let deadline, proof: String? }
        let id, branch, purpose, date, notes, recordedAt: String
        let unit, unitName, place, placeKind, placeAddress, outcome, followUpOn, voidReason: String?
        let staff: [String]
        let persons: [Person]
        let documents: [Document]
        let voided: Bool

        init(_ visit: Visit, voided: Bool, voidReason: String?, name: String?, reveal: Bool) {
            id = visit.id
            branch = visit.branch
            purpose = visit.purpose.typed
            date = visit.date.iso
            notes = visit.notes
            recordedAt = visit.recordedAt.utcISO
            unit = visit.unitID.map { String($0.dropFirst(5)) }
            unitName = name
            place = visit.place?.name
            placeKind = visit.place?.kind.rawValue
            placeAddress = visit.place?.address
            outcome = visit.outcome?.typed
            followUpOn = visit.followUpOn?.iso
            staff = visit.staff
            persons = visit.persons.map { Person(name: $0.name, role: $0.role, phone: $0.phone.map { reveal ? $0 : ContactPhone.mask($0) }) }
            documents = visit.documents.map { Document(kind: $0.kind.typed, number: $0.number, deadline: $0.deadline?.iso, proof: $0.proof) }
            self.voided = voided
            self.voidReason = voidReason
        }
    }

    struct Record: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(commandName: "record",
                abstract: t("Record a visit, offline: promotion, survey, collection or follow-up.", "登记一次走访（可离线）：宣传、摸底、催缴或回访。"),
                discussion: t("""
                    Run in a terminal, it asks for whatever you leave out; otherwise give everything as options. \
                    A collection visit needs at least two staff (--staff once per person) and its outcome; an \
                    order to pay served (--served order-to-pay,NUMBER,DEADLINE[,PROOF]) gives a deadline at \
                    most 30 days later. A field laptop records visits to its own branch's employers only.

                    Example:
                      provident visit record --unit 91410300001001001J --purpose collection \\
                        --staff 张伟 --staff 李娜 --met "王芳,财务负责人,13800138000" \\
                        --notes "单位称资金紧张，同意分期补缴" --served "guidance-letter,洛公积金指〔2026〕12号" \\
                        --outcome agreed-to-pay --follow-up 2026-05-06
                    """, """
                    在终端中运行时，未提供的内容会逐项询问；否则请以选项提供全部内容。催缴走访须至少两名工作人员\
                    (每人一个 --staff)并填写结果;送达责令限期缴存通知书(--served order-to-pay,文号,期限[,送达方式])\
                    时，期限不得超过送达后 30 天。外勤电脑只能登记本管理部单位的走访。

                    示例：
                      provident visit record --unit 91410300001001001J --purpose collection \\
                        --staff 张伟 --staff 李娜 --met "王芳,财务负责人,13800138000" \\
                        --notes "单位称资金紧张，同意分期补缴" --served "guidance-letter,洛公积金指〔2026〕12号" \\
                        --outcome agreed-to-pay --follow-up 2026-05-06
                    """))
        }

        @OptionGroup var data: DataOptions
        @OptionGroup var passphrase: PassphraseOptions
        @Option(help: ArgumentHelp(t("The employer visited, by unified social credit code.", "走访单位的统一社会信用代码。"), valueName: "code"))
        var unit: String?
        @Option(help: ArgumentHelp(t("Or a place visited for promotion (a market, a delivery depot…).", "或宣传走访的场所（市场、配送站点等）。"), valueName: "name"))
        var place: String?
        @Option(name: .customLong("place-kind"), help: ArgumentHelp(t("market, depot, site, park or other.", "市场、站点、工地、园区或其他。")))
        var placeKind: PlaceKind?
        @Option(name: .customLong("place-address"), help: ArgumentHelp(t("The place's address.", "场所地址。"))) var placeAddress: String?
        @Option(help: ArgumentHelp(t("The branch, for a place visit recorded by the office.", "管理部（仅中心登记场所走访时使用）。"))) var branch: String?
        @Option(help: ArgumentHelp(t("promotion, survey, collection or follow-up.", "宣传、摸底、催缴或回访（promotion、survey、collection、follow-up）。")))
        var purpose: VisitPurpose?
        @Option(help: ArgumentHelp(t("The day of the visit (default today).", "走访日期（默认今天）。"), valueName: "YYYY-MM-DD")) var date: String?
        @Option(help: ArgumentHelp(t("A member of staff on the visit; repeat for each.", "参加走访的工作人员；每人一次。"), valueName: "name"))
        var staff: [String] = []
        @Option(help: ArgumentHelp(t("Someone met: \"name,role[,phone]\"; repeat for each.", "接谈人员：\"姓名，职务[，电话]\"；每人一次。"), valueName: "person"))
        var met: [String] = []
        @Option(help: ArgumentHelp(t("Interview notes.", "走访或约谈笔录。"))) var notes: String?
        @Option(help: ArgumentHelp(t("A document served: \"guidance-letter|order-to-pay,NUMBER[,DEADLINE[,PROOF]]\".",
                                     "送达的文书：\"guidance-letter|order-to-pay,文号[,期限[,送达方式]]\"。"), valueName: "document"))
        var served: [String] = []
        @Option(help: ArgumentHelp(t("informed, agreed-to-pay, paid, applying, refused, unit-closed or not-found.",
                                     "已告知、同意缴存、已缴存、拟申请、拒绝、单位已关闭、未找到。"))) var outcome: VisitOutcome?
        @Option(name: .customLong("follow-up"), help: ArgumentHelp(t("When to follow up.", "回访日期。"), valueName: "YYYY-MM-DD")) var followUp: String?

        func validate() throws {
            if unit != nil, place != nil {
                throw ValidationError(t("Give either --unit or --place, not both.", "请填写 --unit 或 --place 之一，不要同时填写。"))
            }
        }

        func run() throws {
            var draft = Draft.start(.visit, in: data.directory)
            draft.stored.visit = VisitAnswers(VisitForm(
                unit: unit, placeName: place, placeKind: placeKind?.typed, placeAddress: placeAddress, branch: branch, purpose: purpose?.typed ?? "",
                date: date, staff: staff, persons: met, notes: notes ?? "", documents: served, outcome: outcome?.typed, followUp: followUp))
            try record(from: draft, resumed: false)
        }

        /// Asks at a terminal for what is missing, keeping every answer in the draft, then
        /// records the visit. The draft goes once the visit is recorded; a wrong passphrase (three
        /// times), a refusal or an interruption leaves it for `provident drafts resume`.
        func record(from initial: Draft, resumed: Bool = true) throws {
            var draft = initial
            var form = draft.stored.visit?.form ?? VisitForm(unit: nil, purpose: "", staff: [])
            let device = try data.open()
            let keeps = Terminal.isInteractive || resumed
            if Terminal.isInteractive {
                ask(&form, policy: device.policy) { answered in
                    draft.stored.visit = VisitAnswers(answered)
                    draft.save()
                }
            }
            guard !form.purpose.isEmpty else {
                throw ValidationError(t("Missing: --purpose (promotion, survey, collection or follow-up).", "缺少：--purpose（宣传、摸底、催缴或回访）。"))
            }
            let visit: Visit
            do {
                visit = try device.recordVisit(form, unlock: { try passphrase.unlock(device) }, now: currentInstant())
            } catch {
                if keeps {
                    let again = RefusedAnswers.forget(error, in: &form)
                    draft.stored.visit = VisitAnswers(form)
                    draft.save()
                    draft.tellKept(asksAgain: again)
                }
                throw error
            }
            draft.discard()
            Terminal.say(t("Visit recorded: ", "走访已登记：") + visit.id)
            Terminal.say("  " + VisitCommand.line(visit, voided: false, name: nil))
            for document in visit.documents {
                Terminal.say("  " + document.kind.label(language) + " " + document.number
                             + (document.deadline.map { t(", deadline ", "，期限 ") + $0.iso } ?? ""))
            }
            Terminal.say(t("It is kept on this laptop and sent with the next `provident sync`.", "已保存在本机，下次 `provident sync` 时上传。"))
        }

        /// Asks on the terminal for what the options left out; an answer that breaks a rule is
        /// explained and asked again, so nothing typed so far is lost.
        func ask(_ form: inout VisitForm, policy: Policy, saved: (VisitForm) -> Void) {
            defer { saved(form) }
            func answer(_ prompt: String) -> String? {
                // Every answer given so far is kept before the next question is asked.
                saved(form)
                guard let text = Terminal.ask(prompt)?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
                return text
            }
            /// Asks until the answer passes `check` (or is left empty, when that is allowed).
            func valid(_ prompt: String, optional: Bool = false, _ check: (String) throws -> Void) -> String? {
                while true {
                    guard let text = answer(prompt) else {
                        if optional { return nil }
                        Terminal.warn(t("  This one is needed.", "  此项必填。"))
                        continue
                    }
                    do {
                        try check(text)
                        return text
                    } catch {
                        Terminal.warn("  " + Failure(error, language: language).message)
                    }
                }
            }
            if form.purpose.isEmpty {
                form.purpose = valid(t("Purpose (promotion, survey, collection, follow-up): ", "走访类型（宣传、摸底、催缴、回访）：")) {
                    _ = try VisitPurpose(typed: $0)
                } ?? ""
            }
            let typedPurpose = try? VisitPurpose(typed: form.purpose)
            if form.unit == nil, form.placeName == nil {
                if typedPurpose == .promotion {
                    form.unit = valid(t("Employer's credit code (or leave empty for a place): ", "单位统一社会信用代码（场所请留空）："), optional: true) {
                        _ = try CreditCode($0)
                    }
                    if form.unit == nil {
                        form.placeName = valid(t("Place name: ", "场所名称：")) { _ in }
                        form.placeKind = valid(t("Kind of place (market, depot, site, park, other): ", "场所类型（市场、站点、工地、园区、其他）：")) {
                            _ = try PlaceKind(typed: $0)
                        }
                        form.placeAddress = answer(t("Address (optional): ", "地址（可不填）："))
                    }
                } else {
                    form.unit = valid(t("Employer's credit code: ", "单位统一社会信用代码：")) { _ = try CreditCode($0) }
                }
            }
            if form.staff.isEmpty {
                let names = valid(t("Staff on the visit (separate names with commas): ", "参加走访的工作人员（多人用逗号分隔）：")) { text in
                    try Visit.checkStaff(Self.names(text), purpose: typedPurpose ?? .survey, policy: policy)
                } ?? ""
                form.staff = Self.names(names)
            }
            if form.persons.isEmpty, typedPurpose != .promotion || form.unit != nil {
                while let person = valid(t("Person met as “name,role,phone” (empty to finish): ", "接谈人员，格式“姓名,职务,电话”（直接回车结束）："),
                                         optional: true, { _ = try PersonMet(typed: $0) }) {
                    form.persons.append(person)
                }
            }
            if form.notes.isEmpty { form.notes = answer(t("Notes: ", "笔录：")) ?? "" }
            if form.documents.isEmpty, typedPurpose == .collection || typedPurpose == .followUp {
                let visitDate = (try? form.date.map { try CivilDate.typed($0) }) ?? nil ?? currentInstant().shanghaiDate
                while let document = valid(t("Document served as “guidance-letter|order-to-pay,number,deadline” (empty for none): ",
                                             "送达文书，格式“guidance-letter|order-to-pay,文号,期限”（无则直接回车）："), optional: true, { text in
                    try Visit.checkDocument(try ServedDocument(typed: text), visitDate: visitDate, policy: policy)
                }) {
                    form.documents.append(document)
                }
            }
            if form.outcome == nil {
                form.outcome = valid(t("Outcome (informed, agreed-to-pay, paid, applying, refused, unit-closed, not-found): ",
                                       "结果（已告知、同意缴存、已缴存、拟申请、拒绝、单位已关闭、未找到）："), optional: typedPurpose != .collection) {
                    _ = try VisitOutcome(typed: $0)
                }
            }
            if form.followUp == nil, typedPurpose == .collection {
                form.followUp = valid(t("Follow-up date (YYYY-MM-DD, optional): ", "回访日期（YYYY-MM-DD，可不填）："), optional: true) {
                    _ = try CivilDate.typed($0)
                }
            }
        }

        /// Names separated by commas (Chinese or ASCII) or the enumeration comma.
        static func names(_ text: String) -> [String] {
            text.replacingOccurrences(of: "，", with: ",").replacingOccurrences(of: "、", with: ",").split(separator: ",")
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
    }

    struct List: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(commandName: "list", abstract: t("List visits on this laptop, newest first.", "列出本机上的走访记录（最新在前）。"))
        }

        @OptionGroup var data: DataOptions
        @OptionGroup var format: FormatOptions
        @Option(help: ArgumentHelp(t("Only visits to this employer (credit code).", "只列出对此单位（统一社会信用代码）的走访。"), valueName: "code"))
        var unit: String?
        @Option(help: ArgumentHelp(t("Only visits on or after this day.", "只列出此日期及以后的走访。"), valueName: "YYYY-MM-DD")) var since: String?

        func run() throws {
            let sinceDate = try since.map { text throws(DomainError) in try CivilDate.typed(text) }
            let (visits, voided, names) = try data.open().visits(unitCreditCode: unit, since: sinceDate)
            if format.json {
                return try JSONOutput.print(visits.map { visit in
                    Output(visit, voided: voided.contains(visit.id), voidReason: nil, name: visit.unitID.flatMap { names[$0] }, reveal: false)
                })
            }
            if visits.isEmpty { Terminal.say(t("No visits recorded.", "暂无走访记录。")) }
            for visit in visits {
                Terminal.say(VisitCommand.line(visit, voided: voided.contains(visit.id), name: visit.unitID.flatMap { names[$0] }))
            }
        }
    }

    struct Show: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(commandName: "show", abstract: t("Show a visit in full.", "查看走访记录详情。"))
        }

        @OptionGroup var data: DataOptions
        @OptionGroup var format: FormatOptions
        @Argument(help: ArgumentHelp(t("The visit id.", "走访记录 ID。"))) var id: String
        @Flag(help: ArgumentHelp(t("Show full phone numbers.", "显示完整电话号码。"))) var reveal = false

        func run() throws {
            let (visit, voiding, employer) = try data.open().visit(id: id)
            if format.json {
                return try JSONOutput.print(Output(visit, voided: voiding != nil, voidReason: voiding?.reason, name: employer?.name, reveal: reveal))
            }
            Terminal.say(t("Visit ", "走访 ") + visit.id + (voiding.map { t("  [voided: \($0.reason)]", "  [已作废：\($0.reason)]") } ?? ""))
            if let employer {
                Terminal.say(t("Employer:   ", "单位：     ") + "\(employer.name) (\(employer.creditCode))")
            } else if let place = visit.place {
                Terminal.say(t("Place:      ", "场所：     ") + "\(place.name) (\(place.kind.label(language)))" + (place.address.map { ", \($0)" } ?? ""))
            }
            Terminal.say(t("Branch:     ", "管理部：   ") + visit.branch)
            Terminal.say(t("Purpose:    ", "类型：     ") + visit.purpose.label(language))
            Terminal.say(t("Date:       ", "日期：     ") + visit.date.iso)
            Terminal.say(t("Staff:      ", "工作人员： ") + visit.staff.joined(separator: "、"))
            for person in visit.persons {
                Terminal.say(t("Met:        ", "接谈人员： ") + "\(person.name), \(person.role)"
                             + (person.phone.map { ", " + (reveal ? $0 : ContactPhone.mask($0)) } ?? ""))
            }
            if !visit.notes.isEmpty { Terminal.say(t("Notes:      ", "笔录：     ") + visit.notes) }
            for document in visit.documents {
                Terminal.say(t("Served:     ", "送达文书： ") + "\(document.kind.label(language)) \(document.number)"
                             + (document.deadline.map { t(", deadline ", "，期限 ") + $0.iso } ?? "") + (document.proof.map { " (\($0))" } ?? ""))
            }
            if let outcome = visit.outcome { Terminal.say(t("Outcome:    ", "结果：     ") + outcome.label(language)) }
            if let followUp = visit.followUpOn { Terminal.say(t("Follow up:  ", "回访日期： ") + followUp.iso) }
            Terminal.say(t("Recorded:   ", "登记时间： ") + visit.recordedAt.shanghaiDisplay)
        }
    }

    struct VoidVisit: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(commandName: "void", abstract: t("Void a mistaken visit, with the reason; it is kept, marked void.",
                                                                  "作废有误的走访记录（须说明原因）；记录保留并标记为作废。"))
        }

        @OptionGroup var data: DataOptions
        @OptionGroup var passphrase: PassphraseOptions
        @Argument(help: ArgumentHelp(t("The visit id.", "走访记录 ID。"))) var id: String
        @Option(help: ArgumentHelp(t("Why it is void.", "作废原因。"))) var reason: String

        func run() throws {
            let device = try data.open()
            let visit = try device.voidVisit(id: id, reason: reason, unlock: { try passphrase.unlock(device) }, now: currentInstant())
            Terminal.say(t("Visit \(visit.id) voided.", "走访记录 \(visit.id) 已作废。"))
        }
    }
}

// MARK: Applications

struct ApplicationCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "application",
                             abstract: t("Record and list employers' applications to defer or lower their rate.", "登记和查看单位的缓缴、降低缴存比例申请。"),
                             subcommands: [Record.self, List.self], defaultSubcommand: List.self)
    }

    static func line(_ application: ReliefApplication, decision: ApplicationDecision?, name: String?) -> String {
        var text = "\(application.id)  "
        if let name { text += name + "  " }
        text += application.kind.label(language)
        if let employer = application.employerRateBasisPoints, let employee = application.employeeRateBasisPoints {
            text += " \(employer / 100)%+\(employee / 100)%"
        }
        text += "  \(application.from.iso)–\(application.through.iso)  " + t("submitted ", "提交于 ") + application.submittedOn.iso + "  "
        text += decision.map { "\($0.verdict.label(language)): \($0.reason)" } ?? t("awaiting the office's decision", "待中心审核")
        return text
    }

    struct Record: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(commandName: "record",
                abstract: t("Record an application to defer or lower the rate, with its resolution and public notice.",
                            "登记缓缴或降低缴存比例申请，以及职代会或工会决议和公示情况。"),
                discussion: t("""
                    Neither side's rate may go below 5%; a relief runs at most 12 months; the resolution \
                    needs a majority of the votes cast; the public notice comes after the resolution and \
                    ends by the submission. Run in a terminal, it asks for what you leave out.
                    """, """
                    单位和职工缴存比例均不得低于 5%；期限最长 12 个月；决议须经投票多数通过；公示须在决议之后、\
                    提交申请之前完成。在终端中运行时，未提供的内容会逐项询问。
                    """))
        }

        @OptionGroup var data: DataOptions
        @OptionGroup var passphrase: PassphraseOptions
        @Option(help: ArgumentHelp(t("The employer's credit code.", "单位统一社会信用代码。"), valueName: "code")) var unit: String?
        @Option(help: ArgumentHelp(t("defer or reduce-rate.", "缓缴（defer）或降低缴存比例（reduce-rate）。"))) var kind: ReliefKind?
        @Option(name: .customLong("employer-rate"), help: ArgumentHelp(t("Requested employer's rate, whole percent.", "申请的单位缴存比例（整数百分比）。")))
        var employerRate: String?
        @Option(name: .customLong("employee-rate"), help: ArgumentHelp(t("Requested employee's rate, whole percent.", "申请的职工缴存比例（整数百分比）。")))
        var employeeRate: String?
        @Option(help: ArgumentHelp(t("First month covered.", "起始月份。"), valueName: "YYYY-MM")) var from: String?
        @Option(help: ArgumentHelp(t("Number of months (at most 12).", "月数（最多 12）。"))) var months: String?
        @Option(help: ArgumentHelp(t("Who resolved: staff-congress or union.", "决议机构：职工代表大会（staff-congress）或工会（union）。")))
        var resolution: ResolutionBody?
        @Option(name: .customLong("resolution-date"), help: ArgumentHelp(t("Day of the resolution.", "决议日期。"), valueName: "YYYY-MM-DD"))
        var resolutionDate: String?
        @Option(name: .customLong("votes-for"), help: ArgumentHelp(t("Votes for.", "赞成票数。"))) var votesFor: String?
        @Option(name: .customLong("votes-cast"), help: ArgumentHelp(t("Votes cast.", "投票总数。"))) var votesCast: String?
        @Option(name: .customLong("notice-from"), help: ArgumentHelp(t("First day of the public notice.", "公示开始日期。"), valueName: "YYYY-MM-DD"))
        var noticeFrom: String?
        @Option(name: .customLong("notice-to"), help: ArgumentHelp(t("Last day of the public notice.", "公示结束日期。"), valueName: "YYYY-MM-DD"))
        var noticeTo: String?
        @Option(help: ArgumentHelp(t("An attached document's reference; repeat for each.", "附件材料编号；每份一次。"))) var document: [String] = []
        @Option(help: ArgumentHelp(t("Day the employer submitted it (default today).", "提交日期（默认今天）。"), valueName: "YYYY-MM-DD"))
        var submitted: String?

        func run() throws {
            var draft = Draft.start(.application, in: data.directory)
            var values: [String: String] = [:]
            for (key, value) in [("unit", unit), ("kind", kind?.typed), ("from", from), ("months", months), ("resolution", resolution?.typed),
                                 ("resolution-date", resolutionDate), ("votes-for", votesFor), ("votes-cast", votesCast),
                                 ("notice-from", noticeFrom), ("notice-to", noticeTo), ("employer-rate", employerRate),
                                 ("employee-rate", employeeRate), ("submitted", submitted)] {
                if let value { values[key] = value }
            }
            draft.stored.application = ApplicationAnswers(values: values, documents: document)
            try record(from: draft, resumed: false)
        }

        /// Asks at a terminal for what is missing, each answer checked by the domain as it is
        /// given and kept in the draft; then records the application (the draft goes then).
        func record(from initial: Draft, resumed: Bool = true) throws {
            var draft = initial
            var answers = draft.stored.application ?? ApplicationAnswers(values: [:], documents: [])
            let device = try data.open()
            let policy = device.policy
            let prompts: [(String, String)] = [
                ("unit", t("Employer's credit code: ", "单位统一社会信用代码：")),
                ("kind", t("Kind (defer, reduce-rate): ", "申请类型（缓缴 defer、降低比例 reduce-rate）：")),
                ("from", t("First month (YYYY-MM): ", "起始月份（YYYY-MM）：")),
                ("months", t("Months (at most \(policy.reliefMaxMonths)): ", "月数（最多 \(policy.reliefMaxMonths)）：")),
                ("resolution", t("Resolved by (staff-congress, union): ", "决议机构（职代会 staff-congress、工会 union）：")),
                ("resolution-date", t("Resolution date (YYYY-MM-DD): ", "决议日期（YYYY-MM-DD）：")),
                ("votes-for", t("Votes for: ", "赞成票数：")),
                ("votes-cast", t("Votes cast: ", "投票总数：")),
                ("notice-from", t("Public notice from (YYYY-MM-DD): ", "公示开始日期（YYYY-MM-DD）：")),
                ("notice-to", t("Public notice to (YYYY-MM-DD): ", "公示结束日期（YYYY-MM-DD）：")),
            ]
            var missing: [String] = []
            func ask(_ key: String, _ prompt: String) {
                guard answers.values[key] == nil else { return }
                guard Terminal.isInteractive else {
                    missing.append("--" + key)
                    return
                }
                draft.stored.application = answers
                draft.save()
                while true {
                    guard let text = Terminal.ask(prompt)?.trimmingCharacters(in: .whitespaces), !text.isEmpty else {
                        Terminal.warn(t("  This one is needed.", "  此项必填。"))
                        continue
                    }
                    do {
                        try ReliefApplication.checkAnswer(key, text, policy: policy)
                        answers.values[key] = text
                        return
                    } catch {
                        Terminal.warn("  " + Failure(error, language: language).message)
                    }
                }
            }
            for (key, prompt) in prompts { ask(key, prompt) }
            if let kind = answers.values["kind"], (try? ReliefKind(typed: kind)) == .reduceRate {
                ask("employer-rate", t("Requested employer's rate (%): ", "申请的单位缴存比例（%）："))
                ask("employee-rate", t("Requested employee's rate (%): ", "申请的职工缴存比例（%）："))
            }
            draft.stored.application = answers
            if Terminal.isInteractive { draft.save() }
            guard missing.isEmpty else {
                throw ValidationError(t("Missing: \(missing.joined(separator: ", ")).", "缺少：\(missing.joined(separator: "、"))。"))
            }
            func value(_ key: String) -> String { answers.values[key] ?? "" }
            let application: ReliefApplication
            do {
                application = try device.recordApplication(
                    ApplicationForm(unit: value("unit"), kind: value("kind"), employerRate: answers.values["employer-rate"],
                                    employeeRate: answers.values["employee-rate"], from: value("from"), months: value("months"),
                                    resolutionBody: value("resolution"), resolutionDate: value("resolution-date"),
                                    votesFor: value("votes-for"), votesCast: value("votes-cast"), noticeFrom: value("notice-from"),
                                    noticeTo: value("notice-to"), documents: answers.documents, submittedOn: answers.values["submitted"]),
                    unlock: { try passphrase.unlock(device) }, now: currentInstant())
            } catch {
                if Terminal.isInteractive || resumed {
                    let again = RefusedAnswers.forget(error, in: &answers)
                    draft.stored.application = answers
                    draft.save()
                    draft.tellKept(asksAgain: again)
                }
                throw error
            }
            draft.discard()
            Terminal.say(t("Application recorded: ", "申请已登记：") + application.id)
            Terminal.say("  " + ApplicationCommand.line(application, decision: nil, name: nil))
            Terminal.say(t("The office reviews it after your next `provident sync`.", "下次 `provident sync` 后由中心审核。"))
        }
    }

    struct List: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(commandName: "list", abstract: t("List applications on this laptop with the office's decisions.", "列出本机上的申请及中心审核结果。"))
        }

        @OptionGroup var data: DataOptions
        @OptionGroup var format: FormatOptions

        struct Output: Encodable {
            let id, unit, kind, from, through, submittedOn: String
            let employer: String?
            let employerRatePercent, employeeRatePercent: Int?
            let months: Int
            let decision, reason: String?
        }

        func run() throws {
            let listed = try data.open().applications()
            if format.json {
                return try JSONOutput.print(listed.map { application, decision, name in
                    Output(id: application.id, unit: String(application.unitID.dropFirst(5)), kind: application.kind.typed,
                           from: application.from.iso, through: application.through.iso, submittedOn: application.submittedOn.iso,
                           employer: name, employerRatePercent: application.employerRateBasisPoints.map { $0 / 100 },
                           employeeRatePercent: application.employeeRateBasisPoints.map { $0 / 100 }, months: application.months,
                           decision: decision?.verdict.rawValue, reason: decision?.reason)
                })
            }
            if listed.isEmpty { Terminal.say(t("No applications recorded.", "暂无申请。")) }
            for (application, decision, name) in listed {
                Terminal.say(ApplicationCommand.line(application, decision: decision, name: name))
            }
        }
    }
}

// MARK: Campaigns

struct CampaignCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "campaign", abstract: t("Campaigns to regularise payments, and this branch's progress.", "缴存专项行动及本管理部进度。"),
                             subcommands: [Show.self], defaultSubcommand: Show.self)
    }

    struct Show: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(commandName: "show", abstract: t("Show campaigns with their phases, targets and progress, and this branch's open targets.",
                                             "查看专项行动的阶段、目标和进度，以及本管理部尚未完成的目标单位。"))
        }

        @OptionGroup var data: DataOptions
        @OptionGroup var format: FormatOptions
        @Argument(help: ArgumentHelp(t("A campaign id (default: all).", "专项行动 ID（默认全部）。"))) var campaign: String?

        struct Output: Encodable {
            struct Phase: Encodable { let name, from, to: String }
            struct Branch: Encodable {
                let branch: String
                let targets, surveyed, letterServed, interviewed, complied, applied, refused: Int
                let phases: [PhaseFigures]
            }
            struct PhaseFigures: Encodable { let phase: String; let visited, letterServed, interviewed, applied: Int }
            let id, name, cutoff: String
            let phases: [Phase]
            let branches: [Branch]
        }

        func run() throws {
            let device = try data.open()
            let today = currentInstant().shanghaiDate
            var views = try device.campaigns(today: today)
            if let campaign {
                views = views.filter { $0.campaign.id == campaign }
                if views.isEmpty { throw DomainError.campaignNotFound(campaign) }
            }
            if format.json {
                return try JSONOutput.print(views.map { view in
                    Output(id: view.campaign.id, name: view.campaign.name, cutoff: view.campaign.cutoff.iso,
                           phases: view.campaign.phases.map { .init(name: $0.name, from: $0.from.iso, to: $0.to.iso) },
                           branches: view.progress.map { p in
                               .init(branch: p.branch, targets: p.targets, surveyed: p.surveyed, letterServed: p.letterServed,
                                     interviewed: p.interviewed, complied: p.complied, applied: p.applied, refused: p.refused,
                                     phases: p.phases.map { .init(phase: $0.phase, visited: $0.visited, letterServed: $0.letterServed,
                                                                  interviewed: $0.interviewed, applied: $0.applied) })
                           })
                })
            }
            if views.isEmpty {
                Terminal.say(t("No campaign on this laptop; campaigns arrive with `provident sync` once the office creates one.",
                               "本机暂无专项行动；中心创建后，用 `provident sync` 同步即可获得。"))
                return
            }
            for view in views {
                let c = view.campaign
                Terminal.say("\(c.name)  [\(c.id)]  " + t("cut-off ", "截止日期 ") + c.cutoff.iso)
                for phase in c.phases {
                    let now = phase.contains(today) ? t("  ← now", "  ← 当前阶段") : ""
                    Terminal.say("  \(phase.name)  \(phase.from.iso) – \(phase.to.iso)\(now)")
                }
                if view.progress.isEmpty {
                    Terminal.say(t("  No targets in this branch.", "  本管理部没有目标单位。"))
                    continue
                }
                Terminal.table([[t("branch", "管理部"), t("targets", "目标"), t("surveyed", "已摸底"), t("letter served", "已送达"),
                                 t("interviewed", "已约谈"), t("complied", "已整改"), t("applied", "已申请"), t("refused", "拒绝")]]
                    + view.progress.map { p in
                        [p.branch, "\(p.targets)", "\(p.surveyed)", "\(p.letterServed)", "\(p.interviewed)", "\(p.complied)", "\(p.applied)", "\(p.refused)"]
                    })
                for p in view.progress where p.phases.contains(where: { $0.visited > 0 || $0.applied > 0 }) {
                    Terminal.say(t("  By phase (\(p.branch)):", "  分阶段（\(p.branch)）："))
                    for figures in p.phases {
                        Terminal.say(t("    \(figures.phase): visited \(figures.visited), letters \(figures.letterServed), interviews \(figures.interviewed), applications \(figures.applied)",
                                       "    \(figures.phase)：走访 \(figures.visited)，送达 \(figures.letterServed)，约谈 \(figures.interviewed)，申请 \(figures.applied)"))
                    }
                }
            }
        }
    }
}
