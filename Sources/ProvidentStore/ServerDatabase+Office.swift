import Foundation
import GRDB
import ProvidentCrypto
import ProvidentDomain

/// A signed-in dashboard session.
public struct OfficeSession: Sendable {
    public let userName: String
    /// The token every form of the session carries (CSRF protection).
    public let csrfToken: String
    public let language: Language
    public let expiresAtMillis: Int64
}

/// Why an office user cannot be added or removed.
public enum OfficeUserError: Error, Hashable, Sendable {
    case nameInvalid
    case exists(String)
    case unknown(String)
    case passwordTooShort(minimum: Int)

    public func message(_ l: Language) -> String {
        switch self {
        case .nameInvalid:
            l.pick("A user name is 1–32 letters, digits, “.”, “_” or “-”.", "用户名为 1–32 个字母、数字、“.”、“_”或“-”。")
        case let .exists(name):
            l.pick("There is already a user \(name).", "已有用户 \(name)。")
        case let .unknown(name):
            l.pick("There is no user \(name).", "没有用户 \(name)。")
        case let .passwordTooShort(minimum):
            l.pick("The password must have at least \(minimum) characters.", "密码至少需要 \(minimum) 个字符。")
        }
    }
}

extension ServerDatabase {
    public static func isValidUserName(_ name: String) -> Bool {
        (1...32).contains(name.count) && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-" }
    }

    /// Adds a person who may sign in to the dashboard, with an Argon2id hash of the password.
    public func addOfficeUser(_ name: String, password: SecretBytes, now: Instant) async throws {
        guard Self.isValidUserName(name) else { throw OfficeUserError.nameInvalid }
        guard password.count >= PasswordHash.minimumLength else { throw OfficeUserError.passwordTooShort(minimum: PasswordHash.minimumLength) }
        let hash = try PasswordHash.make(password)
        try await replica.asyncWrite { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM office_users WHERE name = ?", arguments: [name]) != true else {
                throw OfficeUserError.exists(name)
            }
            try db.execute(sql: "INSERT INTO office_users (name, password_hash, created_at) VALUES (?, ?, ?)",
                           arguments: [name, hash, now.utcISO])
        }
    }

    /// Removes a user and ends their sessions.
    public func removeOfficeUser(_ name: String) async throws {
        try await replica.asyncWrite { db in
            try db.execute(sql: "DELETE FROM office_users WHERE name = ?", arguments: [name])
            guard db.changesCount == 1 else { throw OfficeUserError.unknown(name) }
            try db.execute(sql: "DELETE FROM office_sessions WHERE user_name = ?", arguments: [name])
        }
    }

    /// The users, by name, with when they were added.
    public func officeUsers() throws -> [(name: String, createdAt: String)] {
        try replica.reading { reader in
            try Row.fetchAll(reader.db, sql: "SELECT name, created_at FROM office_users ORDER BY name").map { ($0["name"], $0["created_at"]) }
        }
    }

    /// Checks a name and password; the same work whether the name is unknown or the password wrong.
    public func verifyOfficeUser(_ name: String, password: SecretBytes) throws -> Bool {
        let hash = try replica.reading { reader in
            try String.fetchOne(reader.db, sql: "SELECT password_hash FROM office_users WHERE name = ?", arguments: [name])
        }
        let matches = PasswordHash.verify(password, against: hash ?? PasswordHash.decoy)
        return hash != nil && matches
    }

    /// Starts a session: returns the token for the cookie (only its digest is kept) and the session.
    public func startSession(user: String, language: Language, lifetimeMillis: Int64, now: Instant) async throws -> (token: String, session: OfficeSession) {
        let token = Hex.encode(SecureRandom.bytes(count: 32))
        let session = OfficeSession(userName: user, csrfToken: Hex.encode(SecureRandom.bytes(count: 32)), language: language,
                                    expiresAtMillis: now.millisSinceEpoch + lifetimeMillis)
        try await replica.asyncWrite { db in
            try db.execute(sql: "DELETE FROM office_sessions WHERE expires_at < ?", arguments: [now.millisSinceEpoch])
            try db.execute(sql: """
                INSERT INTO office_sessions (token_digest, user_name, csrf_token, language, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [Self.digest(token), user, session.csrfToken, language.rawValue, now.millisSinceEpoch, session.expiresAtMillis])
        }
        return (token, session)
    }

    /// The live session a cookie's token names, if any.
    public func session(token: String, now: Instant) throws -> OfficeSession? {
        try replica.reading { reader in
            try Row.fetchOne(reader.db, sql: """
                SELECT s.* FROM office_sessions s JOIN office_users u ON u.name = s.user_name WHERE s.token_digest = ? AND s.expires_at >= ?
                """, arguments: [Self.digest(token), now.millisSinceEpoch]).map { row in
                OfficeSession(userName: row["user_name"], csrfToken: row["csrf_token"],
                              language: Language(rawValue: row["language"]) ?? .chinese, expiresAtMillis: row["expires_at"])
            }
        }
    }

    /// Changes a session's language.
    public func setSessionLanguage(token: String, _ language: Language) async throws {
        try await replica.asyncWrite { db in
            try db.execute(sql: "UPDATE office_sessions SET language = ? WHERE token_digest = ?", arguments: [language.rawValue, Self.digest(token)])
        }
    }

    /// Ends a session.
    public func endSession(token: String) async throws {
        try await replica.asyncWrite { db in
            try db.execute(sql: "DELETE FROM office_sessions WHERE token_digest = ?", arguments: [Self.digest(token)])
        }
    }

    static func digest(_ token: String) -> String {
        Hex.encode(BLAKE2b.hash(Array(token.utf8), outputLength: 32))
    }
}
