import Foundation
import ProvidentClient

/// After a change made here, one short sync in the background, when the server was reached
/// recently (so a network is likely) and a transport key can sign without the passphrase. It is
/// a separate `provident sync` process, quiet, that gives up after 5 s without an answer; the
/// change is safe in the outbox either way. `PROVIDENT_BACKGROUND_SYNC=0` turns it off.
enum BackgroundSync {
    /// How recent the last successful sync must be.
    static let recentSeconds: TimeInterval = 600

    static func reachedPath(_ directory: DataDirectory) -> String { directory.path + "/server-reached" }

    /// Notes that a sync just reached the server.
    static func markReached(_ directory: DataDirectory) {
        FileManager.default.createFile(atPath: reachedPath(directory), contents: Data(), attributes: [.posixPermissions: 0o600])
    }

    /// Starts the background sync if everything says it may help.
    static func startIfUseful(_ directory: DataDirectory) {
        let environment = ProcessInfo.processInfo.environment
        guard environment["PROVIDENT_BACKGROUND_SYNC"] != "0",
              let attributes = try? FileManager.default.attributesOfItem(atPath: reachedPath(directory)),
              let reached = attributes[.modificationDate] as? Date, Date().timeIntervalSince(reached) < recentSeconds,
              FileManager.default.fileExists(atPath: directory.transportKeyPath),
              let binary = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["sync", "--data-dir", directory.path]
        process.environment = environment.merging(["PROVIDENT_OFFLINE_SECONDS": "5"]) { _, new in new }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try? process.run()
    }
}

/// A command that records a change on this device: afterwards, a background sync may send it.
protocol LocalEdit {
    var data: DataOptions { get }
}

extension Enroll: LocalEdit {}
extension AccountCommand.Update: LocalEdit {}
extension AccountCommand.Verify: LocalEdit {}
extension AccountCommand.Transfer: LocalEdit {}
extension Pause: LocalEdit {}
extension Resume: LocalEdit {}
extension Close: LocalEdit {}
extension DepositCommand.Record: LocalEdit {}
extension DepositCommand.Reverse: LocalEdit {}
extension UnitCommand.Register: LocalEdit {}
extension VisitCommand.Record: LocalEdit {}
extension VisitCommand.VoidVisit: LocalEdit {}
extension ApplicationCommand.Record: LocalEdit {}
extension DraftsCommand.Resume: LocalEdit {}
