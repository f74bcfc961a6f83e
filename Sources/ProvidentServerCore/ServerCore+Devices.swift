import ProvidentCrypto
import ProvidentDomain
import ProvidentSync

extension ServerCore {
    /// How a device asks to enrol.
    public enum Enrolment: Sendable {
        /// A worker's own device, alone.
        case selfService
        /// A staff device with an invite code.
        case invite(ClaimCode)
        /// A worker's device claiming the account outreach staff opened for them.
        case claim(ClaimCode)
    }

    /// Answers an enrolment request (§11.3): signed by the key being enrolled (proof of
    /// possession). Enrolling the same key again gives the same device, so a lost answer is safe
    /// to retry; a revoked or quarantined device stays refused. Self-enrolments and claims are
    /// limited per source address.
    public func enrol(_ request: SignedRequest) async throws -> RegisteredDevice {
        let value = try Self.canonicalBody(request)
        let l = request.language
        guard let object = value.objectValue, let keyText = object["publicKey"]?.stringValue,
              let keyBytes = Base64.decode(keyText), let publicKey = try? PublicKey(bytes: keyBytes),
              let kind = object["enrolment"]?.stringValue, Set(object.keys).isSubset(of: ["publicKey", "enrolment", "code"]) else {
            throw ServerError.malformedRequest(l.pick("the enrolment must give publicKey (base64), enrolment and, for invite or claim, code.",
                                                      "注册请求须给出 publicKey（base64）、enrolment，邀请或认领时还须给出 code。"))
        }
        let (signed, signature) = try Self.readSignature(request)
        guard signed.device == DeviceID(publicKey: publicKey) else { throw ServerError.badRequestSignature }
        try check(signed, signature, publicKey: publicKey)
        let enrolment: Enrolment
        switch kind {
        case "self":
            enrolment = .selfService
        case "invite", "claim":
            guard let code = object["code"]?.stringValue, let parsed = try? ClaimCode(code) else {
                throw kind == "invite" ? ServerError.inviteUnknown : DomainError.claimCodeInvalid
            }
            enrolment = kind == "invite" ? .invite(parsed) : .claim(parsed)
        default:
            throw ServerError.malformedRequest(l.pick("enrolment must be self, invite or claim.", "enrolment 须为 self、invite 或 claim。"))
        }
        let id = DeviceID(publicKey: publicKey)
        let now = clock()
        let expires = nonceExpiry(now)
        let window = Instant(millisSinceEpoch: now.millisSinceEpoch - 3_600_000)
        let limit = settings.selfEnrolmentsPerHour
        // The nonce and the attempt are kept even when the enrolment is refused, so guessing
        // claim codes is limited like anything else.
        let known: RegisteredDevice? = try await store.write { tx in
            guard try await tx.useNonce(signed.nonce, device: id, expiresAt: expires) else { throw ServerError.replay }
            if let existing = try await tx.device(id) { return existing }
            if case .invite = enrolment { return nil }
            let (count, oldest) = try await tx.attempts(bucket: "enrol", address: request.address, since: window)
            if count >= limit {
                let wait = Int(((oldest ?? now).millisSinceEpoch + 3_600_000 - now.millisSinceEpoch) / 1_000) + 1
                throw ServerError.rateLimited(retryAfterSeconds: max(1, wait))
            }
            try await tx.addAttempt(bucket: "enrol", address: request.address, at: now)
            return nil
        }
        if let known {
            switch known.status {
            case .revoked: throw ServerError.deviceRevoked
            case .quarantined: throw ServerError.deviceQuarantined
            case .active: return known
            }
        }
        let device = try await store.write { tx in
            if let existing = try await tx.device(id) { return existing }
            var grant = DeviceGrant(role: .selfService)
            var via = "self"
            switch enrolment {
            case .selfService:
                break
            case let .invite(code):
                let digest = Self.inviteDigest(code)
                guard let invite = try await tx.invite(codeDigest: digest) else { throw ServerError.inviteUnknown }
                guard invite.usedBy == nil else { throw ServerError.inviteUsed }
                guard invite.expiresAt > now else { throw ServerError.inviteExpired }
                guard try await tx.useInvite(codeDigest: digest, by: id, at: now) else { throw ServerError.inviteUsed }
                grant = DeviceGrant(role: invite.role, branch: invite.branch)
                via = "invite:" + invite.id
            case let .claim(code):
                guard let (account, claimedBy) = try await tx.claimableAccount(codeDigest: code.digest) else { throw ServerError.claimUnknown }
                guard claimedBy == nil, try await tx.claim(account: account, by: id, at: now) else { throw ServerError.claimUsed }
                grant.accountID = account
                via = "claim"
            }
            let device = RegisteredDevice(id: id, publicKey: publicKey, grant: grant, enrolledAt: now, enrolledVia: via)
            try await tx.addDevice(device)
            return device
        }
        logger.info("device enrolled", metadata: ["sync.device": .string(device.id.rawValue), "sync.role": .string(device.grant.role.rawValue)])
        return device
    }

    /// Registers a device's transport key (sync-protocol.md §5.1): the request is signed by the
    /// device key, and the body is a delegation the device key signed for this device. It
    /// replaces the transport key the device had.
    public func registerTransport(_ request: SignedRequest) async throws -> TransportDelegation {
        let value = try Self.canonicalBody(request)
        let (device, _) = try await authenticate(request, allowTransport: false)
        let delegation = try TransportDelegation(envelope: value, devicePublicKey: device.publicKey)
        let now = clock()
        try await store.write { tx in try await tx.setTransportKey(delegation, at: now) }
        logger.info("transport key registered", metadata: ["sync.device": .string(device.id.rawValue)])
        return delegation
    }

    static func inviteDigest(_ code: ClaimCode) -> [UInt8] {
        BLAKE2b.hash(Array(("provident-invite:" + code.value).utf8), outputLength: 32)
    }

    /// Makes a one-time invite for a staff device; returns its id and the code to hand over.
    public func createInvite(role: DeviceRole, branch: String?, validFor seconds: Int64) async throws -> (id: String, code: ClaimCode) {
        let code = ClaimCode(randomBytes: SecureRandom.bytes(count: 12))
        let now = clock()
        let invite = Invite(id: "inv-" + Hex.encode(SecureRandom.bytes(count: 4)), role: role, branch: branch,
                            expiresAt: Instant(millisSinceEpoch: now.millisSinceEpoch + seconds * 1_000))
        try await store.write { tx in try await tx.addInvite(invite, codeDigest: Self.inviteDigest(code), createdAt: now) }
        return (invite.id, code)
    }

    /// Every known device, most recently enrolled first.
    public func devices() async throws -> [RegisteredDevice] {
        try await store.read { try await $0.devices() }
    }

    /// The device with this id, if known.
    public func device(_ id: DeviceID) async throws -> RegisteredDevice? {
        try await store.read { try await $0.device(id) }
    }

    /// Invites, newest first.
    public func invites() async throws -> [Invite] {
        try await store.read { try await $0.invites() }
    }

    /// Alerts for the office, newest first.
    public func alerts() async throws -> [Alert] {
        try await store.read { try await $0.alerts() }
    }

    /// Stops a device for good.
    public func revoke(_ id: DeviceID, reason: String) async throws {
        try await store.write { tx in
            guard try await tx.device(id) != nil else { throw ServerError.unknownDevice }
            try await tx.setStatus(of: id, .revoked, reason: reason)
        }
    }

    /// Stops a device that forked its history, and tells the office.
    public func quarantine(_ id: DeviceID, reason: String) async throws {
        let now = clock()
        try await store.write { tx in
            guard try await tx.device(id) != nil else { throw ServerError.unknownDevice }
            try await tx.setStatus(of: id, .quarantined, reason: reason)
            try await tx.addAlert(Alert(kind: Alert.fork, device: id, detail: reason, at: now))
        }
    }

    /// Forgets expired nonces, sessions and rate-limit counts: run regularly by the serving process.
    public func prune() async throws {
        let now = clock()
        try await store.write { tx in
            try await tx.pruneNonces(before: now)
            try await tx.pruneSessions(before: now)
            try await tx.pruneAttempts(before: Instant(millisSinceEpoch: now.millisSinceEpoch - 3_600_000))
        }
    }
}
