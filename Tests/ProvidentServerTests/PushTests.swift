import Foundation
import ProvidentBenchSupport
import ProvidentCrypto
import ProvidentDomain
import ProvidentServerCore
import ProvidentSync
import Testing

/// Runs `body` with a server on a new database of `backend`, closed afterwards.
func withServer(_ backend: Backend, settings: ServerSettings = ServerSettings(),
                _ body: (TestServer) async throws -> Void) async throws {
    let server = try await TestServer.make(backend, settings: settings)
    do {
        try await body(server)
        await server.close()
    } catch {
        await server.close()
        throw error
    }
}

@Suite struct PushTests {
    @Test(arguments: Backend.allCases)
    func aWorkersEnrolmentAndDepositsReachTheFeedAndTheDigestIsTheReferences(_ backend: Backend) async throws {
        try await withServer(backend) { server in
            let device = TestDevice(now: { server.clock.now })
            let registered = try await server.core.enrol(device)
            #expect(registered.grant.role == .selfService)
            let (account, enroll) = try device.enroll(1)
            let (_, first) = try device.deposit(account.id)
            let (_, second) = try device.deposit(account.id, fen: 25_050)
            let answers = try await server.core.push(try device.push([enroll, first, second])).answers
            #expect(answers.map(\.status) == [.accepted, .accepted, .accepted])
            #expect(try await server.core.device(device.id)?.grant.accountID == account.id)

            let entries = try await server.core.pullAll(device)
            #expect(entries.map(\.position) == [1, 2, 3])
            let snapshot = try await server.core.snapshotPage(for: try #require(try await server.core.device(device.id)),
                                                              request: try device.request("GET", "/v1/snapshot"))
            // The document as a device reads it, from the wire.
            let sent = try SignedDocument(envelope: snapshot.document.envelopeValue, serverKey: server.core.key.publicKey)
            guard case let .records(states) = sent.content else { Issue.record("not a records document"); return }
            #expect(states.count == 3 && snapshot.total == 3 && snapshot.next == nil && snapshot.document.asOf == 3)
            // Pages after the first are not counted again (§11.7): total is null there.
            let registeredDevice = try #require(try await server.core.device(device.id))
            let firstPage = try await server.core.snapshotPage(for: registeredDevice, request: try device.request("GET", "/v1/snapshot", query: "?limit=2"))
            let secondPage = try await server.core.snapshotPage(for: registeredDevice, request: try device.request(
                "GET", "/v1/snapshot", query: "?limit=2&after=\(try #require(firstPage.next).type)/\(try #require(firstPage.next).id)"))
            #expect(firstPage.total == 3 && secondPage.total == nil && secondPage.next == nil)
            #expect(secondPage.canonicalMembers["total"] == .null)
            // The answers' bytes, written straight from the pages, are those of their trees of values.
            for page in [snapshot, firstPage, secondPage] {
                #expect(try page.canonicalBytes(serverTime: 7) == CanonicalEncoder.encode(.object(page.canonicalMembers.merging(["serverTime": 7]) { $1 })))
            }

            var reference = Replica()
            for signed in [enroll, first, second] { _ = try reference.apply(signed) }
            #expect(try await server.core.stateDigest() == reference.stateDigest())
        }
    }

    @Test(arguments: Backend.allCases)
    func aDuplicateIsAnsweredAgainWithItsFirstAnswerAndAppliedOnce(_ backend: Backend) async throws {
        try await withServer(backend) { server in
            let device = TestDevice(now: { server.clock.now })
            _ = try await server.core.enrol(device)
            let (account, enroll) = try device.enroll(2)
            let (_, deposit) = try device.deposit(account.id)
            _ = try await server.core.push(try device.push([enroll])).answers
            // The first again, and within one push twice.
            let answers = try await server.core.push(try device.push([enroll, deposit, deposit])).answers
            #expect(answers.map(\.status) == [.duplicate, .accepted, .duplicate])
            #expect(answers.map(\.accepted) == [true, true, true])
            #expect(try await server.core.feedHead() == 2)
        }
    }

    @Test(arguments: Backend.allCases)
    func aGapAForkOrAClockRegressionRefusesTheWholePushAndAppliesNothing(_ backend: Backend) async throws {
        try await withServer(backend) { server in
            let device = TestDevice(now: { server.clock.now })
            _ = try await server.core.enrol(device)
            let (account, enroll) = try device.enroll(3)
            let (_, one) = try device.deposit(account.id)
            let (_, two) = try device.deposit(account.id)
            // A gap: the enrolment is missing before the deposit.
            await #expect(throws: ServerError.chainGap(expected: 1, index: 0)) { try await server.core.push(try device.push([one])).answers }
            #expect(try await server.core.feedHead() == 0)
            _ = try await server.core.push(try device.push([enroll, one])).answers
            // A clock regression: the same sequence number with an earlier time is a fork; a
            // next one not after its predecessor is a regression.
            let stale = try SignedChangeSet(signing: ChangeSet(device: device.id, sequence: 3, previous: one.id, time: one.changeSet.time,
                                                               action: two.changeSet.action, operations: two.changeSet.operations), with: device.key)
            await #expect(throws: ServerError.chainTime(index: 0)) { try await server.core.push(try device.push([stale])).answers }
            // A fork: a different change-set for sequence 2.
            let forked = try SignedChangeSet(signing: ChangeSet(device: device.id, sequence: 2, previous: enroll.id, time: two.changeSet.time,
                                                                action: two.changeSet.action, operations: two.changeSet.operations), with: device.key)
            await #expect(throws: ServerError.chainFork(sequence: 2, index: 0)) { try await server.core.push(try device.push([forked])).answers }
            #expect(try await server.core.device(device.id)?.status == .quarantined)
            #expect(try await server.core.alerts().first?.kind == "fork")
            #expect(try await server.core.feedHead() == 2)
        }
    }

    @Test(arguments: Backend.allCases)
    func aChangeSetNamingAnotherDeviceIsRefusedAsForeignWhoeverSignedIt(_ backend: Backend) async throws {
        try await withServer(backend) { server in
            let pusher = TestDevice(now: { server.clock.now }), other = TestDevice(now: { server.clock.now })
            _ = try await server.core.enrol(pusher)
            _ = try await server.core.enrol(other)
            let (_, theirs) = try other.enroll(4)
            // Signed by the other device, and naming it.
            await #expect(throws: ServerError.foreignChangeSet(index: 0)) { try await server.core.push(try pusher.push([theirs])).answers }
            // Naming the other device, but signed by the pusher.
            let forged = try SignedChangeSet(bytes: theirs.bytes, signature: pusher.key.signature(for: theirs.bytes).bytes)
            await #expect(throws: ServerError.foreignChangeSet(index: 0)) { try await server.core.push(try pusher.push([forged])).answers }
            // The pusher's own, with another's signature: not foreign, but not signed by it.
            let (_, mine) = try pusher.enroll(5)
            let wrong = try SignedChangeSet(bytes: mine.bytes, signature: other.key.signature(for: mine.bytes).bytes)
            await #expect(throws: ServerError.changeSetRefused(.badSignature, index: 0)) { try await server.core.push(try pusher.push([wrong])).answers }
            #expect(try await server.core.feedHead() == 0)
        }
    }

    @Test(arguments: Backend.allCases)
    func refusedChangeSetsAreKeptWithTheirReasonExtendTheChainAndReachNoOne(_ backend: Backend) async throws {
        try await withServer(backend) { server in
            let deviceClock = TestClock(server.clock.now)
            let device = TestDevice(now: { deviceClock.now })
            _ = try await server.core.enrol(device)
            let (account, enroll) = try device.enroll(6)
            // One the rules refuse, then a good one.
            let (_, zero) = try device.deposit(account.id, fen: 0)
            let (_, good) = try device.deposit(account.id)
            let answers = try await server.core.push(try device.push([enroll, zero, good])).answers
            #expect(answers.map(\.status) == [.accepted, .rejected, .accepted])
            #expect(answers.map(\.code) == [nil, "amount.zero", nil])
            // The device's clock runs two days fast (one is allowed).
            deviceClock.advance(seconds: 2 * 86_400)
            let (_, early) = try device.deposit(account.id)
            let late = try await server.core.push(try device.push([early], at: server.clock.now)).answers
            #expect(late.map(\.code) == ["clock.drift"])
            #expect(try await server.core.feedHead() == 2)
            #expect(try await server.core.store.read { try await $0.chainHead(of: device.id) }?.sequence == 4)
            // Asked again, they get the same answers.
            let again = try await server.core.push(try device.push([zero, early], at: server.clock.now)).answers
            #expect(again.map(\.accepted) == [false, false] && again.map(\.code) == ["amount.zero", "clock.drift"])
        }
    }

    /// A text holding U+0000 (which PostgreSQL keeps in no text column) refuses its change-set
    /// alone, on both databases alike: before, PostgreSQL failed the whole transaction, and with
    /// it every push judged together, and SQLite accepted it.
    @Test(arguments: Backend.allCases)
    func aTextHoldingNULRefusesItsChangeSetAloneAndTheChainGoesOn(_ backend: Backend) async throws {
        try await withServer(backend) { server in
            let (device, account) = try await workerAbout(8, on: server)
            var fields = account.createFields
            fields["name"] = .string("张\u{0}三")
            let nul = try device.enrolling(account, fields: fields)
            let clean = try device.enrolling(account, fields: account.createFields)
            let answers = try await server.core.push(try device.push([nul, clean], language: .chinese)).answers
            #expect(answers.map(\.status) == [.rejected, .accepted])
            #expect(answers.first?.code == "text.nul")
            #expect(answers.first?.message?.contains("空字符（U+0000）") == true)
            #expect(try await server.core.feedHead() == 1)
            let stored = try #require(try await server.core.store.read { try await $0.records([account.recordKey]) }[account.recordKey])
            #expect(stored.values["name"] == account.createFields["name"])
        }
    }

    @Test(arguments: Backend.allCases)
    func aDeviceWhoseClockRanAheadIsAcceptedAgainOnceItsClockIsRightAndTheOfficeIsTold(_ backend: Backend) async throws {
        try await withServer(backend) { server in
            let deviceClock = TestClock(server.clock.now)
            let device = TestDevice(now: { deviceClock.now })
            _ = try await server.core.enrol(device)
            let (account, enroll) = try device.enroll(6)
            let first = try await server.core.push(try device.push([enroll])).answers
            #expect(first.map(\.status) == [.accepted])
            // The clock jumps two days ahead: two deposits made then are refused, in one push.
            deviceClock.advance(seconds: 2 * 86_400)
            let (_, early) = try device.deposit(account.id)
            let (_, later) = try device.deposit(account.id)
            let refused = try await server.core.push(try device.push([early, later], at: server.clock.now)).answers
            #expect(refused.map(\.code) == ["clock.drift", "clock.drift"])
            // Told once, although two change-sets were refused.
            let alerts = try await server.core.alerts().filter { $0.kind == Alert.clockAhead }
            #expect(alerts.count == 1 && alerts.first?.device == device.id)
            #expect(alerts.first?.detail.contains("2880 min ahead") == true)
            // The user corrects the clock; the device sets its clock back to its last time the
            // server took. Its next change-set follows the refused ones in the chain, with an
            // earlier time than theirs, and is accepted (it was chain.time before).
            deviceClock.advance(seconds: -2 * 86_400)
            device.rewindClock(to: enroll.changeSet.time)
            let (_, corrected) = try device.deposit(account.id)
            #expect(corrected.changeSet.time < early.changeSet.time)
            let answers = try await server.core.push(try device.push([corrected], at: server.clock.now)).answers
            #expect(answers.map(\.status) == [.accepted])
            #expect(try await server.core.feedHead() == 2)
            // A time at or before the last one the server took is still a regression.
            device.rewindClock(to: enroll.changeSet.time)
            let (_, regressed) = try device.deposit(account.id)
            await #expect(throws: ServerError.chainTime(index: 0)) {
                try await server.core.push(try device.push([regressed], at: server.clock.now)).answers
            }
            // Another refusal the same day adds no second alert.
            deviceClock.advance(seconds: 2 * 86_400)
            device.rewindClock(to: corrected.changeSet.time)
            let (_, again) = try device.deposit(account.id)
            _ = try? await server.core.push(try device.push([again], at: server.clock.now)).answers
            #expect(try await server.core.alerts().filter { $0.kind == Alert.clockAhead }.count == 1)
        }
    }

    @Test(arguments: Backend.allCases)
    func aWriteOutsideTheDevicesScopeIsRefusedWithTheResultsInTheError(_ backend: Backend) async throws {
        try await withServer(backend) { server in
            let alice = TestDevice(now: { server.clock.now }), bob = TestDevice(now: { server.clock.now })
            _ = try await server.core.enrol(alice)
            _ = try await server.core.enrol(bob)
            let (account, enroll) = try alice.enroll(7)
            _ = try await server.core.push(try alice.push([enroll])).answers
            let (_, bobsEnrol) = try bob.enroll(8)
            let (_, intruding) = try bob.deposit(account.id)
            do {
                _ = try await server.core.push(try bob.push([bobsEnrol, intruding])).answers
                Issue.record("a write outside the scope was accepted")
            } catch let ServerError.pushPartlyForbidden(forbidden, outcome) {
                #expect(forbidden == 1 && outcome.answers.map(\.status) == [.accepted, .rejected])
            }
            // Neither sees the other's records.
            #expect(try await server.core.pullAll(bob).count == 1)
            #expect(try await server.core.pullAll(alice).count == 1)
        }
    }

    @Test(arguments: Backend.allCases)
    func aReplayedRequestAndARequestOutsideTheWindowAreRefused(_ backend: Backend) async throws {
        try await withServer(backend) { server in
            let device = TestDevice(now: { server.clock.now })
            _ = try await server.core.enrol(device)
            let request = try device.request("GET", "/v1/device")
            _ = try await server.core.authenticate(request)
            await #expect(throws: ServerError.replay) { try await server.core.authenticate(request) }
            let late = try device.request("GET", "/v1/device", dateMillis: server.clock.now.millisSinceEpoch - 301_000)
            await #expect(throws: (any Error).self) { try await server.core.authenticate(late) }
            let stranger = TestDevice(now: { server.clock.now })
            await #expect(throws: ServerError.unknownDevice) { try await server.core.authenticate(try stranger.request("GET", "/v1/device")) }
            // A pull records its nonce while it reads (on PostgreSQL, at once): sent again, it is
            // a replay, and so is a pull whose answer was an error the first time.
            let core = server.core
            let pull = try device.request("GET", "/v1/pull", query: "?cursor=0")
            #expect(try await core.answering(pull) { try await core.feedPage(for: $0, request: pull) }.entries.isEmpty)
            await #expect(throws: ServerError.replay) { try await core.answering(pull) { try await core.feedPage(for: $0, request: pull) } }
            let ahead = try device.request("GET", "/v1/pull", query: "?cursor=99")
            await #expect(throws: ServerError.cursorAhead(cursor: 99, head: 0)) {
                try await core.answering(ahead) { try await core.feedPage(for: $0, request: ahead) }
            }
            await #expect(throws: ServerError.replay) { try await core.answering(ahead) { try await core.feedPage(for: $0, request: ahead) } }
        }
    }

    @Test(arguments: Backend.allCases)
    func anEnrolmentWhoseAgreementDisagreesWithThePolicyIsRefusedAsAPolicyError(_ backend: Backend) async throws {
        try await withServer(backend) { server in
            let (worker, account) = try await workerAbout(3, on: server)
            var fields = account.createFields
            var agreement = try #require(fields["agreement"]?.objectValue)
            agreement["monthlyFen"] = .integer(try #require(agreement["monthlyFen"]?.integerValue) + 100)
            fields["agreement"] = .object(agreement)
            let wrong = try worker.enrolling(account, fields: fields)
            let answer = try #require(try await server.core.push(try worker.push([wrong])).answers.first)
            #expect(answer.status == .rejected)
            #expect(answer.code == "policy.agreement_amount")
        }
    }
}

/// A worker's device enrolled on `server`, and the sample account `n` it is about to open.
private func workerAbout(_ n: Int, on server: TestServer) async throws -> (TestDevice, Account) {
    let worker = TestDevice(now: { server.clock.now })
    _ = try await server.core.enrol(worker)
    let account = try #require(Samples.account(n, id: "acc-\(Hex.encode(SecureRandom.bytes(count: 8)))", enrolledOn: server.clock.now.shanghaiDate))
    return (worker, account)
}
