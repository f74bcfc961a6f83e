import Foundation
import ProvidentBenchSupport
import ProvidentCrypto
import ProvidentDomain
import ProvidentServerCore
import ProvidentSync
import Testing

@Suite struct EnrolmentTests {
    @Test(arguments: Backend.allCases)
    func anInviteEnrolsOneStaffDeviceBeforeItExpires(_ backend: Backend) async throws {
        try await withServer(backend) { server in
            let (_, code) = try await server.core.createInvite(role: .field, branch: "西工区", validFor: 3_600)
            let laptop = TestDevice(now: { server.clock.now })
            let enrolled = try await server.core.enrol(laptop, "invite", code: code.value)
            #expect(enrolled.grant == DeviceGrant(role: .field, branch: "西工区"))
            // The same key again is the same device; another key cannot use the code.
            #expect(try await server.core.enrol(laptop, "invite", code: code.value).id == enrolled.id)
            await #expect(throws: ServerError.inviteUsed) { try await server.core.enrol(TestDevice(now: { server.clock.now }), "invite", code: code.value) }
            let (_, expiring) = try await server.core.createInvite(role: .office, branch: nil, validFor: 60)
            server.clock.advance(seconds: 61)
            await #expect(throws: ServerError.inviteExpired) { try await server.core.enrol(TestDevice(now: { server.clock.now }), "invite", code: expiring.value) }
            // A code with a wrong check symbol is an unknown invite, not a claim code problem.
            let mistyped = String(code.value.dropLast()) + (code.value.last == "0" ? "1" : "0")
            await #expect(throws: ServerError.inviteUnknown) { try await server.core.enrol(TestDevice(now: { server.clock.now }), "invite", code: mistyped) }
            #expect(try await server.core.invites().count == 2)
        }
    }

    @Test(arguments: Backend.allCases)
    func aWorkerClaimsTheAccountOutreachStaffOpenedOnce(_ backend: Backend) async throws {
        try await withServer(backend) { server in
            let laptop = try await server.invitedDevice(.field, branch: "涧西区")
            let claim = ClaimCode(randomBytes: SecureRandom.bytes(count: 12))
            // A claim digest not spelled as one (6,000 hex digits, more than PostgreSQL indexes)
            // refuses its enrolment alone, on both databases.
            let long = try #require(Samples.account(31, id: "acc-\(Hex.encode(SecureRandom.bytes(count: 8)))", enrolledOn: server.clock.now.shanghaiDate))
            var fields = long.createFields
            fields["channel"] = "outreach"
            fields["branch"] = "涧西区"
            fields["claimCodeHash"] = .string(Hex.encode(SecureRandom.bytes(count: 3_000)))
            let malformed = try laptop.enrolling(long, fields: fields)
            let (account, enroll) = try laptop.enroll(30, branch: "涧西区", claimCode: claim)
            let answers = try await server.core.push(try laptop.push([malformed, enroll])).answers
            #expect(answers.map(\.status) == [.rejected, .accepted] && answers.first?.code == "record.malformed")
            let worker = TestDevice(now: { server.clock.now })
            let claimed = try await server.core.enrol(worker, "claim", code: claim.description)
            #expect(claimed.grant.accountID == account.id)
            await #expect(throws: ServerError.claimUsed) { try await server.core.enrol(TestDevice(now: { server.clock.now }), "claim", code: claim.value) }
            await #expect(throws: ServerError.claimUnknown) {
                try await server.core.enrol(TestDevice(now: { server.clock.now }), "claim", code: ClaimCode(randomBytes: SecureRandom.bytes(count: 12)).value)
            }
            // The worker's device reads the account the laptop opened.
            #expect(try await server.core.pullAll(worker).count == 1)
        }
    }

    @Test(arguments: Backend.allCases)
    func selfEnrolmentsFromOneAddressAreLimitedAcrossServers(_ backend: Backend) async throws {
        var settings = ServerSettings()
        settings.selfEnrolmentsPerHour = 3
        try await withServer(backend, settings: settings) { first in
            let second = try await first.another()
            for index in 0..<3 { _ = try await (index % 2 == 0 ? first : second).core.enrol(TestDevice(now: { first.clock.now })) }
            do {
                _ = try await second.core.enrol(TestDevice(now: { first.clock.now }))
                Issue.record("a fourth enrolment within the hour was allowed")
            } catch let ServerError.rateLimited(seconds) {
                #expect((3_500...3_601).contains(seconds))
            }
            first.clock.advance(seconds: 3_601)
            _ = try await first.core.enrol(TestDevice(now: { first.clock.now }))
            await second.close()
        }
    }

    /// A signed read is answered for the device as it is when the read comes, not as the server
    /// found it at its last read: on PostgreSQL the answer is read at once with the device, with
    /// the device as last found, and kept only if the device still has that grant.
    @Test(arguments: Backend.allCases)
    func aSignedReadIsAnsweredForTheDeviceAsItIsNow(_ backend: Backend) async throws {
        try await withServer(backend) { server in
            let core = server.core
            let worker = TestDevice(now: { server.clock.now })
            _ = try await core.enrol(worker)
            @Sendable func pull() async throws -> [FeedEntry] {
                let request = try worker.request("GET", "/v1/pull", query: "?cursor=0")
                return try await core.answering(request) { device in try await core.feedPage(for: device, request: request) }.entries
            }
            // No account yet: nothing to read, twice (the second time the device is known).
            #expect(try await pull().isEmpty)
            #expect(try await pull().isEmpty)
            // Its first push binds the account it opens: the next read sees it.
            let (_, enroll) = try worker.enroll(6)
            #expect(try await core.push(try worker.push([enroll])).answers.first?.status == .accepted)
            #expect(try await pull().count == 1)
            #expect(try await pull().count == 1)
            try await core.revoke(worker.id, reason: "phone lost")
            await #expect(throws: ServerError.deviceRevoked) { try await pull() }
        }
    }

    @Test(arguments: Backend.allCases)
    func aRevokedDeviceIsRefusedEverywhere(_ backend: Backend) async throws {
        try await withServer(backend) { server in
            let device = TestDevice(now: { server.clock.now })
            _ = try await server.core.enrol(device)
            try await server.core.revoke(device.id, reason: "laptop stolen")
            await #expect(throws: ServerError.deviceRevoked) { try await server.core.authenticate(try device.request("GET", "/v1/device")) }
            await #expect(throws: ServerError.deviceRevoked) { try await server.core.enrol(device) }
            await #expect(throws: ServerError.unknownDevice) { try await server.core.revoke(TestDevice(now: { server.clock.now }).id, reason: "x") }
        }
    }
}
