import Foundation
import Testing

/// Backups of a SQLite and of a PostgreSQL deployment, end to end: taken while a device pushes, checked, restored
/// by the real `provident-server`, then refilled by the device.
@Suite(.serialized) struct BackupTests {
    /// `backup verify` needs no database: the folder is all it reads.
    static func verify(_ folder: String, _ server: ServerProcess) throws -> CLI.Result {
        try runProgram(ServerProcess.binary, ["backup", "verify", folder], environment: server.serverEnvironment)
    }

    /// A worker enrolled on `server`, and a backup taken into `backups/one` while she pushes
    /// `deposits` change-sets; the backup command's answer and the manifest.
    static func backupUnderLoad(_ server: ServerProcess, deposits: Int) throws -> (worker: CLI, backups: String, taken: CLI.Result, manifest: [String: Any]) {
        let worker = try CLI()
        #expect(try worker.sign(["init", "--server", server.url]).status == 0)
        #expect(try worker.sign(["enroll", "--name", "赵六", "--id-number", "360426199101010071", "--phone", "13600136000",
                                 "--category", "gig", "--monthly", "400"]).status == 0)
        try worker.sync()
        let backups = worker.home + "/backups"
        try ProvidentStoreAccess.recordLumpDeposits(worker, count: deposits)
        let pushing = try worker.start(["sync", "--passphrase-file", worker.passphraseFile])
        let taken = try server.admin(["backup", backups + "/one"])
        #expect(taken.status == 0, "\(taken.stderr)")
        pushing.waitUntilExit()
        #expect(worker.collect(pushing).status == 0)
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: backups + "/one/manifest.json")))
            as? [String: Any])
        return (worker, backups, taken, manifest)
    }

    /// One more deposit after the copy, so the copy surely lacks something; then the backup
    /// restored in place of the database: the server holds the copy, the device sends back what
    /// it lacks at its next sync, and the server holds everything again. Returns that digest.
    static func restoreAndRefill(_ server: ServerProcess, _ worker: CLI, _ backup: String, copied: String) throws -> String {
        #expect(try worker.sign(["deposit", "--lump", "--amount", "12.5"]).status == 0)
        try worker.sync()
        let everything = try server.digest()
        #expect(everything != copied)
        server.crash()
        let restored = try server.admin(["restore", backup])
        #expect(restored.status == 0, "\(restored.stderr)")
        try server.start()
        #expect(try server.digest() == copied)
        try worker.sync()
        #expect(try server.digest() == everything)
        #expect(try worker.digest() == everything)
        return everything
    }

    @Test func aBackupTakenUnderLoadIsCheckedRestoredAndRefilled() throws {
        let server = try ServerProcess(policy: "deposits: {lumpAllowed: true}\n", backend: .sqlite)
        // The copy is taken while the device pushes 300 change-sets.
        let (worker, backups, taken, manifest) = try Self.backupUnderLoad(server, deposits: 300)
        let verified = try Self.verify(backups + "/one", server)
        #expect(verified.status == 0, "\(verified.stderr)")
        let copied = try #require(manifest["stateDigest"] as? String)
        #expect(taken.stdout.contains(copied) && verified.stdout.contains(copied))
        let attributes = try FileManager.default.attributesOfItem(atPath: backups + "/one/server.key")
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)

        let everything = try Self.restoreAndRefill(server, worker, backups + "/one", copied: copied)

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

    /// The same on PostgreSQL: pg_dump under load, checked by restoring it into a scratch
    /// database, restored in one transaction, refilled by the device.
    @Test func aPostgreSQLBackupIsTakenUnderLoadCheckedRestoredAndRefilled() throws {
        let server = try ServerProcess(policy: "deposits: {lumpAllowed: true}\n", backend: .postgres)
        let (worker, backups, taken, manifest) = try Self.backupUnderLoad(server, deposits: 200)
        #expect(taken.stdout.contains("Backup taken"))
        #expect(manifest["database"] as? String == "postgres" && manifest["file"] as? String == "provident.pgdump")
        let copied = try #require(manifest["stateDigest"] as? String)
        let verified = try server.admin(["backup", "verify", backups + "/one"])
        #expect(verified.status == 0 && verified.stdout.contains(copied), "\(verified.stderr)")
        // Without a PostgreSQL server to check it on, verify says what it needs.
        let alone = try Self.verify(backups + "/one", server)
        #expect(alone.status == 3 && alone.stderr.contains("--database postgres://"), "\(alone.stderr)")

        let everything = try Self.restoreAndRefill(server, worker, backups + "/one", copied: copied)

        // An altered dump is refused before anything is restored.
        try FileManager.default.copyItem(atPath: backups + "/one", toPath: backups + "/altered")
        let file = try FileHandle(forUpdating: URL(fileURLWithPath: backups + "/altered/provident.pgdump"))
        try file.seek(toOffset: 200)
        try file.write(contentsOf: Data([0x5A, 0x5A, 0x5A]))
        try file.close()
        server.crash()
        let altered = try server.admin(["restore", backups + "/altered"])
        #expect(altered.status == 7 && altered.stderr.contains("altered"), "\(altered.stderr)")
        try server.start()
        #expect(try server.digest() == everything)
    }
}
