import Foundation
import GRDB
import ProvidentCrypto
import ProvidentDomain
import ProvidentServerCore
import ProvidentServerStore
import ProvidentSync
import ProvidentTestSupport
import Testing

@Suite struct OfficeCoreTests {
    /// 2026-03-02 10:00 Beijing time.
    static let march = Instant(millisSinceEpoch: 1_772_416_800_000)

    @Test(arguments: Backend.allCases)
    func aStatementConfirmsDepositsOnceAndTheirOutcomesReachTheirWorkers(_ backend: Backend) async throws {
        try await withServer(backend) { server in
            let worker = TestDevice(now: { server.clock.now })
            _ = try await server.core.enrol(worker)
            let (account, enroll) = try worker.enroll(40)
            let (paid, payment) = try worker.deposit(account.id, fen: 60_000)
            let (unpaid, other) = try worker.deposit(account.id, fen: 70_000)
            _ = try await server.core.push(try worker.push([enroll, payment, other]))
            let day = server.clock.now.shanghaiDate
            let lines = [
                BankLine(line: 2, date: day, amountFen: 60_000, payerName: account.name, payerAccount: "6222000011112222",
                         memo: "公积金 \(paid.reference)", serial: "S1", fingerprint: "S1"),
                // The same deposit paid twice, and a line nobody recorded.
                BankLine(line: 3, date: day, amountFen: 60_000, payerName: account.name, payerAccount: "6222000011112222",
                         memo: "公积金 \(paid.reference)", serial: "S2", fingerprint: "S2"),
                BankLine(line: 4, date: day, amountFen: 12_345, payerName: "某人", payerAccount: "6222000099998888", memo: "转账",
                         serial: "S3", fingerprint: "S3"),
            ]
            let report = try await server.core.importStatement(lines, fileName: "march.csv", windowDays: 10)
            #expect((report.confirmed, report.duplicate, report.noDeposit) == (1, 1, 1))
            #expect(try await server.core.importStatement(lines, fileName: "march.csv", windowDays: 10).alreadyImported == 3)
            // The worker pulls the office's outcome; the unpaid deposit can be rejected, once.
            let outcomes = try await server.core.pullAll(worker).count
            #expect(outcomes == 4)
            _ = try await server.core.rejectDeposit(reference: unpaid.reference, reason: "未到账")
            await #expect(throws: DomainError.depositAlreadyDecided(unpaid.reference)) {
                try await server.core.rejectDeposit(reference: unpaid.reference, reason: "again")
            }
            // The stray line is set aside; a settled line cannot be set aside again.
            let stray = try #require(try await server.core.reconciliationLines(status: .noDeposit).first)
            _ = try await server.core.dismissLine(stray.id, reason: "退回付款人")
            await #expect(throws: ReconciliationError.lineClosed(.dismissed)) { try await server.core.dismissLine(stray.id, reason: "again") }
            #expect(try await server.core.reconciliationLines().filter(\.status.open).count == 1)
        }
    }

    @Test(arguments: Backend.allCases)
    func aRecordsHistoryNamesEveryChangeSetThatWroteItAndAnOlderDatabaseIsFilledFromItsFeed(_ backend: Backend) async throws {
        try await withServer(backend) { server in
            let worker = TestDevice(now: { server.clock.now })
            _ = try await server.core.enrol(worker)
            let (account, enroll) = try worker.enroll(43)
            let (deposit, payment) = try worker.deposit(account.id, fen: 60_000)
            _ = try await server.core.push(try worker.push([enroll]))
            _ = try await server.core.push(try worker.push([payment]))
            _ = try await server.core.rejectDeposit(reference: deposit.reference, reason: "未到账")
            let accountKey = RecordKey(type: Account.recordType, id: account.id)
            let history = try #require(try await server.core.recordHistory(accountKey, limit: 10, offset: 0))
            #expect(history.total == 1 && history.changes.map(\.action) == ["account.enroll"])
            #expect(history.changes[0].device == worker.id && history.changes[0].role == .selfService && !history.changes[0].byServer)
            #expect(history.changes[0].kinds == [.create] && history.changes[0].fields.contains("name"))
            let outcome = try #require(try await server.core.recordHistory(RecordKey(type: DepositOutcome.recordType, id: "out-\(deposit.id)"), limit: 10, offset: 0))
            #expect(outcome.total == 1 && outcome.changes[0].byServer && outcome.changes[0].action == "reconcile.reject")
            #expect(try await server.core.recordHistory(RecordKey(type: Account.recordType, id: "nobody"), limit: 10, offset: 0) == nil)
            // A page beyond the end is empty, with the total.
            let beyond = try #require(try await server.core.recordHistory(accountKey, limit: 10, offset: 10))
            #expect(beyond.changes.isEmpty && beyond.total == 1)

            // As a database from before record histories: the migration fills them from the feed.
            let positions = { (store: SQLServerStore) in
                try await store.read { tx in
                    var all: [String: [UInt64]] = [:]
                    for key in [accountKey, RecordKey(type: Deposit.recordType, id: deposit.id), RecordKey(type: DepositOutcome.recordType, id: "out-\(deposit.id)")] {
                        all[key.description] = try await tx.recordChanges(key, limit: 100, offset: 0).changes.map(\.position)
                    }
                    return all
                }
            }
            let before = try await positions(try await server.database.open())
            #expect(before.values.map(\.count).sorted() == [1, 1, 1])
            switch backend {
            case .sqlite:
                let queue = try DatabaseQueue(path: server.database.location)
                try await queue.write { db in
                    try db.execute(sql: """
                        DROP TABLE record_changes; ALTER TABLE office_users DROP COLUMN disabled_at;
                        DELETE FROM grdb_migrations WHERE identifier = 'server v8 record history and disabled users'
                        """)
                }
                try queue.close()
            case .postgres:
                let name = String(server.database.location.split(separator: "/").last ?? "")
                try PostgresCluster.current().psql("""
                    DROP TABLE record_changes; ALTER TABLE office_users DROP COLUMN disabled_at;
                    DELETE FROM provident_migrations WHERE name = 'v6 record history and disabled users'
                    """, database: name)
            }
            let upgraded = try await server.database.open()
            #expect(try await positions(upgraded) == before)
            await upgraded.close()
        }
    }

    @Test(arguments: Backend.allCases)
    func aRecordNamesTheChangeSetThatCreatedItAndItsHistoryListsThoseThatWroteItAfter(_ backend: Backend) async throws {
        try await withServer(backend) { server in
            let worker = TestDevice(now: { server.clock.now })
            _ = try await server.core.enrol(worker)
            // Created and changed in one push (one transaction), then changed in another.
            let (account, enroll) = try worker.enroll(44)
            let phone = try worker.sign(.accountUpdate, [Operation(record: account.recordKey, kind: .update, fields: ["phone": "13900139000"],
                                                                   context: VersionVector([worker.id: 1]))])
            let (deposit, payment) = try worker.deposit(account.id, fen: 60_000)
            #expect(try await server.core.push(try worker.push([enroll, phone, payment])).answers.allSatisfy(\.accepted))
            let again = try worker.sign(.accountUpdate, [Operation(record: account.recordKey, kind: .update, fields: ["phone": "13700137000"],
                                                                   context: VersionVector([worker.id: 2]))])
            #expect(try await server.core.push(try worker.push([again])).answers.allSatisfy(\.accepted))

            let history = try #require(try await server.core.recordHistory(account.recordKey, limit: 10, offset: 0))
            #expect(history.total == 3 && history.changes.map(\.action) == ["account.update", "account.update", "account.enroll"])
            #expect(history.changes.map(\.position) == history.changes.map(\.position).sorted(by: >))
            let last = try #require(try await server.core.recordHistory(account.recordKey, limit: 2, offset: 2))
            #expect(last.total == 3 && last.changes.map(\.action) == ["account.enroll"] && last.changes[0].kinds == [.create])
            let paid = try #require(try await server.core.recordHistory(deposit.recordKey, limit: 10, offset: 0))
            #expect(paid.total == 1 && paid.changes.map(\.action) == ["deposit.record"] && paid.changes[0].device == worker.id)

            // The records name their creators; record_changes holds only the two updates.
            let store = try await server.database.open()
            let creators = try await store.database.read { session in
                try await session.query("SELECT id, first_device, first_sequence FROM records WHERE id IN (?, ?) ORDER BY id",
                                        [.text(account.id), .text(deposit.id)])
            }
            #expect(try creators.map { "\(try $0.text("id")) \(try $0.text("first_device")) \(try $0.integer("first_sequence"))" }
                == ["\(account.id) \(worker.id) 1", "\(deposit.id) \(worker.id) 3"])
            let changes = try await store.database.read { session in
                try await session.query("SELECT type, id FROM record_changes ORDER BY feed_seq")
            }
            #expect(try changes.map { "\(try $0.text("type"))/\(try $0.text("id"))" } == [account.recordKey.description, account.recordKey.description])
            await store.close()
        }
    }

    @Test(arguments: Backend.allCases)
    func interestIsSettledOnceFromTheDepositsConfirmedBeforeTheYearEnds(_ backend: Backend) async throws {
        try await withServer(backend) { server in
            server.clock.advance(seconds: (Self.march.millisSinceEpoch - server.clock.now.millisSinceEpoch) / 1_000)
            let worker = TestDevice(now: { server.clock.now })
            _ = try await server.core.enrol(worker)
            let (account, enroll) = try worker.enroll(41)
            let (deposit, payment) = try worker.deposit(account.id, fen: 100_000)
            _ = try await server.core.push(try worker.push([enroll, payment]))
            let line = BankLine(line: 2, date: server.clock.now.shanghaiDate, amountFen: 100_000, payerName: account.name,
                                payerAccount: "6222", memo: deposit.reference, serial: nil, fingerprint: "f1")
            #expect(try await server.core.importStatement([line], fileName: "s.csv", windowDays: 10).confirmed == 1)
            await #expect(throws: InterestError.self) { try await server.core.settleInterest(year: 2026) }
            server.clock.advance(seconds: 130 * 86_400)
            let settled = try await server.core.settleInterest(year: 2026)
            #expect(settled.credited == 1 && settled.totalFen > 0)
            let again = try await server.core.settleInterest(year: 2026)
            #expect(again.credited == 0 && again.alreadySettled == 1)
        }
    }

    @Test(arguments: Backend.allCases)
    func officeUsersSignInWithSessionsThatEnd(_ backend: Backend) async throws {
        try await withServer(backend) { server in
            let password = SecretBytes(utf8: "a long enough password")
            try await server.core.addOfficeUser("zhang.wei", password: password)
            await #expect(throws: OfficeUserError.exists("zhang.wei")) { try await server.core.addOfficeUser("zhang.wei", password: password) }
            await #expect(throws: OfficeUserError.nameInvalid) { try await server.core.addOfficeUser("no spaces", password: password) }
            #expect(try await server.core.signIn("zhang.wei", password: SecretBytes(utf8: "wrong"), language: .english, address: "10.0.0.1") == nil)
            let (token, session) = try #require(try await server.core.signIn("zhang.wei", password: password, language: .chinese, address: "10.0.0.1"))
            #expect(try await server.core.session(token: token)?.csrfToken == session.csrfToken)
            try await server.core.setSessionLanguage(token: token, .english)
            #expect(try await server.core.session(token: token)?.language == .english)
            server.clock.advance(seconds: 9 * 3_600)
            #expect(try await server.core.session(token: token) == nil)
            try await server.core.removeOfficeUser("zhang.wei")
            await #expect(throws: OfficeUserError.unknown("zhang.wei")) { try await server.core.removeOfficeUser("zhang.wei") }
        }
    }

    @Test(arguments: Backend.allCases)
    func theOfficeResolvesAConflictWithAWriteLaterThanBothSides(_ backend: Backend) async throws {
        try await withServer(backend) { server in
            let worker = TestDevice(now: { server.clock.now })
            _ = try await server.core.enrol(worker)
            let (_, invite) = try await server.core.createInvite(role: .office, branch: nil, validFor: 600)
            // An office laptop whose clock runs an hour fast writes the same field concurrently.
            let fast = TestClock(Instant(millisSinceEpoch: server.clock.now.millisSinceEpoch + 3_600_000))
            let laptop = TestDevice(now: { fast.now }, requestNow: { server.clock.now })
            _ = try await server.core.enrol(laptop, "invite", code: invite.value)
            let (account, enroll) = try worker.enroll(42)
            _ = try await server.core.push(try worker.push([enroll]))
            let context = VersionVector([worker.id: 1])
            let mine = try worker.sign(.accountUpdate, [Operation(record: account.recordKey, kind: .update, fields: ["phone": "13900139000"], context: context)])
            let theirs = try laptop.sign(.accountUpdate, [Operation(record: account.recordKey, kind: .update, fields: ["phone": "13700137000"], context: context)])
            _ = try await server.core.push(try worker.push([mine]))
            _ = try await server.core.push(try laptop.push([theirs]))
            let open = try await server.core.conflicts()
            #expect(open.count == 1 && open.allSatisfy { !$0.resolved })
            let conflict = try #require(open.first?.conflict)
            try await server.core.resolveConflict(conflict.id, value: conflict.first.value)
            #expect(try await server.core.conflicts().allSatisfy(\.resolved))
            await #expect(throws: ServerError.conflictUnknown) { try await server.core.resolveConflict(Digest256(hashing: [1]), value: "x") }
        }
    }

    @Test(arguments: Backend.allCases)
    func anEmployerListImportsOnceAndADryRunChangesNothing(_ backend: Backend) async throws {
        try await withServer(backend) { server in
            func row(_ line: Int, _ code: String, _ name: String?, _ branch: String?) -> EmployerRow {
                var form = EmployerForm(creditCode: code)
                form.name = name
                form.branch = branch
                return EmployerRow(line: line, form: form)
            }
            let rows = [row(2, "91110000600037341L", "恒达建材", "西工区"), row(3, "121200004013590816", "市第一中学", "涧西区"),
                        row(4, "91110000600037341N", "错码", "西工区"), row(5, "91110000600037341L", "重复", "西工区")]
            let dry = try await server.core.importEmployers(rows, language: .chinese, dryRun: true)
            #expect(dry.created == 2 && dry.errors.map(\.line) == [4, 5])
            #expect(try await server.core.feedHead() == 0)
            let done = try await server.core.importEmployers(rows, language: .english)
            #expect(done.created == 2)
            #expect(try await server.core.importEmployers(rows, language: .english).unchanged == 2)
            let moved = try await server.core.importEmployers([row(2, "91110000600037341L", nil, "涧西区")], language: .english)
            #expect(moved.moved == 1)
            #expect(try await server.core.units(branch: "涧西区", today: server.core.today).count == 2)
        }
    }
}
