import Foundation
import ProvidentBenchSupport
import ProvidentCrypto
import ProvidentDomain
import ProvidentServerCore
import ProvidentSync
import Testing

/// A device as the protocol describes it: a key, a chain of signed change-sets, and signed
/// requests, built from the spec's building blocks only.
final class TestDevice: @unchecked Sendable {
    let key: SigningKey
    private(set) var sequence: UInt64 = 0
    private(set) var previous = Digest256.zero
    private var clock = HybridLogicalClock()
    let now: @Sendable () -> Instant
    /// The time requests are signed with: the device's clock, or the server's once the device has
    /// learned it (as the real client does after a clock-skew refusal).
    let requestNow: @Sendable () -> Instant

    var id: DeviceID { DeviceID(publicKey: key.publicKey) }

    init(key: SigningKey = .generate(), now: @escaping @Sendable () -> Instant, requestNow: (@Sendable () -> Instant)? = nil) {
        self.key = key
        self.now = now
        self.requestNow = requestNow ?? now
    }

    /// The next change-set of this device's chain.
    func sign(_ action: Action, _ operations: [ProvidentSync.Operation]) throws -> SignedChangeSet {
        let time = clock.tick(now: UInt64(now().millisSinceEpoch))
        let signed = try SignedChangeSet(signing: ChangeSet(device: id, sequence: sequence + 1, previous: previous, time: time,
                                                            action: action.rawValue, operations: operations), with: key)
        sequence += 1
        previous = signed.id
        return signed
    }

    /// Sets the device's clock back, as a device does after a `clock.drift` refusal.
    func rewindClock(to time: HLCTimestamp) {
        clock = HybridLogicalClock(last: time)
    }

    /// Worker `n`'s account, enrolled by this device: the worker's own, or one an outreach
    /// laptop of `branch` opens with a claim code.
    func enroll(_ n: Int, branch: String? = nil, claimCode: ClaimCode? = nil) throws -> (Account, SignedChangeSet) {
        guard var account = Samples.account(n, id: "acc-\(Hex.encode(SecureRandom.bytes(count: 8)))", enrolledOn: now().shanghaiDate) else {
            throw TestFailure("no sample account \(n)")
        }
        if let branch {
            var fields = account.createFields
            fields["channel"] = "outreach"
            fields["branch"] = .string(branch)
            if let claimCode { fields["claimCodeHash"] = .string(claimCode.digest) }
            account = try #require(Account(id: account.id, values: fields))
        }
        return (account, try sign(.accountEnroll, [ProvidentSync.Operation(record: account.recordKey, kind: .create, fields: account.createFields)]))
    }

    /// The enrolment of `account` with these fields (the account's own, or altered).
    func enrolling(_ account: Account, fields: [String: CanonicalValue]) throws -> SignedChangeSet {
        try sign(.accountEnroll, [ProvidentSync.Operation(record: account.recordKey, kind: .create, fields: fields)])
    }

    /// A lump deposit on an account.
    func deposit(_ accountID: String, fen: Int64 = 10_000) throws -> (Deposit, SignedChangeSet) {
        let deposit = Deposit(id: "dep-\(Hex.encode(SecureRandom.bytes(count: 8)))", accountID: accountID, amountFen: fen, kind: .lump,
                              periods: [], method: .bankTransfer, reference: ReferenceCode(randomBytes: SecureRandom.bytes(count: 12)).value,
                              recordedAt: now())
        return (deposit, try sign(.depositRecord, [ProvidentSync.Operation(record: deposit.recordKey, kind: .fact, fields: deposit.fields)]))
    }

    /// A request signed by this device (§11.2), with its device key or, given one, a transport key.
    func request(_ method: String, _ path: String, query: String = "", body: CanonicalValue? = nil, language: Language = .english,
                 nonce: String = Hex.encode(SecureRandom.bytes(count: 16)), dateMillis: Int64? = nil,
                 transport: SigningKey? = nil) throws -> SignedRequest {
        let bytes = try body.map { try CanonicalEncoder.encode($0) } ?? []
        let signature = RequestSignature(method: method, path: path, query: query, device: id, dateMillis: dateMillis ?? requestNow().millisSinceEpoch,
                                         nonce: nonce, body: bytes, signer: transport == nil ? .device : .transport)
        var headers: [String: String] = [:]
        for header in signature.headers(signedWith: transport ?? key) { headers[header.name] = header.value }
        return SignedRequest(method: method, path: path, query: query, headers: headers, body: bytes, language: language, address: "127.0.0.1")
    }

    /// A push request of these change-sets.
    func push(_ changeSets: [SignedChangeSet], at time: Instant? = nil, language: Language = .english) throws -> SignedRequest {
        try request("POST", "/v1/push", body: .object(["changeSets": .array(changeSets.map(\.envelopeValue))]), language: language,
                    dateMillis: time?.millisSinceEpoch)
    }

    /// An enrolment request.
    func enrolment(_ kind: String = "self", code: String? = nil) throws -> SignedRequest {
        var body: [String: CanonicalValue] = ["publicKey": .string(Base64.encode(key.publicKey.bytes)), "enrolment": .string(kind)]
        if let code { body["code"] = .string(code) }
        return try request("POST", "/v1/devices", body: .object(body))
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension ServerCore {
    /// Enrols a test device and returns it as the server knows it.
    func enrol(_ device: TestDevice, _ kind: String = "self", code: String? = nil) async throws -> RegisteredDevice {
        try await enrol(try device.enrolment(kind, code: code))
    }

    /// Every entry of the feed a device may see, pulled page by page.
    func pullAll(_ device: TestDevice, limit: Int = 500) async throws -> [FeedEntry] {
        let known = try #require(try await self.device(device.id))
        var cursor: UInt64 = 0
        var entries: [FeedEntry] = []
        while true {
            let page = try await feedPage(for: known, request: try device.request("GET", "/v1/pull", query: "?cursor=\(cursor)&limit=\(limit)"))
            entries += page.entries
            cursor = page.cursor
            if !page.more { return entries }
        }
    }
}
