import ProvidentSync

/// A domain rule that input or an action breaks.
///
/// Each case has a stable `code`, a `kind` (bad input, or refused by the current state) that
/// programs map to exit codes and HTTP statuses, and a message in Chinese or English that says
/// what was wrong and what to do. Messages never repeat an ID or phone number.
public enum DomainError: ProvidentError, Hashable {
    // People and their identity
    case nameEmpty
    case nameTooLong(maxCharacters: Int)
    /// A control character in a name: an arrow or function key pressed while typing it, or a tab pasted in.
    case nameControlCharacter
    case idNumberFormat
    case idNumberBirthDate(String)
    case idNumberBirthInFuture
    case idNumberCheck
    case ageOutsidePolicy(age: Int, minimum: Int, maximum: Int)
    case mobileInvalid
    case creditCodeFormat
    case creditCodeCheck
    case categoryUnknown(String)

    // Money
    case amountFormat(String)
    case amountTooManyDecimals(String)
    case amountNegative
    case amountZero
    case amountMissing
    case amountAboveCap(capFen: Int64)
    case amountNotAgreed(expectedFen: Int64, actualFen: Int64)
    /// An enrolment dated another day than the one it was made on.
    case enrolledOnNotToday
    /// An agreement whose monthly amount is not what the policy's rule gives for its base and rate.
    case agreementAmountWrong(expectedFen: Int64, actualFen: Int64)

    // Agreement
    case agreementIncomplete
    case agreementModeNotAllowed(AgreementMode)
    case baseOutsidePolicy(baseFen: Int64, minimumFen: Int64, maximumFen: Int64)
    case rateNotWholePercent
    case rateOutsidePolicy(basisPoints: Int, minimumPercent: Int, maximumPercent: Int)
    case fixedOutsidePolicy(amountFen: Int64, minimumFen: Int64, maximumFen: Int64)

    // Deposits
    case periodFormat(String)
    case periodInFuture(period: Period, latest: Period)
    case monthlyForPastPeriod(Period)
    case periodBeforeAccount(period: Period, first: Period)
    case catchUpNotPast(Period)
    case catchUpEmpty
    case tooManyCatchUpMonths(count: Int, maximum: Int)
    case periodRepeated(Period)
    case lumpNotAllowed
    case methodUnknown(String)
    case referenceFormat
    case referenceCheck
    case reasonEmpty
    case nothingToUpdate

    // Refused by the state of the replica
    case noAccount
    case accountAlreadyEnrolled
    case idNumberAlreadyEnrolled
    case accountClosed
    case accountPaused
    case accountAlreadyPaused
    case accountNotPaused
    case periodAlreadyPaid(period: Period, reference: String)
    case depositNotFound(String)
    case depositAlreadyReversed(String)
    case depositAlreadyDecided(String)
    case interestAlreadySettled

    // Refused by the server's rules for who may do what
    case actionUnknown(String)
    case actionMismatch(String)
    case malformedRecord(String)
    /// A string in the change's fields holds U+0000, which no database column can keep.
    case nulCharacter
    case notPermitted
    case outOfScope
    case unknownAccount
    case accountExists
    case referenceTaken
    case branchInvalid
    case claimCodeInvalid

    // Employers
    case dateFormat(String)
    case unitKindUnknown(String)
    case unitNameEmpty
    case countInvalid(field: String)
    case establishedInvalid(String)
    case contactPhoneInvalid
    case textTooLong(field: String, maxCharacters: Int)
    case unitUnknown(String)
    case unitExists
    case unitNotEstablished

    // Visits
    case visitPurposeUnknown(String)
    case visitOutcomeUnknown(String)
    case placeKindUnknown(String)
    case visitNeedsUnit
    case visitTargetAmbiguous
    case visitDateInFuture
    case staffMissing
    case staffRepeated(String)
    case collectionStaff(minimum: Int, given: Int)
    case personIncomplete
    case documentKindUnknown(String)
    case documentNumberEmpty
    case documentsOnlyOnCollection
    case deadlineMissing
    case deadlineNotAfterVisit
    case deadlineTooFar(days: Int, maximum: Int)
    case followUpNotAfterVisit
    case outcomeMissing
    case visitNotFound(String)
    case visitAlreadyVoided

    // Applications to defer or lower the rate
    case reliefKindUnknown(String)
    case reliefRatesMissing
    case reliefRatesNotForDeferral
    case reliefRateOutsidePolicy(side: String, percent: Int, minimum: Int, maximum: Int)
    case reliefMonths(given: Int, maximum: Int)
    case resolutionBodyUnknown(String)
    case resolutionVotes
    case noticeBeforeResolution
    case noticeEndsBeforeStart
    case noticeAfterSubmission
    case submissionInFuture
    case applicationNotFound(String)
    case applicationAlreadyDecided

    // Campaigns
    case campaignNameEmpty
    case campaignPhases(String)
    case campaignNotFound(String)

    /// Bad input, or refused by who is asking or by the current state.
    public var kind: ErrorKind {
        switch self {
        case .notPermitted, .outOfScope:
            .forbidden
        case .depositNotFound, .unitUnknown, .visitNotFound, .applicationNotFound, .campaignNotFound:
            .notFound
        case .noAccount, .accountAlreadyEnrolled, .idNumberAlreadyEnrolled, .accountClosed, .accountPaused,
             .accountAlreadyPaused, .accountNotPaused, .periodAlreadyPaid, .depositAlreadyReversed, .depositAlreadyDecided, .interestAlreadySettled,
             .unknownAccount, .accountExists, .referenceTaken,
             .unitExists, .unitNotEstablished, .visitAlreadyVoided, .applicationAlreadyDecided:
            .refused
        default:
            .invalidInput
        }
    }

    /// A stable, dotted code.
    public var code: String {
        switch self {
        case .nameEmpty: "name.empty"
        case .nameTooLong: "name.too_long"
        case .nameControlCharacter: "name.control_character"
        case .idNumberFormat: "id_number.format"
        case .idNumberBirthDate: "id_number.birth_date"
        case .idNumberBirthInFuture: "id_number.birth_in_future"
        case .idNumberCheck: "id_number.check"
        case .ageOutsidePolicy: "policy.age"
        case .mobileInvalid: "mobile.invalid"
        case .creditCodeFormat: "credit_code.format"
        case .creditCodeCheck: "credit_code.check"
        case .categoryUnknown: "category.unknown"
        case .amountFormat: "amount.format"
        case .amountTooManyDecimals: "amount.decimals"
        case .amountNegative: "amount.negative"
        case .amountZero: "amount.zero"
        case .amountMissing: "amount.missing"
        case .amountAboveCap: "policy.amount_cap"
        case .amountNotAgreed: "deposit.amount_not_agreed"
        case .agreementAmountWrong: "policy.agreement_amount"
        case .enrolledOnNotToday: "account.enrolled_on"
        case .agreementIncomplete: "agreement.incomplete"
        case .agreementModeNotAllowed: "policy.agreement_mode"
        case .baseOutsidePolicy: "policy.base"
        case .rateNotWholePercent: "rate.whole_percent"
        case .rateOutsidePolicy: "policy.rate"
        case .fixedOutsidePolicy: "policy.fixed_amount"
        case .periodFormat: "period.format"
        case .periodInFuture: "period.future"
        case .monthlyForPastPeriod: "period.past"
        case .periodBeforeAccount: "period.before_account"
        case .catchUpNotPast: "catch_up.not_past"
        case .catchUpEmpty: "catch_up.empty"
        case .tooManyCatchUpMonths: "policy.catch_up_months"
        case .periodRepeated: "period.repeated"
        case .lumpNotAllowed: "policy.lump"
        case .methodUnknown: "method.unknown"
        case .referenceFormat: "reference.format"
        case .referenceCheck: "reference.check"
        case .reasonEmpty: "reason.empty"
        case .nothingToUpdate: "update.nothing"
        case .noAccount: "account.none"
        case .accountAlreadyEnrolled: "account.already_enrolled"
        case .idNumberAlreadyEnrolled: "account.id_number_enrolled"
        case .accountClosed: "account.closed"
        case .accountPaused: "account.paused"
        case .accountAlreadyPaused: "account.already_paused"
        case .accountNotPaused: "account.not_paused"
        case .periodAlreadyPaid: "deposit.period_paid"
        case .depositNotFound: "deposit.not_found"
        case .depositAlreadyReversed: "deposit.already_reversed"
        case .depositAlreadyDecided: "deposit.already_decided"
        case .interestAlreadySettled: "interest.already_settled"
        case .actionUnknown: "action.unknown"
        case .actionMismatch: "action.mismatch"
        case .malformedRecord: "record.malformed"
        case .nulCharacter: "text.nul"
        case .notPermitted: "role.not_permitted"
        case .outOfScope: "scope.forbidden"
        case .unknownAccount: "account.unknown"
        case .accountExists: "account.exists"
        case .referenceTaken: "reference.taken"
        case .branchInvalid: "branch.invalid"
        case .claimCodeInvalid: "claim_code.invalid"
        case .dateFormat: "date.format"
        case .unitKindUnknown: "unit.kind_unknown"
        case .unitNameEmpty: "unit.name_empty"
        case .countInvalid: "unit.count_invalid"
        case .establishedInvalid: "unit.established_invalid"
        case .contactPhoneInvalid: "phone.invalid"
        case .textTooLong: "text.too_long"
        case .unitUnknown: "unit.unknown"
        case .unitExists: "unit.exists"
        case .unitNotEstablished: "unit.not_established"
        case .visitPurposeUnknown: "visit.purpose_unknown"
        case .visitOutcomeUnknown: "visit.outcome_unknown"
        case .placeKindUnknown: "visit.place_kind_unknown"
        case .visitNeedsUnit: "visit.needs_unit"
        case .visitTargetAmbiguous: "visit.target_ambiguous"
        case .visitDateInFuture: "visit.date_future"
        case .staffMissing: "visit.staff_missing"
        case .staffRepeated: "visit.staff_repeated"
        case .collectionStaff: "visit.collection_staff"
        case .personIncomplete: "visit.person_incomplete"
        case .documentKindUnknown: "document.kind_unknown"
        case .documentNumberEmpty: "document.number_empty"
        case .documentsOnlyOnCollection: "document.not_collection"
        case .deadlineMissing: "document.deadline_missing"
        case .deadlineNotAfterVisit: "document.deadline_past"
        case .deadlineTooFar: "document.deadline_too_far"
        case .followUpNotAfterVisit: "visit.follow_up_past"
        case .outcomeMissing: "visit.outcome_missing"
        case .visitNotFound: "visit.not_found"
        case .visitAlreadyVoided: "visit.already_voided"
        case .reliefKindUnknown: "application.kind_unknown"
        case .reliefRatesMissing: "application.rates_missing"
        case .reliefRatesNotForDeferral: "application.rates_for_deferral"
        case .reliefRateOutsidePolicy: "policy.employer_rate"
        case .reliefMonths: "policy.relief_months"
        case .resolutionBodyUnknown: "application.resolution_body"
        case .resolutionVotes: "application.resolution_votes"
        case .noticeBeforeResolution: "application.notice_before_resolution"
        case .noticeEndsBeforeStart: "application.notice_order"
        case .noticeAfterSubmission: "application.notice_after_submission"
        case .submissionInFuture: "application.submitted_future"
        case .applicationNotFound: "application.not_found"
        case .applicationAlreadyDecided: "application.already_decided"
        case .campaignNameEmpty: "campaign.name_empty"
        case .campaignPhases: "campaign.phases"
        case .campaignNotFound: "campaign.not_found"
        }
    }

    /// What was wrong and what to do, in `language`.
    public func message(_ language: Language) -> String {
        let l = language
        switch self {
        case .nameEmpty:
            return l.pick("The name is empty; give the name on the ID card.", "姓名为空；请填写身份证上的姓名。")
        case let .nameTooLong(maximum):
            return l.pick("The name is longer than \(maximum) characters.", "姓名超过 \(maximum) 个字符。")
        case .nameControlCharacter:
            return l.pick("The name holds a control character (an arrow or function key pressed while typing, or a tab pasted in); type the name again as on the ID card.",
                          "姓名中含有控制字符（输入时按了方向键或功能键，或粘贴了制表符）；请按身份证上的姓名重新输入。")
        case .idNumberFormat:
            return l.pick("The ID number must be 18 characters: 17 digits, then a digit or X.",
                          "身份证号码应为 18 位：17 位数字，最后一位为数字或 X。")
        case let .idNumberBirthDate(date):
            return l.pick("The birth date in the ID number (\(date)) is not a real date; check the number.",
                          "身份证号码中的出生日期（\(date)）不是有效日期，请核对号码。")
        case .idNumberBirthInFuture:
            return l.pick("The birth date in the ID number is in the future; check the number.",
                          "身份证号码中的出生日期晚于今天，请核对号码。")
        case .idNumberCheck:
            return l.pick("The ID number's last character does not match the others (GB 11643 check); a digit was probably mistyped.",
                          "身份证号码校验位不符（GB 11643），可能有数字输错，请核对。")
        case let .ageOutsidePolicy(age, minimum, maximum):
            return l.pick("Voluntary accounts are open to people aged \(minimum) to \(maximum); this person is \(age).",
                          "个人自愿缴存账户仅限 \(minimum) 至 \(maximum) 周岁人员开立；此人现年 \(age) 周岁。")
        case .mobileInvalid:
            return l.pick("The mobile number must be 11 digits starting with 13–19.",
                          "手机号码应为 11 位数字，以 13–19 开头。")
        case .creditCodeFormat:
            return l.pick("A unified social credit code is 18 characters of 0-9 and A-Z without I, O, S, V, Z.",
                          "统一社会信用代码应为 18 位，由数字和除 I、O、S、V、Z 以外的大写字母组成。")
        case .creditCodeCheck:
            return l.pick("The unified social credit code's last character does not match the others (GB 32100 check); check the code.",
                          "统一社会信用代码校验位不符（GB 32100），请核对。")
        case let .categoryUnknown(text):
            return l.pick("“\(text)” is not a category; use gig, trader, part-time or other.",
                          "“\(text)”不是有效类别；请使用 gig（新就业形态）、trader（个体工商户）、part-time（非全日制）或 other（其他）。")
        case let .amountFormat(text):
            return l.pick("“\(text)” is not an amount in yuan; write it like 1234.50 or 1,234.50.",
                          "“\(text)”不是有效的金额（元）；请写成 1234.50 或 1,234.50。")
        case let .amountTooManyDecimals(text):
            return l.pick("“\(text)” has more than two decimals; amounts are in yuan and fen (at most 2 decimals).",
                          "“\(text)”的小数超过两位；金额以元为单位，最多精确到分（两位小数）。")
        case .amountNegative:
            return l.pick("The amount is negative; to correct a deposit, reverse it with `provident deposit reverse`.",
                          "金额为负数；如需更正缴存，请用 `provident deposit reverse` 冲正。")
        case .amountZero:
            return l.pick("The amount is zero.", "金额为零。")
        case .amountMissing:
            return l.pick("Give the amount in yuan with --amount.", "请用 --amount 填写金额（元）。")
        case let .amountAboveCap(cap):
            return l.pick("The amount is above the policy's cap of \(Money(fen: cap).formatted) per deposit.",
                          "金额超过政策规定的单笔上限 \(Money(fen: cap).formatted)。")
        case let .amountNotAgreed(expected, actual):
            return l.pick("The agreement sets \(Money(fen: expected).formatted) for this deposit, not \(Money(fen: actual).formatted); leave out --amount or change the agreement with `provident account update`.",
                          "按缴存协议，本次应缴 \(Money(fen: expected).formatted)，而不是 \(Money(fen: actual).formatted)；请省略 --amount，或用 `provident account update` 修改协议。")
        case .enrolledOnNotToday:
            return l.pick("An enrolment is dated the day it is made (enrolledOn within a day of the change-set's time); it cannot be back-dated or dated ahead.",
                          "开户日期须为办理当天（enrolledOn 与变更集时间相差不超过一天）；不能倒签，也不能预签。")
        case let .agreementAmountWrong(expected, actual):
            return l.pick("The agreement's monthly amount is \(Money(fen: actual).formatted), but the policy's rule gives \(Money(fen: expected).formatted) for its base and rate; send the amount the rule gives.",
                          "缴存协议的月缴存额为 \(Money(fen: actual).formatted)，但按政策规则，该基数和比例应为 \(Money(fen: expected).formatted)；请按规则给出的金额提交。")
        case .agreementIncomplete:
            return l.pick("Give either --base and --rate, or --monthly.", "请提供 --base 和 --rate，或者 --monthly。")
        case let .agreementModeNotAllowed(mode):
            return mode == .fixedAmount
                ? l.pick("This city's policy does not allow a fixed monthly amount; give --base and --rate.",
                         "本市政策不允许按固定月缴存额缴存；请提供 --base 和 --rate。")
                : l.pick("This city's policy sets a fixed monthly amount; give --monthly.",
                         "本市政策按固定月缴存额缴存；请提供 --monthly。")
        case let .baseOutsidePolicy(base, minimum, maximum):
            return l.pick("The contribution base \(Money(fen: base).formatted) is outside the policy's \(Money(fen: minimum).formatted)–\(Money(fen: maximum).formatted).",
                          "缴存基数 \(Money(fen: base).formatted) 超出政策范围 \(Money(fen: minimum).formatted)–\(Money(fen: maximum).formatted)。")
        case .rateNotWholePercent:
            return l.pick("The rate must be a whole percent, like 12.", "缴存比例应为整数百分比，例如 12。")
        case let .rateOutsidePolicy(basisPoints, minimum, maximum):
            return l.pick("The combined rate \(basisPoints / 100)% is outside the policy's \(minimum)%–\(maximum)%.",
                          "缴存比例 \(basisPoints / 100)% 超出政策范围 \(minimum)%–\(maximum)%。")
        case let .fixedOutsidePolicy(amount, minimum, maximum):
            return l.pick("The monthly amount \(Money(fen: amount).formatted) is outside the policy's \(Money(fen: minimum).formatted)–\(Money(fen: maximum).formatted).",
                          "月缴存额 \(Money(fen: amount).formatted) 超出政策范围 \(Money(fen: minimum).formatted)–\(Money(fen: maximum).formatted)。")
        case let .periodFormat(text):
            return l.pick("“\(text)” is not a month; write it as YYYY-MM, like 2026-11.",
                          "“\(text)”不是有效月份；请写成 YYYY-MM，例如 2026-11。")
        case let .periodInFuture(period, latest):
            return l.pick("\(period) has not begun; a monthly deposit can be for \(latest) at the latest.",
                          "\(period) 尚未开始；按月缴存最晚只能缴到 \(latest)。")
        case let .monthlyForPastPeriod(period):
            return l.pick("\(period) is a past month; record it as a catch-up deposit: provident deposit --catch-up \(period)",
                          "\(period) 是以往月份，请按补缴办理：provident deposit --catch-up \(period)")
        case let .periodBeforeAccount(period, first):
            return l.pick("\(period) is before the account began (\(first)).", "\(period) 早于账户开立月份（\(first)）。")
        case let .catchUpNotPast(period):
            return l.pick("Catch-up deposits are for past months; \(period) is not past. Record it as a monthly deposit.",
                          "补缴只适用于以往月份；\(period) 不是以往月份，请按月缴存。")
        case .catchUpEmpty:
            return l.pick("Name the months to catch up, like --catch-up 2026-08,2026-09.",
                          "请列出要补缴的月份，例如 --catch-up 2026-08,2026-09。")
        case let .tooManyCatchUpMonths(count, maximum):
            return l.pick("One catch-up deposit can cover at most \(maximum) months; \(count) were given. Split it.",
                          "单笔补缴最多 \(maximum) 个月，本次为 \(count) 个月；请分笔缴存。")
        case let .periodRepeated(period):
            return l.pick("\(period) is listed twice.", "\(period) 重复列出。")
        case .lumpNotAllowed:
            return l.pick("This city's policy does not allow lump-sum deposits; pay by month.",
                          "本市政策不允许一次性（灵活）缴存；请按月缴存。")
        case let .methodUnknown(text):
            return l.pick("“\(text)” is not a payment method; use bank-transfer, bank-counter or mobile-banking.",
                          "“\(text)”不是有效的缴款方式；请使用 bank-transfer（银行转账）、bank-counter（银行柜台）或 mobile-banking（手机银行）。")
        case .referenceFormat:
            return l.pick("A payment reference code is PV followed by 13 letters and digits, like PV4K7Q9MXTR2HC3.",
                          "缴存识别码为 PV 加 13 位字母和数字，例如 PV4K7Q9MXTR2HC3。")
        case .referenceCheck:
            return l.pick("The payment reference code's last character does not match; check the code.",
                          "缴存识别码校验位不符，请核对。")
        case .reasonEmpty:
            return l.pick("Give a reason.", "请填写原因。")
        case .nothingToUpdate:
            return l.pick("Nothing to change: give --phone, or a new agreement.", "没有要修改的内容：请提供 --phone 或新的缴存协议。")
        case .noAccount:
            return l.pick("This device has no account yet; open one with `provident enroll`.",
                          "本设备尚未开立账户；请先用 `provident enroll` 开户。")
        case .accountAlreadyEnrolled:
            return l.pick("This device already has an account; see it with `provident account show`.",
                          "本设备已开立账户；可用 `provident account show` 查看。")
        case .idNumberAlreadyEnrolled:
            return l.pick("This person already has an open voluntary account; one person may hold only one.",
                          "此人已有正常状态的个人自愿缴存账户；每人只能开立一个。")
        case .accountClosed:
            return l.pick("The account is closed (sealed); nothing more can be recorded on it.",
                          "账户已封存（销户），不能再办理业务。")
        case .accountPaused:
            return l.pick("The account is paused; resume it with `provident resume` before depositing.",
                          "账户已暂停缴存；请先用 `provident resume` 恢复缴存。")
        case .accountAlreadyPaused:
            return l.pick("The account is already paused.", "账户已处于暂停缴存状态。")
        case .accountNotPaused:
            return l.pick("The account is not paused.", "账户未暂停缴存。")
        case let .periodAlreadyPaid(period, _):
            return l.pick("\(period) is already paid by an earlier deposit; if that deposit was wrong, reverse it (its reference is in `provident statement`).",
                          "\(period) 已由此前的一笔缴存缴清；如该笔有误，请将其冲正（识别码见 `provident statement`）。")
        case let .depositNotFound(reference):
            return l.pick("No deposit with reference \(reference) on this device; see `provident statement`.",
                          "本设备上没有识别码为 \(reference) 的缴存；请查看 `provident statement`。")
        case let .depositAlreadyReversed(reference):
            return l.pick("The deposit \(reference) is already reversed.", "识别码为 \(reference) 的缴存已冲正。")
        case let .depositAlreadyDecided(reference):
            return l.pick("The office has already confirmed or rejected the deposit \(reference).", "识别码为 \(reference) 的缴存已由中心确认或退回。")
        case .interestAlreadySettled:
            return l.pick("Interest for this account and year is already settled.", "该账户本年度利息已结算。")
        case let .actionUnknown(action):
            return l.pick("The server does not know the action “\(action)”; update Provident on this device.",
                          "服务器不认识操作“\(action)”；请升级本设备上的 Provident。")
        case let .actionMismatch(action):
            return l.pick("The change does not match its action “\(action)”.", "更改内容与其操作“\(action)”不符。")
        case let .malformedRecord(type):
            return l.pick("The change's \(type) record is incomplete or malformed.", "更改中的 \(type) 记录不完整或格式有误。")
        case .nulCharacter:
            return l.pick("A text in the change holds the NUL character (U+0000), which cannot be stored; remove it and record the change again.",
                          "更改中的文字含有空字符（U+0000），无法保存；请删除该字符后重新录入。")
        case .notPermitted:
            return l.pick("This device's role does not allow this change.", "本设备的角色不允许此项更改。")
        case .outOfScope:
            return l.pick("The record belongs to another worker or branch; this device may not change it.",
                          "该记录属于其他人员或管理部；本设备无权更改。")
        case .unknownAccount:
            return l.pick("The account does not exist on the server.", "服务器上没有该账户。")
        case .accountExists:
            return l.pick("An account with this id already exists.", "已存在相同 ID 的账户。")
        case .referenceTaken:
            return l.pick("Another deposit already has this reference code; record the deposit again to get a new one.",
                          "另一笔缴存已使用此识别码；请重新登记以获得新的识别码。")
        case .branchInvalid:
            return l.pick("A branch name is 1–64 characters without “/” or “:”.", "管理部名称应为 1–64 个字符，且不含“/”或“：”。")
        case .claimCodeInvalid:
            return l.pick("The claim code is not right; check it against the slip from the outreach visit (like 4QKM-X7TN-2RHC3).",
                          "认领码有误；请对照外勤人员给您的凭条核对（格式如 4QKM-X7TN-2RHC3）。")
        case let .dateFormat(text):
            return l.pick("“\(text)” is not a date; write it as YYYY-MM-DD, like 2026-04-15.",
                          "“\(text)”不是有效日期；请写成 YYYY-MM-DD，例如 2026-04-15。")
        case let .unitKindUnknown(text):
            return l.pick("“\(text)” is not a kind of employer; use state-organ, public-institution, state-owned, collective, private, foreign, social-organisation, individual or other.",
                          "“\(text)”不是有效的单位类型；请使用 机关、事业单位、国有企业、集体企业、民营企业、外资企业、社会组织、个体工商户 或 其他。")
        case .unitNameEmpty:
            return l.pick("The employer's name is empty.", "单位名称为空。")
        case let .countInvalid(field):
            return l.pick("\(field) must be a whole number, 0 or more.", "\(Self.chineseField(field))应为不小于 0 的整数。")
        case let .establishedInvalid(text):
            return l.pick("“\(text)” does not say whether the scheme is established; write yes or no (是 or 否).",
                          "“\(text)”无法判断是否已建制；请填写 是 或 否（yes 或 no）。")
        case .contactPhoneInvalid:
            return l.pick("The phone number must be a mobile number (11 digits starting with 13–19) or a landline with its area code, like 0379-63212345.",
                          "电话号码应为手机号码（以 13–19 开头的 11 位数字）或带区号的固定电话，例如 0379-63212345。")
        case let .textTooLong(field, maximum):
            return l.pick("\(field) is longer than \(maximum) characters.", "\(Self.chineseField(field))超过 \(maximum) 个字符。")
        case let .unitUnknown(code):
            return l.pick("No employer \(code) on this device: a field laptop holds only its own branch's employers. Check the code, or ask the office which branch looks after it.",
                          "本设备上没有单位 \(code)：外勤电脑只保存本管理部的单位。请核对代码，或向中心询问该单位由哪个管理部负责。")
        case .unitExists:
            return l.pick("An employer with this credit code is already registered.", "该统一社会信用代码的单位已登记。")
        case .unitNotEstablished:
            return l.pick("The employer has not established the HPF scheme (未建制); it must establish it before it can apply to defer or lower its rate.",
                          "该单位尚未建立住房公积金制度（未建制），须先建制，才能申请缓缴或降低缴存比例。")
        case let .visitPurposeUnknown(text):
            return l.pick("“\(text)” is not a visit purpose; use promotion, survey, collection or follow-up.",
                          "“\(text)”不是有效的走访类型；请使用 宣传、摸底、催缴 或 回访（promotion、survey、collection、follow-up）。")
        case let .visitOutcomeUnknown(text):
            return l.pick("“\(text)” is not an outcome; use informed, agreed-to-pay, paid, applying, refused, unit-closed or not-found.",
                          "“\(text)”不是有效的走访结果；请使用 已告知、同意缴存、已缴存、拟申请、拒绝、单位已关闭 或 未找到（informed、agreed-to-pay、paid、applying、refused、unit-closed、not-found）。")
        case let .placeKindUnknown(text):
            return l.pick("“\(text)” is not a kind of place; use market, depot, site, park or other.",
                          "“\(text)”不是有效的场所类型；请使用 市场、站点、工地、园区 或 其他（market、depot、site、park、other）。")
        case .visitNeedsUnit:
            return l.pick("Survey, collection and follow-up visits are to an employer: give --unit with its credit code. Only promotion visits may be to a place (--place).",
                          "摸底、催缴和回访须针对单位：请用 --unit 填写统一社会信用代码。只有宣传走访可以针对场所（--place）。")
        case .visitTargetAmbiguous:
            return l.pick("Give either an employer (--unit) or a place (--place), not both.", "请填写单位（--unit）或场所（--place）之一，不要同时填写。")
        case .visitDateInFuture:
            return l.pick("The visit date is in the future; record a visit after it happens.", "走访日期晚于今天；请在走访后再登记。")
        case .staffMissing:
            return l.pick("Name the staff who made the visit (--staff, once per person).", "请填写参加走访的工作人员（--staff，每人一次）。")
        case let .staffRepeated(name):
            return l.pick("\(name) is listed twice among the staff.", "工作人员中\(name)重复列出。")
        case let .collectionStaff(minimum, given):
            return l.pick("A collection visit needs at least \(minimum) staff; \(given) given. Add the others with --staff.",
                          "催缴走访须至少 \(minimum) 名工作人员参加；目前只有 \(given) 名。请用 --staff 补充。")
        case .personIncomplete:
            return l.pick("Each person met needs a name and a role, like --met \"王芳,财务负责人,13800138000\".",
                          "每位接谈人员须填写姓名和职务，例如 --met \"王芳,财务负责人,13800138000\"。")
        case let .documentKindUnknown(text):
            return l.pick("“\(text)” is not a document kind; use guidance-letter (行政指导意见书) or order-to-pay (责令限期缴存通知书).",
                          "“\(text)”不是有效的文书类型；请使用 行政指导意见书（guidance-letter）或 责令限期缴存通知书（order-to-pay）。")
        case .documentNumberEmpty:
            return l.pick("A document served needs its number.", "送达的文书须填写文号。")
        case .documentsOnlyOnCollection:
            return l.pick("Documents are served on collection or follow-up visits only.", "文书只能在催缴或回访时送达。")
        case .deadlineMissing:
            return l.pick("An order to pay needs its deadline (YYYY-MM-DD).", "责令限期缴存通知书须填写缴存期限（YYYY-MM-DD）。")
        case .deadlineNotAfterVisit:
            return l.pick("The deadline must be after the day the document is served.", "期限须晚于文书送达之日。")
        case let .deadlineTooFar(days, maximum):
            return l.pick("The deadline is \(days) days after service; it may be at most \(maximum) days.",
                          "期限为送达后 \(days) 天，最长只能为 \(maximum) 天。")
        case .followUpNotAfterVisit:
            return l.pick("The follow-up date must be after the visit.", "回访日期须晚于本次走访。")
        case .outcomeMissing:
            return l.pick("A collection visit needs its outcome (--outcome).", "催缴走访须填写结果（--outcome）。")
        case let .visitNotFound(id):
            return l.pick("No visit \(id) on this device; see `provident visit list`.", "本设备上没有走访记录 \(id)；请查看 `provident visit list`。")
        case .visitAlreadyVoided:
            return l.pick("The visit is already voided.", "该走访记录已作废。")
        case let .reliefKindUnknown(text):
            return l.pick("“\(text)” is not an application kind; use defer (缓缴) or reduce-rate (降低缴存比例).",
                          "“\(text)”不是有效的申请类型；请使用 缓缴（defer）或 降低缴存比例（reduce-rate）。")
        case .reliefRatesMissing:
            return l.pick("An application to lower the rate gives both requested rates: --employer-rate and --employee-rate.",
                          "降低缴存比例的申请须填写单位和职工两方的申请比例：--employer-rate 和 --employee-rate。")
        case .reliefRatesNotForDeferral:
            return l.pick("A deferral does not change the rates; leave out --employer-rate and --employee-rate.",
                          "缓缴不改变缴存比例；请不要填写 --employer-rate 和 --employee-rate。")
        case let .reliefRateOutsidePolicy(side, percent, minimum, maximum):
            let who = side == "employee" ? l.pick("employee's", "职工") : l.pick("employer's", "单位")
            return l.pick("The \(who) rate \(percent)% is outside \(minimum)%–\(maximum)%: neither side may go below \(minimum)%.",
                          "\(who)缴存比例 \(percent)% 超出 \(minimum)%–\(maximum)% 的范围：任何一方都不得低于 \(minimum)%。")
        case let .reliefMonths(given, maximum):
            return l.pick("A deferral or lower rate runs at most \(maximum) months; \(given) asked. Apply again when it ends.",
                          "缓缴或降低比例的期限最长 \(maximum) 个月，本次申请 \(given) 个月；期满后可再次申请。")
        case let .resolutionBodyUnknown(text):
            return l.pick("“\(text)” is not a body that can resolve; use staff-congress (职工代表大会) or union (工会).",
                          "“\(text)”不是有效的决议机构；请使用 职工代表大会（staff-congress）或 工会（union）。")
        case .resolutionVotes:
            return l.pick("The resolution needs a majority: votes for must be more than half the votes cast (and no more than those cast).",
                          "决议须经多数通过：赞成票须超过投票总数的一半（且不超过投票总数）。")
        case .noticeBeforeResolution:
            return l.pick("The public notice cannot begin before the resolution was passed.", "公示不能早于决议通过之日开始。")
        case .noticeEndsBeforeStart:
            return l.pick("The public notice ends before it begins.", "公示结束日期早于开始日期。")
        case .noticeAfterSubmission:
            return l.pick("The public notice must be finished before the application is submitted.", "公示须在提交申请之前结束。")
        case .submissionInFuture:
            return l.pick("The submission date is in the future.", "申请提交日期晚于今天。")
        case let .applicationNotFound(id):
            return l.pick("No application \(id); see the list of applications.", "没有申请 \(id)；请查看申请列表。")
        case .applicationAlreadyDecided:
            return l.pick("The application has already been decided.", "该申请已审核。")
        case .campaignNameEmpty:
            return l.pick("The campaign needs a name.", "专项行动须有名称。")
        case let .campaignPhases(reason):
            return l.pick("The phases are not right: \(reason). Write each as NAME:YYYY-MM-DD..YYYY-MM-DD, in order, without overlaps.",
                          "阶段设置有误：\(reason)。每个阶段写成 名称:YYYY-MM-DD..YYYY-MM-DD，按时间顺序，不得重叠。")
        case let .campaignNotFound(id):
            return l.pick("No campaign \(id) on this device.", "本设备上没有专项行动 \(id)。")
        }
    }

    /// The Chinese name of a field named in an English message.
    static func chineseField(_ field: String) -> String {
        switch field {
        case "employees": "职工人数"
        case "contributors": "缴存人数"
        case "pensionInsured": "养老保险参保人数"
        case "monthsInArrears": "欠缴月数"
        case "votes": "票数"
        case "months": "月数"
        case "name": "名称"
        case "address": "地址"
        case "notes": "笔录"
        case "reason": "原因"
        default: field
        }
    }
}
