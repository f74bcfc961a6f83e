import Foundation
import ProvidentDomain
import Testing

private func date(_ text: String) -> CivilDate { CivilDate(iso: text)! }
private func period(_ text: String) -> Period { Period(text)! }
private let recorded = Instant(utcISO: "2026-11-23T02:00:00Z")!

private func employer(established: Bool = true, lastPaid: String? = "2026-10", owed: Int = 0, branch: String = "西工区",
                      code: String = "91110000600037341L") -> Employer {
    Employer(creditCode: code, name: "洛阳恒达商贸有限公司", branch: branch, kind: .privateEnterprise, established: established,
             employees: 40, contributors: 30, pensionInsured: 38, lastPaid: lastPaid.map(period), monthsInArrears: owed)
}

@Suite struct ComplianceRuleTests {
    // The rule table of Employer.compliance, judged on 2026-11-23 with the default policy
    // (stopped after 3 unpaid months): months due are those up to October.
    @Test(arguments: [
        (true, "2026-10", 0, [ApprovedRelief](), ComplianceStatus.normal),
        (true, "2026-11", 0, [], .normal),
        (true, "2026-09", 0, [], .inArrears),
        (true, "2026-08", 0, [], .inArrears),
        (true, "2026-07", 0, [], .stopped),
        (true, nil, 0, [], .stopped),
        (true, "2026-10", 2, [], .inArrears),
        (false, "2026-10", 0, [], .notEstablished),
        (false, nil, 0, [ApprovedRelief(kind: .defer, from: Period("2026-11")!, through: Period("2027-04")!)], .notEstablished),
        (true, "2026-01", 5, [ApprovedRelief(kind: .defer, from: Period("2026-06")!, through: Period("2027-05")!)], .deferred),
        (true, "2026-01", 0, [ApprovedRelief(kind: .defer, from: Period("2026-01")!, through: Period("2026-10")!)], .stopped),
        (true, "2026-10", 0, [ApprovedRelief(kind: .reduceRate, from: Period("2026-11")!, through: Period("2027-10")!)], .reducedRate),
        (true, "2026-09", 0, [ApprovedRelief(kind: .reduceRate, from: Period("2026-11")!, through: Period("2027-10")!)], .inArrears),
        (true, "2026-10", 0, [ApprovedRelief(kind: .reduceRate, from: Period("2025-11")!, through: Period("2026-10")!)], .normal),
    ] as [(Bool, String?, Int, [ApprovedRelief], ComplianceStatus)])
    func statusFollowsTheDocumentedRules(established: Bool, lastPaid: String?, owed: Int, reliefs: [ApprovedRelief], expected: ComplianceStatus) {
        let status = employer(established: established, lastPaid: lastPaid, owed: owed)
            .compliance(asOf: date("2026-11-23"), reliefs: reliefs, policy: .defaults)
        #expect(status == expected)
    }

    @Test func theStoppedThresholdComesFromThePolicy() throws {
        let policy = try Policy(yaml: "employers: {stoppedAfterMonths: 6}")
        #expect(employer(lastPaid: "2026-07").compliance(asOf: date("2026-11-23"), reliefs: [], policy: policy) == .inArrears)
        #expect(employer(lastPaid: "2026-04").compliance(asOf: date("2026-11-23"), reliefs: [], policy: policy) == .stopped)
    }

    @Test func coverageIsContributorsOverPensionInsured() {
        #expect(employer().coverageBasisPoints == 7_894)
        var none = employer()
        none.pensionInsured = 0
        #expect(none.coverageBasisPoints == nil)
    }

    @Test func campaignTargetsAreTheDelinquentAtTheCutOffByBranch() {
        let units = [
            employer(lastPaid: "2026-01", code: "91110000600037341L"),
            employer(lastPaid: "2026-02", branch: "洛龙区", code: "121200004013590816"),
            employer(lastPaid: "2026-03", code: "91310115MA1K3BTP2B"),
            employer(established: false, code: "92340602MA2PBMEM24"),
        ]
        // On 2026-03-31, months up to February are due: the first is in arrears, the second
        // and third are paid up, the fourth has no scheme.
        let targets = Campaign.targets(units: units, reliefs: [:], cutoff: date("2026-03-31"), policy: .defaults)
        #expect(targets == ["西工区": ["unit-91110000600037341L"]])
        let later = Campaign.targets(units: units, reliefs: [:], cutoff: date("2026-06-30"), policy: .defaults)
        #expect(later == ["西工区": ["unit-91110000600037341L", "unit-91310115MA1K3BTP2B"], "洛龙区": ["unit-121200004013590816"]])
    }
}

@Suite struct EmployerFormTests {
    @Test func aNewEmployerNeedsCodeNameAndBranch() throws {
        #expect(throws: DomainError.creditCodeCheck) { try EmployerForm(creditCode: "91110000600037341N", name: "甲", branch: "西工区").apply(to: nil) }
        #expect(throws: DomainError.unitNameEmpty) { try EmployerForm(creditCode: "91110000600037341L", name: " ", branch: "西工区").apply(to: nil) }
        #expect(throws: DomainError.branchInvalid) { try EmployerForm(creditCode: "91110000600037341L", name: "甲").apply(to: nil) }
        let made = try EmployerForm(creditCode: "91110000600037341l", name: "甲公司", branch: "西工区", kind: "民营企业",
                                    contactPhone: "0379-63212345", established: "是", employees: "1,200", contributors: "30",
                                    pensionInsured: "38", lastPaid: "2026/10", monthsInArrears: "0").apply(to: nil)
        #expect(made.id == "unit-91110000600037341L")
        #expect(made.kind == .privateEnterprise && made.established && made.employees == 1_200 && made.lastPaid == period("2026-10"))
        #expect(made.contact?.phone == "0379-63212345")
    }

    @Test func emptyCellsLeaveAnEmployerAsItIs() throws {
        let existing = employer()
        let updated = try EmployerForm(creditCode: existing.creditCode, name: "", branch: nil, lastPaid: "2026-11").apply(to: existing)
        #expect(updated.name == existing.name && updated.branch == existing.branch)
        #expect(updated.changedFields(from: existing) == ["lastPaid": .string("2026-11")])
        #expect(try EmployerForm(creditCode: existing.creditCode).apply(to: existing).changedFields(from: existing).isEmpty)
    }

    @Test(arguments: [
        (EmployerForm(creditCode: "91110000600037341L", name: "甲", branch: "西工区", employees: "-3"), DomainError.countInvalid(field: "employees")),
        (EmployerForm(creditCode: "91110000600037341L", name: "甲", branch: "西工区", established: "maybe"), .establishedInvalid("maybe")),
        (EmployerForm(creditCode: "91110000600037341L", name: "甲", branch: "西工区", kind: "tavern"), .unitKindUnknown("tavern")),
        (EmployerForm(creditCode: "91110000600037341L", name: "甲", branch: "西工区", contactPhone: "12345"), .contactPhoneInvalid),
        (EmployerForm(creditCode: "91110000600037341L", name: "甲", branch: "西工区", lastPaid: "2026-13"), .periodFormat("2026-13")),
        (EmployerForm(creditCode: "91110000600037341L", name: "甲", branch: "a/b"), .branchInvalid),
    ])
    func refusesBadValues(form: EmployerForm, error: DomainError) {
        #expect(throws: error) { try form.apply(to: nil) }
    }

    @Test func contactPhonesAreMobileOrLandline() throws {
        #expect(try ContactPhone("+86 138 0013 8000").value == "13800138000")
        #expect(try ContactPhone("037963212345").value == "037963212345")
        #expect(try ContactPhone("0379-63212345-801").value == "0379-63212345-801")
        for bad in ["63212345", "0379-632", "1234567890123", "abc"] {
            #expect(throws: DomainError.contactPhoneInvalid) { try ContactPhone(bad) }
        }
        #expect(ContactPhone.mask("0379-63212345") == "0379*****2345")
    }
}

@Suite struct VisitRuleTests {
    func visit(purpose: VisitPurpose = .collection, unit: String? = "unit-91110000600037341L", place: Place? = nil,
               date visitDate: String = "2026-11-20", staff: [String] = ["张伟", "李娜"], documents: [ServedDocument] = [],
               outcome: VisitOutcome? = .agreedToPay, followUp: String? = nil) -> Visit {
        Visit(id: "vis-1", unitID: unit, place: place, branch: "西工区", purpose: purpose, date: date(visitDate), staff: staff,
              persons: [PersonMet(name: "王芳", role: "财务负责人", phone: nil)], notes: "同意补缴", documents: documents,
              outcome: outcome, followUpOn: followUp.map(date), recordedAt: recorded)
    }

    @Test func aProperCollectionVisitPasses() throws {
        let served = try ServedDocument(typed: "order-to-pay,洛公积金催〔2026〕17号,2026-12-20,签收")
        try visit(documents: [served], followUp: "2026-12-21").check(policy: .defaults, today: date("2026-11-23"))
        #expect(visit(documents: [served]).servedLetter && visit().recordsInterview)
    }

    @Test func aCollectionVisitNeedsTwoStaff() {
        #expect(throws: DomainError.collectionStaff(minimum: 2, given: 1)) {
            try visit(staff: ["张伟"]).check(policy: .defaults, today: date("2026-11-23"))
        }
        // A survey needs only one.
        #expect(throws: Never.self) { try visit(purpose: .survey, staff: ["张伟"], outcome: nil).check(policy: .defaults, today: date("2026-11-23")) }
        #expect(throws: DomainError.staffRepeated("张伟")) { try visit(staff: ["张伟", "张伟"]).check(policy: .defaults, today: date("2026-11-23")) }
        #expect(throws: DomainError.staffMissing) { try visit(purpose: .survey, staff: [], outcome: nil).check(policy: .defaults, today: date("2026-11-23")) }
    }

    @Test(arguments: [
        ("order-to-pay,17号,2026-12-20", nil as DomainError?),
        ("order-to-pay,17号,2026-12-21", DomainError.deadlineTooFar(days: 31, maximum: 30)),
        ("order-to-pay,17号", .deadlineMissing),
        ("order-to-pay,17号,2026-11-20", .deadlineNotAfterVisit),
        ("guidance-letter,12号", nil),
    ])
    func deadlinesAreAtMostThirtyDays(document: String, error: DomainError?) throws {
        let checked = visit(documents: [try ServedDocument(typed: document)])
        if let error {
            #expect(throws: error) { try checked.check(policy: .defaults, today: date("2026-11-23")) }
        } else {
            try checked.check(policy: .defaults, today: date("2026-11-23"))
        }
    }

    @Test func documentsAreServedOnCollectionOrFollowUpVisits() throws {
        let letter = try ServedDocument(typed: "guidance-letter,12号")
        #expect(throws: DomainError.documentsOnlyOnCollection) {
            try visit(purpose: .survey, documents: [letter]).check(policy: .defaults, today: date("2026-11-23"))
        }
        #expect(throws: DomainError.documentKindUnknown("summons")) { try ServedDocument(typed: "summons,1号") }
        #expect(throws: DomainError.documentNumberEmpty) { try ServedDocument(typed: "guidance-letter,") }
    }

    @Test func targetsDatesAndOutcomes() throws {
        let market = Place(name: "关林市场", kind: .market, address: nil)
        try visit(purpose: .promotion, unit: nil, place: market, staff: ["张伟"], outcome: .informed).check(policy: .defaults, today: date("2026-11-23"))
        #expect(throws: DomainError.visitNeedsUnit) {
            try visit(purpose: .survey, unit: nil, place: market, outcome: nil).check(policy: .defaults, today: date("2026-11-23"))
        }
        #expect(throws: DomainError.visitTargetAmbiguous) { try visit(place: market).check(policy: .defaults, today: date("2026-11-23")) }
        #expect(throws: DomainError.visitDateInFuture) { try visit(date: "2026-11-24").check(policy: .defaults, today: date("2026-11-23")) }
        #expect(throws: DomainError.outcomeMissing) { try visit(outcome: nil).check(policy: .defaults, today: date("2026-11-23")) }
        #expect(throws: DomainError.followUpNotAfterVisit) { try visit(followUp: "2026-11-20").check(policy: .defaults, today: date("2026-11-23")) }
        #expect(throws: DomainError.personIncomplete) { try PersonMet(typed: "王芳") }
        #expect(try PersonMet(typed: "王芳,财务负责人,13800138000").phone == "13800138000")
        // Typed with Chinese commas, as an input method gives them.
        #expect(try PersonMet(typed: "王芳，财务负责人，13800138000") == PersonMet(name: "王芳", role: "财务负责人", phone: "13800138000"))
        #expect(try ServedDocument(typed: "order-to-pay，洛公积金催〔2026〕17号，2026-05-10").number == "洛公积金催〔2026〕17号")
        #expect(try VisitPurpose(typed: "催缴") == .collection && VisitOutcome(typed: "拒绝") == .refused)
    }

    @Test func aVisitSurvivesItsFieldsRoundTrip() throws {
        let original = visit(documents: [try ServedDocument(typed: "order-to-pay,17号,2026-12-20,签收")], followUp: "2026-12-21")
        #expect(Visit(id: original.id, values: original.fields) == original)
        let voiding = try VisitVoid.make(visitID: "vis-1", reason: " 录错单位 ", at: recorded)
        #expect(voiding.reason == "录错单位" && VisitVoid(values: voiding.fields) == voiding)
        #expect(throws: DomainError.reasonEmpty) { try VisitVoid.make(visitID: "vis-1", reason: " ", at: recorded) }
    }
}

@Suite struct ReliefRuleTests {
    func application(kind: ReliefKind = .reduceRate, employer: Int? = 500, employee: Int? = 500, months: Int = 12,
                     votesFor: Int = 30, votesCast: Int = 40, resolution: String = "2026-11-01", noticeFrom: String = "2026-11-02",
                     noticeTo: String = "2026-11-10", submitted: String = "2026-11-20") -> ReliefApplication {
        ReliefApplication(id: "app-1", unitID: "unit-91110000600037341L", kind: kind, employerRateBasisPoints: employer,
                          employeeRateBasisPoints: employee, from: period("2026-12"), months: months,
                          resolution: Resolution(body: .staffCongress, date: date(resolution), votesFor: votesFor, votesCast: votesCast),
                          noticeFrom: date(noticeFrom), noticeTo: date(noticeTo), documents: ["财务报表2025"], submittedOn: date(submitted),
                          recordedAt: recorded)
    }

    @Test func aProperApplicationPassesAndRoundTrips() throws {
        let good = application()
        try good.check(policy: .defaults, today: date("2026-11-23"))
        #expect(good.through == period("2027-11"))
        #expect(ReliefApplication(id: good.id, values: good.fields) == good)
        try application(kind: .defer, employer: nil, employee: nil).check(policy: .defaults, today: date("2026-11-23"))
    }

    @Test(arguments: [
        (500, 400, 12, DomainError.reliefRateOutsidePolicy(side: "employee", percent: 4, minimum: 5, maximum: 12)),
        (400, 500, 12, .reliefRateOutsidePolicy(side: "employer", percent: 4, minimum: 5, maximum: 12)),
        (1300, 500, 12, .reliefRateOutsidePolicy(side: "employer", percent: 13, minimum: 5, maximum: 12)),
        (550, 500, 12, .rateNotWholePercent),
        (500, 500, 13, .reliefMonths(given: 13, maximum: 12)),
        (500, 500, 0, .reliefMonths(given: 0, maximum: 12)),
    ])
    func ratesAndMonthsStayWithinThePolicy(employer: Int, employee: Int, months: Int, error: DomainError) {
        #expect(throws: error) { try application(employer: employer, employee: employee, months: months).check(policy: .defaults, today: date("2026-11-23")) }
    }

    @Test func ratesBelongToReducedRatesOnly() {
        #expect(throws: DomainError.reliefRatesMissing) { try application(employee: nil).check(policy: .defaults, today: date("2026-11-23")) }
        #expect(throws: DomainError.reliefRatesNotForDeferral) { try application(kind: .defer).check(policy: .defaults, today: date("2026-11-23")) }
    }

    @Test func theResolutionAndNoticeComeBeforeTheSubmission() {
        let today = date("2026-11-23")
        #expect(throws: DomainError.resolutionVotes) { try application(votesFor: 20, votesCast: 40).check(policy: .defaults, today: today) }
        #expect(throws: DomainError.resolutionVotes) { try application(votesFor: 41, votesCast: 40).check(policy: .defaults, today: today) }
        #expect(throws: DomainError.noticeAfterSubmission) { try application(noticeTo: "2026-11-21").check(policy: .defaults, today: today) }
        #expect(throws: DomainError.noticeBeforeResolution) { try application(resolution: "2026-11-03").check(policy: .defaults, today: today) }
        #expect(throws: DomainError.noticeEndsBeforeStart) { try application(noticeFrom: "2026-11-11").check(policy: .defaults, today: today) }
        #expect(throws: DomainError.submissionInFuture) { try application(submitted: "2026-11-24").check(policy: .defaults, today: today) }
    }

    @Test func aDecisionNeedsAReason() throws {
        #expect(throws: DomainError.reasonEmpty) { try ApplicationDecision.make(applicationID: "app-1", verdict: .rejected, reason: "", at: recorded) }
        let approved = try ApplicationDecision.make(applicationID: "app-1", verdict: .approved, reason: "材料齐全", at: recorded)
        #expect(approved.relief(for: application()) == ApprovedRelief(kind: .reduceRate, from: period("2026-12"), through: period("2027-11")))
    }
}

@Suite struct CampaignTests {
    let campaign = Campaign(id: "cmp-1", name: "专项行动", cutoff: CivilDate(iso: "2026-02-28")!, phases: [
        CampaignPhase(name: "摸底", from: CivilDate(iso: "2026-03-16")!, to: CivilDate(iso: "2026-03-31")!),
        CampaignPhase(name: "催缴", from: CivilDate(iso: "2026-04-01")!, to: CivilDate(iso: "2026-04-30")!),
    ], createdAt: recorded)

    @Test func phasesAreReadAndChecked() throws {
        #expect(try CampaignPhase(typed: "摸底:2026-03-16..2026-03-31") == campaign.phases[0])
        #expect(try CampaignPhase(typed: "摸底:2026-03-16..2026-03-31").to == date("2026-03-31"))
        try campaign.check()
        var overlapping = campaign
        overlapping.phases[1].from = date("2026-03-31")
        #expect(throws: DomainError.campaignPhases("“催缴” begins before “摸底” ends")) { try overlapping.check() }
        #expect(throws: (any Error).self) { try CampaignPhase(typed: "摸底 2026-03-16") }
        #expect(Campaign(id: campaign.id, values: campaign.fields) == campaign)
    }

    @Test func progressCountsEachTargetOncePerStep() throws {
        func visit(_ id: String, _ unit: String, _ day: String, _ purpose: VisitPurpose, letter: Bool = false, outcome: VisitOutcome? = nil) throws -> Visit {
            Visit(id: id, unitID: unit, place: nil, branch: "西工区", purpose: purpose, date: date(day), staff: ["张伟", "李娜"],
                  persons: purpose == .collection ? [PersonMet(name: "王芳", role: "会计", phone: nil)] : [], notes: "笔录",
                  documents: letter ? [try ServedDocument(typed: "guidance-letter,1号")] : [], outcome: outcome, followUpOn: nil,
                  recordedAt: Instant(utcISO: "\(day)T02:00:00Z")!)
        }
        let visits = [
            try visit("v1", "u1", "2026-03-20", .survey),
            try visit("v2", "u1", "2026-04-03", .collection, letter: true, outcome: .agreedToPay),
            try visit("v3", "u2", "2026-04-05", .collection, letter: true, outcome: .refused),
            try visit("v4", "u3", "2026-04-06", .collection, letter: true, outcome: .refused),
            try visit("v5", "u4", "2026-02-01", .survey),            // before the campaign
            try visit("v6", "other", "2026-03-20", .survey),         // not a target
        ]
        var application = ReliefApplicationFixture.make(unit: "u2", submitted: "2026-04-20")
        let outside = ReliefApplicationFixture.make(unit: "u4", submitted: "2026-05-02")
        application.months = 6
        let progress = CampaignProgress.compute(campaign: campaign, branch: "西工区", targets: ["u1", "u2", "u3", "u4"], visits: visits,
                                                voided: ["v4"], applications: [application, outside]) { id in
            id == "u1" ? .normal : .inArrears
        }
        #expect(progress.targets == 4)
        #expect(progress.surveyed == 2)       // u1, u2 (u3's only visit is void, u4's is before)
        #expect(progress.letterServed == 2)   // u1, u2
        #expect(progress.interviewed == 2)
        #expect(progress.refused == 1)        // u2
        #expect(progress.applied == 1)        // u2
        #expect(progress.complied == 1)       // u1
        #expect(progress.phases.map(\.visited) == [1, 2])
        #expect(progress.phases.map(\.applied) == [0, 1])
    }
}

enum ReliefApplicationFixture {
    static func make(unit: String, submitted: String) -> ReliefApplication {
        ReliefApplication(id: "app-\(unit)", unitID: unit, kind: .defer, employerRateBasisPoints: nil, employeeRateBasisPoints: nil,
                          from: Period("2026-05")!, months: 12,
                          resolution: Resolution(body: .union, date: CivilDate(iso: "2026-04-01")!, votesFor: 3, votesCast: 5),
                          noticeFrom: CivilDate(iso: "2026-04-02")!, noticeTo: CivilDate(iso: "2026-04-09")!, documents: [],
                          submittedOn: CivilDate(iso: submitted)!, recordedAt: Instant(utcISO: "\(submitted)T02:00:00Z")!)
    }
}

@Suite struct TextImportTests {
    @Test func csvExportsNeutraliseFormulasAndKeepNumbers() {
        var sheet = CSV()
        sheet.add(["=HYPERLINK(\"http://x\")", "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx", "-12.50", "+3", "600", "某公司", "a=b"])
        let cells = sheet.text.dropFirst().split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        #expect(cells[0] == "\"'=HYPERLINK(\"\"http://x\"\")\"")
        #expect(Array(cells[1...4]) == ["'+1+2", "'-2+3", "'@SUM(A1)", "'\tx"])
        #expect(cells[5] == "\"'\rx\"")
        #expect(Array(cells[6...10]) == ["-12.50", "+3", "600", "某公司", "a=b\r\n"])
    }

    @Test func parsesQuotedFieldsAndReportsLines() throws {
        let table = try CSVTable(parsing: "a,b\r\n1,\"x, \"\"y\"\"\"\r\n\r\n2,\"multi\nline\"\n3,z")
        #expect(table.header == ["a", "b"])
        #expect(table.records.map(\.line) == [2, 4, 6])
        #expect(table.records[0].fields == ["1", "x, \"y\""])
        #expect(table.records[1].fields == ["2", "multi\nline"])
        #expect(throws: ImportError.malformed(line: 2, reason: .quoteInField)) { try CSVTable(parsing: "a\nb\"c\n") }
        #expect(throws: ImportError.malformed(line: 2, reason: .unclosedQuote)) { try CSVTable(parsing: "a\n\"bc\n") }
        #expect(throws: ImportError.empty) { try CSVTable(parsing: "\n\n") }
    }

    @Test func decodesUTF8WithABOMAndGBK() throws {
        let text = "统一社会信用代码,单位名称\n"
        let (utf8, found) = try TextDecoding.decode([0xEF, 0xBB, 0xBF] + Array(text.utf8))
        #expect(utf8 == text && found == .utf8)
        // 单位 in GBK.
        let gbk: [UInt8] = [0xB5, 0xA5, 0xCE, 0xBB]
        #expect(try TextDecoding.decode(gbk) == ("单位", .gbk))
        #expect(try TextDecoding.decode(gbk, as: .gbk).text == "单位")
        #expect(throws: ImportError.unknownEncoding) { try TextDecoding.decode(gbk, as: .utf8) }
        #expect(throws: ImportError.unknownEncoding) { try TextDecoding.decode([0xFF, 0xFF, 0xFF]) }
        // UTF-16 saved without its mark: valid UTF-8, with a NUL after every letter.
        #expect(throws: ImportError.unknownEncoding) { try TextDecoding.decode(Array("a\u{0}b\u{0}".utf8)) }
        #expect(throws: ImportError.unknownEncoding) { try TextDecoding.decode(Array("a\u{0}b\u{0}".utf8), as: .gbk) }
    }

    @Test func readsEmployerListsByHeaderName() throws {
        let table = try CSVTable(parsing: "单位名称,统一社会信用代码,管理部\n甲公司,91110000600037341l,西工区\n乙公司,121200004013590816\n")
        let (rows, problems) = try EmployerList.rows(of: table, language: .english)
        #expect(rows.count == 1 && rows[0].form.creditCode == "91110000600037341L" && rows[0].form.name == "甲公司")
        #expect(problems == [EmployerList.RowProblem(line: 3, message: "the row has 2 fields but the header has 3")])
        #expect(throws: ImportError.missingColumns(["credit_code (统一社会信用代码)"])) {
            try EmployerList.rows(of: try CSVTable(parsing: "name\nx\n"), language: .english)
        }
    }
}
