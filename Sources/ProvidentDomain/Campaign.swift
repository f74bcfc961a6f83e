import ProvidentCrypto
import ProvidentSync

/// A phase of a campaign, with its first and last day.
public struct CampaignPhase: Hashable, Sendable {
    public var name: String
    public var from: CivilDate
    public var to: CivilDate

    public init(name: String, from: CivilDate, to: CivilDate) {
        self.name = name
        self.from = from
        self.to = to
    }

    /// Reads "NAME:YYYY-MM-DD..YYYY-MM-DD" (a full-width colon works too).
    public init(typed text: String) throws(DomainError) {
        let normalized = text.replacingOccurrences(of: ":", with: ":")
        guard let colon = normalized.lastIndex(of: ":") else { throw .campaignPhases("“\(text)” has no NAME:") }
        let name = String(normalized[..<colon]).trimmingASCIIWhitespace
        let range = normalized[normalized.index(after: colon)...].components(separatedBy: "..")
        guard !name.isEmpty, range.count == 2 else { throw .campaignPhases("“\(text)” is not NAME:FROM..TO") }
        self.init(name: name, from: try CivilDate.typed(range[0]), to: try CivilDate.typed(range[1]))
    }

    public func contains(_ date: CivilDate) -> Bool { from <= date && date <= to }

    var canonicalValue: CanonicalValue {
        .object(["name": .string(name), "from": .string(from.iso), "to": .string(to.iso)])
    }

    init?(canonicalValue value: CanonicalValue) {
        guard let object = value.objectValue, let name = object["name"]?.stringValue,
              let from = object["from"]?.stringValue.flatMap(CivilDate.init(iso:)),
              let to = object["to"]?.stringValue.flatMap(CivilDate.init(iso:)) else { return nil }
        self.init(name: name, from: from, to: to)
    }
}

/// A campaign to regularise payments (the Yangquan plan): a name, a cut-off date and phases. Its
/// targets, the employers in arrears or stopped at the cut-off, are frozen per branch in
/// `CampaignTargets` facts when the office creates it. An insert-only fact of type `campaign`,
/// seen by every staff device.
public struct Campaign: Hashable, Sendable {
    public static let recordType = "campaign"

    public let id: String
    public var name: String
    public var cutoff: CivilDate
    public var phases: [CampaignPhase]
    public var createdAt: Instant

    public var recordKey: RecordKey { RecordKey(type: Self.recordType, id: id) }

    public init(id: String, name: String, cutoff: CivilDate, phases: [CampaignPhase], createdAt: Instant) {
        self.id = id
        self.name = name
        self.cutoff = cutoff
        self.phases = phases
        self.createdAt = createdAt
    }

    /// The first day of the first phase.
    public var start: CivilDate { phases.first?.from ?? cutoff }
    /// The last day of the last phase.
    public var end: CivilDate { phases.last?.to ?? cutoff }

    /// Checks the name and phases: at least one phase, each named, ending on or after it begins,
    /// in order and without overlaps.
    public func check() throws(DomainError) {
        guard !name.isEmpty else { throw .campaignNameEmpty }
        guard name.count <= 100 else { throw .textTooLong(field: "name", maxCharacters: 100) }
        guard !phases.isEmpty else { throw .campaignPhases("no phase given") }
        guard phases.count <= 20 else { throw .campaignPhases("more than 20 phases") }
        var previous: CampaignPhase?
        for phase in phases {
            guard !phase.name.isEmpty, phase.name.count <= 50 else { throw .campaignPhases("a phase needs a name of at most 50 characters") }
            guard phase.from <= phase.to else { throw .campaignPhases("“\(phase.name)” ends before it begins") }
            if let previous, phase.from <= previous.to {
                throw .campaignPhases("“\(phase.name)” begins before “\(previous.name)” ends")
            }
            previous = phase
        }
    }

    public var fields: [String: CanonicalValue] {
        ["name": .string(name), "cutoff": .string(cutoff.iso), "phases": .array(phases.map(\.canonicalValue)),
         "createdAt": .string(createdAt.utcISO)]
    }

    public init?(id: String, values: [String: CanonicalValue]) {
        guard let name = values["name"]?.stringValue, let cutoff = values["cutoff"]?.stringValue.flatMap(CivilDate.init(iso:)),
              let phases = values["phases"]?.arrayValue, let at = values["createdAt"]?.stringValue.flatMap(Instant.init(utcISO:)) else {
            return nil
        }
        let parsed = phases.compactMap(CampaignPhase.init(canonicalValue:))
        guard parsed.count == phases.count else { return nil }
        self.init(id: id, name: name, cutoff: cutoff, phases: parsed, createdAt: at)
    }

    /// The employers a campaign targets: those in arrears or stopped on the cut-off date, by
    /// branch, in credit-code order.
    public static func targets(units: [Employer], reliefs: [String: [ApprovedRelief]], cutoff: CivilDate,
                               policy: Policy) -> [String: [String]] {
        var targets: [String: [String]] = [:]
        for unit in units.sorted(by: { $0.creditCode < $1.creditCode })
        where unit.compliance(asOf: cutoff, reliefs: reliefs[unit.id] ?? [], policy: policy).isDelinquent {
            targets[unit.branch, default: []].append(unit.id)
        }
        return targets
    }
}

/// One branch's targets of a campaign (or a part of them, for a long list): an insert-only fact
/// of type `campaignTargets`, in the branch's scope only.
public struct CampaignTargets: Hashable, Sendable {
    public static let recordType = "campaignTargets"
    /// Targets per record: keeps a change-set well under its size limit.
    public static let maxUnitsPerRecord = 1_000

    public let campaignID: String
    public let branch: String
    public let part: Int
    public let units: [String]

    public init(campaignID: String, branch: String, part: Int, units: [String]) {
        self.campaignID = campaignID
        self.branch = branch
        self.part = part
        self.units = units
    }

    /// `ctg-<campaign id>-<8 hex digits of the branch name's digest>-<part>`: branch names are
    /// Chinese, record ids are ASCII.
    public var id: String {
        let digest = Hex.encode(BLAKE2b.hash(Array(branch.utf8), outputLength: 32)).prefix(8)
        return "ctg-\(campaignID)-\(digest)-\(part)"
    }

    public var recordKey: RecordKey { RecordKey(type: Self.recordType, id: id) }

    /// Splits a branch's targets into records.
    public static func records(campaignID: String, branch: String, units: [String]) -> [CampaignTargets] {
        stride(from: 0, to: max(units.count, 1), by: maxUnitsPerRecord).enumerated().map { part, start in
            CampaignTargets(campaignID: campaignID, branch: branch, part: part + 1,
                            units: Array(units[start..<min(start + maxUnitsPerRecord, units.count)]))
        }
    }

    public var fields: [String: CanonicalValue] {
        ["campaign": .string(campaignID), "branch": .string(branch), "part": .integer(Int64(part)),
         "units": .array(units.map(CanonicalValue.string))]
    }

    public init?(values: [String: CanonicalValue]) {
        guard let campaign = values["campaign"]?.stringValue, let branch = values["branch"]?.stringValue,
              let part = values["part"]?.integerValue, let units = values["units"]?.arrayValue else { return nil }
        let ids = units.compactMap(\.stringValue)
        guard ids.count == units.count else { return nil }
        self.init(campaignID: campaign, branch: branch, part: Int(part), units: ids)
    }
}

/// A branch's progress in a campaign: how many of its targets have reached each step.
///
/// Counted over the targets, each at most once per figure, from the visits (not voided) and
/// applications dated within the campaign (its first phase's first day to its last phase's last
/// day):
/// - surveyed: visited at all;
/// - letter served: a guidance letter or an order to pay served on a visit;
/// - interviewed: a collection or follow-up visit with notes and someone met (催缴情况笔录);
/// - complied: the employer's status today is normal or an approved reduced rate;
/// - applied: an application to defer or lower the rate submitted;
/// - refused: the latest visit's outcome is a refusal.
public struct CampaignProgress: Hashable, Sendable {
    public var branch: String
    public var targets = 0
    public var surveyed = 0
    public var letterServed = 0
    public var interviewed = 0
    public var complied = 0
    public var applied = 0
    public var refused = 0
    /// Per phase, in order: targets visited, letters served and interviews recorded during it.
    public var phases: [PhaseFigures] = []

    public struct PhaseFigures: Hashable, Sendable {
        public var phase: String
        public var visited = 0
        public var letterServed = 0
        public var interviewed = 0
        public var applied = 0
    }

    public init(branch: String) {
        self.branch = branch
    }

    /// Computes a branch's progress. `visits` and `applications` may hold any employer's; only
    /// the targets' count. `status` gives an employer's status today.
    public static func compute(campaign: Campaign, branch: String, targets: [String], visits: [Visit], voided: Set<String>,
                               applications: [ReliefApplication], status: (String) -> ComplianceStatus?) -> CampaignProgress {
        var progress = CampaignProgress(branch: branch)
        let targetSet = Set(targets)
        progress.targets = targetSet.count
        let inWindow = { (date: CivilDate) in campaign.start <= date && date <= campaign.end }
        var visitsByUnit: [String: [Visit]] = [:]
        for visit in visits where !voided.contains(visit.id) && inWindow(visit.date) {
            if let unit = visit.unitID, targetSet.contains(unit) { visitsByUnit[unit, default: []].append(visit) }
        }
        var applicationsByUnit: [String: [ReliefApplication]] = [:]
        for application in applications where targetSet.contains(application.unitID) && inWindow(application.submittedOn) {
            applicationsByUnit[application.unitID, default: []].append(application)
        }
        for unit in targetSet {
            let unitVisits = (visitsByUnit[unit] ?? []).sorted { ($0.date, $0.recordedAt) < ($1.date, $1.recordedAt) }
            if !unitVisits.isEmpty { progress.surveyed += 1 }
            if unitVisits.contains(where: \.servedLetter) { progress.letterServed += 1 }
            if unitVisits.contains(where: \.recordsInterview) { progress.interviewed += 1 }
            if let latest = unitVisits.last(where: { $0.outcome != nil }), latest.outcome == .refused { progress.refused += 1 }
            if applicationsByUnit[unit] != nil { progress.applied += 1 }
            if let now = status(unit), now == .normal || now == .reducedRate { progress.complied += 1 }
        }
        progress.phases = campaign.phases.map { phase in
            var figures = PhaseFigures(phase: phase.name)
            for unit in targetSet {
                let during = (visitsByUnit[unit] ?? []).filter { phase.contains($0.date) }
                if !during.isEmpty { figures.visited += 1 }
                if during.contains(where: \.servedLetter) { figures.letterServed += 1 }
                if during.contains(where: \.recordsInterview) { figures.interviewed += 1 }
                if (applicationsByUnit[unit] ?? []).contains(where: { phase.contains($0.submittedOn) }) { figures.applied += 1 }
            }
            return figures
        }
        return progress
    }
}
