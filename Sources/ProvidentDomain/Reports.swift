import ProvidentSync

/// A value in a report cell: kept typed so CSV, JSON and the dashboard each render it their way.
public enum ReportValue: Hashable, Sendable {
    case text(String)
    case count(Int)
    case money(Int64)
    /// A share in basis points (7,895 = 78.95%); nil when the denominator is zero.
    case share(Int?)

    /// For CSV and tables: plain numbers, money as 1234.50, shares as 78.95%.
    public var plain: String {
        switch self {
        case let .text(text): text
        case let .count(count): String(count)
        case let .money(fen): Money(fen: fen).plain
        case let .share(basisPoints): basisPoints.map(Self.percent) ?? "-"
        }
    }

    /// For people: money as ¥1,234.50.
    public var display: String {
        if case let .money(fen) = self { return Money(fen: fen).formatted }
        return plain
    }

    public static func percent(_ basisPoints: Int) -> String {
        "\(basisPoints / 100).\(basisPoints % 100 < 10 ? "0" : "")\(basisPoints % 100)%"
    }

    /// A share of `part` in `whole`, in basis points rounded half-up.
    public static func share(_ part: Int, of whole: Int) -> ReportValue {
        .share(whole > 0 ? (part * 20_000 + whole) / (2 * whole) : nil)
    }
}

/// One table of a report: a name for files and JSON, column keys and labels, rows.
public struct ReportTable: Hashable, Sendable {
    public let name: String
    public let title: String
    public let keys: [String]
    public let labels: [String]
    public var rows: [[ReportValue]]

    public init(name: String, title: String, columns: [(key: String, label: String)], rows: [[ReportValue]] = []) {
        self.name = name
        self.title = title
        keys = columns.map(\.key)
        labels = columns.map(\.label)
        self.rows = rows
    }

    /// The table as CSV for spreadsheets (UTF-8 with a byte-order mark, CRLF).
    public var csv: String {
        var sheet = CSV()
        sheet.add(labels)
        for row in rows { sheet.add(row.map(\.plain)) }
        return sheet.text
    }

    /// A cell by column key.
    public func value(_ row: [ReportValue], _ key: String) -> ReportValue? {
        keys.firstIndex(of: key).map { row[$0] }
    }
}

/// A report: what it is, as of when, and its tables.
public struct Report: Hashable, Sendable {
    public let name: String
    public let title: String
    public let asOf: CivilDate
    public var tables: [ReportTable]
}

/// The reports the policy documents ask for, computed from the office's replica. Pure: the
/// store gathers the inputs.
public enum Reports {
    /// An account with what the enrolment report needs.
    public struct AccountFacts: Sendable {
        public let account: Account
        public let deposits: [(deposit: Deposit, status: DepositStatus)]

        public init(account: Account, deposits: [(deposit: Deposit, status: DepositStatus)]) {
            self.account = account
            self.deposits = deposits
        }
    }

    /// Coverage (覆盖率) per branch and per employer: HPF contributors against pension-insured employees.
    public static func coverage(employers: [Employer], reliefs: [String: [ApprovedRelief]], policy: Policy, asOf: CivilDate,
                                language l: Language) -> Report {
        var branches = ReportTable(name: "branches", title: l.pick("Coverage by branch", "各管理部覆盖率"), columns: [
            ("branch", l.pick("Branch", "管理部")), ("employers", l.pick("Employers", "单位数")),
            ("established", l.pick("With a scheme", "已建制")), ("employees", l.pick("Employees", "职工人数")),
            ("contributors", l.pick("HPF contributors", "缴存人数")), ("pensionInsured", l.pick("Pension-insured", "养老参保人数")),
            ("coverage", l.pick("Coverage", "覆盖率")),
        ])
        var detail = ReportTable(name: "employers", title: l.pick("Coverage by employer", "各单位覆盖率"), columns: [
            ("branch", l.pick("Branch", "管理部")), ("creditCode", l.pick("Credit code", "统一社会信用代码")), ("name", l.pick("Employer", "单位名称")),
            ("status", l.pick("Status", "状态")), ("employees", l.pick("Employees", "职工人数")),
            ("contributors", l.pick("HPF contributors", "缴存人数")), ("pensionInsured", l.pick("Pension-insured", "养老参保人数")),
            ("coverage", l.pick("Coverage", "覆盖率")),
        ])
        var totals = (employers: 0, established: 0, employees: 0, contributors: 0, insured: 0)
        for (branch, members) in Dictionary(grouping: employers, by: \.branch).sorted(by: { $0.key < $1.key }) {
            let sum = members.reduce((0, 0, 0, 0)) { ($0.0 + ($1.established ? 1 : 0), $0.1 + $1.employees, $0.2 + $1.contributors, $0.3 + $1.pensionInsured) }
            branches.rows.append([.text(branch), .count(members.count), .count(sum.0), .count(sum.1), .count(sum.2), .count(sum.3),
                                  ReportValue.share(sum.2, of: sum.3)])
            totals = (totals.employers + members.count, totals.established + sum.0, totals.employees + sum.1, totals.contributors + sum.2,
                      totals.insured + sum.3)
            for employer in members.sorted(by: { $0.creditCode < $1.creditCode }) {
                let status = employer.compliance(asOf: asOf, reliefs: reliefs[employer.id] ?? [], policy: policy)
                detail.rows.append([.text(branch), .text(employer.creditCode), .text(employer.name), .text(status.label(l)),
                                    .count(employer.employees), .count(employer.contributors), .count(employer.pensionInsured),
                                    ReportValue.share(employer.contributors, of: employer.pensionInsured)])
            }
        }
        branches.rows.append([.text(l.pick("Total", "合计")), .count(totals.employers), .count(totals.established), .count(totals.employees),
                              .count(totals.contributors), .count(totals.insured), ReportValue.share(totals.contributors, of: totals.insured)])
        return Report(name: "coverage", title: l.pick("HPF coverage", "住房公积金覆盖率"), asOf: asOf, tables: [branches, detail])
    }

    /// Employers in arrears (欠缴) or stopped (停缴) on `asOf`: the summary table (汇总表) per
    /// branch and the detail table (明细表).
    public static func arrears(employers: [Employer], reliefs: [String: [ApprovedRelief]], policy: Policy, asOf: CivilDate,
                               language l: Language) -> Report {
        var summary = ReportTable(name: "summary", title: l.pick("Summary by branch (汇总表)", "汇总表"), columns: [
            ("branch", l.pick("Branch", "管理部")), ("inArrears", l.pick("In arrears", "欠缴单位")), ("stopped", l.pick("Stopped", "停缴单位")),
            ("total", l.pick("Total", "合计单位")), ("employees", l.pick("Employees", "涉及职工")),
            ("unpaidMonths", l.pick("Unpaid months", "欠缴月数合计")),
        ])
        var detail = ReportTable(name: "detail", title: l.pick("Detail (明细表)", "明细表"), columns: [
            ("branch", l.pick("Branch", "管理部")), ("creditCode", l.pick("Credit code", "统一社会信用代码")), ("name", l.pick("Employer", "单位名称")),
            ("kind", l.pick("Kind", "单位类型")), ("status", l.pick("Status", "状态")), ("lastPaid", l.pick("Last month paid", "最后缴存月份")),
            ("unpaidMonths", l.pick("Unpaid months", "欠缴月数")), ("employees", l.pick("Employees", "职工人数")),
            ("contributors", l.pick("HPF contributors", "缴存人数")), ("contact", l.pick("Contact", "联系人")),
        ])
        var totals = (arrears: 0, stopped: 0, employees: 0, months: 0)
        for (branch, members) in Dictionary(grouping: employers, by: \.branch).sorted(by: { $0.key < $1.key }) {
            var counts = (arrears: 0, stopped: 0, employees: 0, months: 0)
            for employer in members.sorted(by: { $0.creditCode < $1.creditCode }) {
                let status = employer.compliance(asOf: asOf, reliefs: reliefs[employer.id] ?? [], policy: policy)
                guard status.isDelinquent else { continue }
                let unpaid = unpaidMonths(employer, asOf: asOf)
                if status == .stopped { counts.stopped += 1 } else { counts.arrears += 1 }
                counts.employees += employer.employees
                counts.months += unpaid
                detail.rows.append([.text(branch), .text(employer.creditCode), .text(employer.name), .text(employer.kind.label(l)),
                                    .text(status.label(l)), .text(employer.lastPaid?.iso ?? l.pick("never", "从未缴存")), .count(unpaid),
                                    .count(employer.employees), .count(employer.contributors), .text(employer.contact?.name ?? "")])
            }
            guard counts.arrears + counts.stopped > 0 else { continue }
            summary.rows.append([.text(branch), .count(counts.arrears), .count(counts.stopped), .count(counts.arrears + counts.stopped),
                                 .count(counts.employees), .count(counts.months)])
            totals = (totals.arrears + counts.arrears, totals.stopped + counts.stopped, totals.employees + counts.employees, totals.months + counts.months)
        }
        summary.rows.append([.text(l.pick("Total", "合计")), .count(totals.arrears), .count(totals.stopped),
                             .count(totals.arrears + totals.stopped), .count(totals.employees), .count(totals.months)])
        return Report(name: "arrears", title: l.pick("Employers in arrears or stopped", "欠缴、停缴单位"), asOf: asOf, tables: [summary, detail])
    }

    /// Months owed on `asOf` (`Employer.monthsOwed(asOf:)`, the figure every surface shows).
    public static func unpaidMonths(_ employer: Employer, asOf: CivilDate) -> Int {
        employer.monthsOwed(asOf: asOf)
    }

    /// Campaign progress per branch and per phase.
    public static func campaigns(_ campaigns: [(Campaign, [CampaignProgress])], asOf: CivilDate, language l: Language) -> Report {
        var branches = ReportTable(name: "branches", title: l.pick("Progress by branch", "各管理部进度"), columns: [
            ("campaign", l.pick("Campaign", "专项行动")), ("branch", l.pick("Branch", "管理部")), ("targets", l.pick("Targets", "目标单位")),
            ("surveyed", l.pick("Surveyed", "已摸底")), ("letterServed", l.pick("Letter served", "已送达文书")),
            ("interviewed", l.pick("Interviewed", "已约谈")), ("complied", l.pick("Complied", "已整改")),
            ("applied", l.pick("Applied", "已申请")), ("refused", l.pick("Refused", "拒绝")),
            ("progress", l.pick("Surveyed share", "摸底率")),
        ])
        var phases = ReportTable(name: "phases", title: l.pick("Progress by phase", "各阶段进度"), columns: [
            ("campaign", l.pick("Campaign", "专项行动")), ("branch", l.pick("Branch", "管理部")), ("phase", l.pick("Phase", "阶段")),
            ("from", l.pick("From", "开始")), ("to", l.pick("To", "结束")), ("visited", l.pick("Visited", "走访单位")),
            ("letterServed", l.pick("Letter served", "送达文书")), ("interviewed", l.pick("Interviewed", "约谈")),
            ("applied", l.pick("Applied", "申请")),
        ])
        for (campaign, progress) in campaigns {
            for p in progress {
                branches.rows.append([.text(campaign.name), .text(p.branch), .count(p.targets), .count(p.surveyed), .count(p.letterServed),
                                      .count(p.interviewed), .count(p.complied), .count(p.applied), .count(p.refused),
                                      ReportValue.share(p.surveyed, of: p.targets)])
                for (phase, figures) in zip(campaign.phases, p.phases) {
                    phases.rows.append([.text(campaign.name), .text(p.branch), .text(phase.name), .text(phase.from.iso), .text(phase.to.iso),
                                        .count(figures.visited), .count(figures.letterServed), .count(figures.interviewed), .count(figures.applied)])
                }
            }
        }
        return Report(name: "campaign", title: l.pick("Campaign progress", "专项行动进度"), asOf: asOf, tables: [branches, phases])
    }

    /// Flexible-employment enrolment: accounts by category and channel, deposits per month, and
    /// the share of deposits reconciled: those the office has confirmed or rejected, among those
    /// not reversed.
    public static func enrolment(_ accounts: [AccountFacts], asOf: CivilDate, language l: Language) -> Report {
        var byKind = ReportTable(name: "accounts", title: l.pick("Accounts by category and channel", "按类别和开户渠道统计账户"), columns: [
            ("category", l.pick("Category", "类别")), ("channel", l.pick("Channel", "开户渠道")), ("accounts", l.pick("Accounts", "账户数")),
            ("active", l.pick("Active", "正常")), ("pending", l.pick("Pending verification", "待核验")),
            ("paused", l.pick("Paused", "暂停")), ("closed", l.pick("Closed", "已封存")),
        ])
        var months = ReportTable(name: "months", title: l.pick("Deposits by month recorded", "按登记月份统计缴存"), columns: [
            ("month", l.pick("Month", "月份")), ("deposits", l.pick("Deposits", "笔数")), ("amountFen", l.pick("Amount (yuan)", "金额（元）")),
            ("confirmed", l.pick("Confirmed", "已确认笔数")), ("confirmedFen", l.pick("Confirmed (yuan)", "已确认金额（元）")),
            ("pending", l.pick("Pending", "待确认笔数")), ("rejected", l.pick("Rejected", "已退回笔数")),
            ("reconciled", l.pick("Reconciled share", "对账完成率")),
        ])
        var totals = ReportTable(name: "totals", title: l.pick("Totals", "合计"), columns: [
            ("accounts", l.pick("Accounts", "账户数")), ("outreach", l.pick("Opened by outreach", "外勤代开")),
            ("deposits", l.pick("Deposits", "缴存笔数")), ("amountFen", l.pick("Amount (yuan)", "缴存金额（元）")),
            ("confirmedFen", l.pick("Confirmed (yuan)", "已确认金额（元）")), ("reconciled", l.pick("Reconciled share", "对账完成率")),
        ])
        let categories = AccountCategory.allCases
        for category in categories {
            for channel in [EnrollmentChannel.selfService, .outreach] {
                let members = accounts.filter { $0.account.category == category && $0.account.channel == channel }
                guard !members.isEmpty else { continue }
                func count(_ status: AccountStatus) -> ReportValue { .count(members.filter { $0.account.status == status }.count) }
                byKind.rows.append([.text(category.label(l)), .text(channel == .outreach ? l.pick("outreach", "外勤代开") : l.pick("self", "本人自助")),
                                    .count(members.count), count(.active), count(.pendingVerification), count(.paused), count(.closed)])
            }
        }
        struct Month { var count = 0, amount: Int64 = 0, confirmed = 0, confirmedFen: Int64 = 0, pending = 0, rejected = 0 }
        var perMonth: [Period: Month] = [:]
        var all = Month()
        for facts in accounts {
            for (deposit, status) in facts.deposits where status != .reversed {
                let key = deposit.recordedAt.shanghaiDate.period
                for index in 0..<2 {
                    var month = index == 0 ? perMonth[key, default: Month()] : all
                    month.count += 1
                    month.amount += deposit.amountFen
                    switch status {
                    case .confirmed:
                        month.confirmed += 1
                        month.confirmedFen += deposit.amountFen
                    case .pending: month.pending += 1
                    case .rejected: month.rejected += 1
                    case .reversed: break
                    }
                    if index == 0 { perMonth[key] = month } else { all = month }
                }
            }
        }
        for (period, month) in perMonth.sorted(by: { $0.key < $1.key }) {
            months.rows.append([.text(period.iso), .count(month.count), .money(month.amount), .count(month.confirmed), .money(month.confirmedFen),
                                .count(month.pending), .count(month.rejected), ReportValue.share(month.confirmed + month.rejected, of: month.count)])
        }
        totals.rows.append([.count(accounts.count), .count(accounts.filter { $0.account.channel == .outreach }.count), .count(all.count),
                            .money(all.amount), .money(all.confirmedFen), ReportValue.share(all.confirmed + all.rejected, of: all.count)])
        return Report(name: "enrolment", title: l.pick("Flexible-employment enrolment", "灵活就业人员缴存情况"), asOf: asOf,
                      tables: [totals, byKind, months])
    }
}

extension Reports {
    /// A field's value for people's eyes, the one rule every surface uses: by the field it is
    /// in, not by its look (a credit code has 18 characters too), an ID number (`idNumber`) and
    /// phone numbers (`phone`, an employer contact's `phone`, a person met's `phone`) masked;
    /// other text as is, anything else in canonical JSON.
    public static func masked(_ value: CanonicalValue, field: String) -> String {
        if let text = value.stringValue {
            switch field {
            case "idNumber": return ResidentID.mask(text)
            case "phone": return (try? MobileNumber(text)) != nil ? MobileNumber.mask(text) : ContactPhone.mask(text)
            default: return text
            }
        }
        return String(decoding: (try? CanonicalEncoder.encode(maskingPhones(value))) ?? [], as: UTF8.self)
    }

    /// A value with every `phone` member inside it masked (an employer's contact, people met).
    static func maskingPhones(_ value: CanonicalValue) -> CanonicalValue {
        if let object = value.objectValue {
            return .object(object.reduce(into: [:]) { result, member in
                result[member.key] = member.key == "phone" ? member.value.stringValue.map { .string(ContactPhone.mask($0)) } ?? member.value
                    : maskingPhones(member.value)
            })
        }
        if let array = value.arrayValue { return .array(array.map(maskingPhones)) }
        return value
    }

    /// Conflicts awaiting review, with both values (masked) and the devices that wrote them.
    public static func conflicts(_ conflicts: [Conflict], asOf: CivilDate, language l: Language) -> Report {
        var table = ReportTable(name: "open", title: l.pick("Conflicts awaiting review", "待处理的冲突"), columns: [
            ("id", l.pick("Conflict", "冲突编号")), ("record", l.pick("Record", "记录")), ("field", l.pick("Field", "字段")),
            ("valueA", l.pick("Value a", "值 a")), ("deviceA", l.pick("Written by (a)", "写入设备 a")), ("writtenA", l.pick("Written (a)", "写入时间 a")),
            ("valueB", l.pick("Value b", "值 b")), ("deviceB", l.pick("Written by (b)", "写入设备 b")), ("writtenB", l.pick("Written (b)", "写入时间 b")),
            ("applied", l.pick("Applied", "当前生效")),
        ])
        for conflict in conflicts.sorted(by: { $0.id.hex < $1.id.hex }) {
            func when(_ write: FieldWrite) -> String { write.time.instant.shanghaiDisplay }
            table.rows.append([.text(String(conflict.id.hex.prefix(16))), .text(conflict.record.description), .text(conflict.field),
                               .text(masked(conflict.first.value, field: conflict.field)),
                               .text(String(conflict.first.dot.device.rawValue.prefix(12))),
                               .text(when(conflict.first)), .text(masked(conflict.second.value, field: conflict.field)),
                               .text(String(conflict.second.dot.device.rawValue.prefix(12))), .text(when(conflict.second)),
                               .text(conflict.winner.dot == conflict.first.dot ? "a" : "b")])
        }
        return Report(name: "conflicts", title: l.pick("Conflicts awaiting review", "待处理的冲突"), asOf: asOf, tables: [table])
    }
}
