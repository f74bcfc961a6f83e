import Foundation
import ProvidentDomain
import ProvidentSync
import Testing

private func day(_ text: String) -> CivilDate { CivilDate(iso: text)! }
private func at(_ text: String) -> Instant { Instant(utcISO: text)! }

// Reference codes with correct check symbols (made from fixed bytes).
private let codeA = ReferenceCode(randomBytes: Array(repeating: 1, count: 12)).value
private let codeB = ReferenceCode(randomBytes: Array(repeating: 2, count: 12)).value

private func deposit(_ id: String, _ code: String, fen: Int64 = 60_000, recorded: String = "2026-11-03T02:00:00Z") -> Deposit {
    Deposit(id: id, accountID: "acc-\(id)", amountFen: fen, kind: .monthly, periods: [Period("2026-11")!], method: .bankTransfer,
            reference: code, recordedAt: at(recorded))
}

private func line(memo: String, fen: Int64 = 60_000, date: String = "2026-11-05", payer: String = "王芳") -> BankLine {
    BankLine(line: 2, date: day(date), amountFen: fen, payerName: payer, payerAccount: "6222021234567890123", memo: memo, serial: nil,
             fingerprint: "f")
}

@Suite struct MatchingRuleTests {
    let open = DepositCandidate(deposit: deposit("d1", codeA), holder: "王芳", open: true, taken: false)
    let other = DepositCandidate(deposit: deposit("d2", codeB), holder: "王 芳", open: true, taken: false)

    func match(_ line: BankLine, references: [String: DepositCandidate] = [:], amount: [DepositCandidate] = []) -> MatchResult {
        Matching.match(line, windowDays: 10, byReference: { references[$0] }, byAmount: { fen in amount.filter { $0.deposit.amountFen == fen } })
    }

    @Test func theReferenceInTheMemoComesFirst() {
        #expect(match(line(memo: "公积金 \(codeA)"), references: [codeA: open]) == .matched(depositID: "d1", method: .reference))
        // Lower case, split by a hyphen as people type it.
        let typed = codeA.lowercased().prefix(7) + "-" + codeA.lowercased().dropFirst(7)
        #expect(match(line(memo: "缴存\(typed)"), references: [codeA: open]) == .matched(depositID: "d1", method: .reference))
        #expect(match(line(memo: codeA, fen: 6_000), references: [codeA: open]) == .amountMismatch(depositID: "d1"))
        let paid = DepositCandidate(deposit: open.deposit, holder: "王芳", open: false, taken: true)
        #expect(match(line(memo: codeA), references: [codeA: paid]) == .duplicate(depositID: "d1"))
        let reversed = DepositCandidate(deposit: open.deposit, holder: "王芳", open: false, taken: false)
        #expect(match(line(memo: codeA), references: [codeA: reversed]) == .noDeposit(candidates: [], note: .closedDeposit))
    }

    @Test func aMistypedReferenceIsNotTrustedButNoted() {
        var characters = Array(codeA)
        characters[5] = characters[5] == "A" ? "B" : "A"
        let mistyped = String(characters)
        #expect(match(line(memo: mistyped), references: [codeA: open]) == .noDeposit(candidates: [], note: .mistypedReference))
        // It still matches by amount, date and name when those fit one deposit.
        #expect(match(line(memo: mistyped), amount: [open]) == .matched(depositID: "d1", method: .amountDateName))
    }

    @Test(arguments: [
        ("2026-11-05", "王芳", MatchResult.matched(depositID: "d1", method: .amountDateName)),
        ("2026-11-13", "王芳", .matched(depositID: "d1", method: .amountDateName)),    // 10 days after recording (Beijing)
        ("2026-11-14", "王芳", .noDeposit(candidates: [], note: .none)),              // 11 days: outside the window
        ("2026-10-24", "王芳", .matched(depositID: "d1", method: .amountDateName)),    // 10 days before
        ("2026-11-05", "李梅", .noDeposit(candidates: [], note: .none)),              // another payer
        ("2026-11-05", "", .noDeposit(candidates: [], note: .none)),                  // no payer name
    ])
    func amountDateAndNameWithinTheWindow(date: String, payer: String, expected: MatchResult) {
        #expect(match(line(memo: "公积金", date: date, payer: payer), amount: [open]) == expected)
    }

    @Test func severalFittingDepositsAreLeftToTheOffice() {
        // The second holder's name differs only by a space: both fit.
        #expect(match(line(memo: "公积金"), amount: [open, other]) == .noDeposit(candidates: ["d1", "d2"], note: .ambiguous))
        let closed = DepositCandidate(deposit: other.deposit, holder: "王芳", open: false, taken: true)
        #expect(match(line(memo: "公积金"), amount: [open, closed]) == .matched(depositID: "d1", method: .amountDateName))
    }
}

/// What the office is offered for a line nothing matched: best first.
@Suite struct SuggestionTests {
    let wang = DepositCandidate(deposit: deposit("d1", codeA), holder: "王芳", open: true, taken: false)
    let li = DepositCandidate(deposit: deposit("d2", codeB, fen: 80_000), holder: "李梅", open: true, taken: false)
    let zhao = DepositCandidate(deposit: deposit("d3", ReferenceCode(randomBytes: Array(repeating: 3, count: 12)).value), holder: "赵强", open: true,
                                taken: false)

    func typo(_ code: String, at positions: [Int]) -> String {
        var characters = Array(code)
        for position in positions { characters[position] = characters[position] == "A" ? "B" : "A" }
        return String(characters)
    }

    @Test func aMemoCodeOneOrTwoCharactersOffComesFirst() {
        // Li's code with one character wrong, paid with Wang's amount and name: Li's deposit first.
        let one = Matching.suggestions(for: line(memo: "缴存 " + typo(codeB, at: [6])), windowDays: 10, pool: [wang, li, zhao])
        #expect(one.map(\.candidate.deposit.id) == ["d2", "d1", "d3"])
        #expect(one.map(\.reason) == [.nearReference, .amountAndName, .amount])
        #expect(one[0].distance == 1)
        #expect(one[0].because(.chinese) == "附言识别码与其相近（相差 1 个字符）")
        // Two characters off, a character dropped, or written with a hyphen: still found.
        #expect(Matching.suggestions(for: line(memo: typo(codeB, at: [3, 9])), windowDays: 10, pool: [li]).first?.distance == 2)
        #expect(Matching.suggestions(for: line(memo: String(codeB.dropLast())), windowDays: 10, pool: [li]).first?.distance == 1)
        let hyphenated = typo(codeB, at: [6]).prefix(7) + "-" + typo(codeB, at: [6]).dropFirst(7)
        #expect(Matching.suggestions(for: line(memo: String(hyphenated)), windowDays: 10, pool: [li]).first?.reason == .nearReference)
        // Three characters off is not offered as a near code.
        #expect(Matching.suggestions(for: line(memo: typo(codeB, at: [3, 6, 9]), fen: 1), windowDays: 10, pool: [li]).isEmpty)
    }

    @Test func thenAmountAndNameThenAmountThenName() {
        let otherWang = DepositCandidate(deposit: deposit("d4", codeB, fen: 12_300), holder: "王芳", open: true, taken: false)
        let sameAmount = DepositCandidate(deposit: deposit("d5", codeB), holder: "李梅", open: true, taken: false)
        let found = Matching.suggestions(for: line(memo: "公积金"), windowDays: 10, pool: [otherWang, sameAmount, wang])
        #expect(found.map(\.candidate.deposit.id) == ["d1", "d5", "d4"])
        #expect(found.map(\.reason) == [.amountAndName, .amount, .name])
        // Taken or closed deposits and those outside the window are never offered.
        let taken = DepositCandidate(deposit: wang.deposit, holder: "王芳", open: false, taken: true)
        #expect(Matching.suggestions(for: line(memo: "公积金"), windowDays: 10, pool: [taken]).isEmpty)
        #expect(Matching.suggestions(for: line(memo: "公积金", date: "2026-12-20"), windowDays: 10, pool: [wang]).isEmpty)
    }

    @Test func notesAreLabelledInTheUsersLanguage() {
        #expect(MatchResult.NoDepositNote.label(stored: "mistypedReference", .chinese) == "附言中的识别码校验位不对（输错）")
        #expect(MatchResult.NoDepositNote.label(stored: "mistypedReference", .english).contains("typo"))
    }
}

@Suite struct BankStatementTests {
    func read(_ text: String) throws -> (lines: [BankLine], problems: [EmployerList.RowProblem]) {
        try BankStatement.lines(of: try CSVTable(parsing: try TextDecoding.decode(Array(text.utf8)).text), language: .english)
    }

    @Test func readsTheQuirksOfSpreadsheetExports() throws {
        let (lines, problems) = try read("""
            \u{FEFF}交易日期,交易金额,付款人名称,付款人账号,摘要,流水号\r
            2026/11/05,"1,200.00",王芳,6222 0212 3456 7890,"公积金, \(codeA)",S1\r
            20261106,¥600,李梅,6222020000000000001,转账,\r
            2026-11-07 10:22:01,600.5元,赵强,6222020000000000002,,S3\r
            """)
        #expect(problems.isEmpty)
        #expect(lines.map(\.amountFen) == [120_000, 60_000, 60_050])
        #expect(lines.map(\.date.iso) == ["2026-11-05", "2026-11-06", "2026-11-07"])
        #expect(lines[0].payerAccount == "6222021234567890" && lines[0].maskedAccount == "****7890")
        #expect(lines[0].references.valid == [codeA])
        #expect(lines.map(\.line) == [2, 3, 4])
    }

    @Test func reportsEveryMalformedRowByLine() throws {
        let (lines, problems) = try read("""
            date,amount,payer_name,payer_account,memo
            2026-11-05,600.00,王芳,1,x
            2026-13-05,600.00,王芳,1,x
            2026-11-05,six hundred,王芳,1,x
            2026-11-05,-600.00,王芳,1,x
            2026-11-05,600.001,王芳,1,x
            2026-11-05,600.00,王芳
            2026-11-05,600.00,,,x
            """)
        // A negative amount is a debit (a fee, a transfer out): skipped and counted, not a problem.
        #expect(lines.count == 1)
        #expect(problems.map(\.line) == [3, 4, 6, 7, 8])
        #expect(problems[0].message.contains("not a date"))
        #expect(problems[1].message.contains("not an amount"))
        #expect(problems[3].message.contains("fields"))
        #expect(throws: ImportError.missingColumns(["memo (摘要)"])) {
            try BankStatement.lines(of: try CSVTable(parsing: "date,amount,payer_name,payer_account\n"), language: .english)
        }
    }

    @Test func identicalLinesAreKeptApartAndRecognisedAgain() throws {
        let text = "date,amount,payer_name,payer_account,memo\n2026-11-05,600.00,王芳,1,x\n2026-11-05,600.00,王芳,1,x\n"
        let first = try read(text).lines, again = try read(text).lines
        #expect(Set(first.map(\.fingerprint)).count == 2)
        #expect(first.map(\.fingerprint) == again.map(\.fingerprint))
        // With the bank's serial, the fingerprint is the serial's: the same line in another file matches.
        let a = try read("date,amount,payer_name,payer_account,memo,serial\n2026-11-05,600.00,王芳,1,x,S9\n").lines
        let b = try read("serial,date,memo,amount,payer_name,payer_account\nS9,2026-11-05,x,600.00,王芳,1\n2026-11-06,S8,y,1,a,1\n").lines
        #expect(a.first?.fingerprint == b.first?.fingerprint)
    }
}

@Suite struct InterestTests {
    // A deposit of ¥600 confirmed on the first day of the interest year counts 365 days; one on
    // 1 January 2026 counts 181 (to 30 June inclusive). 1.5% over a 360-day basis:
    //   600.00 × 365 + 600.00 × 181 = 32,760,000 fen-days; × 150 / 3,600,000 = 1,365 fen.
    func statement() -> Statement {
        let first = deposit("d1", codeA, recorded: "2025-06-30T02:00:00Z")
        let second = deposit("d2", codeB, recorded: "2025-12-31T02:00:00Z")
        let late = deposit("d3", ReferenceCode(randomBytes: Array(repeating: 3, count: 12)).value, recorded: "2026-06-30T02:00:00Z")
        let pending = deposit("d4", ReferenceCode(randomBytes: Array(repeating: 4, count: 12)).value, recorded: "2026-01-05T02:00:00Z")
        func confirmed(_ id: String, _ bank: String) -> DepositOutcome {
            DepositOutcome(depositID: id, decision: .confirmed, reason: nil, bankDate: day(bank), decidedAt: at("2026-07-02T02:00:00Z"))
        }
        return Statement(deposits: [first, second, late, pending], reversals: [:],
                         outcomes: ["d1": confirmed("d1", "2025-07-01"), "d2": confirmed("d2", "2026-01-01"), "d3": confirmed("d3", "2026-07-01")],
                         today: day("2026-06-30"))
    }

    @Test func settlesByDailyBalances() {
        let credit = InterestMethod.settle(accountID: "acc-1", year: 2026, statement: statement(), credits: [], policy: .defaults,
                                           at: at("2026-07-01T02:00:00Z"))
        #expect(credit.from == day("2025-07-01") && credit.to == day("2026-06-30"))
        #expect(credit.accumulatedFenDays == 32_760_000)
        #expect(credit.amountFen == 1_365)
        #expect(InterestCredit(values: credit.fields) == credit)
        #expect(credit.recordKey.id == "int-acc-1-2026")
    }

    @Test func earlierInterestEarnsFromTheDayAfterItWasCredited() {
        let earlier = InterestCredit(accountID: "acc-1", year: 2025, amountFen: 1_000, accumulatedFenDays: 0, rateBasisPoints: 150,
                                     dayCountBasis: 360, from: day("2024-07-01"), to: day("2025-06-30"), settledAt: at("2025-07-01T02:00:00Z"))
        let credit = InterestMethod.settle(accountID: "acc-1", year: 2026, statement: statement(), credits: [earlier], policy: .defaults,
                                           at: at("2026-07-01T02:00:00Z"))
        #expect(credit.accumulatedFenDays == 32_760_000 + 1_000 * 365)
        #expect(credit.amountFen == (33_125_000 * 150 + 1_800_000) / 3_600_000)
        // The balance's projection uses the same method, and does not project a settled year.
        let projected = Balance(statement: statement(), credits: [earlier], policy: .defaults, today: day("2026-06-30"))
        #expect(projected.projectedInterestFen == credit.amountFen)
        let settled = Balance(statement: statement(), credits: [earlier, credit], policy: .defaults, today: day("2026-06-30"))
        #expect(settled.projectedInterestFen == 0 && settled.interestCreditedFen == 1_000 + credit.amountFen)
    }
}

@Suite struct ReportTests {
    // A hand-computed fixture: three employers in 西工区, two in 洛龙区, judged on 2026-11-23
    // (months due up to October; stopped after 3 unpaid months).
    static let employers = [
        Employer(creditCode: "914103000010000008", name: "甲", branch: "西工区", kind: .privateEnterprise, established: true,
                 employees: 40, contributors: 30, pensionInsured: 38, lastPaid: Period("2026-10"), monthsInArrears: 0),      // normal
        Employer(creditCode: "91410300001001001J", name: "乙", branch: "西工区", kind: .privateEnterprise, established: true,
                 employees: 120, contributors: 60, pensionInsured: 110, lastPaid: Period("2026-05"), monthsInArrears: 2),    // stopped, 5 months (the ledger's 2 are within them)
        Employer(creditCode: "91410300001002002W", name: "丙", branch: "西工区", kind: .privateEnterprise, established: true,
                 employees: 25, contributors: 20, pensionInsured: 20, lastPaid: Period("2026-09"), monthsInArrears: 0),      // in arrears, 1 month
        Employer(creditCode: "914103000010030037", name: "丁", branch: "洛龙区", kind: .stateOwned, established: true,
                 employees: 60, contributors: 50, pensionInsured: 55, lastPaid: Period("2026-10"), monthsInArrears: 3),      // in arrears, 3 months
        Employer(creditCode: "91410300001004004H", name: "戊", branch: "洛龙区", kind: .socialOrganisation, established: false,
                 employees: 10, contributors: 0, pensionInsured: 8, lastPaid: nil, monthsInArrears: 0),                    // not established
    ]

    @Test func coverageByBranchAndEmployer() {
        let report = Reports.coverage(employers: Self.employers, reliefs: [:], policy: .defaults, asOf: day("2026-11-23"), language: .english)
        let branches = report.tables[0]
        #expect(branches.rows.map { $0.map(\.plain) } == [
            ["洛龙区", "2", "1", "70", "50", "63", "79.37%"],     // 50 / 63
            ["西工区", "3", "3", "185", "110", "168", "65.48%"],  // 110 / 168
            ["Total", "5", "4", "255", "160", "231", "69.26%"],   // 160 / 231
        ])
        #expect(report.tables[1].rows.count == 5)
        #expect(report.tables[1].rows[0].map(\.plain) == ["洛龙区", "914103000010030037", "丁", "in arrears", "60", "50", "55", "90.91%"])
    }

    @Test func arrearsSummaryAndDetail() {
        let report = Reports.arrears(employers: Self.employers, reliefs: [:], policy: .defaults, asOf: day("2026-11-23"), language: .chinese)
        #expect(report.tables[0].rows.map { $0.map(\.plain) } == [
            ["洛龙区", "1", "0", "1", "60", "3"],
            ["西工区", "1", "1", "2", "145", "6"],
            ["合计", "2", "1", "3", "205", "9"],
        ])
        #expect(report.tables[1].rows.map { $0[1].plain } == ["914103000010030037", "91410300001001001J", "91410300001002002W"])
        #expect(report.tables[1].rows[1].map(\.plain)[4...6] == ["停缴", "2026-05", "5"])
        // An approved deferral takes 乙 out of the tables.
        let deferred = Reports.arrears(employers: Self.employers, reliefs: ["unit-91410300001001001J": [ApprovedRelief(kind: .defer,
                                       from: Period("2026-11")!, through: Period("2027-04")!)]], policy: .defaults, asOf: day("2026-11-23"),
                                       language: .english)
        #expect(deferred.tables[0].rows.last?.map(\.plain) == ["Total", "2", "0", "2", "85", "4"])
    }

    @Test func monthsOwedIsOneFigureNeverTheLedgerAddedToTheGap() throws {
        func employer(_ lastPaid: String?, ledger: Int) throws -> Employer {
            Employer(creditCode: "914103000010000008", name: "甲", branch: "西工区", kind: .privateEnterprise, established: true,
                     employees: 40, contributors: 30, pensionInsured: 38, lastPaid: lastPaid.flatMap { Period($0) }, monthsInArrears: ledger)
        }
        // Last paid for October, listed in May with the 6 months owed since (November to April):
        // 6 in May, not 12; 7 in June.
        #expect(try employer("2025-10", ledger: 6).monthsOwed(asOf: day("2026-05-20")) == 6)
        #expect(try employer("2025-10", ledger: 6).monthsOwed(asOf: day("2026-06-20")) == 7)
        // Paid up but owing 3 months of earlier under-payment: 3.
        #expect(try employer("2026-04", ledger: 3).monthsOwed(asOf: day("2026-05-20")) == 3)
        #expect(try employer(nil, ledger: 0).monthsOwed(asOf: day("2026-05-20")) == 0)
        // The report says the same.
        let listed = try employer("2025-10", ledger: 6)
        #expect(Reports.unpaidMonths(listed, asOf: day("2026-05-20")) == listed.monthsOwed(asOf: day("2026-05-20")))
    }

    @Test func enrolmentCountsAndTheReconciledShare() throws {
        func account(_ id: String, _ category: AccountCategory, _ channel: EnrollmentChannel, verified: Bool) throws -> Account {
            var values = try Account.enroll(id: id, name: "某", idNumber: "360426199101010071", phone: "13800138000", category: category,
                                            agreement: try Agreement.fixed(monthlyFen: 60_000, policy: .defaults), channel: channel,
                                            today: day("2026-10-01"), policy: .defaults).createFields
            values["verified"] = .bool(verified)
            return try #require(Account(id: id, values: values))
        }
        func dep(_ id: String, _ month: String, _ fen: Int64) -> Deposit {
            deposit(id, codeA, fen: fen, recorded: "\(month)-10T02:00:00Z")
        }
        let facts = [
            Reports.AccountFacts(account: try account("a1", .gig, .selfService, verified: true),
                                 deposits: [(dep("1", "2026-10", 60_000), .confirmed), (dep("2", "2026-11", 60_000), .pending)]),
            Reports.AccountFacts(account: try account("a2", .gig, .outreach, verified: false),
                                 deposits: [(dep("3", "2026-10", 60_000), .rejected), (dep("4", "2026-10", 60_000), .reversed)]),
            Reports.AccountFacts(account: try account("a3", .trader, .outreach, verified: true),
                                 deposits: [(dep("5", "2026-11", 120_000), .confirmed)]),
        ]
        let report = Reports.enrolment(facts, asOf: day("2026-11-23"), language: .english)
        // 4 deposits count (the reversed one does not): ¥3,000; confirmed ¥1,800; reconciled 3 of 4.
        #expect(report.tables[0].rows[0].map(\.plain) == ["3", "2", "4", "3000.00", "1800.00", "75.00%"])
        #expect(report.tables[1].rows.map { $0.map(\.plain) } == [
            ["gig worker", "self", "1", "1", "0", "0", "0"],
            ["gig worker", "outreach", "1", "0", "1", "0", "0"],
            ["individual trader", "outreach", "1", "1", "0", "0", "0"],
        ])
        #expect(report.tables[2].rows.map { $0.map(\.plain) } == [
            ["2026-10", "2", "1200.00", "1", "600.00", "0", "1", "100.00%"],
            ["2026-11", "2", "1800.00", "1", "1200.00", "1", "0", "50.00%"],
        ])
        #expect(report.tables[0].csv.hasPrefix("\u{FEFF}Accounts,Opened by outreach"))
    }
}

@Suite struct InstantTextTests {
    @Test func theStoredSpellingRoundTrips() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let instant = Instant(millisSinceEpoch: Int64.random(in: -2_000_000_000_000...4_000_000_000_000, using: &generator))
            #expect(Instant(utcISO: instant.utcISO) == instant)
        }
        #expect(Instant(millisSinceEpoch: 0).utcISO == "1970-01-01T00:00:00.000Z")
        #expect(Instant(millisSinceEpoch: -1).utcISO == "1969-12-31T23:59:59.999Z")
        #expect(Instant(utcISO: "2026-11-23T02:00:00Z")?.utcISO == "2026-11-23T02:00:00.000Z")
        for bad in ["2026-02-30T00:00:00.000Z", "2026-11-23T24:00:00.000Z", "2026-11-23T02:60:00.000Z", "2026-11-23 02:00:00.000Z",
                    "2026-11-23T02:00:00.000", "2026-11-23T02:00:00.00Z", "2026-1a-23T02:00:00.000Z"] {
            #expect(Instant(utcISO: bad) == nil, "\(bad)")
        }
    }
}

/// One masking rule for every surface: by field, not by the look of a value.
@Suite struct MaskingTests {
    @Test func idNumbersAndPhonesAreMaskedByTheirFieldAndCreditCodesAreNot() {
        #expect(Reports.masked("360426199101010071", field: "idNumber") == "3604**********0071")
        #expect(Reports.masked("13800138000", field: "phone") == "138****8000")
        #expect(Reports.masked("0379-63212345", field: "phone") == "0379*****2345")
        // A credit code has 18 characters, like an ID number: it is not personal data.
        #expect(Reports.masked("91410300001001001J", field: "creditCode") == "91410300001001001J")
        #expect(Reports.masked("张三", field: "name") == "张三")
        let contact: CanonicalValue = .object(["name": "王芳", "phone": "13800138000"])
        #expect(Reports.masked(contact, field: "contact") == #"{"name":"王芳","phone":"138****8000"}"#)
        #expect(Reports.masked(.integer(600), field: "amountFen") == "600")
    }
}
