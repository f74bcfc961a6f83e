import ProvidentSync

/// What kind of organisation an employer is, as market regulation and civil affairs register it.
public enum EmployerKind: String, Hashable, Sendable, CaseIterable {
    case stateOrgan
    case publicInstitution
    case stateOwned
    case collective
    case privateEnterprise = "private"
    case foreignFunded
    case socialOrganisation
    case individualBusiness
    case other

    /// Reads the spellings people and data files use, in English or Chinese.
    public init(typed text: String) throws(DomainError) {
        let key = text.trimmingASCIIWhitespace.lowercased().replacingOccurrences(of: "_", with: "-")
        switch key {
        case "state-organ", "stateorgan", "机关", "国家机关", "党政机关": self = .stateOrgan
        case "public-institution", "publicinstitution", "事业单位": self = .publicInstitution
        case "state-owned", "stateowned", "国有企业", "国企", "国有": self = .stateOwned
        case "collective", "集体企业", "集体": self = .collective
        case "private", "民营企业", "私营企业", "民营", "私营": self = .privateEnterprise
        case "foreign", "foreign-funded", "foreignfunded", "外资企业", "外商投资企业", "外资": self = .foreignFunded
        case "social-organisation", "social-organization", "socialorganisation", "社会组织", "社会团体", "民办非企业单位": self = .socialOrganisation
        case "individual", "individual-business", "individualbusiness", "个体工商户", "个体": self = .individualBusiness
        case "other", "其他": self = .other
        default: throw .unitKindUnknown(text)
        }
    }

    /// The spelling on the command line.
    public var typed: String {
        switch self {
        case .stateOrgan: "state-organ"
        case .publicInstitution: "public-institution"
        case .stateOwned: "state-owned"
        case .collective: "collective"
        case .privateEnterprise: "private"
        case .foreignFunded: "foreign"
        case .socialOrganisation: "social-organisation"
        case .individualBusiness: "individual"
        case .other: "other"
        }
    }

    public func label(_ l: Language) -> String {
        switch self {
        case .stateOrgan: l.pick("state organ", "机关")
        case .publicInstitution: l.pick("public institution", "事业单位")
        case .stateOwned: l.pick("state-owned enterprise", "国有企业")
        case .collective: l.pick("collective enterprise", "集体企业")
        case .privateEnterprise: l.pick("private enterprise", "民营企业")
        case .foreignFunded: l.pick("foreign-funded enterprise", "外资企业")
        case .socialOrganisation: l.pick("social organisation", "社会组织")
        case .individualBusiness: l.pick("individual business", "个体工商户")
        case .other: l.pick("other", "其他")
        }
    }
}

/// Where an employer stands with its HPF payments, derived by `Employer.compliance(asOf:reliefs:policy:)`.
public enum ComplianceStatus: String, Hashable, Sendable, CaseIterable {
    case normal
    case inArrears
    case stopped
    case deferred
    case reducedRate
    case notEstablished

    /// The name typed on a command line: `in-arrears`, `reduced-rate`…
    public var typed: String {
        rawValue.reduce(into: "") { text, character in
            text += character.isUppercase ? "-" + character.lowercased() : String(character)
        }
    }

    public func label(_ l: Language) -> String {
        switch self {
        case .normal: l.pick("normal", "正常")
        case .inArrears: l.pick("in arrears", "欠缴")
        case .stopped: l.pick("stopped", "停缴")
        case .deferred: l.pick("deferred", "缓缴")
        case .reducedRate: l.pick("reduced rate", "降比例")
        case .notEstablished: l.pick("not established", "未建制")
        }
    }

    /// Whether the employer is a target of a campaign to regularise payments.
    public var isDelinquent: Bool { self == .inArrears || self == .stopped }
}

/// A person to contact at an employer.
public struct EmployerContact: Hashable, Sendable {
    public var name: String?
    public var phone: String?

    public init(name: String?, phone: String?) {
        self.name = name
        self.phone = phone
    }

    var canonicalValue: CanonicalValue {
        var object: [String: CanonicalValue] = [:]
        if let name { object["name"] = .string(name) }
        if let phone { object["phone"] = .string(phone) }
        return .object(object)
    }

    init?(canonicalValue value: CanonicalValue) {
        guard let object = value.objectValue else { return nil }
        name = object["name"]?.stringValue
        phone = object["phone"]?.stringValue
    }
}

/// A phone number given for a contact: a mobile number, or a landline with its area code
/// (0379-63212345, 037963212345), with an optional extension (-801).
public struct ContactPhone: Hashable, Sendable {
    public let value: String

    public init(_ text: String) throws(DomainError) {
        let trimmed = text.trimmingASCIIWhitespace.replacingOccurrences(of: " ", with: "")
        if let mobile = try? MobileNumber(trimmed) {
            value = mobile.value
            return
        }
        let parts = trimmed.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) }), (1...3).contains(parts.count) else {
            throw .contactPhoneInvalid
        }
        let digits = parts.joined()
        // Area code (3–4 digits starting with 0) and a 7–8 digit number, then an optional extension.
        let main = parts.count == 1 ? digits : parts[0] + parts[1]
        guard main.hasPrefix("0"), (10...12).contains(main.count), parts.count < 3 || parts[2].count <= 6 else {
            throw .contactPhoneInvalid
        }
        value = trimmed
    }

    /// Masked for lists: the area code and the last four digits.
    public static func mask(_ value: String) -> String {
        if value.count == 11, value.allSatisfy(\.isASCIIDigit), value.hasPrefix("1") { return MobileNumber.mask(value) }
        let characters = Array(value)
        guard characters.count > 6 else { return String(repeating: "*", count: characters.count) }
        return String(characters.prefix(4)) + String(repeating: "*", count: characters.count - 8) + String(characters.suffix(4))
    }
}

/// An approved deferral or reduced rate, as it bears on an employer's status.
public struct ApprovedRelief: Hashable, Sendable {
    public let kind: ReliefKind
    public let from: Period
    public let through: Period

    public init(kind: ReliefKind, from: Period, through: Period) {
        self.kind = kind
        self.from = from
        self.through = through
    }

    public func covers(_ period: Period) -> Bool { from <= period && period <= through }
}

/// An employer (单位), identified by its unified social credit code.
///
/// Replicated as a mutable record of type `unit` with id `unit-<credit code>`, so two devices
/// that register the same employer name the same record. The figures (employees, contributors,
/// pension-insured, last month paid, months in arrears) come from the centre's data and the
/// departments it shares with; the compliance status is derived from them, never stored.
public struct Employer: Hashable, Sendable {
    /// The record type.
    public static let recordType = "unit"

    public let creditCode: String
    public var name: String
    public var branch: String
    public var kind: EmployerKind
    public var address: String?
    public var contact: EmployerContact?
    /// Whether the employer has established the HPF scheme (建制).
    public var established: Bool
    public var employees: Int
    /// Employees paying into the HPF.
    public var contributors: Int
    /// Employees enrolled in pension insurance.
    public var pensionInsured: Int
    /// The last month the employer paid for, if it ever did.
    public var lastPaid: Period?
    /// Months owed as the centre's ledger showed them when the list was made (欠缴月数): they
    /// include the months since the last payment at that time. See `monthsOwed(asOf:)`.
    public var monthsInArrears: Int

    /// The record id for a credit code.
    public static func id(creditCode: String) -> String { "unit-\(creditCode)" }

    public var id: String { Self.id(creditCode: creditCode) }
    public var recordKey: RecordKey { RecordKey(type: Self.recordType, id: id) }

    public init(creditCode: String, name: String, branch: String, kind: EmployerKind, address: String? = nil, contact: EmployerContact? = nil,
                established: Bool, employees: Int, contributors: Int, pensionInsured: Int, lastPaid: Period?, monthsInArrears: Int) {
        self.creditCode = creditCode
        self.name = name
        self.branch = branch
        self.kind = kind
        self.address = address
        self.contact = contact
        self.established = established
        self.employees = employees
        self.contributors = contributors
        self.pensionInsured = pensionInsured
        self.lastPaid = lastPaid
        self.monthsInArrears = monthsInArrears
    }

    /// Coverage (覆盖率): HPF contributors per pension-insured employee, in basis points; nil
    /// when nobody is pension-insured.
    public var coverageBasisPoints: Int? {
        pensionInsured > 0 ? contributors * 10_000 / pensionInsured : nil
    }

    /// Months owed on `date`, the one figure every surface shows (the laptop, the reports, the
    /// dashboard, the CSV): the months after the last month paid up to the month before `date`,
    /// or the ledger's figure when that is larger (it also counts earlier under-payment). The two
    /// are not added: the ledger's count already holds the months since the last payment.
    public func monthsOwed(asOf date: CivilDate) -> Int {
        let sinceLast = lastPaid.map { max(0, date.period.adding(months: -1).ordinal - $0.ordinal) } ?? 0
        return max(sinceLast, monthsInArrears)
    }

    /// The employer's status on `date`, by these rules in order:
    ///
    /// 1. not established (未建制) when it has no HPF scheme;
    /// 2. deferred (缓缴) when an approved deferral covers the month of `date`;
    /// 3. the unpaid months are those after the last month paid up to the month before `date`
    ///    (a month is paid during the next); with no month ever paid, the employer counts as
    ///    stopped; stopped (停缴) when the unpaid months reach the policy's `stoppedAfterMonths`;
    /// 4. in arrears (欠缴) when any month is unpaid, or months from earlier under-payment are owed;
    /// 5. reduced rate (降比例) when an approved reduced rate covers the month;
    /// 6. otherwise normal.
    public func compliance(asOf date: CivilDate, reliefs: [ApprovedRelief], policy: Policy) -> ComplianceStatus {
        guard established else { return .notEstablished }
        let month = date.period
        if reliefs.contains(where: { $0.kind == .defer && $0.covers(month) }) { return .deferred }
        guard let lastPaid else { return .stopped }
        let unpaid = max(0, month.adding(months: -1).ordinal - lastPaid.ordinal)
        if unpaid >= policy.stoppedAfterMonths { return .stopped }
        if unpaid > 0 || monthsInArrears > 0 { return .inArrears }
        if reliefs.contains(where: { $0.kind == .reduceRate && $0.covers(month) }) { return .reducedRate }
        return .normal
    }

    /// The fields a `create` writes.
    public var createFields: [String: CanonicalValue] {
        var fields: [String: CanonicalValue] = [
            "creditCode": .string(creditCode), "name": .string(name), "branch": .string(branch), "kind": .string(kind.rawValue),
            "established": .bool(established), "employees": .integer(Int64(employees)),
            "contributors": .integer(Int64(contributors)), "pensionInsured": .integer(Int64(pensionInsured)),
            "monthsInArrears": .integer(Int64(monthsInArrears)),
        ]
        if let address { fields["address"] = .string(address) }
        if let contact { fields["contact"] = contact.canonicalValue }
        if let lastPaid { fields["lastPaid"] = .string(lastPaid.iso) }
        return fields
    }

    /// The fields that differ from `old`: what an update writes (nil-able fields are only ever set).
    public func changedFields(from old: Employer) -> [String: CanonicalValue] {
        let mine = createFields, theirs = old.createFields
        return mine.filter { theirs[$0.key] != $0.value && $0.key != "creditCode" }
    }

    /// Reads an employer from a record's field values; nil when a field is missing or malformed.
    public init?(id: String, values: [String: CanonicalValue]) {
        guard let code = values["creditCode"]?.stringValue, id == Self.id(creditCode: code),
              let name = values["name"]?.stringValue, let branch = values["branch"]?.stringValue,
              let kind = values["kind"]?.stringValue.flatMap(EmployerKind.init(rawValue:)),
              let established = values["established"]?.boolValue,
              let employees = values["employees"]?.integerValue, let contributors = values["contributors"]?.integerValue,
              let insured = values["pensionInsured"]?.integerValue, let arrears = values["monthsInArrears"]?.integerValue else { return nil }
        var lastPaid: Period?
        if let text = values["lastPaid"]?.stringValue {
            guard let period = Period(text) else { return nil }
            lastPaid = period
        }
        self.init(creditCode: code, name: name, branch: branch, kind: kind, address: values["address"]?.stringValue,
                  contact: values["contact"].flatMap(EmployerContact.init(canonicalValue:)), established: established,
                  employees: Int(employees), contributors: Int(contributors), pensionInsured: Int(insured), lastPaid: lastPaid,
                  monthsInArrears: Int(arrears))
    }

    /// Checks an employer as replicated: what the server does with every one it receives.
    public func check() throws(DomainError) {
        _ = try CreditCode(creditCode)
        guard try EmployerForm.text(name, field: "name", maximum: 100) == name, !name.isEmpty else { throw .unitNameEmpty }
        guard Branch.isValid(branch) else { throw .branchInvalid }
        for (field, value) in [("employees", employees), ("contributors", contributors), ("pensionInsured", pensionInsured),
                               ("monthsInArrears", monthsInArrears)] where !(0...10_000_000).contains(value) {
            throw .countInvalid(field: field)
        }
        if let address { _ = try EmployerForm.text(address, field: "address", maximum: 200) }
        if let phone = contact?.phone { guard try ContactPhone(phone).value == phone else { throw .contactPhoneInvalid } }
    }
}

/// An employer's details as typed or read from a data file: every value text, checked into an `Employer`.
public struct EmployerForm: Hashable, Sendable {
    public var creditCode: String
    public var name: String?
    public var branch: String?
    public var kind: String?
    public var address: String?
    public var contactName: String?
    public var contactPhone: String?
    public var established: String?
    public var employees: String?
    public var contributors: String?
    public var pensionInsured: String?
    public var lastPaid: String?
    public var monthsInArrears: String?

    public init(creditCode: String, name: String? = nil, branch: String? = nil, kind: String? = nil, address: String? = nil,
                contactName: String? = nil, contactPhone: String? = nil, established: String? = nil, employees: String? = nil,
                contributors: String? = nil, pensionInsured: String? = nil, lastPaid: String? = nil, monthsInArrears: String? = nil) {
        self.creditCode = creditCode
        self.name = name
        self.branch = branch
        self.kind = kind
        self.address = address
        self.contactName = contactName
        self.contactPhone = contactPhone
        self.established = established
        self.employees = employees
        self.contributors = contributors
        self.pensionInsured = pensionInsured
        self.lastPaid = lastPaid
        self.monthsInArrears = monthsInArrears
    }

    /// The employer these values describe: `existing` with the values given (empty or absent
    /// values leave a field as it is), or a new employer, for which the credit code, name and
    /// branch are required and the rest default to none, not established, no one.
    public func apply(to existing: Employer?) throws(DomainError) -> Employer {
        let code = try CreditCode(creditCode).value
        func given(_ text: String?) -> String? {
            guard let text else { return nil }
            let trimmed = text.trimmingASCIIWhitespace.precomposedNFC
            return trimmed.isEmpty ? nil : trimmed
        }
        var unit: Employer
        if let existing {
            unit = existing
        } else {
            guard let name = given(name) else { throw .unitNameEmpty }
            guard let branch = given(branch) else { throw .branchInvalid }
            unit = Employer(creditCode: code, name: name, branch: branch, kind: .other, established: false, employees: 0,
                        contributors: 0, pensionInsured: 0, lastPaid: nil, monthsInArrears: 0)
        }
        if let name = given(name) { unit.name = try Self.text(name, field: "name", maximum: 100) }
        if let branch = given(branch) {
            guard Branch.isValid(branch) else { throw .branchInvalid }
            unit.branch = branch
        }
        if let kind = given(kind) { unit.kind = try EmployerKind(typed: kind) }
        if let address = given(address) { unit.address = try Self.text(address, field: "address", maximum: 200) }
        let contactName = try given(contactName).map { text throws(DomainError) in try Self.text(text, field: "name", maximum: 50) }
        let phone = try given(contactPhone).map { text throws(DomainError) in try ContactPhone(text).value }
        if contactName != nil || phone != nil {
            unit.contact = EmployerContact(name: contactName ?? unit.contact?.name, phone: phone ?? unit.contact?.phone)
        }
        if let established = given(established) { unit.established = try Self.yesNo(established) }
        if let text = given(employees) { unit.employees = try Self.count(text, field: "employees") }
        if let text = given(contributors) { unit.contributors = try Self.count(text, field: "contributors") }
        if let text = given(pensionInsured) { unit.pensionInsured = try Self.count(text, field: "pensionInsured") }
        if let text = given(monthsInArrears) { unit.monthsInArrears = try Self.count(text, field: "monthsInArrears") }
        if let text = given(lastPaid) {
            guard let period = Period(text) ?? Period(text.replacingOccurrences(of: "/", with: "-")) else { throw .periodFormat(text) }
            unit.lastPaid = period
        }
        // Having contributors means having a scheme.
        if unit.contributors > 0 { unit.established = true }
        try unit.check()
        return unit
    }

    public static func text(_ text: String, field: String, maximum: Int) throws(DomainError) -> String {
        let trimmed = text.trimmingASCIIWhitespace.precomposedNFC
        guard trimmed.count <= maximum else { throw .textTooLong(field: field, maxCharacters: maximum) }
        // Control characters (a tab pasted from a spreadsheet) become spaces.
        return String(String.UnicodeScalarView(trimmed.unicodeScalars.map { $0.value < 0x20 && $0 != "\n" ? " " : $0 }))
    }

    public static func count(_ text: String, field: String) throws(DomainError) -> Int {
        let compact = text.replacingOccurrences(of: ",", with: "")
        guard !compact.isEmpty, compact.allSatisfy(\.isASCIIDigit), compact.count <= 8, let value = Int(compact) else {
            throw .countInvalid(field: field)
        }
        return value
    }

    public static func yesNo(_ text: String) throws(DomainError) -> Bool {
        switch text.lowercased() {
        case "yes", "y", "true", "1", "是", "已建制", "建制": return true
        case "no", "n", "false", "0", "否", "未建制": return false
        default: throw .establishedInvalid(text)
        }
    }
}

extension CivilDate {
    /// Reads a date as typed: YYYY-MM-DD (or with slashes).
    public static func typed(_ text: String) throws(DomainError) -> CivilDate {
        let trimmed = text.trimmingASCIIWhitespace.replacingOccurrences(of: "/", with: "-")
        let parts = trimmed.split(separator: "-")
        if parts.count == 3, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]), parts[0].count == 4,
           let date = CivilDate(year: y, month: m, day: d) {
            return date
        }
        throw .dateFormat(text)
    }
}

/// The columns of an employer list (`provident-server units import`), each named in English or
/// Chinese in the header row, in any order. Only the credit code is required in the header; a
/// new employer also needs its name and branch.
public enum EmployerList {
    /// Each column: its key and the header names it goes by.
    public static let columns: [(key: String, names: [String])] = [
        ("credit_code", ["credit_code", "统一社会信用代码", "信用代码"]),
        ("name", ["name", "单位名称", "名称"]),
        ("branch", ["branch", "管理部", "所属管理部"]),
        ("kind", ["kind", "单位类型", "单位性质"]),
        ("address", ["address", "地址", "单位地址"]),
        ("contact_name", ["contact_name", "联系人"]),
        ("contact_phone", ["contact_phone", "联系电话"]),
        ("established", ["established", "是否建制"]),
        ("employees", ["employees", "职工人数"]),
        ("contributors", ["contributors", "缴存人数"]),
        ("pension_insured", ["pension_insured", "养老保险参保人数", "参保人数"]),
        ("last_paid", ["last_paid", "最后缴存月份"]),
        ("months_in_arrears", ["months_in_arrears", "欠缴月数"]),
    ]

    /// A row the file itself gets wrong (as opposed to a value breaking a rule).
    public struct RowProblem: Hashable, Sendable {
        public let line: Int
        public let message: String

        public init(line: Int, message: String) {
            self.line = line
            self.message = message
        }
    }

    /// Reads the rows of a parsed CSV file into forms; rows of the wrong width are problems.
    public static func rows(of given: CSVTable, language: Language) throws(ImportError) -> (rows: [(line: Int, form: EmployerForm)], problems: [RowProblem]) {
        // A title block above the header is skipped: the header is the row naming the credit code.
        let codeNames = Set((columns.first { $0.0 == "credit_code" }?.1 ?? []).map { $0.lowercased() })
        let table = given.findingHeader { row in row.contains { codeNames.contains($0.lowercased()) } } ?? given
        try table.requireUnmergedHeader()
        var index: [String: Int] = [:]
        for (key, names) in columns {
            if let found = table.header.firstIndex(where: { header in names.contains { $0.lowercased() == header.lowercased() } }) {
                index[key] = found
            }
        }
        guard let codeColumn = index["credit_code"] else { throw .missingColumns(["credit_code (统一社会信用代码)"]) }
        var rows: [(line: Int, form: EmployerForm)] = []
        var problems: [RowProblem] = []
        for record in table.records where !CSVTable.isBlank(record.fields) && !CSVTable.isTotal(record.fields) {
            guard record.fields.count == table.header.count else {
                problems.append(RowProblem(line: record.line, message: language.pick(
                    "the row has \(record.fields.count) fields but the header has \(table.header.count)",
                    "该行有 \(record.fields.count) 列，表头有 \(table.header.count) 列")))
                continue
            }
            func value(_ key: String) -> String? { index[key].map { record.fields[$0] } }
            rows.append((record.line, EmployerForm(
                creditCode: record.fields[codeColumn].trimmingASCIIWhitespace.uppercased(), name: value("name"), branch: value("branch"),
                kind: value("kind"), address: value("address"), contactName: value("contact_name"), contactPhone: value("contact_phone"),
                established: value("established"), employees: value("employees"), contributors: value("contributors"),
                pensionInsured: value("pension_insured"), lastPaid: value("last_paid"), monthsInArrears: value("months_in_arrears"))))
        }
        return (rows, problems)
    }
}
