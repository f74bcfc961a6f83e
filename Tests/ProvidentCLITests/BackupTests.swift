import Foundation
import Testing

/// Backups of a SQLite deployment, end to end: taken while a device pushes, checked, restored
/// by the real `provident-server`, then refilled by the device.
@Suite(.serialized) struct BackupTests {
    /// `backup verify` needs no database: the folder is all it reads.
    static func verify(_ folder: String, _ server: ServerProcess) throws -> CLI.Result {
        try runProgram(ServerProcess.binary, ["backup", "verify", folder], environment: server.serverEnvironment)
    }

    @Test func aBackupTakenUnderLoadIsCheckedRestoredAndRefilled() throws {
        let server = try ServerProcess(policy: "deposits: {lumpAllowed: true}\n", backend: .sqlite)
        let worker = try CLI()
        #expect(try worker.sign(["init", "--server", server.url]).status == 0)
        #expect(try worker.sign(["enroll", "--name", "赵六", "--id-number", "360426199101010071", "--phone", "13600136000",
                                 "--category", "gig", "--monthly", "400"]).status == 0)
        try worker.sync()
        let backups = worker.home + "/backups"

        // The copy is taken while the device pushes 300 change-sets.
        try ProvidentStoreAccess.recordLumpDeposits(worker, count: 300)
        let pushing = try worker.start(["sync", "--passphrase-file", worker.passphraseFile])
        let taken = try server.admin(["backup", backups + "/one"])
        #expect(taken.status == 0, "\(taken.stderr)")
        pushing.waitUntilExit()
        #expect(worker.collect(pushing).status == 0)
        let verified = try Self.verify(backups + "/one", server)
        #expect(verified.status == 0, "\(verified.stderr)")
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: backups + "/one/manifest.json")))
            as? [String: Any])
        let copied = try #require(manifest["stateDigest"] as? String)
        #expect(taken.stdout.contains(copied) && verified.stdout.contains(copied))
        let attributes = try FileManager.default.attributesOfItem(atPath: backups + "/one/server.key")
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)

        // One more deposit after the copy, so the copy surely lacks something.
        #expect(try worker.sign(["deposit", "--lump", "--amount", "12.5"]).status == 0)
        try worker.sync()

        // Restored in place of the database: the server holds the copy; the device sends back
        // what the copy lacks at its next sync, and the server holds everything again.
        let everything = try server.digest()
        #expect(everything != copied)
        server.crash()
        let restored = try server.admin(["restore", backups + "/one"])
        #expect(restored.status == 0, "\(restored.stderr)")
        try server.start()
        #expect(try server.digest() == copied)
        try worker.sync()
        #expect(try server.digest() == everything)
        #expect(try worker.digest() == everything)

        // Bad backups change nothing.
        let notEmpty = try server.admin(["backup", backups + "/one"])
        #expect(notEmpty.status == 3 && notEmpty.stderr.contains("not empty"), "\(notEmpty.stderr)")
        try FileManager.default.copyItem(atPath: backups + "/one", toPath: backups + "/altered")
        let file = try FileHandle(forUpdating: URL(fileURLWithPath: backups + "/altered/provident.sqlite"))
        try file.seek(toOffset: 5_000)
        try file.write(contentsOf: Data([0x5A, 0x5A, 0x5A]))
        try file.close()
        let altered = try Self.verify(backups + "/altered", server)
        #expect(altered.status == 7 && altered.stderr.contains("altered"), "\(altered.stderr)")
        try FileManager.default.removeItem(atPath: backups + "/altered/manifest.json")
        #expect(try server.admin(["restore", backups + "/altered"]).stderr.contains("manifest.json is missing"))
        // Another deployment, with its own key, refuses this backup.
        let other = try ServerProcess(backend: .sqlite)
        other.crash()
        let foreign = try other.admin(["restore", backups + "/one"])
        #expect(foreign.status == 4 && foreign.stderr.contains("server key"), "\(foreign.stderr)")
        #expect(try server.digest() == everything)
    }
}
