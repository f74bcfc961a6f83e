import Yams

extension Policy {
    /// Reads a policy file. Keys left out keep the defaults; unknown keys are refused, so a
    /// misspelt key cannot silently leave a default in force.
    ///
    /// ```yaml
    /// name: 洛阳
    /// eligibility: {minimumAge: 16, maximumAge: 60}
    /// agreement:
    ///   modes: [baseAndRate, fixedAmount]
    ///   baseYuan: {minimum: 2000, maximum: 28000}
    ///   ratePercent: {minimum: 10, maximum: 24}
    ///   fixedMonthlyYuan: {minimum: 210, maximum: 6888}
    /// deposits: {lumpAllowed: false, capYuan: 100000, catchUpMaxMonths: 12, advanceMonths: 0}
    /// interest: {annualRateBasisPoints: 150, dayCountBasis: 360, settlementDate: "06-30"}
    /// employers: {ratePercent: {minimum: 5, maximum: 12}, reliefMaxMonths: 12, stoppedAfterMonths: 3}
    /// visits: {collectionMinimumStaff: 2, deadlineMaxDays: 30}
    /// ```
    public init(yaml text: String) throws(PolicyError) {
        var policy = Policy.defaults
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw Self.syntaxError(error)
        } catch {
            throw .syntax(line: 1, problem: "\(error)")
        }
        guard let root else {
            self = policy
            return
        }
        let top = try YAMLMapping(root, path: "")
        policy.name = try top.string("name") ?? policy.name
        if let node = try top.mapping("eligibility") {
            policy.minimumAge = try node.int("minimumAge") ?? policy.minimumAge
            policy.maximumAge = try node.int("maximumAge") ?? policy.maximumAge
            try node.finish()
        }
        if let node = try top.mapping("agreement") {
            if let modes = try node.strings("modes") {
                var parsed: [AgreementMode] = []
                for mode in modes.values {
                    guard let value = AgreementMode(rawValue: mode) else {
                        throw .wrongType(path: "agreement.modes", line: modes.line, expected: "baseAndRate or fixedAmount")
                    }
                    if !parsed.contains(value) { parsed.append(value) }
                }
                policy.agreementModes = parsed
            }
            policy.baseFen = try node.yuanRange("baseYuan") ?? policy.baseFen
            policy.ratePercent = try node.intRange("ratePercent") ?? policy.ratePercent
            policy.fixedMonthlyFen = try node.yuanRange("fixedMonthlyYuan") ?? policy.fixedMonthlyFen
            try node.finish()
        }
        if let node = try top.mapping("deposits") {
            policy.lumpAllowed = try node.bool("lumpAllowed") ?? policy.lumpAllowed
            policy.depositCapFen = try node.int("capYuan").map { Int64($0) * 100 } ?? policy.depositCapFen
            policy.catchUpMaxMonths = try node.int("catchUpMaxMonths") ?? policy.catchUpMaxMonths
            policy.advanceMonths = try node.int("advanceMonths") ?? policy.advanceMonths
            try node.finish()
        }
        if let node = try top.mapping("interest") {
            policy.interestBasisPoints = try node.int("annualRateBasisPoints") ?? policy.interestBasisPoints
            policy.dayCountBasis = try node.int("dayCountBasis") ?? policy.dayCountBasis
            if let date = try node.stringValue("settlementDate") {
                let parts = date.value.split(separator: "-")
                guard parts.count == 2, let month = Int(parts[0]), let day = Int(parts[1]) else {
                    throw .invalid(path: "interest.settlementDate", reason: .settlementDate)
                }
                policy.settlementMonth = month
                policy.settlementDay = day
            }
            try node.finish()
        }
        if let node = try top.mapping("employers") {
            policy.employerRatePercent = try node.intRange("ratePercent") ?? policy.employerRatePercent
            policy.reliefMaxMonths = try node.int("reliefMaxMonths") ?? policy.reliefMaxMonths
            policy.stoppedAfterMonths = try node.int("stoppedAfterMonths") ?? policy.stoppedAfterMonths
            try node.finish()
        }
        if let node = try top.mapping("visits") {
            policy.collectionMinimumStaff = try node.int("collectionMinimumStaff") ?? policy.collectionMinimumStaff
            policy.deadlineMaxDays = try node.int("deadlineMaxDays") ?? policy.deadlineMaxDays
            try node.finish()
        }
        if let node = try top.mapping("devices") {
            policy.keepSentDays = try node.int("keepSentDays") ?? policy.keepSentDays
            policy.witnesses = try node.int("witnesses") ?? policy.witnesses
            try node.finish()
        }
        if let node = try top.mapping("payee") {
            guard let bank = try node.string("bank"), let accountName = try node.string("accountName"),
                  let accountNumber = try node.string("accountNumber") else {
                throw .wrongType(path: "payee", line: node.line, expected: "{bank: …, accountName: …, accountNumber: …, note: …}")
            }
            policy.payee = Payee(bank: bank, accountName: accountName, accountNumber: accountNumber, note: try node.string("note"))
            try node.finish()
        }
        try top.finish()
        try policy.validate()
        self = policy
    }

    /// The `devices` section, or a comment showing how to write one.
    private var devicesYAML: String {
        guard keepSentDays != nil || witnesses > 0 else {
            return """
                # devices:
                #   keepSentDays: 365      # days a device keeps what it sent, to refill a restored server (default: always)
                #   witnesses: 1           # auditors who must cosign the log for devices to take it as witnessed (default: 0)

                """
        }
        var lines = ["devices:"]
        if let keepSentDays { lines.append("  keepSentDays: \(keepSentDays)       # days a device keeps what it sent, to refill a restored server") }
        if witnesses > 0 { lines.append("  witnesses: \(witnesses)           # auditors who must cosign the log for devices to take it as witnessed") }
        return lines.joined(separator: "\n") + "\n\n"
    }

    /// The `payee` section, or a comment showing how to write one.
    private var payeeYAML: String {
        guard let payee else {
            return """
                # payee:                 # where deposits are paid; printed on every deposit's transfer slip
                #   bank: "中国建设银行XX支行"
                #   accountName: "XX市住房公积金管理中心"
                #   accountNumber: "4400 1234 5678 9012 345"
                #   note: "柜台办理时间：工作日 9:00–17:00"

                """
        }
        return """
            payee:                   # where deposits are paid; printed on every deposit's transfer slip
              bank: \(Self.quoted(payee.bank))
              accountName: \(Self.quoted(payee.accountName))
              accountNumber: \(Self.quoted(payee.accountNumber))
            \(payee.note.map { "  note: \(Self.quoted($0))\n" } ?? "")
            """
    }

    /// The policy in the file format, with comments; `Policy(yaml:)` reads it back unchanged.
    public var yaml: String {
        func yuan(_ fen: Int64) -> String { String(fen / 100) }
        return """
        # Provident policy for voluntary (flexible-employment) accounts.
        # Amounts are whole yuan; rates whole percent unless the key says otherwise.
        name: \(Self.quoted(name))
        eligibility:
          minimumAge: \(minimumAge)            # youngest age at enrolment
          maximumAge: \(maximumAge)            # the legal retirement age
        agreement:
          modes: [\(agreementModes.map(\.rawValue).joined(separator: ", "))]
          baseYuan: {minimum: \(yuan(baseFen.lowerBound)), maximum: \(yuan(baseFen.upperBound))}
          ratePercent: {minimum: \(ratePercent.lowerBound), maximum: \(ratePercent.upperBound)}   # combined, whole percent
          fixedMonthlyYuan: {minimum: \(yuan(fixedMonthlyFen.lowerBound)), maximum: \(yuan(fixedMonthlyFen.upperBound))}
        deposits:
          lumpAllowed: \(lumpAllowed)
          capYuan: \(yuan(depositCapFen))          # the most one deposit may be
          catchUpMaxMonths: \(catchUpMaxMonths)
          advanceMonths: \(advanceMonths)           # months ahead a monthly deposit may be paid
        interest:
          annualRateBasisPoints: \(interestBasisPoints)  # 150 = 1.5% a year
          dayCountBasis: \(dayCountBasis)         # daily-balance interest over a 360- or 365-day year
          settlementDate: "\(CivilDate.pad(settlementMonth, 2))-\(CivilDate.pad(settlementDay, 2))"   # settled once a year
        employers:
          ratePercent: {minimum: \(employerRatePercent.lowerBound), maximum: \(employerRatePercent.upperBound)}   # each side; a reduced rate stays within
          reliefMaxMonths: \(reliefMaxMonths)        # longest deferral or reduced rate
          stoppedAfterMonths: \(stoppedAfterMonths)      # unpaid months after which an employer counts as stopped (停缴)
        visits:
          collectionMinimumStaff: \(collectionMinimumStaff)  # staff on a collection visit (催缴)
          deadlineMaxDays: \(deadlineMaxDays)        # longest deadline of an order to pay
        \(devicesYAML)\(payeeYAML)
        """
    }

    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    static func syntaxError(_ error: YamlError) -> PolicyError {
        switch error {
        case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
            return .syntax(line: mark.line, problem: problem)
        case let .duplicatedKeysInMapping(duplicates, _):
            return .syntax(line: 1, problem: "duplicated keys \(duplicates.joined(separator: ", "))")
        default:
            return .syntax(line: 1, problem: "\(error)")
        }
    }
}

/// Reads a YAML mapping key by key, then refuses keys nobody asked for.
private final class YAMLMapping {
    private var entries: [(key: String, value: Node, line: Int)] = []
    private var read = Set<String>()
    private let path: String
    let line: Int

    init(_ node: Node, path: String) throws(PolicyError) {
        self.path = path
        line = node.mark?.line ?? 1
        guard let mapping = node.mapping else {
            throw .wrongType(path: path.isEmpty ? "(top level)" : path, line: line, expected: "a mapping")
        }
        for (key, value) in mapping {
            entries.append((key.string ?? "", value, key.mark?.line ?? line))
        }
    }

    private func full(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private func take(_ key: String) -> (Node, Int)? {
        read.insert(key)
        return entries.first { $0.key == key }.map { ($0.value, $0.line) }
    }

    func mapping(_ key: String) throws(PolicyError) -> YAMLMapping? {
        guard let (node, _) = take(key) else { return nil }
        return try YAMLMapping(node, path: full(key))
    }

    func int(_ key: String) throws(PolicyError) -> Int? {
        guard let (node, line) = take(key) else { return nil }
        guard let scalar = node.scalar, let value = Int(scalar.string) else {
            throw .wrongType(path: full(key), line: line, expected: "a whole number")
        }
        return value
    }

    func bool(_ key: String) throws(PolicyError) -> Bool? {
        guard let (node, line) = take(key) else { return nil }
        switch node.scalar?.string.lowercased() {
        case "true": return true
        case "false": return false
        default: throw .wrongType(path: full(key), line: line, expected: "true or false")
        }
    }

    func stringValue(_ key: String) throws(PolicyError) -> (value: String, line: Int)? {
        guard let (node, line) = take(key) else { return nil }
        guard let scalar = node.scalar else { throw .wrongType(path: full(key), line: line, expected: "text") }
        return (scalar.string, line)
    }

    func string(_ key: String) throws(PolicyError) -> String? {
        try stringValue(key)?.value
    }

    func strings(_ key: String) throws(PolicyError) -> (values: [String], line: Int)? {
        guard let (node, line) = take(key) else { return nil }
        guard let sequence = node.sequence else { throw .wrongType(path: full(key), line: line, expected: "a list") }
        var values: [String] = []
        for element in sequence {
            guard let scalar = element.scalar else { throw .wrongType(path: full(key), line: line, expected: "a list") }
            values.append(scalar.string)
        }
        return (values, line)
    }

    func intRange(_ key: String) throws(PolicyError) -> ClosedRange<Int>? {
        guard let node = try mapping(key) else { return nil }
        let low = try node.int("minimum"), high = try node.int("maximum")
        try node.finish()
        guard let low, let high else {
            throw .wrongType(path: full(key), line: node.line, expected: "{minimum: …, maximum: …}")
        }
        guard low <= high else { throw .invalid(path: full(key), reason: .minimumAboveMaximum) }
        return low...high
    }

    func yuanRange(_ key: String) throws(PolicyError) -> ClosedRange<Int64>? {
        guard let range = try intRange(key) else { return nil }
        return Int64(range.lowerBound) * 100...Int64(range.upperBound) * 100
    }

    func finish() throws(PolicyError) {
        if let unknown = entries.first(where: { !read.contains($0.key) }) {
            throw .unknownKey(path: full(unknown.key), line: unknown.line)
        }
    }
}
