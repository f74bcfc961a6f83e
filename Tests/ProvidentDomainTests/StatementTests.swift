import ProvidentDomain
import Testing

@Suite struct StatementTests {
    func deposit(_ n: Int, _ periods: [String], fen: Int64 = 60_000, at iso: String, kind: DepositKind = .monthly) -> Deposit {
        Deposit(id: "dep-\(n)", accountID: "acc-1", amountFen: fen, kind: kind, periods: periods.compactMap(Period.init),
                method: .bankTransfer, reference: "PV\(n)", recordedAt: Instant(utcISO: iso)!)
    }

    @Test func runsTotalsAndCountsContinuousMonths() {
        let deposits = [
            deposit(1, ["2026-07"], at: "2026-07-05T02:00:00Z"),
            deposit(2, ["2026-08", "2026-09"], fen: 120_000, at: "2026-10-03T02:00:00Z", kind: .catchUp),
            deposit(3, ["2026-10"], at: "2026-10-04T02:00:00Z"),
            deposit(4, ["2026-11"], at: "2026-11-02T02:00:00Z"),
        ]
        let confirmed = DepositOutcome(depositID: "dep-1", decision: .confirmed, reason: nil,
                                       bankDate: CivilDate(year: 2026, month: 7, day: 6), decidedAt: Instant(utcISO: "2026-07-08T00:00:00Z")!)
        let statement = Statement(deposits: deposits.reversed(), reversals: [:], outcomes: ["dep-1": confirmed], today: today)
        #expect(statement.lines.map(\.deposit.id) == ["dep-1", "dep-2", "dep-3", "dep-4"])
        #expect(statement.lines.map(\.runningTotalFen) == [60_000, 180_000, 240_000, 300_000])
        #expect(statement.lines.map(\.status) == [.confirmed, .pending, .pending, .pending])
        #expect(statement.lines[0].valueDate.iso == "2026-07-06")
        #expect(statement.totalFen == 300_000)
        #expect(statement.confirmedFen == 60_000)
        #expect(statement.pendingFen == 240_000)
        #expect(statement.continuousMonths == 5)
        // August to November await the office; behind them, July is confirmed.
        #expect(statement.continuousConfirmedMonths == 1)
    }

    @Test func countsConfirmedMonthsBehindTheOnesStillAwaitingConfirmation() {
        let deposits = ["2026-08", "2026-09", "2026-10", "2026-11"].enumerated().map { index, month in
            deposit(index, [month], at: "\(month)-05T02:00:00Z")
        }
        func confirmed(_ n: Int) -> (String, DepositOutcome) {
            ("dep-\(n)", DepositOutcome(depositID: "dep-\(n)", decision: .confirmed, reason: nil, bankDate: nil,
                                       decidedAt: Instant(utcISO: "2026-11-20T00:00:00Z")!))
        }
        let statement = Statement(deposits: deposits, reversals: [:], outcomes: Dictionary(uniqueKeysWithValues: [confirmed(0), confirmed(1)]),
                                  today: today)
        #expect(statement.continuousMonths == 4)
        // October and November await the office; August and September are confirmed in a row.
        #expect(statement.continuousConfirmedMonths == 2)
    }

    @Test func leavesOutReversedAndRejectedDepositsAndBreaksTheStreakOnAGap() {
        let deposits = [
            deposit(1, ["2026-08"], at: "2026-08-05T02:00:00Z"),
            deposit(2, ["2026-09"], at: "2026-09-05T02:00:00Z"),
            deposit(3, ["2026-10"], at: "2026-10-05T02:00:00Z"),
        ]
        let reversal = DepositReversal(depositID: "dep-2", reason: "wrong month", recordedAt: Instant(utcISO: "2026-09-06T00:00:00Z")!)
        let rejected = DepositOutcome(depositID: "dep-3", decision: .rejected, reason: "no payment found", bankDate: nil,
                                      decidedAt: Instant(utcISO: "2026-10-20T00:00:00Z")!)
        let statement = Statement(deposits: deposits, reversals: ["dep-2": reversal], outcomes: ["dep-3": rejected], today: today)
        #expect(statement.lines.map(\.status) == [.pending, .reversed, .rejected])
        #expect(statement.lines.map(\.runningTotalFen) == [60_000, 60_000, 60_000])
        #expect(statement.lines[1].note == "wrong month")
        #expect(statement.totalFen == 60_000)
        // October is not paid and November is not over: no current streak.
        #expect(statement.continuousMonths == 0)
    }

    @Test func projectsInterestByDailyBalanceToTheNextSettlement() {
        // ¥10,000 confirmed with value date 2026-07-01 earns 365 days to 2027-06-30 at 1.5%/360:
        // 1,000,000 fen × 365 × 150 / (10,000 × 360) = 15,208.33 fen → 15,208.
        let big = deposit(1, [], fen: 1_000_000, at: "2026-07-01T02:00:00Z", kind: .lump)
        let outcome = DepositOutcome(depositID: "dep-1", decision: .confirmed, reason: nil, bankDate: CivilDate(year: 2026, month: 7, day: 1),
                                     decidedAt: Instant(utcISO: "2026-07-02T00:00:00Z")!)
        let pending = deposit(2, ["2026-11"], at: "2026-11-02T02:00:00Z")
        let statement = Statement(deposits: [big, pending], reversals: [:], outcomes: ["dep-1": outcome], today: today)
        let balance = Balance(statement: statement, policy: .defaults, today: today)
        #expect(balance.settlementDate.iso == "2027-06-30")
        #expect(balance.interestYearStart.iso == "2026-07-01")
        #expect(balance.confirmedFen == 1_000_000)
        #expect(balance.pendingFen == 60_000)
        #expect(balance.projectedInterestFen == 15_208)
    }

    @Test func settlesOnTheDayItselfAndCountsCarriedBalancesFromTheYearStart() {
        let old = deposit(1, [], fen: 360_000, at: "2025-01-10T02:00:00Z", kind: .lump)
        let outcome = DepositOutcome(depositID: "dep-1", decision: .confirmed, reason: nil, bankDate: nil,
                                     decidedAt: Instant(utcISO: "2025-01-11T00:00:00Z")!)
        let statement = Statement(deposits: [old], reversals: [:], outcomes: ["dep-1": outcome], today: CivilDate(year: 2026, month: 6, day: 30)!)
        let balance = Balance(statement: statement, policy: .defaults, today: CivilDate(year: 2026, month: 6, day: 30)!)
        #expect(balance.settlementDate.iso == "2026-06-30")
        #expect(balance.interestYearStart.iso == "2025-07-01")
        // 360,000 × 365 × 150 / 3,600,000 = 5,475 exactly.
        #expect(balance.projectedInterestFen == 5_475)
    }
}

@Suite struct PolicyFileTests {
    @Test func anEmptyFileMeansTheDefaults() throws {
        #expect(try Policy(yaml: "") == .defaults)
        #expect(try Policy(yaml: "# nothing here\n") == .defaults)
    }

    @Test func theWrittenFormReadsBackUnchanged() throws {
        var policy = Policy.defaults
        policy.name = "沈阳 \"fixed\""
        policy.agreementModes = [.fixedAmount]
        policy.lumpAllowed = true
        policy.settlementMonth = 12
        policy.settlementDay = 31
        #expect(try Policy(yaml: policy.yaml) == policy)
        #expect(try Policy(yaml: Policy.defaults.yaml) == .defaults)
    }

    @Test func keysLeftOutKeepTheirDefaults() throws {
        let policy = try Policy(yaml: "agreement:\n  ratePercent: {minimum: 5, maximum: 12}\n")
        #expect(policy.ratePercent == 5...12)
        #expect(policy.baseFen == Policy.defaults.baseFen)
    }

    @Test(arguments: [
        ("agreement:\n  ratePercnt: {minimum: 5, maximum: 12}\n", "policy_file.unknown_key", "agreement.ratePercnt"),
        ("eligibility:\n  minimumAge: sixteen\n", "policy_file.type", "eligibility.minimumAge"),
        ("eligibility: [16, 60]\n", "policy_file.type", "eligibility"),
        ("deposits:\n  lumpAllowed: maybe\n", "policy_file.type", "deposits.lumpAllowed"),
        ("eligibility:\n  minimumAge: 70\n", "policy_file.invalid", "eligibility"),
        ("agreement:\n  baseYuan: {minimum: 3000, maximum: 2000}\n", "policy_file.invalid", "agreement.baseYuan"),
        ("agreement:\n  modes: [monthly]\n", "policy_file.type", "agreement.modes"),
        ("agreement:\n  modes: []\n", "policy_file.invalid", "agreement.modes"),
        ("interest:\n  dayCountBasis: 364\n", "policy_file.invalid", "interest.dayCountBasis"),
        ("interest:\n  settlementDate: \"02-30\"\n", "policy_file.invalid", "interest.settlementDate"),
        ("agreement: {baseYuan: {minimum: 1\n", "policy_file.syntax", "line 2"),
    ])
    func refusesAFileItCannotUseSayingWhere(yaml: String, code: String, path: String) {
        do {
            _ = try Policy(yaml: yaml)
            Issue.record("accepted \(yaml)")
        } catch {
            #expect(error.code == code)
            #expect(error.message(.english).contains(path))
            #expect(!error.message(.chinese).isEmpty)
        }
    }

    @Test func reportsTheLineOfAnUnknownKey() {
        #expect(throws: PolicyError.unknownKey(path: "deposits.capYaun", line: 3)) {
            try Policy(yaml: "name: x\ndeposits:\n  capYaun: 5\n")
        }
    }
}
