import Foundation
import ProvidentCrypto
import ProvidentDomain
import ProvidentServerCore
import ProvidentSync
import Testing

/// The transport key (sync-protocol.md §5.1): certified by the device key, it signs the requests
/// that sync and nothing else.
@Suite struct TransportKeyTests {
    static func delegation(_ transport: SigningKey, by device: TestDevice) throws -> CanonicalValue {
        try TransportDelegation(transportKey: transport.publicKey, issuedAt: device.now().millisSinceEpoch, signingWith: device.key).envelopeValue
    }

    @Test(arguments: Backend.allCases)
    func aRegisteredTransportKeySyncsAndDoesNothingElse(_ backend: Backend) async throws {
        try await withServer(backend) { server in
            let device = TestDevice(now: { server.clock.now })
            _ = try await server.core.enrol(device)
            let transport = SigningKey.generate()
            let (account, enroll) = try device.enroll(1)

            // Before it is registered, a request it signs is refused as such.
            await #expect(throws: ServerError.transportUnknown) {
                try await server.core.authenticate(try device.request("GET", "/v1/device", transport: transport))
            }
            // Registering needs the device key: the transport key cannot register itself (or another).
            let body = try Self.delegation(transport, by: device)
            await #expect(throws: ServerError.transportNotAllowed) {
                try await server.core.registerTransport(try device.request("POST", "/v1/device/transport", body: body, transport: transport))
            }
            let registered = try await server.core.registerTransport(try device.request("POST", "/v1/device/transport", body: body))
            #expect(registered.transportKey == transport.publicKey && registered.device == device.id)

            // Now it pushes change-sets the device key signed, and pulls.
            let answers = try await server.core.push(try device.request("POST", "/v1/push", body: .object(["changeSets": .array([enroll.envelopeValue])]),
                                                                        transport: transport)).answers
            #expect(answers.map(\.status) == [.accepted])
            let known = try #require(try await server.core.device(device.id))
            let page = try await server.core.feedPage(for: known, request: try device.request("GET", "/v1/pull", query: "?cursor=0&limit=10",
                                                                                                transport: transport))
            #expect(page.entries.count == 1)

            // A change-set signed by the transport key is not the device's.
            let (_, deposit) = try device.deposit(account.id)
            let forged = try SignedChangeSet(bytes: deposit.bytes, signature: transport.signature(for: deposit.bytes).bytes)
            await #expect(throws: ServerError.changeSetRefused(.badSignature, index: 0)) {
                try await server.core.push(try device.request("POST", "/v1/push", body: .object(["changeSets": .array([forged.envelopeValue])]),
                                                              transport: transport)).answers
            }

            // A new transport key replaces the old one.
            let next = SigningKey.generate()
            _ = try await server.core.registerTransport(try device.request("POST", "/v1/device/transport", body: try Self.delegation(next, by: device)))
            await #expect(throws: ServerError.transportUnknown) {
                try await server.core.authenticate(try device.request("GET", "/v1/device", transport: transport))
            }
            _ = try await server.core.authenticate(try device.request("GET", "/v1/device", transport: next))

            // Revoking the device revokes its transport key.
            try await server.core.revoke(device.id, reason: "laptop stolen")
            await #expect(throws: ServerError.deviceRevoked) {
                try await server.core.authenticate(try device.request("GET", "/v1/device", transport: next))
            }
        }
    }

    @Test(arguments: Backend.allCases)
    func aDelegationForAnotherDeviceOrNotSignedByItIsRefused(_ backend: Backend) async throws {
        try await withServer(backend) { server in
            let device = TestDevice(now: { server.clock.now }), other = TestDevice(now: { server.clock.now })
            _ = try await server.core.enrol(device)
            _ = try await server.core.enrol(other)
            let transport = SigningKey.generate()
            // The other device's delegation, sent by this one: not signed by this device's key.
            await #expect(throws: SyncError.badSignature) {
                try await server.core.registerTransport(try device.request("POST", "/v1/device/transport", body: try Self.delegation(transport, by: other)))
            }
            // Signed by this device's key, but naming the other device.
            let naming: CanonicalValue = .object(["device": .string(other.id.rawValue), "issuedAt": 1, "purpose": "provident-transport",
                                                  "transportKey": .string(Base64.encode(transport.publicKey.bytes))])
            let namingBytes = try CanonicalEncoder.encode(naming)
            let misnamed: CanonicalValue = .object(["delegation": .string(Base64.encode(namingBytes)),
                                                    "signature": .string(Base64.encode(device.key.signature(for: namingBytes).bytes))])
            await #expect(throws: SyncError.invalidField(path: "delegation.device", reason: Reason("is not the id of the signing device", ""))) {
                try await server.core.registerTransport(try device.request("POST", "/v1/device/transport", body: misnamed))
            }
            // This device's delegation with a signature that is not its own.
            let genuine = try TransportDelegation(transportKey: transport.publicKey, issuedAt: 1, signingWith: device.key)
            let tampered: CanonicalValue = .object(["delegation": .string(Base64.encode(genuine.bytes)),
                                                    "signature": .string(Base64.encode(other.key.signature(for: genuine.bytes).bytes))])
            await #expect(throws: SyncError.badSignature) {
                try await server.core.registerTransport(try device.request("POST", "/v1/device/transport", body: tampered))
            }
            #expect(try await server.core.store.read { try await $0.transportKey(of: device.id) } == nil)
        }
    }
}
