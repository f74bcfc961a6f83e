import ArgumentParser
import Foundation
import ProvidentCLIKit
import ProvidentClient
import ProvidentDomain
import ProvidentStore

struct OutboxCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "outbox", abstract: t("List the changes waiting to be synced.", "列出等待同步的更改。"))
    }

    @OptionGroup var data: DataOptions
    @OptionGroup var format: FormatOptions
    @Flag(help: ArgumentHelp(t("Also list changes already answered by the server.", "同时列出服务器已答复的更改。"))) var all = false

    struct Entry: Encodable {
        let sequence: UInt64
        let id, action, state, recordedAt: String
        let bytes: Int
        let rejectionCode, rejectionMessage: String?
    }

    func run() throws {
        let entries = try data.open().replica.outbox(all: all)
        if format.json {
            try JSONOutput.print(entries.map {
                Entry(sequence: $0.sequence, id: $0.id.hex, action: $0.action, state: $0.state.rawValue, recordedAt: $0.recordedAt.utcISO,
                      bytes: $0.byteCount, rejectionCode: $0.rejection?.code, rejectionMessage: $0.rejection?.message)
            })
            return
        }
        let waiting = entries.filter { $0.state == .pending }.count
        if entries.isEmpty {
            Terminal.say(t("Nothing is waiting to be synced.", "没有等待同步的更改。"))
            return
        }
        var table = TextTable(["#", t("Recorded", "登记时间"), t("Change", "更改"), t("Size", "大小"), t("State", "状态")],
                          alignments: [.right, .left, .left, .right, .left])
        for entry in entries {
            let state = switch entry.state {
            case .pending: t("waiting", "待同步")
            case .accepted: t("accepted", "已接受")
            case .rejected: t("rejected: ", "被拒绝：") + (entry.rejection?.message ?? "")
            }
            table.add([String(entry.sequence), entry.recordedAt.shanghaiDisplay, Self.describe(entry.action), "\(entry.byteCount) B", state])
        }
        Terminal.say(table.rendered)
        Terminal.say()
        Terminal.say(t("\(waiting) change(s) waiting to be synced.", "\(waiting) 项更改等待同步。"))
    }

    static func describe(_ action: String) -> String {
        Action.label(of: action, language)
    }
}

struct PolicyCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "policy", abstract: t("Show the policy in force.", "查看现行政策。"),
                             subcommands: [Show.self], defaultSubcommand: Show.self)
    }

    struct Show: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(commandName: "show",
                abstract: t("Print the policy in force, in the policy-file format.", "以政策文件格式打印现行政策。"),
                discussion: t("""
                    The policy comes from PROVIDENT_POLICY if set, else policy.yaml in the data folder, \
                    else the built-in defaults. Save this output as policy.yaml to start your own.
                    """, """
                    政策取自 PROVIDENT_POLICY（如已设置），否则取数据文件夹中的 policy.yaml，否则使用内置默认值。\
                    可将此输出保存为 policy.yaml 作为自定义政策的起点。
                    """))
        }

        @OptionGroup var data: DataOptions
        @OptionGroup var format: FormatOptions

        struct Output: Encodable {
            let name, source: String
            let minimumAge, maximumAge: Int
            let agreementModes: [String]
            let baseFen, fixedMonthlyFen: [Int64]
            let ratePercent: [Int]
            let lumpAllowed: Bool
            let depositCapFen: Int64
            let catchUpMaxMonths, advanceMonths, interestBasisPoints, dayCountBasis: Int
            let settlementDate: String
        }

        func run() throws {
            // The policy does not need a device: without one, show what a new device would use.
            let environment = ProcessInfo.processInfo.environment
            let directory = data.directory
            let device = try? LocalDevice.open(directory: directory, environment: environment)
            let (policy, source): (Policy, PolicySource)
            if let device {
                (policy, source) = (device.policy, device.policySource)
            } else {
                (policy, source) = try LocalDevice.policy(directory: directory, environment: environment)
            }
            let from = switch source {
            case .defaults: t("built-in defaults", "内置默认值")
            case let .file(path): path
            }
            if format.json {
                try JSONOutput.print(Output(
                    name: policy.name, source: from, minimumAge: policy.minimumAge, maximumAge: policy.maximumAge,
                    agreementModes: policy.agreementModes.map(\.rawValue),
                    baseFen: [policy.baseFen.lowerBound, policy.baseFen.upperBound],
                    fixedMonthlyFen: [policy.fixedMonthlyFen.lowerBound, policy.fixedMonthlyFen.upperBound],
                    ratePercent: [policy.ratePercent.lowerBound, policy.ratePercent.upperBound], lumpAllowed: policy.lumpAllowed,
                    depositCapFen: policy.depositCapFen, catchUpMaxMonths: policy.catchUpMaxMonths, advanceMonths: policy.advanceMonths,
                    interestBasisPoints: policy.interestBasisPoints, dayCountBasis: policy.dayCountBasis,
                    settlementDate: "\(CivilDateText.pad(policy.settlementMonth))-\(CivilDateText.pad(policy.settlementDay))"))
                return
            }
            Terminal.say("# " + t("Policy in force, from: ", "现行政策，来源：") + from)
            Terminal.say(policy.yaml, terminator: "")
        }
    }
}

struct Check: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "check",
            abstract: t("Check the replica: database integrity, the signed chain of changes, and that every change has its record.",
                        "检查数据：数据库完整性、已签名更改链，以及每项更改与记录是否一一对应。"))
    }

    @OptionGroup var data: DataOptions
    @OptionGroup var format: FormatOptions

    struct Output: Encodable {
        let consistent: Bool
        let changeSets, records: Int
        let digest: String
        let findings: [String]
    }

    func run() throws {
        let device = try data.open()
        let report = try device.replica.check()
        if device.directory.hasKey, let keyFile = try? device.keyFilePublicKey(), keyFile != (try device.state().publicKey) {
            throw ClientError.keyDoesNotMatchReplica(directory: device.directory.path)
        }
        let digest = try device.replica.stateDigest().hex
        if format.json {
            try JSONOutput.print(Output(consistent: report.isConsistent, changeSets: report.changeSets, records: report.records,
                                        digest: digest, findings: report.findings.map { "\($0)" }))
            if !report.isConsistent { throw Failure(status: .damaged, message: t("The replica is not consistent.", "数据不一致。")) }
            return
        }
        if report.isConsistent {
            Terminal.say(t("The replica is consistent: \(report.changeSets) change(s) of this device, \(report.records) record(s).",
                           "数据一致：本设备 \(report.changeSets) 项更改，\(report.records) 条记录。"))
            Terminal.say(t("State digest: ", "状态摘要：") + digest)
            return
        }
        for finding in report.findings { Terminal.warn("- \(finding)") }
        throw Failure(status: .damaged, message: t("The replica has \(report.findings.count) problem(s), listed above; restore it from a backup.",
                                                   "数据存在 \(report.findings.count) 个问题（见上）；请从备份恢复。"))
    }
}

extension Terminal {
    static func say(_ text: String, terminator: String) {
        print(text, terminator: terminator)
    }
}
