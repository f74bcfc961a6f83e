import Foundation
import ProvidentTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What `provident-server` says when its database is wrong: one clear line, a non-zero exit, no
/// password or key in the words, and nothing written.
@Suite struct DatabaseFaultTests {
    /// Runs `provident-server` with a deadline, so that a command that wrongly went on serving fails the test.
    static func run(_ arguments: [String], environment: [String: String]) throws -> CLI.Result {
        try runProgram(ServerProcess.binary, arguments, environment: ["PATH": "/usr/bin:/bin"].merging(environment) { _, new in new },
                       deadline: 30)
    }

    /// Expects a refusal in one line that says `words` and none of `secrets`.
    static func expectOneLine(_ result: CLI.Result, saying words: String, without secrets: [String] = [],
                              sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status != 0, "exited 0: \(result.stdout)", sourceLocation: sourceLocation)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.contains(words), "\(result.stderr)", sourceLocation: sourceLocation)
        for secret in secrets { #expect(!result.stderr.contains(secret), sourceLocation: sourceLocation) }
    }

    @Test func aWrongUnreachableOrMissingPostgreSQLDatabaseIsOneLineAndNothingIsCreated() throws {
        let cluster = try PostgresCluster.current()
        let empty = try cluster.createDatabase()
        defer { cluster.dropDatabase(empty) }
        let name = String(empty.split(separator: "/").last ?? "")
        let password = ["PGPASSWORD": cluster.password]
        let closed = try ProvidentTestSupport.freePort()

        Self.expectOneLine(try Self.run(["check", "--database", "postgres://provident@127.0.0.1:\(closed)/provident"], environment: password),
                           saying: "cannot be reached")
        Self.expectOneLine(try Self.run(["check", "--database", empty], environment: ["PGPASSWORD": "not-the-password-7731"]),
                           saying: "refused the user name or password", without: ["not-the-password-7731"])
        // No password at all (the test cluster asks for one), and a password file that is not there.
        Self.expectOneLine(try Self.run(["check", "--database", empty], environment: [:]), saying: "asks for a password and none was given")
        Self.expectOneLine(try Self.run(["check", "--database", empty], environment: ["LANG": "zh_CN.UTF-8"]), saying: "要求密码，但未提供")
        Self.expectOneLine(try Self.run(["check", "--database", empty], environment: ["PROVIDENT_DATABASE_PASSWORD_FILE": "/nonexistent/pgpass-5521"]),
                           saying: "The password file /nonexistent/pgpass-5521 cannot be read")
        Self.expectOneLine(try Self.run(["device", "list", "--database", "postgres://provident:hunter2-9921@127.0.0.1:\(cluster.port)/\(name)"],
                                        environment: [:]),
                           saying: "never on the command line", without: ["hunter2-9921"])
        Self.expectOneLine(try Self.run(["check", "--database", empty], environment: password), saying: "no Provident database")
        Self.expectOneLine(try Self.run(["check", "--database", empty], environment: password.merging(["LANG": "zh_CN.UTF-8"]) { _, new in new }),
                           saying: "没有 Provident 数据库")
        Self.expectOneLine(try Self.run(["device", "invite", "--role", "office", "--database", "mysql://somewhere/db"], environment: [:]),
                           saying: "not a database location")
        // Administration commands created nothing in the empty database.
        #expect(try cluster.value("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", database: name) == "0")
    }

    @Test func aDatabaseThatStopsAnsweringIsSaidOnTheDashboardAsAPageNotAsJSON() async throws {
        let server = try ServerProcess(backend: .postgres)
        let browser = try await server.signedInClerk()
        #expect(try await browser.get("/office").status == 200)
        let cluster = try PostgresCluster.current()
        let name = String(server.database.split(separator: "/").last ?? "")
        try cluster.psql("ALTER DATABASE \(name) ALLOW_CONNECTIONS false")
        try cluster.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(name)'")
        let page = try await browser.get("/office", headers: [("accept-language", "zh-CN")])
        try cluster.psql("ALTER DATABASE \(name) ALLOW_CONNECTIONS true")
        #expect(page.status == 503, "\(page.status) \(page.body.prefix(300))")
        #expect(page.body.hasPrefix("<!DOCTYPE html>") && page.body.contains("未做任何更改"), "\(page.body.prefix(400))")
        #expect(page.headers["content-security-policy"].first?.contains("default-src 'none'") == true)
        // The database answers again: so does the dashboard.
        var again = try await browser.get("/office")
        for _ in 0..<50 where again.status != 200 {
            try await Task.sleep(for: .milliseconds(100))
            again = try await browser.get("/office")
        }
        #expect(again.status == 200)
    }

    @Test(arguments: [TestBackend.sqlite, .postgres])
    func anotherDeploymentsKeyIsRefusedAndNoKeyIsMade(_ backend: TestBackend) throws {
        let server = try ServerProcess(backend: backend)
        _ = try server.invite(role: "office")
        let before = try server.digest()
        server.crash()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("provident-other-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }

        // A key file that is missing: the service does not make a new one for a deployed database.
        var environment = server.serverEnvironment
        environment["PROVIDENT_SERVER_KEY_PATH"] = folder + "/missing.key"
        Self.expectOneLine(try Self.run(["serve", "--port", "0", "--database", server.database], environment: environment),
                           saying: "missing.key")
        #expect(!FileManager.default.fileExists(atPath: folder + "/missing.key"))

        // Another deployment's key: refused by the service and by every administration command.
        let other = try ServerProcess(backend: .sqlite)
        environment["PROVIDENT_SERVER_KEY_PATH"] = other.folder + "/server.key"
        for arguments in [["serve", "--port", "0"], ["device", "list"], ["check"]] {
            Self.expectOneLine(try Self.run(arguments + ["--database", server.database], environment: environment),
                               saying: "does not belong to this database")
        }
        #expect(try server.digest() == before)
    }

    @Test func aDatabaseOfAnOlderSchemaIsLeftAsItIsByAdministrationCommands() throws {
        let server = try ServerProcess(backend: .sqlite)
        server.crash()
        // As a database left by the version before the last migration.
        let migrationRemoved = try Self.python("""
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            last = db.execute("SELECT identifier FROM grdb_migrations ORDER BY rowid DESC LIMIT 1").fetchone()[0]
            db.execute("DELETE FROM grdb_migrations WHERE identifier = ?", (last,))
            db.commit()
            """, server.database)
        #expect(migrationRemoved.status == 0)
        // Everything the database holds, as SQL (SQLite's own page bookkeeping aside).
        let dump = "import sqlite3, sys\nfor line in sqlite3.connect(sys.argv[1]).iterdump(): print(line)"
        let before = try Self.python(dump, server.database).output
        for arguments in [["check"], ["device", "invite", "--role", "office"], ["report", "coverage"]] {
            Self.expectOneLine(try Self.run(arguments + ["--database", server.database], environment: server.serverEnvironment),
                               saying: "older")
        }
        #expect(try Self.python(dump, server.database).output == before)
    }

    static func python(_ script: String, _ argument: String) throws -> CLI.Result {
        try runProgram("/usr/bin/python3", ["-c", script, argument], environment: ["PATH": "/usr/bin:/bin"])
    }
}
