import Foundation
import GRDB
import Logging
import ProvidentCrypto
import ProvidentDomain
import ProvidentServerCore
import ProvidentServerPostgres
import ProvidentServerSQLite
import ProvidentServerStore
import ProvidentSync
import ProvidentTestSupport
import Testing

@Suite struct StoreTests {
    @Test func sqliteSyncsEveryCommitFullyOnTheWriter() async throws {
        let database = try TestDatabase(.sqlite)
        let sqlite = try SQLiteDatabase.open(path: database.location, create: true)
        // 2 is FULL: GRDB's WAL set-up sets NORMAL (1), which would not fsync each commit.
        #expect(try await sqlite.synchronousLevel() == 2)
        await sqlite.close()
    }

    @Test func sqliteLetsOnlyACommitToldNotToWaitSkipTheDiskAndThenSyncsFullyAgain() async throws {
        let database = try TestDatabase(.sqlite)
        let sqlite = try SQLiteDatabase.open(path: database.location, create: true)
        @Sendable func level(_ session: any SQLSession) async throws -> Int64? { try await session.query("PRAGMA synchronous").first?.integer("synchronous") }
        // A read's nonce (sync-protocol.md §11.2): NORMAL, no sync of the log on commit; and committed all the same.
        let relaxed = try await sqlite.write(waitingForTheDisk: false) { session in
            try await session.execute("INSERT INTO nonces (device, nonce, expires_at) VALUES ('d', 'n1', 1)")
            return try await level(session)
        }
        #expect(relaxed == 1)
        #expect(try await sqlite.synchronousLevel() == 2)
        let durable = try await sqlite.write { session in
            try await session.execute("INSERT INTO nonces (device, nonce, expires_at) VALUES ('d', 'n2', 1)")
            return try await level(session)
        }
        #expect(durable == 2)
        let held = try await sqlite.read { session in try await session.query("SELECT count(*) AS n FROM nonces").first?.integer("n") }
        #expect(held == 2)
        await sqlite.close()
    }

    /// Values go to SQLite and come back as they were given: an empty text or blob is not NULL,
    /// and a text beyond ASCII keeps its bytes.
    @Test func sqliteTakesAndGivesBackEveryKindOfValueAsItIs() async throws {
        let database = try TestDatabase(.sqlite)
        let sqlite = try SQLiteDatabase.open(path: database.location, create: true)
        let given: [SQLValue] = [.text(""), .blob([]), .null, .integer(-9_007_199_254_740_991), .text("西工区 é"), .blob([0, 255, 7])]
        let row = try await sqlite.write { session in
            try await session.query("SELECT ? AS a, ? AS b, ? AS c, ? AS d, ? AS e, ? AS f", given).first
        }
        #expect(row?.values == given)
        await sqlite.close()
    }

    /// On PostgreSQL a short statement is prepared once per connection, named by its text and
    /// its parameters' types, and then only run: past the fifth run, when PostgreSQL may plan it
    /// for any values, it still gives back what it is given, and a NULL where a number was (a
    /// statement of other types) is a statement of its own. The server's connections run
    /// without parallel workers and say whose they are.
    @Test func postgresPreparesShortStatementsOnceAndRunsThemWithAnyValues() async throws {
        let database = try TestDatabase(.postgres)
        let store = try await database.open()
        for round in 0..<8 {
            let given: [SQLValue] = [.text("西工区 \(round)"), .blob([0, 255, UInt8(round)]), .integer(Int64(round) - 9_007_199_254_740_991),
                                     round.isMultiple(of: 2) ? .null : .integer(Int64(round))]
            let (row, prepared) = try await store.database.read { session in
                (try await session.query("SELECT ? AS a, ? AS b, ? AS c, ? AS d", given).first,
                 try await session.query("SELECT count(*) AS n FROM pg_prepared_statements WHERE name LIKE 'provident_%' AND statement LIKE '%$4 AS d%'")
                    .first?.integer("n"))
            }
            #expect(row?.values == given)
            #expect((prepared ?? 0) >= 1)
        }
        let settings = try await store.database.read { session in
            try await session.query("SELECT current_setting('max_parallel_workers_per_gather') AS workers, current_setting('application_name') AS name").first
        }
        #expect(try settings?.text("workers") == "0")
        #expect(try settings?.text("name") == "provident-server")
        await store.close()
    }

    /// PostgreSQL keeps no NUL in text, and indexes no value over a third of a page: a statement
    /// given one is refused as bad input in the store's own words, not as the driver's error (a 500).
    @Test func postgresRefusesANulOrAValueTooLongToIndexAsBadInput() async throws {
        let database = try TestDatabase(.postgres)
        let store = try await database.open()
        await #expect(throws: StoreFailure.unstorableValue) {
            try await store.database.read { session in try await session.query("SELECT ? AS a", [.text("西工\u{0}区")]) }
        }
        // Nor can it index a value over a third of a page.
        let long = Hex.encode(SecureRandom.bytes(count: 4_000))
        await #expect(throws: StoreFailure.unstorableValue) {
            try await store.database.write(waitingForTheDisk: false) { session in
                try await session.execute("CREATE TEMPORARY TABLE long_keys (key TEXT PRIMARY KEY)")
                return try await session.query("INSERT INTO long_keys (key) VALUES (?)", [.text(long)])
            }
        }
        #expect(StoreFailure.unstorableValue.kind == .invalidInput)
        await store.close()
    }

    /// On PostgreSQL a request's nonce is one statement, its own transaction; a read's commits
    /// without waiting for the disk, and that holds for its transaction only: the connections
    /// it ran on commit durably after it. A nonce counts once, whichever way it was recorded.
    @Test func postgresRecordsANonceInOneStatementAndOnlyAReadsSkipsTheDisk() async throws {
        let server = try await TestServer.make(.postgres)
        let device = TestDevice(now: { server.clock.now })
        _ = try await server.core.enrol(device)
        let store = try #require(server.core.store as? SQLServerStore)
        let now = server.clock.now
        for round in 0..<20 {
            #expect(try await store.useNonce("read \(round)", device: device.id, at: now, expiresAt: now, durably: false))
            #expect(try await !store.useNonce("read \(round)", device: device.id, at: now, expiresAt: now, durably: true))
            #expect(try await store.useNonce("write \(round)", device: device.id, at: now, expiresAt: now, durably: true))
            let setting = try await store.database.read { try await $0.query("SELECT current_setting('synchronous_commit') AS s").first?.text("s") }
            #expect(setting == "on")
        }
        #expect(try await store.read { try await $0.device(device.id) }?.lastSeenAt == now)
        await server.close()
    }

    /// A page of the feed gives each change-set its author's key, read once per device: a
    /// device whose first change-set comes after the store has served pages gets its own key,
    /// on the first page that carries it and on every one after.
    @Test(arguments: Backend.allCases)
    func everyFeedEntryCarriesItsAuthorsKeyAsDevicesComeAndGo(_ backend: Backend) async throws {
        try await withServer(backend) { server in
            let office = TestDevice(now: { server.clock.now })
            let (_, code) = try await server.core.createInvite(role: .office, branch: nil, validFor: 3_600)
            _ = try await server.core.enrol(office, "invite", code: code.value)
            var authors: [TestDevice] = []
            for _ in 0..<3 {
                let worker = TestDevice(now: { server.clock.now })
                _ = try await server.core.enrol(worker)
                _ = try await server.core.push(try worker.push([try worker.enroll(authors.count + 60).1]))
                authors.append(worker)
                let keys = try await server.core.pullAll(office, limit: 2).compactMap { entry -> PublicKey? in
                    guard case let .changeSet(_, _, author) = entry.content else { return nil }
                    return author
                }
                #expect(keys == authors.map(\.key.publicKey))
            }
        }
    }

    /// A list is sent in chunks that cover it in order, each within the database's parameter
    /// limit. For SQLite they come in powers of two, so a statement takes at most nine shapes
    /// whatever the lists' lengths and the connection's cache of prepared statements stays small;
    /// for PostgreSQL, where each statement is a round trip, as few chunks as fit.
    @Test(arguments: [true, false]) func listsGoInChunksThatCoverThemInOrder(fewShapes: Bool) {
        var wrong: [String] = []
        for parameters in [32_766, 65_535, 999, 7] {
            for columns in 1...12 {
                var sizes = Set<Int>()
                let most = max(1, min(fewShapes ? 256 : 500, parameters / columns))
                for count in 0...1_100 {
                    let chunks = SQL.chunks(of: count, columns: columns, parameters: parameters, fewShapes: fewShapes)
                    var next = 0
                    for chunk in chunks {
                        if chunk.lowerBound != next || chunk.isEmpty || chunk.count > most
                            || (fewShapes && chunk.count & (chunk.count - 1) != 0) {
                            wrong.append("\(count) items of \(columns) columns within \(parameters): chunk \(chunk)")
                        }
                        next = chunk.upperBound
                    }
                    if next != count { wrong.append("\(count) items of \(columns) columns within \(parameters): covered up to \(next)") }
                    if !fewShapes, chunks.count != (count + most - 1) / most { wrong.append("\(count) items in \(chunks.count) chunks") }
                    sizes.formUnion(chunks.map(\.count))
                }
                if fewShapes, sizes.count > 9 { wrong.append("\(sizes.count) shapes for \(columns) columns within \(parameters) parameters") }
            }
        }
        #expect(wrong.isEmpty, "\(wrong.prefix(5))")
        #expect(SQL.chunks(of: 100, columns: 3, parameters: 32_766, fewShapes: fewShapes).map(\.count) == (fewShapes ? [64, 32, 4] : [100]))
        #expect(SQL.chunks(of: 600, columns: 3, parameters: 32_766, fewShapes: fewShapes).map(\.count) == (fewShapes ? [256, 256, 64, 16, 8] : [500, 100]))
    }

    @Test func aDatabaseLeftByTheFirstVersionOpensWithItsFeedAndIdentity() async throws {
        let database = try TestDatabase(.sqlite)
        let key = SigningKey.generate()
        let id = DeviceID(publicKey: key.publicKey)
        // As the first version left it: the replica's tables, the server's, the device row, a feed of three.
        let legacy = try DatabaseQueue(path: database.location)
        try SQLiteSchema.migrator(through: "server v2 reconciliation and office users").migrate(legacy)
        try await legacy.write { db in
            try db.execute(sql: """
                INSERT INTO device (singleton, device_id, public_key, role, sequence, last_change_set, hlc, created_at, registered)
                VALUES (1, ?, ?, 'office', 0, ?, 0, '2026-11-01T00:00:00.000Z', 1)
                """, arguments: [id.rawValue, Data(key.publicKey.bytes), Data(Digest256.zero.bytes)])
            try db.execute(sql: "INSERT INTO server_devices (device_id, public_key, role, enrolled_at, enrolled_via) VALUES (?, ?, 'office', ?, 'server')",
                           arguments: [id.rawValue, Data(key.publicKey.bytes), "2026-11-01T00:00:00.000Z"])
            for position in 1...3 { try db.execute(sql: "INSERT INTO feed (seq, document, signature) VALUES (?, x'00', x'00')", arguments: [position]) }
        }
        try legacy.close()
        // Administration commands do not change it; the service brings it up to date.
        #expect(throws: StoreFailure.olderSchema(location: database.location)) { try SQLiteDatabase.open(path: database.location, create: false) }
        let store = SQLServerStore(database: try SQLiteDatabase.open(path: database.location, create: true))
        let core = try await ServerCore.start(store: store, key: key, policy: .defaults, policyText: "", clock: { Instant(millisSinceEpoch: 0) },
                                              logger: TestServer.quiet)
        #expect(try await core.feedHead() == 3)
        #expect(try await store.read { try await $0.serverKey() } == key.publicKey)
        // Entries from before the feed had marks have none; the first new one starts the chain.
        let reserved = try await store.write { try await $0.reserveFeedPositions(2) }
        #expect(reserved.first == 4 && reserved.previousMark == nil)
        #expect(try await store.read { try await $0.feedMark(at: 3) } == nil)
        await store.close()
    }

    @Test(arguments: Backend.allCases)
    func aDatabaseOfAnotherDeploymentIsRefusedAndNothingIsWritten(_ backend: Backend) async throws {
        try await withServer(backend) { server in
            let other = try await server.database.open(create: false)
            await #expect(throws: ServerError.keyMismatch) {
                try await ServerCore.start(store: other, key: SigningKey.generate(), policy: .defaults, policyText: "",
                                           clock: { server.clock.now }, logger: TestServer.quiet)
            }
            #expect(try await other.read { try await $0.devices() }.count == 1)
            await other.close()
        }
    }

    @Test func sqliteRefusesWhatItCannotOpenWithOneClearReason() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("provident-store-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(throws: StoreFailure.missing(location: folder + "/none.sqlite")) { try SQLiteDatabase.open(path: folder + "/none.sqlite", create: false) }
        let garbage = folder + "/garbage.sqlite"
        try Data(repeating: 0x41, count: 8_192).write(to: URL(fileURLWithPath: garbage))
        #expect(throws: StoreFailure.damaged("not a SQLite database, or corrupt")) { try SQLiteDatabase.open(path: garbage, create: true) }
        let newer = folder + "/newer.sqlite"
        let database = try SQLiteDatabase.open(path: newer, create: true)
        await database.close()
        let queue = try DatabaseQueue(path: newer)
        try await queue.write { try $0.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('server v99 from the future')") }
        try queue.close()
        #expect(throws: StoreFailure.newerSchema(location: newer)) { try SQLiteDatabase.open(path: newer, create: true) }
    }

    @Test func postgresRefusesAWrongPasswordAMissingDatabaseAndAnUnreachableServerClearly() async throws {
        let cluster = try PostgresCluster.current()
        func open(port: Int, password: String, database: String) async throws {
            let opened = try await PostgresDatabase.open(PostgresDatabase.Settings(host: "127.0.0.1", port: port, user: "provident",
                                                                                   password: password, database: database),
                                                         create: false, logger: TestServer.quiet)
            await opened.close()
        }
        await #expect(throws: StoreFailure.self) { try await open(port: cluster.port, password: "wrong", database: "provident") }
        do {
            try await open(port: cluster.port, password: "wrong", database: "provident")
        } catch let failure as StoreFailure {
            #expect(failure.code == "storage.authentication")
            #expect(!failure.message(.english).contains("wrong"))
        }
        do {
            try await open(port: cluster.port, password: cluster.password, database: "no_such_database")
            Issue.record("a missing database opened")
        } catch let failure as StoreFailure {
            #expect(failure.code == "storage.missing")
        }
        let closed = try ProvidentTestSupport.freePort()
        do {
            try await open(port: closed, password: cluster.password, database: "provident")
            Issue.record("a closed port answered")
        } catch let failure as StoreFailure {
            #expect(failure.code == "storage.unavailable")
        }
    }

    @Test func postgresRefusesAMissingOrNewerSchemaWithoutWritingAndTheServiceCreatesIt() async throws {
        let database = try TestDatabase(.postgres)
        let cluster = try PostgresCluster.current()
        let name = String(database.location.split(separator: "/").last ?? "")
        // Empty: administration commands find no deployment and create nothing; the service creates it.
        await #expect(throws: StoreFailure.missing(location: database.location)) { try await database.open(create: false) }
        #expect(try cluster.value("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", database: name) == "0")
        let created = try await database.open(create: true)
        await created.close()
        let again = try await database.open(create: false)
        await again.close()
        // A migration this version does not know: a newer version wrote it; neither opens it.
        try cluster.psql("INSERT INTO provident_migrations VALUES ('v9 from the future', now()::text)", database: name)
        await #expect(throws: StoreFailure.newerSchema(location: database.location)) { try await database.open(create: true) }
        await #expect(throws: StoreFailure.newerSchema(location: database.location)) { try await database.open(create: false) }
    }

    @Test(arguments: Backend.allCases)
    func anAccountsRecordsChangeScopesWholeWhenItMovesBranchAlsoAfterAnUpgrade(_ backend: Backend) async throws {
        try await withServer(backend) { server in
            let field = try await server.invitedDevice(.field, branch: "西工区")
            let office = try await server.invitedDevice(.office)
            let (account, enroll) = try field.enroll(44, branch: "西工区")
            let deposits = [try field.deposit(account.id), try field.deposit(account.id)]
            #expect(try await server.core.push(try field.push([enroll] + deposits.map(\.1))).answers.allSatisfy(\.accepted))
            var moves = 0
            // Every record of the account is in its account's scope and its branch's, and in no
            // other; each lists exactly the scopes it is in.
            func expectScopes(_ store: SQLServerStore, branch: String) async throws {
                let keys = [account.recordKey] + deposits.map(\.0.recordKey)
                let expected = Set(keys.flatMap { key in [Scope.account(account.id), .branch(branch)].map { "\($0) \(key.type):\(key.id)" } })
                let rows = try await store.database.read { try await $0.query("SELECT scope, type, id FROM record_scopes") }
                let held = Set(try rows.map { "\(try $0.text("scope")) \(try $0.text("type")):\(try $0.text("id"))" })
                #expect(held == expected)
                let lists = try await store.database.read { try await $0.query("SELECT scopes FROM records") }
                let listed = try lists.map { try JSONDecoder().decode([String].self, from: Data(try $0.text("scopes").utf8)) }
                #expect(listed == Array(repeating: ["account:\(account.id)", "branch:\(branch)"], count: keys.count))
            }
            func move(_ core: ServerCore, to branch: String) async throws {
                moves += 1
                // Later than the writes the office has seen.
                server.clock.advance(seconds: 60)
                let context = VersionVector(moves == 1 ? [field.id: 1] : [field.id: 1, office.id: UInt64(moves - 1)])
                let transfer = try office.sign(.accountTransfer, [Operation(record: account.recordKey, kind: .update, fields: ["branch": .string(branch)],
                                                                            context: context)])
                let answers = try await core.push(try office.push([transfer])).answers
                let codes = answers.map { $0.code ?? "accepted" }
                #expect(codes == ["accepted"])
            }
            let store = try #require(server.core.store as? SQLServerStore)
            try await expectScopes(store, branch: "西工区")
            try await move(server.core, to: "涧西区")
            try await expectScopes(store, branch: "涧西区")

            // As a database from before records listed their scopes: the upgrade lists them from
            // record_scopes, and the next move replaces them whole.
            switch backend {
            case .sqlite:
                let queue = try DatabaseQueue(path: server.database.location)
                try await queue.write { db in
                    try db.execute(sql: """
                        ALTER TABLE records DROP COLUMN scopes; CREATE INDEX record_scopes_record ON record_scopes (type, id);
                        DELETE FROM grdb_migrations WHERE identifier = 'server v10 record scopes on the record'
                        """)
                }
                try queue.close()
            case .postgres:
                let name = String(server.database.location.split(separator: "/").last ?? "")
                try PostgresCluster.current().psql("""
                    ALTER TABLE records DROP COLUMN scopes; CREATE INDEX record_scopes_record ON record_scopes (type, id);
                    DELETE FROM provident_migrations WHERE name = 'v7 record scopes on the record'
                    """, database: name)
            }
            let upgraded = try await server.another()
            let upgradedStore = try #require(upgraded.core.store as? SQLServerStore)
            try await expectScopes(upgradedStore, branch: "涧西区")
            try await move(upgraded.core, to: "西工区")
            try await expectScopes(upgradedStore, branch: "西工区")
            await upgraded.close()
        }
    }

    @Test func aSQLiteDeploymentMovesToPostgreSQLWithEqualDigestsAndGoesOn() async throws {
        try await withServer(.sqlite) { server in
            let worker = TestDevice(now: { server.clock.now })
            _ = try await server.core.enrol(worker)
            let (account, enroll) = try worker.enroll(50)
            var chain = [enroll]
            for _ in 0..<5 { chain.append(try worker.deposit(account.id).1) }
            _ = try await server.core.push(try worker.push(chain)).answers
            try await server.core.addOfficeUser("li.na", password: SecretBytes(utf8: "another long password"))
            _ = try await server.core.importEmployers([EmployerRow(line: 2, form: {
                var form = EmployerForm(creditCode: "91310115MA1K3BTP2B")
                form.name = "浦东物流"
                form.branch = "西工区"
                return form
            }())], language: .english)
            let target = try TestDatabase(.postgres)
            let copy = try await target.open(create: true)
            let source = try #require(server.core.store as? SQLServerStore)
            let counts = try await source.copyDeployment(to: copy)
            #expect(counts.first { $0.table == "feed" }?.rows == 7)
            let moved = try await ServerCore.start(store: copy, key: server.core.key, policy: server.core.policy, policyText: "",
                                                   clock: { server.clock.now }, logger: TestServer.quiet)
            #expect(try await moved.stateDigest() == server.core.stateDigest())
            #expect(try await moved.feedHead() == 7)
            // The devices go on where they were: the same chain, the next positions.
            let (_, next) = try worker.deposit(account.id)
            #expect(try await moved.push(try worker.push([chain[5], next])).answers.map(\.status) == [.duplicate, .accepted])
            #expect(try await moved.feedHead() == 8)
            #expect(try await moved.officeUsers().map(\.name) == ["li.na"])
            // A database that holds a deployment is not copied into.
            await #expect(throws: CopyFailure.self) { try await source.copyDeployment(to: copy) }
            await copy.close()
        }
    }

    @Test func aPostgreSQLRestartMidWayIsAnsweredAsUnavailableAndTheServerReconnectsByItself() async throws {
        // A cluster of its own: restarting the shared one would disturb the tests running beside.
        let cluster = try PostgresCluster.startPrivate()
        defer { cluster.stop() }
        let clock = TestClock()
        let store = SQLServerStore(database: try await PostgresDatabase.open(
            PostgresDatabase.Settings(host: "127.0.0.1", port: cluster.port, user: "provident", password: cluster.password, database: "provident",
                                      leaseTimeout: .seconds(60)),
            create: true, logger: TestServer.quiet))
        let core = try await ServerCore.start(store: store, key: SigningKey.generate(), policy: TestServer.policy, policyText: "",
                                              clock: { clock.now }, logger: TestServer.quiet)
        let worker = TestDevice(now: { clock.now })
        _ = try await core.enrol(worker)
        let (account, enroll) = try worker.enroll(60)
        _ = try await core.push(try worker.push([enroll])).answers
        try cluster.restartAbruptly()
        // Whatever happens to requests while it restarts, nothing acknowledged is lost and the
        // server comes back without being restarted itself.
        var accepted = 1, refused = 0
        for _ in 0..<20 {
            let (_, deposit) = try worker.deposit(account.id)
            while true {
                do {
                    accepted += try await core.push(try worker.push([deposit])).answers.filter(\.accepted).count
                    break
                } catch let failure as StoreFailure {
                    #expect(failure.kind == .unavailable)
                    refused += 1
                    try #require(refused < 300, "the server did not reconnect within a minute")
                    try await Task.sleep(for: .milliseconds(200))
                }
            }
        }
        #expect(try await core.feedHead() == UInt64(accepted))
        #expect(accepted == 21)
        await store.close()
    }
}
