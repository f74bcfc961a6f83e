import ArgumentParser
import Foundation
import ProvidentCLIKit
import ProvidentClient
import ProvidentDomain
import ProvidentStore
import ProvidentSync

#if canImport(Glibc)
import Glibc
#endif

struct SyncCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "sync",
            abstract: t("Send this device's changes to the server and receive what is new.", "把本设备的更改发送到服务器，并接收新数据。"),
            discussion: t("""
                Sends the outbox first, then receives: on the first sync a snapshot of everything this \
                device may see, afterwards only what changed. Safe to interrupt and run again: nothing \
                is lost or applied twice. Changes the server refuses are taken back here and listed. \
                Requests are signed: with the passphrase (the device key), which also registers the \
                transport key, or without it by the transport key once registered.
                """, """
                先发送待同步队列，再接收数据：首次同步接收本设备可见数据的快照，之后只接收变化部分。\
                可随时中断后重新运行：不会丢失或重复。服务器拒绝的更改会在本设备撤销并列出。\
                每个请求都需签名：输入口令时用设备密钥签名，并登记传输密钥；登记之后无需口令，由传输密钥签名。
                """))
    }

    @OptionGroup var data: DataOptions
    @OptionGroup var passphrase: PassphraseOptions
    @OptionGroup var format: FormatOptions
    @Option(help: ArgumentHelp(t("The sync service, the first time (e.g. http://10.0.0.5:8080).", "同步服务地址（首次同步时提供，例如 http://10.0.0.5:8080）。"),
                               valueName: "url"))
    var server: String?
    @Option(help: ArgumentHelp(t("A staff device the server no longer knows (restored from an older copy): the office's invite code, to enrol again with this device's key.",
                                 "服务器已不认识的工作人员设备（服务器从较早的备份恢复）：中心的邀请码，用本设备的密钥重新注册。"),
                               valueName: "code"))
    var invite: String?
    @Flag(help: ArgumentHelp(t("Keep syncing in the background, quietly: every --interval seconds, and as soon as the server can be reached again after a failure.",
                               "在后台持续静默同步：每隔 --interval 秒一次；连接失败后，服务器一恢复即同步。")))
    var watch = false
    @Option(help: ArgumentHelp(t("With --watch: seconds between syncs (30 to 86400).", "与 --watch 一起使用：两次同步之间的秒数（30 至 86400）。"),
                               valueName: "seconds"))
    var interval = 300

    func validate() throws {
        guard (30...86_400).contains(interval) else {
            throw ValidationError(t("--interval must be 30 to 86400 seconds.", "--interval 须为 30 至 86400 秒。"))
        }
        if watch, invite != nil { throw ValidationError(t("--invite is for one sync; leave out --watch.", "--invite 仅用于单次同步；请去掉 --watch。")) }
        if watch, format.json { throw ValidationError(t("--watch prints no JSON; leave out --json.", "--watch 不输出 JSON；请去掉 --json。")) }
    }

    struct Output: Encodable {
        let sent, accepted, received, snapshotRecords, removed: Int
        let refused: [Refused]
        let clockSkewMillis: Int64
        let serverRestored, reenrolled: Bool
        let refilled, pruned: Int
        /// The size of the server log's checkpoint verified, the receipts proven by this sync,
        /// and the findings against the server's log held (`provident audit`).
        let logSize: UInt64?
        let receiptsProven, logFaults: Int
        /// How far the log is witnessed: the size of the largest checkpoint its auditors cosigned
        /// that this device holds (sync-protocol.md §11.15).
        let witnessedSize: UInt64?
    }

    /// Tells the user which changes the server refused, and that they were taken back.
    static func tell(_ refusals: [Refusal]) {
        for refusal in refusals {
            Terminal.say(t("1 change refused — ", "1 项更改被拒绝 — ") + OutboxCommand.describe(refusal.action) + t(": ", "：") + refusal.message)
        }
        if !refusals.isEmpty {
            Terminal.say(t("Refused changes were taken back on this device; see `provident outbox --all`.",
                           "被拒绝的更改已在本设备上撤销；详见 `provident outbox --all`。"))
        }
    }

    struct Refused: Encodable {
        let sequence: UInt64
        let action, code, message: String
    }

    func run() async throws {
        let device = try data.open()
        if watch {
            try await SyncWatch(device: device, interval: interval, passphrase: passphrase, server: server).run()
            return
        }
        let started = ContinuousClock.now
        let bar = ProgressBar(enabled: !format.json && isatty(STDERR_FILENO) == 1)
        // Without a passphrase given, the transport key signs, when this device has a usable one.
        var transport: TransportCredentials?
        if passphrase.passphraseFile == nil, invite == nil {
            do {
                transport = try device.transportCredentials()
            } catch let problem as ClientError {
                Terminal.warn(problem.message(language))
            }
        }
        var report: SyncReport
        if let transport {
            do {
                report = try await SyncSession(device: device, transport: transport, language: language) { bar.show($0) }.sync(serverURL: server)
            } catch let failure as SyncFailure where failure.code == "auth.transport_unknown" || failure == .notEnrolled
                        || failure == .forgottenByServer(staff: false, needsPassphrase: true) {
                // The server does not know this transport key yet (or, restored, this device):
                // the passphrase registers it.
                guard Terminal.isInteractive else { throw failure }
                Terminal.warn(failure.message(language))
                let key = try passphrase.unlock(device)
                report = try await SyncSession(device: device, key: key, language: language) { bar.show($0) }.sync(serverURL: server)
            }
        } else {
            let key = try passphrase.unlock(device)
            report = try await SyncSession(device: device, key: key, language: language) { bar.show($0) }.sync(serverURL: server, invite: invite)
        }
        bar.finish()
        BackgroundSync.markReached(device.directory)
        Timing.report("sync", since: started)
        let faults = try device.replica.faultCount()
        if format.json {
            try JSONOutput.print(Output(sent: report.sent, accepted: report.accepted, received: report.received,
                                        snapshotRecords: report.snapshotRecords, removed: report.removed,
                                        refused: report.refusals.map { Refused(sequence: $0.sequence, action: $0.action, code: $0.code, message: $0.message) },
                                        clockSkewMillis: report.clockSkewMillis, serverRestored: report.serverRestored,
                                        reenrolled: report.reenrolled, refilled: report.refilled, pruned: report.pruned,
                                        logSize: report.logSize, receiptsProven: report.receiptsProven, logFaults: faults,
                                        witnessedSize: try device.replica.logCheckpoint()?.witnessed?.size))
            return
        }
        if report.reenrolled {
            Terminal.say(t("The server had forgotten this device (restored from an older copy): enrolled it again with its key.",
                           "服务器已不认识本设备（从较早的备份恢复）：已用本设备的密钥重新注册。"))
        }
        if report.serverRestored {
            Terminal.say(t("The server was restored from an older copy: sent back \(report.refilled) change(s) it had lost, and read its data again.",
                           "服务器已从较早的备份恢复：已补发其丢失的 \(report.refilled) 项更改，并重新读取了数据。"))
        }
        if report.sent > 0 {
            Terminal.say(t("Sent \(report.sent) change(s): \(report.accepted) accepted.", "已发送 \(report.sent) 项更改：\(report.accepted) 项已接受。"))
        }
        Self.tell(report.refusals)
        if report.snapshotRecords > 0 {
            Terminal.say(t("Received a snapshot of \(report.snapshotRecords) record(s).", "已接收 \(report.snapshotRecords) 条记录的快照。"))
        }
        Terminal.say(t("Received \(report.received) change(s).", "已接收 \(report.received) 项更改。"))
        if report.removed > 0 {
            Terminal.say(t("Removed \(report.removed) record(s) that are no longer this device's to see.",
                           "已移除 \(report.removed) 条本设备不再有权查看的记录。"))
        }
        if abs(report.clockSkewMillis) > 300_000 {
            let hours = Double(abs(report.clockSkewMillis)) / 3_600_000
            Terminal.warn(t("This device's clock is \(String(format: "%.1f", hours)) h \(report.clockSkewMillis > 0 ? "ahead of" : "behind") the server's: set the right date and time.",
                            "本设备时钟比服务器\(report.clockSkewMillis > 0 ? "快" : "慢") \(String(format: "%.1f", hours)) 小时：请设置正确的日期和时间。"))
        }
        let conflicts = try device.replica.conflicts().filter { !$0.resolved }.count
        if conflicts > 0 {
            Terminal.say(t("\(conflicts) conflict(s) await the office's review: `provident conflicts`.", "\(conflicts) 处冲突待中心处理：`provident conflicts`。"))
        }
        if faults > 0 {
            Terminal.warn(t("The server's log is at fault (\(faults) finding(s) kept as evidence): see `provident audit`.",
                            "服务器日志有问题（已保存 \(faults) 项证据）：请查看 `provident audit`。"))
        }
        Terminal.say(t("Up to date.", "已同步到最新。"))
    }
}

/// A one-line progress bar on standard error, redrawn in place, for syncs that take a while.
final class ProgressBar: @unchecked Sendable {
    private let enabled: Bool
    private var drawn = false
    private let lock = NSLock()

    init(enabled: Bool) {
        self.enabled = enabled
    }

    func show(_ progress: SyncProgress) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        let phase = switch progress.phase {
        case .pushing: t("sending  ", "发送中  ")
        case .snapshot: t("snapshot ", "快照    ")
        case .pulling: t("receiving", "接收中  ")
        case .retrying, .connecting: ""
        }
        if progress.phase == .connecting {
            let seconds = max(1, Int((progress.retryInSeconds ?? 1).rounded(.up)))
            let line = "\r\u{1B}[K" + t("Connecting to the server (attempt \(progress.done); up to \(seconds) s more before reporting offline)…",
                                        "正在连接服务器（第 \(progress.done) 次；最多再等 \(seconds) 秒，之后报告离线）……")
            FileHandle.standardError.write(Data(line.utf8))
            drawn = true
            return
        }
        if progress.phase == .retrying {
            // The server did not answer (or asked to wait): say so on the line, then try again.
            let seconds = max(1, Int((progress.retryInSeconds ?? 1).rounded(.up)))
            let attempt = progress.total.map { t("attempt \(progress.done) of \($0)", "第 \(progress.done) 次（共 \($0) 次）") }
                ?? t("attempt \(progress.done)", "第 \(progress.done) 次")
            let line = "\r\u{1B}[K" + t("No answer from the server (\(attempt)); next try in \(seconds) s…",
                                        "服务器无应答（\(attempt)）；\(seconds) 秒后重试……")
            FileHandle.standardError.write(Data(line.utf8))
            drawn = true
            return
        }
        var line = "\r" + phase + " "
        if let total = progress.total, total > 0 {
            let filled = min(30, 30 * progress.done / total)
            line += "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled) + "] \(progress.done)/\(total)"
        } else {
            line += "\(progress.done)"
        }
        FileHandle.standardError.write(Data((line + "   ").utf8))
        drawn = true
    }

    func finish() {
        guard enabled, drawn else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}

struct ConflictsCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "conflicts",
                             abstract: t("List concurrent edits of records on this device, which the office reviews.",
                                         "列出本设备上记录的并发编辑冲突（由中心处理）。"))
    }

    @OptionGroup var data: DataOptions
    @OptionGroup var format: FormatOptions
    @Flag(help: ArgumentHelp(t("Include conflicts already resolved.", "包括已解决的冲突。"))) var all = false

    struct Entry: Encodable {
        let id, record, field: String
        let valueA, valueB, now: String
        let writtenA, writtenB: String
        let resolved: Bool
    }

    func run() throws {
        let device = try data.open()
        let conflicts = try device.replica.conflicts().filter { all || !$0.resolved }
        let entries = try conflicts.map { conflict, resolved in
            let current = try device.replica.reading { try $0.record(conflict.record)?.values[conflict.field] }
            return Entry(id: String(conflict.id.hex.prefix(16)), record: conflict.record.description, field: conflict.field,
                         valueA: Reports.masked(conflict.first.value, field: conflict.field),
                         valueB: Reports.masked(conflict.second.value, field: conflict.field),
                         now: current.map { Reports.masked($0, field: conflict.field) } ?? "—",
                         writtenA: Instant(millisSinceEpoch: Int64(conflict.first.time.wallMillis)).shanghaiDisplay,
                         writtenB: Instant(millisSinceEpoch: Int64(conflict.second.time.wallMillis)).shanghaiDisplay,
                         resolved: resolved)
        }
        if format.json {
            try JSONOutput.print(entries)
            return
        }
        if entries.isEmpty {
            Terminal.say(all ? t("No conflicts.", "没有冲突。") : t("No conflicts await review.", "没有待处理的冲突。"))
            return
        }
        var table = TextTable([t("Conflict", "冲突"), t("Record", "记录"), t("Field", "字段"), t("One value (written)", "一方的值（写入时间）"),
                           t("Other value (written)", "另一方的值（写入时间）"), t("Now", "当前值"), t("State", "状态")])
        for entry in entries {
            table.add([entry.id, entry.record, entry.field, "\(entry.valueA) (\(entry.writtenA))", "\(entry.valueB) (\(entry.writtenB))",
                       entry.now, entry.resolved ? t("resolved", "已解决") : t("awaiting the office", "待中心处理")])
        }
        Terminal.say(table.rendered)
    }

}
