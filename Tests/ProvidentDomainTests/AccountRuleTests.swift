import ProvidentDomain
import ProvidentSync
import Testing

@Suite struct AgreementTests {
    let policy = Policy.defaults

    /// Monthly amount = base × rate, rounded half-up to the whole yuan.
    @Test(arguments: [("5000", "12", Int64(60_000)), ("2000", "10", 20_000), ("28000", "24", 672_000),
                      ("4321.50", "11", 47_500), ("4550", "11", 50_100), ("4549.99", "11", 50_000),
                      ("2045.45", "10", 20_500), ("2044.99", "10", 20_400), ("3333.33", "12%", 40_000)])
    func setsTheMonthlyAmountFromBaseAndRate(base: String, rate: String, monthlyFen: Int64) throws {
        let agreement = try Agreement.typed(base: base, rate: rate, monthly: nil, policy: policy)
        #expect(agreement.monthlyFen == monthlyFen)
        #expect(agreement.mode == .baseAndRate)
    }

    @Test(arguments: [
        ("1999.99", "12", nil, DomainError.baseOutsidePolicy(baseFen: 199_999, minimumFen: 200_000, maximumFen: 2_800_000)),
        ("28000.01", "12", nil, .baseOutsidePolicy(baseFen: 2_800_001, minimumFen: 200_000, maximumFen: 2_800_000)),
        ("5000", "9", nil, .rateOutsidePolicy(basisPoints: 900, minimumPercent: 10, maximumPercent: 24)),
        ("5000", "25", nil, .rateOutsidePolicy(basisPoints: 2_500, minimumPercent: 10, maximumPercent: 24)),
        ("5000", "12.5", nil, .rateNotWholePercent),
        ("5000", "twelve", nil, .rateNotWholePercent),
        ("5000.123", "12", nil, .amountTooManyDecimals("5000.123")),
        ("-5000", "12", nil, .amountNegative),
        ("0", "12", nil, .amountZero),
        (nil, nil, "209.99", .fixedOutsidePolicy(amountFen: 20_999, minimumFen: 21_000, maximumFen: 688_800)),
        (nil, nil, "6888.01", .fixedOutsidePolicy(amountFen: 688_801, minimumFen: 21_000, maximumFen: 688_800)),
        ("5000", nil, nil, .agreementIncomplete),
        ("5000", "12", "600", .agreementIncomplete),
        (nil, nil, nil, .agreementIncomplete),
    ] as [(String?, String?, String?, DomainError)])
    func refusesAgreementsOutsideThePolicy(base: String?, rate: String?, monthly: String?, error: DomainError) {
        #expect(throws: error) { try Agreement.typed(base: base, rate: rate, monthly: monthly, policy: policy) }
    }

    @Test func acceptsTheFixedAmountBounds() throws {
        #expect(try Agreement.typed(base: nil, rate: nil, monthly: "210", policy: policy).monthlyFen == 21_000)
        #expect(try Agreement.typed(base: nil, rate: nil, monthly: "6,888", policy: policy).monthlyFen == 688_800)
    }

    @Test func refusesAModeTheCityDoesNotOffer() {
        var fixedOnly = policy
        fixedOnly.agreementModes = [.fixedAmount]
        #expect(throws: DomainError.agreementModeNotAllowed(.baseAndRate)) {
            try Agreement.typed(base: "5000", rate: "12", monthly: nil, policy: fixedOnly)
        }
        var baseOnly = policy
        baseOnly.agreementModes = [.baseAndRate]
        #expect(throws: DomainError.agreementModeNotAllowed(.fixedAmount)) {
            try Agreement.typed(base: nil, rate: nil, monthly: "500", policy: baseOnly)
        }
    }
}

@Suite struct EnrollmentTests {
    let policy = Policy.defaults

    func enroll(idNumber: String = "360426199101010071", name: String = "张三", phone: String = "13800138000") throws -> Account {
        try Account.enroll(id: "acc-1", name: name, idNumber: idNumber, phone: phone, category: .gig,
                           agreement: try Agreement.typed(base: "5000", rate: "12", monthly: nil, policy: policy),
                           channel: .selfService, today: today, policy: policy)
    }

    @Test func opensAnAccountPendingVerification() throws {
        let account = try enroll()
        #expect(account.status == .pendingVerification)
        #expect(account.firstPeriod.iso == "2026-11")
        let read = Account(id: "acc-1", values: account.createFields)
        #expect(read == account)
    }

    @Test func refusesAnAgeOutsideThePolicy() {
        // 44011320141005001X: born 2014-10-05, valid, but 12 years old.
        #expect(throws: DomainError.ageOutsidePolicy(age: 12, minimum: 16, maximum: 60)) {
            try enroll(idNumber: "44011320141005001X")
        }
    }

    @Test(arguments: [("", DomainError.nameEmpty), ("   ", .nameEmpty), (String(repeating: "名", count: 51), .nameTooLong(maxCharacters: 50)),
                      // The left arrow pressed at a prompt, a tab pasted in, a C1 control.
                      ("张三\u{1B}[D", .nameControlCharacter), ("张\t三", .nameControlCharacter), ("张\u{85}三", .nameControlCharacter)])
    func refusesBadNames(name: String, error: DomainError) {
        #expect(throws: error) { try enroll(name: name) }
    }

    @Test func derivesStatusAndRefusesWhatTheStatusForbids() throws {
        var account = try enroll()
        #expect(try account.pauseFields() == ["paused": true])
        #expect(throws: DomainError.accountNotPaused) { try account.resumeFields() }
        account.paused = true
        #expect(account.status == .paused)
        #expect(throws: DomainError.accountAlreadyPaused) { try account.pauseFields() }
        account.verified = true
        account.paused = false
        #expect(account.status == .active)
        #expect(throws: DomainError.reasonEmpty) { try account.closeFields(reason: " ", today: today) }
        account.closedOn = today
        #expect(account.status == .closed)
        #expect(throws: DomainError.accountClosed) { try account.pauseFields() }
        #expect(throws: DomainError.accountClosed) { try account.updateFields(phone: "13900139000", agreement: nil) }
    }

    @Test func updatesOnlyWhatChanges() throws {
        let account = try enroll()
        #expect(try account.updateFields(phone: "+86 139 0013 9000", agreement: nil) == ["phone": "13900139000"])
        #expect(throws: DomainError.nothingToUpdate) { try account.updateFields(phone: "13800138000", agreement: account.agreement) }
    }
}

@Suite struct DepositRuleTests {
    let policy = Policy.defaults
    var account: Account {
        get throws {
            var account = try Account.enroll(
                id: "acc-1", name: "张三", idNumber: "360426199101010071", phone: "13800138000", category: .gig,
                agreement: try Agreement.typed(base: "5000", rate: "12", monthly: nil, policy: policy), channel: .selfService,
                today: CivilDate(year: 2026, month: 6, day: 10)!, policy: policy)
            account.verified = true
            return account
        }
    }

    func check(_ target: DepositRequest.Target, amount: String? = nil, paid: [Period: String] = [:],
               policy: Policy? = nil, account: Account? = nil) throws -> (DepositKind, [String], Int64) {
        let request = DepositRequest(target: target, amount: amount, method: .bankTransfer)
        let result = try request.check(account: try account ?? self.account, policy: policy ?? self.policy,
                                       today: today, paid: paid)
        return (result.kind, result.periods.map(\.iso), result.amountFen)
    }

    @Test func recordsTheAgreedMonthlyAmountForThisMonth() throws {
        #expect(try check(.month("2026-11")) == (.monthly, ["2026-11"], 60_000))
        #expect(try check(.month("2026-11"), amount: "600.00") == (.monthly, ["2026-11"], 60_000))
    }

    @Test func catchesUpPastMonthsAtTheAgreedAmountEach() throws {
        #expect(try check(.catchUp(["2026-09", "2026-07", "2026-08"])) == (.catchUp, ["2026-07", "2026-08", "2026-09"], 180_000))
    }

    @Test(arguments: [
        (DepositRequest.Target.month("2026-12"), nil as String?, DomainError.periodInFuture(period: Period("2026-12")!, latest: Period("2026-11")!)),
        (.month("2026-10"), nil, .monthlyForPastPeriod(Period("2026-10")!)),
        (.month("2026-13"), nil, .periodFormat("2026-13")),
        (.month("2026-11"), "600.001", .amountTooManyDecimals("600.001")),
        (.month("2026-11"), "-600", .amountNegative),
        (.month("2026-11"), "0", .amountZero),
        (.month("2026-11"), "0.00", .amountZero),
        (.month("2026-11"), "100000.01", .amountAboveCap(capFen: 10_000_000)),
        (.month("2026-11"), "500", .amountNotAgreed(expectedFen: 60_000, actualFen: 50_000)),
        (.catchUp(["2026-11"]), nil, .catchUpNotPast(Period("2026-11")!)),
        (.catchUp(["2026-05"]), nil, .periodBeforeAccount(period: Period("2026-05")!, first: Period("2026-06")!)),
        (.catchUp(["2026-07", "2026-07"]), nil, .periodRepeated(Period("2026-07")!)),
        (.catchUp([]), nil, .catchUpEmpty),
        (.catchUp(["2026-07"]), "1200", .amountNotAgreed(expectedFen: 60_000, actualFen: 120_000)),
        (.lump, "5000", .lumpNotAllowed),
    ])
    func refusesDepositsAgainstTheRules(target: DepositRequest.Target, amount: String?, error: DomainError) {
        #expect(throws: error) { try check(target, amount: amount) }
    }

    @Test func refusesAMonthAlreadyPaid() {
        let paid = [Period("2026-11")!: "PV4K7Q9MXTR2HC3", Period("2026-08")!: "PVABCDEFGHJKLM1"]
        #expect(throws: DomainError.periodAlreadyPaid(period: Period("2026-11")!, reference: "PV4K7Q9MXTR2HC3")) {
            try check(.month("2026-11"), paid: paid)
        }
        #expect(throws: DomainError.periodAlreadyPaid(period: Period("2026-08")!, reference: "PVABCDEFGHJKLM1")) {
            try check(.catchUp(["2026-07", "2026-08"]), paid: paid)
        }
    }

    @Test func refusesDepositsOnPausedOrClosedAccounts() throws {
        var paused = try account
        paused.paused = true
        #expect(throws: DomainError.accountPaused) { try check(.month("2026-11"), account: paused) }
        var closed = try account
        closed.closedOn = today
        #expect(throws: DomainError.accountClosed) { try check(.month("2026-11"), account: closed) }
    }

    @Test func appliesTheCityOptions() throws {
        var generous = policy
        generous.lumpAllowed = true
        generous.advanceMonths = 1
        generous.catchUpMaxMonths = 2
        generous.depositCapFen = 150_000
        #expect(try check(.lump, amount: "1,500", policy: generous) == (.lump, [], 150_000))
        #expect(throws: DomainError.amountAboveCap(capFen: 150_000)) { try check(.lump, amount: "1500.01", policy: generous) }
        #expect(throws: DomainError.amountMissing) { try check(.lump, policy: generous) }
        #expect(try check(.month("2026-12"), policy: generous) == (.monthly, ["2026-12"], 60_000))
        #expect(throws: DomainError.tooManyCatchUpMonths(count: 3, maximum: 2)) {
            try check(.catchUp(["2026-07", "2026-08", "2026-09"]), policy: generous)
        }
        // Three months at ¥600 exceed a ¥1,500 cap even when the month limit allows them.
        generous.catchUpMaxMonths = 12
        #expect(throws: DomainError.amountAboveCap(capFen: 150_000)) {
            try check(.catchUp(["2026-07", "2026-08", "2026-09"]), policy: generous)
        }
    }

    @Test func messagesCarryNoReferenceAndPromiseNoPrefixTheWireRefuses() throws {
        let paid = DomainError.periodAlreadyPaid(period: try #require(Period("2026-10")), reference: "PV4K7Q9MXTR2HC3")
        for language in [Language.english, .chinese] {
            #expect(!paid.message(language).contains("PV4K7Q9MXTR2HC3"))
            #expect(!DomainError.mobileInvalid.message(language).contains("+86"))
        }
        // An agreement inconsistent with the policy's rule is a policy refusal, not a deposit's.
        #expect(DomainError.agreementAmountWrong(expectedFen: 60_000, actualFen: 60_100).code == "policy.agreement_amount")
        #expect(!DomainError.agreementAmountWrong(expectedFen: 60_000, actualFen: 60_100).message(.english).contains("--amount"))
    }
}

@Suite struct ScopeOrderTests {
    /// Scopes sort as their stored spellings do (the store writes them in that order), though
    /// the comparison does not spell them.
    @Test func scopesSortAsTheirSpellings() {
        let scopes: [Scope] = [.staff, .branch("西工区"), .branch("西"), .branch(""), .branch("a:b"), .branch("洛龙区"),
                               .account("acc-2"), .account("acc-10"), .account(""), .account("acc-1"), .account("acc-1x")]
        for a in scopes {
            for b in scopes {
                #expect((a < b) == (a.description < b.description), "\(a) < \(b)")
            }
        }
        #expect(scopes.sorted().map(\.description) == scopes.map(\.description).sorted())
    }
}
