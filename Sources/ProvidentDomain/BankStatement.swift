import Foundation
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

/// What reading a statement found: its lines, the rows that do not parse (the statement is
/// then refused whole), and what was recognised and skipped.
public struct StatementReading: Sendable {
    public var lines: [BankLine] = []
    public var problems: [EmployerList.RowProblem] = []
    /// The line the header was found on, and the title rows skipped above it.
    public var headerLine = 1
    public var titleRows = 0
    /// Total and subtotal rows (合计, 小计, 总计, 本页合计), blank rows, and debits (fees,
    /// transfers out: only credits can be deposits), skipped and counted.
    public var totals = 0
    public var blanks = 0
    public var debits = 0

    public init() {}

    /// One sentence on what was skipped, or nil when nothing was.
    public func skippedSummary(_ l: Language) -> String? {
        var parts: [String] = []
        if titleRows > 0 { parts.append(l.pick("\(titleRows) title row(s) above the header", "表头上方 \(titleRows) 行标题")) }
        if totals > 0 { parts.append(l.pick("\(totals) total row(s)", "\(totals) 行合计")) }
        if blanks > 0 { parts.append(l.pick("\(blanks) blank row(s)", "\(blanks) 行空行")) }
        if debits > 0 { parts.append(l.pick("\(debits) debit(s) such as fees", "\(debits) 笔支出（如手续费）")) }
        guard !parts.isEmpty else { return nil }
        return l.pick("Header on line \(headerLine); skipped ", "表头在第 \(headerLine) 行；已跳过") + parts.joined(separator: l.pick(", ", "、"))
            + l.pick(".", "。")
    }
}

/// Reading the bank's statement export (CSV in UTF-8 or GBK, or the rows of an .xlsx): the
/// columns, by header name in Chinese or English, and the quirks of real exports: a title block
/// above the header, total rows, blank rows, separate credit and debit columns.
public enum BankStatement {
    /// Each column's names, in order of preference (a date column is preferred to a time column).
    public static let columns: [(key: String, names: [String], required: Bool)] = [
        ("date", ["date", "交易日期", "记账日期", "日期", "入账日期", "交易日", "交易时间", "入账时间", "记账时间"], true),
        ("amount", ["amount", "金额", "交易金额", "发生额"], false),
        ("credit", ["credit", "贷方发生额", "贷方金额", "收入金额", "入账金额", "收入", "贷方"], false),
        ("debit", ["debit", "借方发生额", "借方金额", "支出金额", "支出", "借方"], false),
        ("payer_name", ["payer_name", "付款人名称", "付款人", "对方户名", "对方名称", "对方账户名称", "对方账户名"], true),
        ("payer_account", ["payer_account", "付款人账号", "付款账号", "对方账号", "对方账户", "对方账户账号"], true),
        ("memo", ["memo", "摘要", "附言", "用途", "备注", "交易附言"], true),
        ("serial", ["serial", "流水号", "交易流水号", "交易序号", "交易参考号"], false),
    ]

    static func names(_ key: String) -> [String] { columns.first { $0.key == key }?.names ?? [] }

    /// Whether a row reads as the header: it names a date and an amount or credit column.
    static func isHeader(_ row: [String]) -> Bool {
        let cells = Set(row.map { $0.lowercased() })
        return names("date").contains { cells.contains($0.lowercased()) }
            && (names("amount") + names("credit")).contains { cells.contains($0.lowercased()) }
    }

    /// Reads every row, or says which rows are wrong and why: a statement is imported whole or
    /// not at all, so a bad row never leaves part of a statement in.
    public static func lines(of table: CSVTable, language l: Language) throws(ImportError) -> (lines: [BankLine], problems: [EmployerList.RowProblem]) {
        let reading = try read(table, language: l)
        return (reading.lines, reading.problems)
    }

    /// Finds the header (skipping a title block), reads every row, skips and counts totals,
    /// blank rows and debits; any other row that does not parse is a problem, by line.
    public static func read(_ given: CSVTable, language l: Language) throws(ImportError) -> StatementReading {
        let table = given.findingHeader(where: isHeader) ?? given
        try table.requireUnmergedHeader()
        let lowered = table.header.map { $0.lowercased() }
        var index: [String: Int] = [:]
        for (key, names, _) in columns {
            if let found = names.lazy.compactMap({ name in lowered.firstIndex(of: name.lowercased()) }).first { index[key] = found }
        }
        let memoColumns = lowered.indices.filter { names("memo").map { $0.lowercased() }.contains(lowered[$0]) }
        var missing = columns.filter { $0.required && index[$0.key] == nil }.map { "\($0.key) (\($0.names[1]))" }
        if index["amount"] == nil, index["credit"] == nil { missing.insert("amount (金额) / credit (贷方发生额)", at: missing.isEmpty ? 0 : 1) }
        guard missing.isEmpty else { throw .missingColumns(missing) }
        var reading = StatementReading()
        reading.headerLine = table.headerLine
        reading.titleRows = table.rowsAboveHeader
        var seen: [String: Int] = [:]
        for record in table.records {
            if CSVTable.isBlank(record.fields) { reading.blanks += 1; continue }
            if CSVTable.isTotal(record.fields) { reading.totals += 1; continue }
            // Cells beyond the header may be empty (a spreadsheet's padding); fewer cells are an error.
            guard record.fields.count >= table.header.count, record.fields[table.header.count...].allSatisfy({ $0.trimmingASCIIWhitespace.isEmpty }) else {
                reading.problems.append(.init(line: record.line, message: l.pick("the row has \(record.fields.count) fields but the header has \(table.header.count)",
                                                                                 "该行有 \(record.fields.count) 列，表头有 \(table.header.count) 列")))
                continue
            }
            func value(_ key: String) -> String {
                guard let column = index[key], column < record.fields.count else { return "" }
                return record.fields[column].trimmingASCIIWhitespace
            }
            func amount(_ text: String) -> Int64? {
                let cleaned = text.replacingOccurrences(of: "元", with: "").replacingOccurrences(of: "+", with: "").replacingOccurrences(of: " ", with: "")
                return try? Money.parseYuan(cleaned).fen
            }
            // Only credits can be deposits: a debit column's amount, or a negative amount, is skipped.
            let credit: Int64
            if index["credit"] != nil {
                let creditText = value("credit"), debitText = value("debit")
                guard let parsed = creditText.isEmpty ? 0 : amount(creditText) else {
                    reading.problems.append(.init(line: record.line, message: l.pick("“\(creditText)” is not an amount in yuan", "“\(creditText)”不是有效金额（元）")))
                    continue
                }
                if parsed == 0 {
                    if let debit = amount(debitText), debit != 0 { reading.debits += 1; continue }
                    reading.problems.append(.init(line: record.line, message: l.pick("the row has neither a credit nor a debit amount", "该行既无收入金额也无支出金额")))
                    continue
                }
                credit = parsed
            } else {
                guard let parsed = amount(value("amount")) else {
                    reading.problems.append(.init(line: record.line, message: l.pick("“\(value("amount"))” is not an amount in yuan", "“\(value("amount"))”不是有效金额（元）")))
                    continue
                }
                if parsed < 0 { reading.debits += 1; continue }
                credit = parsed
            }
            guard credit > 0 else {
                reading.problems.append(.init(line: record.line, message: l.pick("the amount is not a credit (it must be more than zero)", "金额不是入账金额（须大于零）")))
                continue
            }
            guard let date = parseDate(value("date")) else {
                reading.problems.append(.init(line: record.line, message: l.pick("“\(value("date"))” is not a date (YYYY-MM-DD)", "“\(value("date"))”不是有效日期（YYYY-MM-DD）")))
                continue
            }
            let name = value("payer_name"), account = value("payer_account").filter { $0 != " " }
            let memo = memoColumns.filter { $0 < record.fields.count }.map { record.fields[$0].trimmingASCIIWhitespace }.filter { !$0.isEmpty }
                .joined(separator: " ")
            let serial = value("serial").isEmpty ? nil : value("serial")
            guard !name.isEmpty || !account.isEmpty else {
                reading.problems.append(.init(line: record.line, message: l.pick("the payer's name and account are both empty", "付款人名称和账号均为空")))
                continue
            }
            let identity: String
            if let serial {
                identity = "serial|\(date.iso)|\(serial)"
            } else {
                let content = "\(date.iso)|\(credit)|\(account)|\(name)|\(memo)"
                seen[content, default: 0] += 1
                identity = "line|\(content)|\(seen[content] ?? 1)"
            }
            let fingerprint = Hex.encode(BLAKE2b.hash(Array(identity.utf8), outputLength: 16))
            reading.lines.append(BankLine(line: record.line, date: date, amountFen: credit, payerName: name, payerAccount: account, memo: memo,
                                          serial: serial, fingerprint: fingerprint))
        }
        return reading
    }

    /// Dates as banks export them: 2026-11-03, 2026/11/03, 2026.11.03, 20261103, 2026年11月3日,
    /// with or without a time after them.
    public static func parseDate(_ text: String) -> CivilDate? {
        // A spreadsheet's date cell read as its serial number (days since 1899-12-30).
        if let serial = Double(text), serial >= 20_000, serial < 80_000, !text.contains("-") {
            return CivilDate(daysSinceEpoch: Int(serial.rounded(.down)) - 25_569)
        }
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

        public func label(_ l: Language) -> String {
            switch self {
            case .none: ""
            case .mistypedReference: l.pick("the memo's reference code has a wrong check character (a typo)", "附言中的识别码校验位不对（输错）")
            case .closedDeposit: l.pick("the memo names a deposit that was reversed or rejected", "附言所指的缴存已冲正或已退回")
            case .ambiguous: l.pick("several deposits fit by amount, date and name", "有多笔缴存的金额、日期和姓名都相符")
            }
        }

        /// The label of a note as stored (its raw value), or the text itself when it is not one.
        public static func label(stored text: String, _ l: Language) -> String {
            NoDepositNote(rawValue: text).map { $0.label(l) } ?? text
        }
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

/// A deposit that may be the one a bank line pays, when matching found none, and why.
public struct Suggestion: Hashable, Sendable {
    public enum Reason: Int, Comparable, Hashable, Sendable {
        /// A code in the memo is one or two characters away from this deposit's reference code.
        case nearReference
        /// The same amount and the payer's name, within the window.
        case amountAndName
        /// The same amount within the window.
        case amount
        /// The payer's name within the window, another amount.
        case name

        public static func < (a: Reason, b: Reason) -> Bool { a.rawValue < b.rawValue }

        public func label(_ l: Language) -> String {
            switch self {
            case .nearReference: l.pick("memo code close to its reference", "附言识别码与其相近")
            case .amountAndName: l.pick("same amount and payer name", "金额和付款人姓名相同")
            case .amount: l.pick("same amount", "金额相同")
            case .name: l.pick("same payer name", "付款人姓名相同")
            }
        }
    }

    public let candidate: DepositCandidate
    public let reason: Reason
    /// For `nearReference`: how many characters differ (1 or 2).
    public let distance: Int?

    public init(candidate: DepositCandidate, reason: Reason, distance: Int?) {
        self.candidate = candidate
        self.reason = reason
        self.distance = distance
    }

    /// Why, for people: the reason, with the distance when there is one.
    public func because(_ l: Language) -> String {
        guard let distance else { return reason.label(l) }
        return reason.label(l) + l.pick(" (\(distance) character\(distance == 1 ? "" : "s") apart)", "（相差 \(distance) 个字符）")
    }
}

extension Matching {
    /// The deposits a line may pay, best first, at most `limit`: a memo code one or two
    /// characters away from a deposit's reference code (the check character makes a typo
    /// findable), then the same amount and name, the same amount, the same name, each within
    /// `windowDays` of the bank date. Only open deposits are offered.
    public static func suggestions(for line: BankLine, windowDays: Int, pool: [DepositCandidate], limit: Int = 5) -> [Suggestion] {
        let tokens = codeLikeTokens(line.memo)
        let payer = normalizedName(line.payerName)
        var found: [Suggestion] = []
        for candidate in pool where candidate.open && !candidate.taken {
            let reference = candidate.deposit.reference
            if let distance = tokens.map({ editDistance($0, reference, bound: 2) }).min(), distance >= 1, distance <= 2 {
                found.append(Suggestion(candidate: candidate, reason: .nearReference, distance: distance))
                continue
            }
            guard abs(candidate.deposit.recordedAt.shanghaiDate.daysSinceEpoch - line.date.daysSinceEpoch) <= windowDays else { continue }
            let sameAmount = candidate.deposit.amountFen == line.amountFen
            let sameName = !payer.isEmpty && normalizedName(candidate.holder) == payer
            if sameAmount && sameName {
                found.append(Suggestion(candidate: candidate, reason: .amountAndName, distance: nil))
            } else if sameAmount {
                found.append(Suggestion(candidate: candidate, reason: .amount, distance: nil))
            } else if sameName {
                found.append(Suggestion(candidate: candidate, reason: .name, distance: nil))
            }
        }
        let ranked = found.sorted { a, b in
            if a.reason != b.reason { return a.reason < b.reason }
            if (a.distance ?? 0) != (b.distance ?? 0) { return (a.distance ?? 0) < (b.distance ?? 0) }
            let da = abs(a.candidate.deposit.recordedAt.shanghaiDate.daysSinceEpoch - line.date.daysSinceEpoch)
            let db = abs(b.candidate.deposit.recordedAt.shanghaiDate.daysSinceEpoch - line.date.daysSinceEpoch)
            return da != db ? da < db : a.candidate.deposit.id < b.candidate.deposit.id
        }
        return Array(ranked.prefix(limit))
    }

    /// Runs of letters and digits in the memo (upper-cased, hyphens dropped) long enough to be
    /// a reference code with a character dropped, added or changed: 13 to 17.
    static func codeLikeTokens(_ memo: String) -> [String] {
        var tokens: [String] = [], current = ""
        for character in memo.uppercased() + " " {
            if character == "-" { continue }
            if character.isASCII && (character.isLetter || character.isNumber) {
                current.append(character)
            } else {
                if (13...17).contains(current.count) { tokens.append(current) }
                current = ""
            }
        }
        return tokens
    }

    /// Levenshtein distance, or `bound + 1` once it is certainly larger than `bound`.
    static func editDistance(_ a: String, _ b: String, bound: Int) -> Int {
        let x = Array(a), y = Array(b)
        guard abs(x.count - y.count) <= bound else { return bound + 1 }
        var previous = Array(0...y.count)
        for i in 1...max(x.count, 1) where !x.isEmpty {
            var current = [i] + Array(repeating: 0, count: y.count)
            for j in 1...max(y.count, 1) where !y.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
            }
            if current.min() ?? 0 > bound { return bound + 1 }
            previous = current
        }
        return previous[y.count]
    }
}
