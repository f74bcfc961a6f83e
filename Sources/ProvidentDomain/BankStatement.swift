import ProvidentCrypto
import ProvidentSync

/// One credit on the bank statement of the centre's collection account.
public struct BankLine: Hashable, Sendable {
    /// The line of the file the row starts on.
    public let line: Int
    public let date: CivilDate
    public let amountFen: Int64
    public let payerName: String
    public let payerAccount: String
    public let memo: String
    /// The bank's transaction number, when the export has one.
    public let serial: String?
    /// What identifies the line across statements, so an overlapping statement or the same
    /// file imported twice counts it once: the bank's serial when there is one, else the
    /// line's contents with its rank among identical lines of the file.
    public let fingerprint: String

    public init(line: Int, date: CivilDate, amountFen: Int64, payerName: String, payerAccount: String, memo: String,
                serial: String?, fingerprint: String) {
        self.line = line
        self.date = date
        self.amountFen = amountFen
        self.payerName = payerName
        self.payerAccount = payerAccount
        self.memo = memo
        self.serial = serial
        self.fingerprint = fingerprint
    }

    /// The payer's account number for display: the last four digits.
    public var maskedAccount: String {
        payerAccount.count <= 4 ? payerAccount : String(repeating: "*", count: 4) + String(payerAccount.suffix(4))
    }

    /// Payment reference codes written in the memo whose check symbol is right, and whether a
    /// code-like text with a wrong check symbol was there (a typo to tell the office about).
    public var references: (valid: [String], mistyped: Bool) {
        let text = memo.uppercased().map { $0 == "-" || $0 == " " ? "\u{0}" : $0 }.filter { $0 != "\u{0}" }
        var valid: [String] = [], mistyped = false
        let characters = Array(text)
        var index = 0
        while index + 15 <= characters.count {
            if characters[index] == "P", characters[index + 1] == "V" {
                let candidate = String(characters[index..<(index + 15)])
                if let code = try? ReferenceCode(candidate) {
                    valid.append(code.value)
                    index += 15
                    continue
                } else if candidate.dropFirst(2).allSatisfy({ CreditCode.alphabet.contains($0) }) {
                    mistyped = true
                }
            }
            index += 1
        }
        return (valid, mistyped)
    }
}

/// Reading the bank's statement export (CSV, UTF-8 or GBK): the columns, by header name in
/// Chinese or English, and the quirks of spreadsheet exports.
public enum BankStatement {
    public static let columns: [(key: String, names: [String], required: Bool)] = [
        ("date", ["date", "交易日期", "记账日期", "日期", "入账日期"], true),
        ("amount", ["amount", "金额", "交易金额", "贷方金额", "收入金额", "入账金额"], true),
        ("payer_name", ["payer_name", "付款人名称", "付款人", "对方户名", "对方名称"], true),
        ("payer_account", ["payer_account", "付款人账号", "付款账号", "对方账号"], true),
        ("memo", ["memo", "摘要", "附言", "用途", "备注"], true),
        ("serial", ["serial", "流水号", "交易流水号", "交易序号"], false),
    ]

    /// Reads every row, or says which rows are wrong and why: a statement is imported whole or
    /// not at all, so a bad row never leaves part of a statement in.
    public static func lines(of table: CSVTable, language l: Language) throws(ImportError) -> (lines: [BankLine], problems: [EmployerList.RowProblem]) {
        var index: [String: Int] = [:]
        for (key, names, _) in columns {
            if let found = table.header.firstIndex(where: { header in names.contains { $0.lowercased() == header.lowercased() } }) {
                index[key] = found
            }
        }
        let missing = columns.filter { $0.required && index[$0.key] == nil }.map { "\($0.key) (\($0.names[1]))" }
        guard missing.isEmpty else { throw .missingColumns(missing) }
        var lines: [BankLine] = [], problems: [EmployerList.RowProblem] = []
        var seen: [String: Int] = [:]
        for record in table.records {
            guard record.fields.count == table.header.count else {
                problems.append(.init(line: record.line, message: l.pick("the row has \(record.fields.count) fields but the header has \(table.header.count)",
                                                                         "该行有 \(record.fields.count) 列，表头有 \(table.header.count) 列")))
                continue
            }
            func value(_ key: String) -> String { index[key].map { record.fields[$0].trimmingASCIIWhitespace } ?? "" }
            guard let date = parseDate(value("date")) else {
                problems.append(.init(line: record.line, message: l.pick("“\(value("date"))” is not a date (YYYY-MM-DD)", "“\(value("date"))”不是有效日期（YYYY-MM-DD）")))
                continue
            }
            let amountText = value("amount").replacingOccurrences(of: "元", with: "").replacingOccurrences(of: "+", with: "")
                .replacingOccurrences(of: " ", with: "")
            guard let amount = try? Money.parseYuan(amountText).fen else {
                problems.append(.init(line: record.line, message: l.pick("“\(value("amount"))” is not an amount in yuan", "“\(value("amount"))”不是有效金额（元）")))
                continue
            }
            guard amount > 0 else {
                problems.append(.init(line: record.line, message: l.pick("the amount is not a credit (it must be more than zero)", "金额不是入账金额（须大于零）")))
                continue
            }
            let name = value("payer_name"), account = value("payer_account").filter { $0 != " " }, memo = value("memo")
            let serial = value("serial").isEmpty ? nil : value("serial")
            guard !name.isEmpty || !account.isEmpty else {
                problems.append(.init(line: record.line, message: l.pick("the payer's name and account are both empty", "付款人名称和账号均为空")))
                continue
            }
            let identity: String
            if let serial {
                identity = "serial|\(date.iso)|\(serial)"
            } else {
                let content = "\(date.iso)|\(amount)|\(account)|\(name)|\(memo)"
                seen[content, default: 0] += 1
                identity = "line|\(content)|\(seen[content] ?? 1)"
            }
            let fingerprint = Hex.encode(BLAKE2b.hash(Array(identity.utf8), outputLength: 16))
            lines.append(BankLine(line: record.line, date: date, amountFen: amount, payerName: name, payerAccount: account, memo: memo,
                                  serial: serial, fingerprint: fingerprint))
        }
        return (lines, problems)
    }

    /// Dates as banks export them: 2026-11-03, 2026/11/03, 2026.11.03, 20261103, 2026年11月3日,
    /// with or without a time after them.
    public static func parseDate(_ text: String) -> CivilDate? {
        var day = text.split(separator: " ").first.map(String.init) ?? ""
        if let t = day.firstIndex(of: "T") { day = String(day[..<t]) }
        day = day.replacingOccurrences(of: "年", with: "-").replacingOccurrences(of: "月", with: "-").replacingOccurrences(of: "日", with: "")
            .replacingOccurrences(of: "/", with: "-").replacingOccurrences(of: ".", with: "-")
        if day.count == 8, day.allSatisfy(\.isASCIIDigit) {
            day = String(day.prefix(4)) + "-" + String(day.dropFirst(4).prefix(2)) + "-" + String(day.suffix(2))
        }
        let parts = day.split(separator: "-")
        guard parts.count == 3, parts[0].count == 4, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]) else { return nil }
        return CivilDate(year: y, month: m, day: d)
    }
}

/// What the office holds of a deposit when matching bank lines.
public struct DepositCandidate: Hashable, Sendable {
    public let deposit: Deposit
    /// The account holder's name.
    public let holder: String
    /// Pending (no outcome, not reversed), and not already matched by another bank line.
    public let open: Bool
    /// Already confirmed, or matched by another bank line.
    public let taken: Bool

    public init(deposit: Deposit, holder: String, open: Bool, taken: Bool) {
        self.deposit = deposit
        self.holder = holder
        self.open = open
        self.taken = taken
    }
}

/// How a bank line was matched to a deposit.
public enum MatchMethod: String, Hashable, Sendable {
    /// By the payment reference code in the memo.
    case reference
    /// By the amount, a date within the window and the payer's name.
    case amountDateName
    /// By the office, by hand.
    case manual

    public func label(_ l: Language) -> String {
        switch self {
        case .reference: l.pick("by reference code", "按识别码匹配")
        case .amountDateName: l.pick("by amount, date and name", "按金额、日期和姓名匹配")
        case .manual: l.pick("by hand", "人工确认")
        }
    }
}

/// What matching found for one bank line.
public enum MatchResult: Hashable, Sendable {
    /// The deposit this line pays, exactly.
    case matched(depositID: String, method: MatchMethod)
    /// The memo names a deposit, but the amounts differ.
    case amountMismatch(depositID: String)
    /// The line pays a deposit another line (or an earlier statement) already paid: money to refund.
    case duplicate(depositID: String)
    /// No deposit found; `candidates` lists the deposits that fit but not uniquely, for the office to pick.
    case noDeposit(candidates: [String], note: NoDepositNote)

    public enum NoDepositNote: String, Hashable, Sendable {
        case none
        /// A reference-like code in the memo has a wrong check symbol.
        case mistypedReference
        /// The memo names a deposit that was reversed or rejected.
        case closedDeposit
        /// Several deposits fit by amount, date and name.
        case ambiguous
    }
}

/// The matching rules, in order: (1) a payment reference code in the memo with a right check
/// symbol names the deposit: the same amount matches it, another amount is a mismatch, a
/// deposit already paid makes the line a duplicate; (2) otherwise the one open deposit with the
/// same amount, recorded within `windowDays` of the bank date, whose holder's name is the
/// payer's; (3) otherwise the office matches by hand.
public enum Matching {
    public static func match(_ line: BankLine, windowDays: Int, byReference: (String) -> DepositCandidate?,
                             byAmount: (Int64) -> [DepositCandidate]) -> MatchResult {
        let (references, mistyped) = line.references
        var note: MatchResult.NoDepositNote = mistyped ? .mistypedReference : .none
        for reference in references {
            guard let candidate = byReference(reference) else { continue }
            if candidate.taken { return .duplicate(depositID: candidate.deposit.id) }
            guard candidate.open else {
                note = .closedDeposit
                continue
            }
            if candidate.deposit.amountFen == line.amountFen { return .matched(depositID: candidate.deposit.id, method: .reference) }
            return .amountMismatch(depositID: candidate.deposit.id)
        }
        let payer = normalizedName(line.payerName)
        let fitting = byAmount(line.amountFen).filter { candidate in
            candidate.open && !payer.isEmpty && normalizedName(candidate.holder) == payer
                && abs(candidate.deposit.recordedAt.shanghaiDate.daysSinceEpoch - line.date.daysSinceEpoch) <= windowDays
        }
        if fitting.count == 1, let only = fitting.first { return .matched(depositID: only.deposit.id, method: .amountDateName) }
        if fitting.count > 1 { note = .ambiguous }
        return .noDeposit(candidates: fitting.map(\.deposit.id).sorted(), note: note)
    }

    /// Names compared without spaces and in NFC (banks pad and split names).
    static func normalizedName(_ name: String) -> String {
        name.precomposedNFC.filter { !$0.isWhitespace && $0 != "\u{3000}" }
    }
}
