import ArgumentParser
import Foundation
import ProvidentCLIKit
import ProvidentClient
import ProvidentCrypto
import ProvidentDomain
import ProvidentSync

#if canImport(Glibc)
import Glibc
#endif

/// Answers typed at the terminal, kept after each one in `drafts/` in the data folder (mode
/// 0600, like the replica they end up in), so a wrong passphrase, Ctrl-C or a crash loses none
/// of them. A draft is removed once its change is recorded; `provident drafts` lists, resumes
/// and discards the others.
struct Draft {
    /// What a draft is a draft of.
    enum Kind: String, Codable {
        case visit = "visit.record"
        case enroll
        case application = "application.record"

        var label: String {
            switch self {
            case .visit: t("visit", "走访")
            case .enroll: t("enrolment", "开户")
            case .application: t("application", "申请")
            }
        }

        var prefix: String {
            switch self {
            case .visit: "vis"
            case .enroll: "enr"
            case .application: "app"
            }
        }
    }

    struct Stored: Codable {
        var kind: Kind
        var startedAt: String
        var visit: VisitAnswers?
        var enroll: EnrollAnswers?
        var application: ApplicationAnswers?
    }

    let id: String
    let path: String
    var stored: Stored

    static func folder(_ directory: DataDirectory) -> String { directory.path + "/drafts" }

    /// A new draft for `kind`, not yet written.
    static func start(_ kind: Kind, in directory: DataDirectory) -> Draft {
        let now = currentInstant()
        let id = "\(kind.prefix)-\(Hex.encode(SecureRandom.bytes(count: 3)))"
        return Draft(id: id, path: folder(directory) + "/\(id).json", stored: Stored(kind: kind, startedAt: now.utcISO))
    }

    /// Every draft in the folder, oldest first, and the paths of files there that cannot be read.
    static func scan(_ directory: DataDirectory) -> (drafts: [Draft], unreadable: [String]) {
        let folder = folder(directory)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        var drafts: [Draft] = [], unreadable: [String] = []
        for name in names.filter({ $0.hasSuffix(".json") }).sorted() {
            let path = folder + "/" + name
            if let data = FileManager.default.contents(atPath: path), let stored = try? JSONDecoder().decode(Stored.self, from: data) {
                drafts.append(Draft(id: String(name.dropLast(5)), path: path, stored: stored))
            } else {
                unreadable.append(path)
            }
        }
        return (drafts.sorted { $0.stored.startedAt < $1.stored.startedAt }, unreadable)
    }

    static func all(in directory: DataDirectory) -> [Draft] { scan(directory).drafts }

    static func find(_ id: String, in directory: DataDirectory) throws -> Draft {
        guard let draft = all(in: directory).first(where: { $0.id == id }) else {
            throw ValidationError(t("There is no draft \(id); `provident drafts list` shows them.", "没有草稿 \(id)；`provident drafts list` 会列出全部草稿。"))
        }
        return draft
    }

    /// Writes the draft as it stands (atomically, mode 0600).
    func save() {
        let folder = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        guard let data = try? JSONEncoder().encode(stored) else { return }
        try? AtomicFile.write(Array(data), to: path, mode: 0o600)
    }

    func discard() {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Says where the answers are kept, after a failure.
    /// Says that the answers are kept; `asksAgain` names those a refusal set aside, which
    /// resuming asks for again.
    func tellKept(asksAgain: [String] = []) {
        Terminal.warn(t("Your answers are kept as draft \(id): `provident drafts resume \(id)` goes on from them.",
                        "您的回答已保存为草稿 \(id)：运行 `provident drafts resume \(id)` 可接着填写。"))
        if !asksAgain.isEmpty {
            Terminal.warn(t("It asks again for what was refused: \(asksAgain.joined(separator: ", ")).",
                            "被拒绝的内容会重新询问：\(asksAgain.joined(separator: "、"))。"))
        }
    }

    /// The code of a refusal by the domain's rules, to find which answers it names.
    static func refusalCode(_ error: any Error) -> String? {
        (error as? any ProvidentError).map(\.code)
    }
}

/// A visit's answers so far.
struct VisitAnswers: Codable {
    var unit, placeName, placeKind, placeAddress, branch: String?
    var purpose: String
    var date: String?
    var staff, persons: [String]
    var notes: String
    var documents: [String]
    var outcome, followUp: String?

    init(_ form: VisitForm) {
        unit = form.unit; placeName = form.placeName; placeKind = form.placeKind; placeAddress = form.placeAddress
        branch = form.branch; purpose = form.purpose; date = form.date; staff = form.staff; persons = form.persons
        notes = form.notes; documents = form.documents; outcome = form.outcome; followUp = form.followUp
    }

    var form: VisitForm {
        VisitForm(unit: unit, placeName: placeName, placeKind: placeKind, placeAddress: placeAddress, branch: branch, purpose: purpose,
                  date: date, staff: staff, persons: persons, notes: notes, documents: documents, outcome: outcome, followUp: followUp)
    }
}

/// An application's answers so far, by option name.
struct ApplicationAnswers: Codable {
    var values: [String: String]
    var documents: [String]
}

/// An enrolment's answers so far.
struct EnrollAnswers: Codable {
    var name, idNumber, phone, category, base, rate, monthly: String?
}

struct DraftsCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "drafts",
                             abstract: t("Answers kept from an interrupted visit, application or enrolment: list, resume, discard.",
                                         "中断的走访、申请或开户所保存的回答：列出、继续、丢弃。"),
                             subcommands: [List.self, Resume.self, Discard.self], defaultSubcommand: List.self)
    }

    struct List: ParsableCommand {
        static var configuration: CommandConfiguration { CommandConfiguration(commandName: "list", abstract: t("List the drafts.", "列出草稿。")) }
        @OptionGroup var data: DataOptions

        func run() throws {
            let (drafts, unreadable) = Draft.scan(data.directory)
            for path in unreadable {
                Terminal.warn(t("\(path) is not a draft this program can read (damaged?); delete it if you do not need it.",
                                "\(path) 不是本程序可读取的草稿（可能已损坏）；如不需要请删除。"))
            }
            guard !drafts.isEmpty else {
                Terminal.say(t("No drafts.", "没有草稿。"))
                return
            }
            var table = TextTable([t("Draft", "草稿"), t("Of", "类型"), t("Started (Beijing)", "开始时间（北京）"), t("So far", "已填写")])
            for draft in drafts {
                let started = Instant(utcISO: draft.stored.startedAt)?.shanghaiDisplay ?? draft.stored.startedAt
                table.add([draft.id, draft.stored.kind.label, started, Self.summary(draft.stored)])
            }
            Terminal.say(table.rendered)
        }

        /// What was answered, without personal numbers.
        static func summary(_ stored: Draft.Stored) -> String {
            if let visit = stored.visit {
                return [visit.purpose, visit.unit ?? visit.placeName ?? "", visit.staff.joined(separator: "、")].filter { !$0.isEmpty }
                    .joined(separator: " · ")
            }
            if let enroll = stored.enroll { return enroll.name ?? "" }
            if let application = stored.application {
                return [application.values["kind"], application.values["unit"]].compactMap { $0 }.joined(separator: " · ")
            }
            return ""
        }
    }

    struct Resume: AsyncParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(commandName: "resume", abstract: t("Go on from a draft: asks what is left, then records it.", "从草稿继续：询问未填内容，然后登记。"))
        }
        @OptionGroup var data: DataOptions
        @OptionGroup var passphrase: PassphraseOptions
        @Argument(help: ArgumentHelp(t("The draft, as `provident drafts list` shows it.", "草稿编号（见 `provident drafts list`）。")))
        var draft: String

        func run() async throws {
            let found = try Draft.find(draft, in: data.directory)
            switch found.stored.kind {
            case .visit:
                var record = try VisitCommand.Record.parse([])
                record.data = data
                record.passphrase = passphrase
                try record.record(from: found)
            case .application:
                var record = try ApplicationCommand.Record.parse([])
                record.data = data
                record.passphrase = passphrase
                try record.record(from: found)
            case .enroll:
                var enroll = try Enroll.parse([])
                enroll.data = data
                enroll.passphrase = passphrase
                try enroll.enroll(from: found)
            }
        }
    }

    struct Discard: ParsableCommand {
        static var configuration: CommandConfiguration { CommandConfiguration(commandName: "discard", abstract: t("Delete a draft.", "删除草稿。")) }
        @OptionGroup var data: DataOptions
        @Argument(help: ArgumentHelp(t("The draft.", "草稿编号。"))) var draft: String

        func run() throws {
            try Draft.find(draft, in: data.directory).discard()
            Terminal.say(t("Draft \(draft) discarded.", "草稿 \(draft) 已丢弃。"))
        }
    }
}

// MARK: Answers a refusal names

/// Which answers a refusal of the whole form names, by its code: the draft sets them aside, so
/// resuming asks for them again instead of failing the same way.
enum RefusedAnswers {
    /// Clears the visit answers `error` names; returns their options.
    static func forget(_ error: any Error, in form: inout VisitForm) -> [String] {
        guard let code = Draft.refusalCode(error) else { return [] }
        func starts(_ prefixes: String...) -> Bool { prefixes.contains { code.hasPrefix($0) } }
        if starts("credit_code.", "unit.", "scope.", "visit.needs_unit", "visit.target_ambiguous", "role.") {
            form.unit = nil
            form.placeName = nil
            form.placeKind = nil
            form.placeAddress = nil
            return ["--unit"]
        }
        if starts("visit.purpose") { form.purpose = ""; return ["--purpose"] }
        if starts("visit.place_kind") { form.placeKind = nil; return ["--place-kind"] }
        if starts("visit.date", "date.") { form.date = nil; return ["--date"] }
        if starts("visit.staff", "visit.collection_staff") { form.staff = []; return ["--staff"] }
        if starts("visit.person", "mobile.") { form.persons = []; return ["--met"] }
        if starts("document.") { form.documents = []; return ["--served"] }
        if starts("visit.follow_up") { form.followUp = nil; return ["--follow-up"] }
        if starts("visit.outcome") { form.outcome = nil; return ["--outcome"] }
        return []
    }

    /// Clears the enrolment answers `error` names; returns their options.
    static func forget(_ error: any Error, in answers: inout EnrollAnswers) -> [String] {
        guard let code = Draft.refusalCode(error) else { return [] }
        func starts(_ prefixes: String...) -> Bool { prefixes.contains { code.hasPrefix($0) } }
        if starts("name.") { answers.name = nil; return ["--name"] }
        if starts("id_number.", "policy.age", "account.id_number_enrolled") { answers.idNumber = nil; return ["--id-number"] }
        if starts("mobile.") { answers.phone = nil; return ["--phone"] }
        if starts("category.") { answers.category = nil; return ["--category"] }
        if starts("policy.base") { answers.base = nil; return ["--base"] }
        if starts("rate.", "policy.rate") { answers.rate = nil; return ["--rate"] }
        if starts("policy.fixed_amount") { answers.monthly = nil; return ["--monthly"] }
        if starts("agreement.", "policy.agreement") {
            (answers.base, answers.rate, answers.monthly) = (nil, nil, nil)
            return ["--base", "--rate", "--monthly"]
        }
        return []
    }

    /// Clears the application answers `error` names; returns their options.
    static func forget(_ error: any Error, in answers: inout ApplicationAnswers) -> [String] {
        guard let code = Draft.refusalCode(error) else { return [] }
        func starts(_ prefixes: String...) -> Bool { prefixes.contains { code.hasPrefix($0) } }
        let keys: [String] = switch true {
        case starts("credit_code.", "unit.", "scope.", "role."): ["unit"]
        case starts("application.kind", "application.rates_for_deferral"): ["kind", "employer-rate", "employee-rate"]
        case starts("application.rates", "policy.employer_rate", "rate."): ["employer-rate", "employee-rate"]
        case starts("policy.relief_months"): ["months"]
        case starts("period."): ["from"]
        case starts("application.resolution_body"): ["resolution"]
        case starts("application.resolution_votes"): ["votes-for", "votes-cast"]
        case starts("application.notice"): ["notice-from", "notice-to"]
        case starts("application.submitted"): ["submitted"]
        case starts("date."): ["resolution-date", "notice-from", "notice-to", "submitted"]
        default: []
        }
        for key in keys { answers.values[key] = nil }
        return keys.map { "--" + $0 }
    }
}
