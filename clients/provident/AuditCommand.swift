import ArgumentParser
import Foundation
import ProvidentCLIKit
import ProvidentClient
import ProvidentCrypto
import ProvidentDomain
import ProvidentStore
import ProvidentSync

/// `provident audit`: what this device has checked of the server's log (sync-protocol.md
/// §11.14) and what it found wrong, with the signed evidence, for the office, the audit office
/// or a court to check with the spec alone (or with tools/verify-evidence).
struct AuditCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "audit",
            abstract: t("Show what this device verified of the server's log, and any evidence that the server dropped or rewrote history.",
                        "显示本设备对服务器日志的核验结果，以及服务器删除或篡改历史记录的证据（如有）。"))
    }

    @OptionGroup var data: DataOptions
    @OptionGroup var format: FormatOptions

    func run() throws {
        let device = try data.open()
        let replica = device.replica
        let serverKey = try replica.syncState().serverKey
        let held = try replica.logCheckpoint()
        let witnesses = try replica.logWitnesses()
        let receipts = try replica.receiptCounts()
        let findings = try replica.evidence()
        let lost = try replica.lostReceipts()
        let (proven, wrong, waiting) = (receipts.proven, receipts.wrong, receipts.waiting)
        let faults = findings.filter { LogEvidence.isFault($0.kind) }
        if format.json {
            // The evidence document: canonical JSON that tools/verify-evidence reads.
            let document: CanonicalValue = .object([
                "serverKey": serverKey.map { .string(Base64.encode($0.bytes)) } ?? .null,
                "checkpoint": held.map { .string($0.note) } ?? .null,
                "witnessed": held?.witnessed.map { .object(["checkpoint": .string($0.note), "cosigners": .integer(Int64($0.cosigners))]) } ?? .null,
                "witnesses": .array(witnesses.map { .string($0.verifierKey) }),
                "offices": .array(try replica.logOffices().map { .string(LogEpoch.verifierKey(name: $0.name, key: $0.key)) }),
                "receipts": .object(["held": .integer(Int64(receipts.held)), "proven": .integer(Int64(proven)),
                                     "waiting": .integer(Int64(waiting)), "wrong": .integer(Int64(wrong)), "lost": .integer(Int64(receipts.lost))]),
                // Acknowledged change-sets of this device that a restore lost and that were not
                // acknowledged again (§11.16).
                "missing": .array(lost.map { held in
                    .object(["sequence": .integer(Int64(held.sequence)), "id": .string(held.receipt.id.hex), "position": .integer(Int64(held.receipt.position))])
                }),
                "findings": .array(findings.map { finding in
                    .object(["kind": .string(finding.kind), "found": .string(finding.foundAt.utcISO), "material": finding.material])
                }),
                "verdict": .string(faults.isEmpty ? "clean" : "faults"),
            ])
            print(String(decoding: try CanonicalEncoder.encode(document), as: UTF8.self))
        } else {
            if let held, let checkpoint = try? LogCheckpoint.parse(held.note) {
                Terminal.say(t("Server log \(checkpoint.origin): checkpoint of \(held.size) entries verified.",
                               "服务器日志 \(checkpoint.origin)：已核验检查点（日志共 \(held.size) 个条目）。"))
            } else {
                Terminal.say(t("No checkpoint of the server's log verified yet: sync first.", "尚未核验服务器日志的检查点：请先同步。"))
            }
            if let witnessed = held?.witnessed {
                Terminal.say(t("Witnessed: the first \(witnessed.size) entries, cosigned by \(witnessed.cosigners) of the \(witnesses.count) auditor(s) this device knows; the log served here extends them.",
                               "见证：前 \(witnessed.size) 个条目已由本设备所知 \(witnesses.count) 个审计方中的 \(witnessed.cosigners) 个联署；此处所得日志是其延续。"))
            } else if !witnesses.isEmpty || device.policy.witnesses > 0 {
                Terminal.say(t("Witnessed: not yet — no checkpoint cosigned by the server's auditors has reached this device.",
                               "见证：尚无——本设备尚未收到服务器审计方联署的检查点。"))
            }
            Terminal.say(t("Receipts: \(receipts.held) held — \(proven) proven in the log, \(waiting) waiting for the next sync, \(wrong) found wrong.",
                           "回执：共 \(receipts.held) 份，其中 \(proven) 份已在日志中证实，\(waiting) 份待下次同步核验，\(wrong) 份有误。"))
            if !lost.isEmpty {
                Terminal.say(t("Missing since the server was restored: \(lost.count) change(s) of this device the server had acknowledged, not in its new log and not acknowledged again:",
                               "服务器恢复后缺失：本设备有 \(lost.count) 项更改曾被服务器确认，但不在其新日志中，也未再次确认："))
                for held in lost {
                    Terminal.say(t("  change \(held.sequence) (\(held.receipt.id.hex.prefix(12))…), acknowledged at position \(held.receipt.position)",
                                   "  第 \(held.sequence) 项更改（\(held.receipt.id.hex.prefix(12))…），曾确认位于第 \(held.receipt.position) 位"))
                }
            }
            for (number, finding) in findings.enumerated() {
                Terminal.say("")
                Terminal.say("\(number + 1). \(finding.foundAt.shanghaiDisplay)  \(finding.kind) — \(Self.describe(finding))")
                Terminal.say(t("   Evidence (check it with sync-protocol.md §11.14 or tools/verify-evidence):",
                               "   证据（可依据 sync-protocol.md §11.14 或用 tools/verify-evidence 核验）："))
                Terminal.say("   " + String(decoding: try CanonicalEncoder.encode(finding.material), as: UTF8.self))
            }
            Terminal.say("")
            Terminal.say(faults.isEmpty
                ? t("Verdict: no fault found in the server's log.", "结论：未发现服务器日志有问题。")
                : t("Verdict: the server's log is at fault (\(faults.count) finding(s) above). Keep this device's data and give the evidence (provident audit --json) to the office or the audit office.",
                    "结论：服务器日志有问题（见上方 \(faults.count) 项）。请保留本设备数据，并将证据（provident audit --json）交给中心或审计部门。"))
        }
        if !faults.isEmpty {
            throw Failure(status: .serverRefused, message: t("The server's log is at fault: \(faults.count) finding(s).", "服务器日志有问题：共 \(faults.count) 项。"))
        }
    }

    /// One finding in words.
    static func describe(_ finding: LogEvidence) -> String {
        let material = finding.material.objectValue ?? [:]
        let receipt = material["receipt"]?.objectValue
        let position = receipt?["position"]?.integerValue ?? 0
        let change = String((receipt?["id"]?.stringValue ?? "").prefix(12))
        let sizes = { (name: String) -> String in
            material[name]?.stringValue.flatMap { try? LogCheckpoint.parse($0) }.map { String($0.size) } ?? "?"
        }
        switch finding.kind {
        case "receipt.missing":
            return t("the server promised change-set \(change)… at position \(position), and its feed holds nothing there.",
                     "服务器曾承诺变更集 \(change)… 位于第 \(position) 位，但其数据流在该位置没有任何内容。")
        case "receipt.mismatch":
            return t("the server promised change-set \(change)… at position \(position), and the log holds something else there.",
                     "服务器曾承诺变更集 \(change)… 位于第 \(position) 位，但日志在该位置是其他内容。")
        case "log.rollback":
            return t("the server signed a log of \(sizes("given")) entries after one of \(sizes("held")): a log never shrinks.",
                     "服务器在签署含 \(sizes("held")) 条记录的日志之后，又签署了只含 \(sizes("given")) 条的日志：日志不应缩短。")
        case "log.inconsistent" where !LogWitness.lines(of: material["held"]?.stringValue ?? "").isEmpty:
            return t("the server's log of \(sizes("given")) entries does not extend the one of \(sizes("held")) its auditors cosigned: it shows this device another history than theirs.",
                     "服务器含 \(sizes("given")) 条记录的日志并非其审计方联署的 \(sizes("held")) 条日志的延续：服务器向本设备展示的历史与审计方所见不同。")
        case "log.inconsistent":
            return t("the server's log of \(sizes("given")) entries does not extend the one of \(sizes("held")) it signed before.",
                     "服务器含 \(sizes("given")) 条记录的日志并非其此前签署的 \(sizes("held")) 条日志的延续。")
        case "log.witness":
            let problem = material["problem"]?.stringValue ?? ""
            return t("a checkpoint said to be witnessed could not be taken (\(problem)); the one held before is kept.",
                     "某个声称已见证的检查点无法采用（\(problem)）；仍保留此前的见证检查点。")
        case "log.page":
            return t("a page of the feed does not match the checkpoint the server signed with it: entries were changed, moved or left out.",
                     "数据流的某一页与服务器随附签署的检查点不符：有记录被更改、移动或遗漏。")
        case "log.missing":
            return t("the server stopped giving its log after it had given one.", "服务器曾提供日志，之后不再提供。")
        case "log.restart" where material["epoch"]?.stringValue != nil:
            return t("the server was restored from an older copy and the office announced that its log begins again at \(sizes("given")) entries after \(sizes("held")); this device took the new log.",
                     "服务器已从较早的备份恢复，中心已宣布其日志在 \(sizes("held")) 条之后从 \(sizes("given")) 条重新开始；本设备已接受新日志。")
        case "log.restart":
            return t("the server was restored from an older copy (its key confirmed): its log began again at \(sizes("given")) entries after \(sizes("held")).",
                     "服务器已从较早的备份恢复（密钥已确认）：其日志在 \(sizes("held")) 条之后重新从 \(sizes("given")) 条开始。")
        case "log.signature":
            return t("an answer carried a checkpoint not signed by the server's key; nothing of it was applied.",
                     "某次答复所附的检查点并非由服务器密钥签署；其内容均未应用。")
        default:
            return finding.kind
        }
    }
}
