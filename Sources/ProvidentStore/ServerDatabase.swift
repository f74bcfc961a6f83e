import Foundation
import GRDB
import ProvidentCrypto
import ProvidentDomain
import ProvidentSync

/// A device the server knows.
public struct RegisteredDevice: Hashable, Sendable {
    /// Whether the device may sync.
    public enum Status: String, Hashable, Sendable {
        case active
        /// Revoked by the office.
        case revoked
        /// Stopped by the server after it signed two different change-sets for one sequence number.
        case quarantined
    }

    public let id: DeviceID
    public let publicKey: PublicKey
    public let grant: DeviceGrant
    public let status: Status
    public let statusReason: String?
    public let enrolledAt: Instant
    /// How it enrolled: `self`, `invite:<id>`, `claim`, or `server` for the server itself.
    public let enrolledVia: String
    public let lastSeenAt: Instant?
}

/// A one-time enrolment code for a staff device.
public struct Invite: Hashable, Sendable {
    public let id: String
    public let role: DeviceRole
    public let branch: String?
    public let expiresAt: Instant
    public let usedBy: DeviceID?
}

/// Something the office should look at: a device quarantined for a fork, for one.
public struct Alert: Hashable, Sendable {
    public let kind: String
    public let device: DeviceID?
    public let detail: String
    public let at: Instant
}

/// Why a whole push was refused: nothing of it was applied.
public enum PushRefusal: Error, Hashable, Sendable {
    /// Change-sets are missing before the one at `index`; the device should send `expected` next.
    case gap(expected: UInt64, index: Int)
    /// The change-set at `index` differs from the one already accepted for its sequence number.
    case fork(sequence: UInt64, index: Int)
    /// The change-set at `index` is not later than the device's previous one.
    case clockRegression(index: Int)
    /// The change-set at `index` was made by another device.
    case foreignDevice(index: Int)
}

/// The server's answer for one change-set of a push.
public struct PushAnswer: Hashable, Sendable {
    public enum Status: String, Hashable, Sendable {
        case accepted
        /// Already received: acknowledged again, with the answer it got then.
        case duplicate
        case rejected
    }

    public let id: ChangeSetID
    public let sequence: UInt64
    public let status: Status
    /// For a duplicate, whether it had been accepted.
    public let accepted: Bool
    public let code: String?
    public let message: String?
}

/// One position of the feed.
public struct FeedEntry: Sendable {
    public enum Content: Sendable {
        /// A device's change-set, as it signed it, with the author's public key.
        case changeSet(bytes: [UInt8], signature: [UInt8], author: PublicKey)
        /// A document signed by the server.
        case document(bytes: [UInt8], signature: [UInt8])
    }

    public let position: UInt64
    public let content: Content
}

/// Failures of server administration and enrolment that callers report to people.
public enum ServerError: Error, Hashable, Sendable {
    case inviteUnknown
    case inviteExpired
    case inviteUsed
    case claimUnknown
    case claimUsed
    case deviceRevoked
    case deviceQuarantined
    case unknownDevice
    case conflictUnknown
    case keyFileProblem(String)
    /// A request's nonce was already used: a replay.
    case replay

    public var code: String {
        switch self {
        case .inviteUnknown: "enrol.invite_unknown"
        case .inviteExpired: "enrol.invite_expired"
        case .inviteUsed: "enrol.invite_used"
        case .claimUnknown: "enrol.claim_unknown"
        case .claimUsed: "enrol.claim_used"
        case .deviceRevoked: "device.revoked"
        case .deviceQuarantined: "device.quarantined"
        case .unknownDevice: "device.unknown"
        case .conflictUnknown: "conflict.unknown"
        case .keyFileProblem: "server.key_file"
        case .replay: "auth.replay"
        }
    }

    public func message(_ l: Language) -> String {
        switch self {
        case .inviteUnknown:
            l.pick("The invite code is not known; check it, or ask the office for a new one.", "邀请码无效;请核对,或向中心申请新的邀请码。")
        case .inviteExpired:
            l.pick("The invite code has expired; ask the office for a new one.", "邀请码已过期;请向中心申请新的邀请码。")
        case .inviteUsed:
            l.pick("The invite code was already used by another device; ask the office for a new one.", "邀请码已被其他设备使用;请向中心申请新的邀请码。")
        case .claimUnknown:
            l.pick("No account waits for this claim code; check it against the slip from the outreach visit.",
                   "没有与此认领码对应的账户;请对照外勤人员给您的凭条核对。")
        case .claimUsed:
            l.pick("This account was already claimed by another device; ask the office if that was not you.",
                   "该账户已被其他设备认领;如非本人操作,请联系中心。")
        case .deviceRevoked:
            l.pick("This device has been revoked by the office; it can no longer sync. Ask the office.", "本设备已被中心停用,不能再同步;请联系中心。")
        case .deviceQuarantined:
            l.pick("This device has been stopped: it sent two different changes with one sequence number (its data was restored from an old copy?). Ask the office.",
                   "本设备已被暂停:它对同一序号发送了两项不同的更改(数据是否从旧备份恢复?)。请联系中心。")
        case .unknownDevice:
            l.pick("The server does not know this device; enrol it again.", "服务器不认识本设备;请重新注册。")
        case .conflictUnknown:
            l.pick("No conflict with this id.", "没有此 ID 的冲突。")
        case let .keyFileProblem(detail):
            l.pick("The server key file cannot be used: \(detail).", "服务器密钥文件无法使用:\(detail)。")
        case .replay:
            l.pick("This request was already received (same nonce); a replay is refused.", "该请求已收到过(相同随机数);重放请求被拒绝。")
        }
    }
}

/// The server's database: a replica of everything (the same records, conflicts and read models
/// devices keep) plus the devices it knows, the log of every change-set pushed, and the feed
/// devices pull from.
public final class ServerDatabase: Sendable {
    public let replica: ReplicaDatabase
    /// The server's own key: it signs documents and the office's conflict resolutions.
    public let key: SigningKey
    public let id: DeviceID

    /// The connection that copies the write-ahead log into the database while the writer goes
    /// on, when the server checkpoints in the background.
    let checkpointer: DatabaseQueue?

    private init(replica: ReplicaDatabase, key: SigningKey, checkpointer: DatabaseQueue?) {
        self.replica = replica
        self.key = key
        self.checkpointer = checkpointer
        id = DeviceID(publicKey: key.publicKey)
    }

    /// Opens (creating if needed) the server database at `path` with the server's key. With
    /// `backgroundCheckpoints`, `checkpoint()` copies the log into the database from a
    /// connection of its own, so the writer's checkpoints on commit find little left to copy;
    /// the serving process calls it regularly.
    public static func open(path: String, key: SigningKey, now: Instant, backgroundCheckpoints: Bool = false) throws -> ServerDatabase {
        let replica = try ReplicaDatabase.connect(path: path, migrator: ServerSchema.migrator, pool: true)
        var checkpointer: DatabaseQueue?
        if backgroundCheckpoints {
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            checkpointer = try DatabaseQueue(path: path, configuration: configuration)
        }
        let server = ServerDatabase(replica: replica, key: key, checkpointer: checkpointer)
        try replica.write { db in
            if let existing = try String.fetchOne(db, sql: "SELECT device_id FROM device WHERE singleton = 1") {
                guard existing == server.id.rawValue else {
                    throw ServerError.keyFileProblem("it does not belong to this database (device \(existing))")
                }
                return
            }
            try db.execute(sql: """
                INSERT INTO device (singleton, device_id, public_key, role, sequence, last_change_set, hlc, created_at, registered)
                VALUES (1, ?, ?, 'office', 0, ?, 0, ?, 1)
                """, arguments: [server.id.rawValue, Data(key.publicKey.bytes), Data(Digest256.zero.bytes), now.utcISO])
            try db.execute(sql: """
                INSERT INTO server_devices (device_id, public_key, role, enrolled_at, enrolled_via) VALUES (?, ?, 'office', ?, 'server')
                """, arguments: [server.id.rawValue, Data(key.publicKey.bytes), now.utcISO])
        }
        return server
    }

    /// Copies what it can of the write-ahead log into the database without waiting for readers
    /// or the writer (a passive checkpoint); returns the log's frames and those copied.
    @discardableResult
    public func checkpoint() throws -> (logFrames: Int, copied: Int) {
        guard let checkpointer else { return (0, 0) }
        return try checkpointer.writeWithoutTransaction { db in
            let result = try db.checkpoint(.passive)
            return (result.walFrameCount, result.checkpointedFrameCount)
        }
    }

    // MARK: Devices

    /// The device with this id, if known.
    public func device(_ id: DeviceID) async throws -> RegisteredDevice? {
        try await replica.asyncRead { db in try Self.device(db, id) }
    }

    /// Every known device, most recently enrolled first.
    public func devices() async throws -> [RegisteredDevice] {
        try await replica.asyncRead { db in
            try Row.fetchAll(db, sql: "SELECT * FROM server_devices ORDER BY enrolled_at DESC, device_id").compactMap(Self.device)
        }
    }

    static func device(_ db: Database, _ id: DeviceID) throws -> RegisteredDevice? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM server_devices WHERE device_id = ?"), arguments: [id.rawValue])
            .flatMap(device)
    }

    static func device(_ row: Row) -> RegisteredDevice? {
        let key: Data = row["public_key"]
        let seen: String? = row["last_seen_at"]
        guard let id = DeviceID(row["device_id"]), let publicKey = try? PublicKey(bytes: Array(key)),
              let role = DeviceRole(rawValue: row["role"]), let status = RegisteredDevice.Status(rawValue: row["status"]),
              let enrolled = Instant(utcISO: row["enrolled_at"]) else { return nil }
        return RegisteredDevice(id: id, publicKey: publicKey,
                                grant: DeviceGrant(role: role, branch: row["branch"], accountID: row["account_id"]),
                                status: status, statusReason: row["status_reason"], enrolledAt: enrolled,
                                enrolledVia: row["enrolled_via"], lastSeenAt: seen.flatMap(Instant.init(utcISO:)))
    }

    /// Makes a one-time invite for a staff device; returns its id and the code to hand over.
    public func createInvite(role: DeviceRole, branch: String?, validFor seconds: Int64, now: Instant) async throws -> (id: String, code: ClaimCode) {
        let code = ClaimCode(randomBytes: SecureRandom.bytes(count: 12))
        let id = "inv-" + Hex.encode(SecureRandom.bytes(count: 4))
        try await replica.asyncWrite { db in
            try db.execute(sql: """
                INSERT INTO invites (id, code_hash, role, branch, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [id, Data(Self.inviteHash(code)), role.rawValue, branch, now.utcISO,
                                 Instant(millisSinceEpoch: now.millisSinceEpoch + seconds * 1_000).utcISO])
        }
        return (id, code)
    }

    /// Invites not yet used, and used ones, newest first.
    public func invites() async throws -> [Invite] {
        try await replica.asyncRead { db in
            try Row.fetchAll(db, sql: "SELECT * FROM invites ORDER BY created_at DESC").compactMap { row in
                guard let role = DeviceRole(rawValue: row["role"]), let expires = Instant(utcISO: row["expires_at"]) else { return nil }
                let usedBy: String? = row["used_by"]
                return Invite(id: row["id"], role: role, branch: row["branch"], expiresAt: expires, usedBy: usedBy.flatMap(DeviceID.init))
            }
        }
    }

    static func inviteHash(_ code: ClaimCode) -> [UInt8] {
        BLAKE2b.hash(Array(("provident-invite:" + code.value).utf8), outputLength: 32)
    }

    /// How a device asks to enrol.
    public enum Enrolment: Sendable {
        /// A worker's own device, alone.
        case selfService
        /// A staff device with an invite code.
        case invite(ClaimCode)
        /// A worker's device claiming the account outreach staff opened for them.
        case claim(ClaimCode)
    }

    /// Enrols a device holding `publicKey`. Enrolling the same key again gives the same device
    /// (a lost answer is safe to retry); a revoked or quarantined device stays refused.
    public func enrol(publicKey: PublicKey, as enrolment: Enrolment, now: Instant) async throws -> RegisteredDevice {
        let id = DeviceID(publicKey: publicKey)
        return try await replica.asyncWrite { db in
            if let existing = try Self.device(db, id) {
                switch existing.status {
                case .revoked: throw ServerError.deviceRevoked
                case .quarantined: throw ServerError.deviceQuarantined
                case .active: return existing
                }
            }
            var role = DeviceRole.selfService, branch: String?, account: String?, via = "self"
            switch enrolment {
            case .selfService:
                break
            case let .invite(code):
                guard let row = try Row.fetchOne(db, sql: "SELECT * FROM invites WHERE code_hash = ?",
                                                 arguments: [Data(Self.inviteHash(code))]) else { throw ServerError.inviteUnknown }
                let usedBy: String? = row["used_by"]
                guard usedBy == nil else { throw ServerError.inviteUsed }
                guard let expires = Instant(utcISO: row["expires_at"]), expires > now else { throw ServerError.inviteExpired }
                role = DeviceRole(rawValue: row["role"]) ?? .field
                branch = row["branch"]
                via = "invite:" + (row["id"] as String)
                try db.execute(sql: "UPDATE invites SET used_by = ?, used_at = ? WHERE code_hash = ?",
                               arguments: [id.rawValue, now.utcISO, Data(Self.inviteHash(code))])
            case let .claim(code):
                guard let accountID = try String.fetchOne(db, sql: "SELECT id FROM accounts WHERE claim_code_hash = ?",
                                                          arguments: [code.digest]) else { throw ServerError.claimUnknown }
                guard try String.fetchOne(db, sql: "SELECT device_id FROM claims WHERE account_id = ?", arguments: [accountID]) == nil else {
                    throw ServerError.claimUsed
                }
                try db.execute(sql: "INSERT INTO claims (account_id, device_id, claimed_at) VALUES (?, ?, ?)",
                               arguments: [accountID, id.rawValue, now.utcISO])
                account = accountID
                via = "claim"
            }
            try db.execute(sql: """
                INSERT INTO server_devices (device_id, public_key, role, branch, account_id, enrolled_at, enrolled_via)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [id.rawValue, Data(publicKey.bytes), role.rawValue, branch, account, now.utcISO, via])
            guard let device = try Self.device(db, id) else { throw ServerError.unknownDevice }
            return device
        }
    }

    /// Stops a device for good.
    public func revoke(_ id: DeviceID, reason: String, now: Instant) async throws {
        try await setStatus(id, .revoked, reason: reason, now: now)
    }

    /// Stops a device that forked its history, and tells the office.
    public func quarantine(_ id: DeviceID, reason: String, now: Instant) async throws {
        try await setStatus(id, .quarantined, reason: reason, now: now)
        try await replica.asyncWrite { db in
            try db.execute(sql: "INSERT INTO alerts (kind, device, detail, at) VALUES ('fork', ?, ?, ?)",
                           arguments: [id.rawValue, reason, now.utcISO])
        }
    }

    private func setStatus(_ id: DeviceID, _ status: RegisteredDevice.Status, reason: String, now: Instant) async throws {
        try await replica.asyncWrite { db in
            guard try Self.device(db, id) != nil else { throw ServerError.unknownDevice }
            try db.execute(sql: "UPDATE server_devices SET status = ?, status_reason = ? WHERE device_id = ?",
                           arguments: [status.rawValue, reason, id.rawValue])
        }
    }

    /// Alerts for the office, newest first.
    public func alerts() async throws -> [Alert] {
        try await replica.asyncRead { db in
            try Row.fetchAll(db, sql: "SELECT * FROM alerts ORDER BY id DESC").compactMap { row in
                guard let at = Instant(utcISO: row["at"]) else { return nil }
                let device: String? = row["device"]
                return Alert(kind: row["kind"], device: device.flatMap(DeviceID.init), detail: row["detail"], at: at)
            }
        }
    }

    /// Records a request's nonce; false if the device already used it (a replay). Expired
    /// nonces are pruned as they go, and the device's last-seen time is updated.
    public func useNonce(_ nonce: String, device: DeviceID, expiresAtMillis: Int64, nowMillis: Int64) async throws -> Bool {
        try await replica.asyncWrite { db in
            try Self.recordNonce(nonce, device: device, expiresAtMillis: expiresAtMillis, nowMillis: nowMillis, in: db)
        }
    }
}
