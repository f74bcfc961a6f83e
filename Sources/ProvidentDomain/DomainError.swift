/// A domain rule that input or an action breaks.
///
/// Each case has a stable `code`, a `kind` (bad input, or refused by the current state) that
/// programs map to exit codes and HTTP statuses, and a message in Chinese or English that says
/// what was wrong and what to do. Messages never repeat an ID or phone number.
public enum DomainError: Error, Hashable, Sendable {
    // People and their identity
    case nameEmpty
    case nameTooLong(maxCharacters: Int)
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

    // Refused by the server's rules for who may do what
    case actionUnknown(String)
    case actionMismatch(String)
    case malformedRecord(String)
    case notPermitted
    case outOfScope
    case unknownAccount
    case accountExists
    case referenceTaken
    case branchInvalid
    case claimCodeInvalid

    /// Whether the input itself is wrong, or the action is refused by the current state.
    public enum Kind: Sendable {
        case invalidInput
        case refused
    }

    /// Bad input or refused action.
    public var kind: Kind {
        switch self {
        case .noAccount, .accountAlreadyEnrolled, .idNumberAlreadyEnrolled, .accountClosed, .accountPaused,
             .accountAlreadyPaused, .accountNotPaused, .periodAlreadyPaid, .depositNotFound, .depositAlreadyReversed,
             .notPermitted, .outOfScope, .unknownAccount, .accountExists, .referenceTaken:
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
        case .actionUnknown: "action.unknown"
        case .actionMismatch: "action.mismatch"
        case .malformedRecord: "record.malformed"
        case .notPermitted: "role.not_permitted"
        case .outOfScope: "scope.forbidden"
        case .unknownAccount: "account.unknown"
        case .accountExists: "account.exists"
        case .referenceTaken: "reference.taken"
        case .branchInvalid: "branch.invalid"
        case .claimCodeInvalid: "claim_code.invalid"
        }
    }

    /// What was wrong and what to do, in `language`.
    public func message(_ language: Language) -> String {
        let l = language
        switch self {
        case .nameEmpty:
            return l.pick("The name is empty; give the name on the ID card.", "姓名为空;请填写身份证上的姓名。")
        case let .nameTooLong(maximum):
            return l.pick("The name is longer than \(maximum) characters.", "姓名超过 \(maximum) 个字符。")
        case .idNumberFormat:
            return l.pick("The ID number must be 18 characters: 17 digits, then a digit or X.",
                          "身份证号码应为 18 位:17 位数字,最后一位为数字或 X。")
        case let .idNumberBirthDate(date):
            return l.pick("The birth date in the ID number (\(date)) is not a real date; check the number.",
                          "身份证号码中的出生日期(\(date))不是有效日期,请核对号码。")
        case .idNumberBirthInFuture:
            return l.pick("The birth date in the ID number is in the future; check the number.",
                          "身份证号码中的出生日期晚于今天,请核对号码。")
        case .idNumberCheck:
            return l.pick("The ID number's last character does not match the others (GB 11643 check); a digit was probably mistyped.",
                          "身份证号码校验位不符(GB 11643),可能有数字输错,请核对。")
        case let .ageOutsidePolicy(age, minimum, maximum):
            return l.pick("Voluntary accounts are open to people aged \(minimum) to \(maximum); this person is \(age).",
                          "个人自愿缴存账户仅限 \(minimum) 至 \(maximum) 周岁人员开立;此人现年 \(age) 周岁。")
        case .mobileInvalid:
            return l.pick("The mobile number must be 11 digits starting with 13–19 (a +86 prefix is allowed).",
                          "手机号码应为 11 位,以 13–19 开头(可带 +86 前缀)。")
        case .creditCodeFormat:
            return l.pick("A unified social credit code is 18 characters of 0-9 and A-Z without I, O, S, V, Z.",
                          "统一社会信用代码应为 18 位,由数字和除 I、O、S、V、Z 以外的大写字母组成。")
        case .creditCodeCheck:
            return l.pick("The unified social credit code's last character does not match the others (GB 32100 check); check the code.",
                          "统一社会信用代码校验位不符(GB 32100),请核对。")
        case let .categoryUnknown(text):
            return l.pick("“\(text)” is not a category; use gig, trader, part-time or other.",
                          "“\(text)”不是有效类别;请使用 gig(新就业形态)、trader(个体工商户)、part-time(非全日制)或 other(其他)。")
        case let .amountFormat(text):
            return l.pick("“\(text)” is not an amount in yuan; write it like 1234.50 or 1,234.50.",
                          "“\(text)”不是有效的金额(元);请写成 1234.50 或 1,234.50。")
        case let .amountTooManyDecimals(text):
            return l.pick("“\(text)” has more than two decimals; amounts are in yuan and fen (at most 2 decimals).",
                          "“\(text)”的小数超过两位;金额以元为单位,最多精确到分(两位小数)。")
        case .amountNegative:
            return l.pick("The amount is negative; to correct a deposit, reverse it with `provident deposit reverse`.",
                          "金额为负数;如需更正缴存,请用 `provident deposit reverse` 冲正。")
        case .amountZero:
            return l.pick("The amount is zero.", "金额为零。")
        case .amountMissing:
            return l.pick("Give the amount in yuan with --amount.", "请用 --amount 填写金额(元)。")
        case let .amountAboveCap(cap):
            return l.pick("The amount is above the policy's cap of \(Money(fen: cap).formatted) per deposit.",
                          "金额超过政策规定的单笔上限 \(Money(fen: cap).formatted)。")
        case let .amountNotAgreed(expected, actual):
            return l.pick("The agreement sets \(Money(fen: expected).formatted) for this deposit, not \(Money(fen: actual).formatted); leave out --amount or change the agreement with `provident account update`.",
                          "按缴存协议,本次应缴 \(Money(fen: expected).formatted),而不是 \(Money(fen: actual).formatted);请省略 --amount,或用 `provident account update` 修改协议。")
        case .agreementIncomplete:
            return l.pick("Give either --base and --rate, or --monthly.", "请提供 --base 和 --rate,或者 --monthly。")
        case let .agreementModeNotAllowed(mode):
            return mode == .fixedAmount
                ? l.pick("This city's policy does not allow a fixed monthly amount; give --base and --rate.",
                         "本市政策不允许按固定月缴存额缴存;请提供 --base 和 --rate。")
                : l.pick("This city's policy sets a fixed monthly amount; give --monthly.",
                         "本市政策按固定月缴存额缴存;请提供 --monthly。")
        case let .baseOutsidePolicy(base, minimum, maximum):
            return l.pick("The contribution base \(Money(fen: base).formatted) is outside the policy's \(Money(fen: minimum).formatted)–\(Money(fen: maximum).formatted).",
                          "缴存基数 \(Money(fen: base).formatted) 超出政策范围 \(Money(fen: minimum).formatted)–\(Money(fen: maximum).formatted)。")
        case .rateNotWholePercent:
            return l.pick("The rate must be a whole percent, like 12.", "缴存比例应为整数百分比,例如 12。")
        case let .rateOutsidePolicy(basisPoints, minimum, maximum):
            return l.pick("The combined rate \(basisPoints / 100)% is outside the policy's \(minimum)%–\(maximum)%.",
                          "缴存比例 \(basisPoints / 100)% 超出政策范围 \(minimum)%–\(maximum)%。")
        case let .fixedOutsidePolicy(amount, minimum, maximum):
            return l.pick("The monthly amount \(Money(fen: amount).formatted) is outside the policy's \(Money(fen: minimum).formatted)–\(Money(fen: maximum).formatted).",
                          "月缴存额 \(Money(fen: amount).formatted) 超出政策范围 \(Money(fen: minimum).formatted)–\(Money(fen: maximum).formatted)。")
        case let .periodFormat(text):
            return l.pick("“\(text)” is not a month; write it as YYYY-MM, like 2026-11.",
                          "“\(text)”不是有效月份;请写成 YYYY-MM,例如 2026-11。")
        case let .periodInFuture(period, latest):
            return l.pick("\(period) has not begun; a monthly deposit can be for \(latest) at the latest.",
                          "\(period) 尚未开始;按月缴存最晚只能缴到 \(latest)。")
        case let .monthlyForPastPeriod(period):
            return l.pick("\(period) is a past month; record it as a catch-up deposit: provident deposit --catch-up \(period)",
                          "\(period) 是以往月份,请按补缴办理:provident deposit --catch-up \(period)")
        case let .periodBeforeAccount(period, first):
            return l.pick("\(period) is before the account began (\(first)).", "\(period) 早于账户开立月份(\(first))。")
        case let .catchUpNotPast(period):
            return l.pick("Catch-up deposits are for past months; \(period) is not past. Record it as a monthly deposit.",
                          "补缴只适用于以往月份;\(period) 不是以往月份,请按月缴存。")
        case .catchUpEmpty:
            return l.pick("Name the months to catch up, like --catch-up 2026-08,2026-09.",
                          "请列出要补缴的月份,例如 --catch-up 2026-08,2026-09。")
        case let .tooManyCatchUpMonths(count, maximum):
            return l.pick("One catch-up deposit can cover at most \(maximum) months; \(count) were given. Split it.",
                          "单笔补缴最多 \(maximum) 个月,本次为 \(count) 个月;请分笔缴存。")
        case let .periodRepeated(period):
            return l.pick("\(period) is listed twice.", "\(period) 重复列出。")
        case .lumpNotAllowed:
            return l.pick("This city's policy does not allow lump-sum deposits; pay by month.",
                          "本市政策不允许一次性(灵活)缴存;请按月缴存。")
        case let .methodUnknown(text):
            return l.pick("“\(text)” is not a payment method; use bank-transfer, bank-counter or mobile-banking.",
                          "“\(text)”不是有效的缴款方式;请使用 bank-transfer(银行转账)、bank-counter(银行柜台)或 mobile-banking(手机银行)。")
        case .referenceFormat:
            return l.pick("A payment reference code is PV followed by 13 letters and digits, like PV4K7Q9MXTR2HC3.",
                          "缴存识别码为 PV 加 13 位字母和数字,例如 PV4K7Q9MXTR2HC3。")
        case .referenceCheck:
            return l.pick("The payment reference code's last character does not match; check the code.",
                          "缴存识别码校验位不符,请核对。")
        case .reasonEmpty:
            return l.pick("Give a reason.", "请填写原因。")
        case .nothingToUpdate:
            return l.pick("Nothing to change: give --phone, or a new agreement.", "没有要修改的内容:请提供 --phone 或新的缴存协议。")
        case .noAccount:
            return l.pick("This device has no account yet; open one with `provident enroll`.",
                          "本设备尚未开立账户;请先用 `provident enroll` 开户。")
        case .accountAlreadyEnrolled:
            return l.pick("This device already has an account; see it with `provident account show`.",
                          "本设备已开立账户;可用 `provident account show` 查看。")
        case .idNumberAlreadyEnrolled:
            return l.pick("This person already has an open voluntary account; one person may hold only one.",
                          "此人已有正常状态的个人自愿缴存账户;每人只能开立一个。")
        case .accountClosed:
            return l.pick("The account is closed (sealed); nothing more can be recorded on it.",
                          "账户已封存(销户),不能再办理业务。")
        case .accountPaused:
            return l.pick("The account is paused; resume it with `provident resume` before depositing.",
                          "账户已暂停缴存;请先用 `provident resume` 恢复缴存。")
        case .accountAlreadyPaused:
            return l.pick("The account is already paused.", "账户已处于暂停缴存状态。")
        case .accountNotPaused:
            return l.pick("The account is not paused.", "账户未暂停缴存。")
        case let .periodAlreadyPaid(period, reference):
            return l.pick("\(period) is already paid (reference \(reference)); if that deposit was wrong, reverse it with `provident deposit reverse \(reference)`.",
                          "\(period) 已缴存(识别码 \(reference));如该笔有误,请用 `provident deposit reverse \(reference)` 冲正。")
        case let .depositNotFound(reference):
            return l.pick("No deposit with reference \(reference) on this device; see `provident statement`.",
                          "本设备上没有识别码为 \(reference) 的缴存;请查看 `provident statement`。")
        case let .depositAlreadyReversed(reference):
            return l.pick("The deposit \(reference) is already reversed.", "识别码为 \(reference) 的缴存已冲正。")
        case let .actionUnknown(action):
            return l.pick("The server does not know the action “\(action)”; update Provident on this device.",
                          "服务器不认识操作“\(action)”;请升级本设备上的 Provident。")
        case let .actionMismatch(action):
            return l.pick("The change does not match its action “\(action)”.", "更改内容与其操作“\(action)”不符。")
        case let .malformedRecord(type):
            return l.pick("A \(type) record in the change is incomplete or malformed.", "更改中的 \(type) 记录不完整或格式有误。")
        case .notPermitted:
            return l.pick("This device's role does not allow this change.", "本设备的角色不允许此项更改。")
        case .outOfScope:
            return l.pick("The record belongs to another worker or branch; this device may not change it.",
                          "该记录属于其他人员或管理部;本设备无权更改。")
        case .unknownAccount:
            return l.pick("The account does not exist on the server.", "服务器上没有该账户。")
        case .accountExists:
            return l.pick("An account with this id already exists.", "已存在相同 ID 的账户。")
        case .referenceTaken:
            return l.pick("Another deposit already has this reference code; record the deposit again to get a new one.",
                          "另一笔缴存已使用此识别码;请重新登记以获得新的识别码。")
        case .branchInvalid:
            return l.pick("A branch name is 1–64 characters without “/” or “:”.", "管理部名称应为 1–64 个字符,且不含“/”或“:”。")
        case .claimCodeInvalid:
            return l.pick("The claim code is not right; check it against the slip from the outreach visit (like 4QKM-X7TN-2RHC3).",
                          "认领码有误;请对照外勤人员给您的凭条核对(格式如 4QKM-X7TN-2RHC3)。")
        }
    }
}
