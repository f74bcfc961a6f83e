import ArgumentParser
import Foundation
import ProvidentCLIKit
import ProvidentClient
import ProvidentCrypto
import ProvidentSync

#if canImport(Glibc)
import Glibc
#endif

/// `provident sync --watch`: syncs in a loop, quietly, with the transport key (or the device key
/// when a passphrase file is given, unlocked once). Every `interval` seconds; after a failure to
/// reach the server, again after 15 s, 30 s, 60 s… up to the interval, so a change made offline
/// is sent soon after the network returns. One watcher per data folder: a second one says so
/// and exits. A line is printed only when something was sent, received or refused.
struct SyncWatch {
    let device: LocalDevice
    let interval: Int
    let passphrase: PassphraseOptions
    let server: String?

    func run() async throws {
        let lockPath = device.directory.path + "/sync-watch.lock"
        let lock = open(lockPath, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard lock >= 0, flock(lock, LOCK_EX | LOCK_NB) == 0 else { throw ClientError.watchRunning(directory: device.directory.path) }
        defer { close(lock) }

        let key: SigningKey? = passphrase.passphraseFile == nil ? nil : try passphrase.unlock(device)
        Terminal.warn(t("Watching: syncing every \(interval) s (Ctrl-C stops).", "持续同步中：每 \(interval) 秒一次（按 Ctrl-C 停止）。"))
        var retry = 15
        while true {
            var wait = interval
            do {
                let session: SyncSession
                if let key {
                    session = SyncSession(device: device, key: key, language: language)
                } else {
                    // Read each time: `provident key rotate-transport` may have replaced it.
                    guard let transport = try device.transportCredentials() else {
                        throw ClientError.transportKeyUnusable(path: device.directory.transportKeyPath, problem: .missing)
                    }
                    session = SyncSession(device: device, transport: transport, language: language)
                }
                let report = try await session.sync(serverURL: server)
                BackgroundSync.markReached(device.directory)
                retry = 15
                if report.serverRestored {
                    line(stamp() + t("the server was restored from an older copy: sent back \(report.refilled) change(s), read its data again",
                                     "服务器已从较早的备份恢复：已补发 \(report.refilled) 项更改，并重新读取数据"))
                }
                if report.sent > 0 || report.received > 0 || report.snapshotRecords > 0 || !report.refusals.isEmpty {
                    line(stamp() + t("sent \(report.sent) (\(report.accepted) accepted), received \(report.received + report.snapshotRecords)",
                                             "已发送 \(report.sent) 项（接受 \(report.accepted) 项），已接收 \(report.received + report.snapshotRecords) 项"))
                    for refusal in report.refusals {
                        line(stamp() + t("refused — ", "被拒绝 — ") + OutboxCommand.describe(refusal.action) + t(": ", "：") + refusal.message)
                    }
                }
            } catch let failure as SyncFailure {
                switch failure {
                case .offline, .unreachable:
                    wait = min(retry, interval)
                    retry = min(retry * 2, interval)
                case let .retryLater(_, after, _):
                    wait = max(1, min(interval, Int((after.millisSinceEpoch - currentInstant().millisSinceEpoch) / 1_000)))
                case .refused(_, let report) where report.code.hasPrefix("storage.") || report.code == "rate_limited":
                    wait = min(retry, interval)
                    retry = min(retry * 2, interval)
                default:
                    // The device key or a registration is needed, or the server refuses this
                    // device: waiting does not help.
                    throw failure
                }
            }
            try await Task.sleep(for: .seconds(wait))
        }
    }

    /// A line on standard output, flushed at once: under a service manager it goes to a log.
    private func line(_ text: String) {
        Terminal.say(text)
        fflush(nil)
    }

    private func stamp() -> String {
        currentInstant().shanghaiDisplay + "  "
    }
}
