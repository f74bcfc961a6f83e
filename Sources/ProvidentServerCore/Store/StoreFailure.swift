import ProvidentSync

/// Why the server's database could not do what was asked. Nothing was changed in any case: a
/// write transaction that fails is rolled back whole. Messages name the cause, never data,
/// passwords or SQL.
public enum StoreFailure: ProvidentError, Hashable {
    /// The location cannot be read: not a path, `sqlite:PATH` or `postgres://USER@HOST:PORT/DB`.
    case badLocation(String)
    /// There is no database there yet.
    case missing(location: String)
    /// The database cannot be reached now (refused, down, restarting): try again shortly.
    case unavailable(location: String)
    /// The database refused the credentials.
    case authentication(location: String)
    /// The database asks for a password and none was given.
    case passwordNeeded(location: String)
    /// The database asks for a way of signing in that this program does not speak.
    case authenticationMethod(location: String)
    /// The file meant to hold the database's password cannot be read.
    case passwordFile(String)
    /// The disk is full.
    case full
    /// The database is read-only (a read-only file system or file, a standby server).
    case readOnly
    /// Another process holds the database for longer than the wait allows.
    case busy
    /// The disk or the file system reported an I/O error.
    case io
    /// The database is damaged, or is not a Provident database.
    case damaged(String)
    /// The database was written by a newer version of Provident.
    case newerSchema(location: String)
    /// The database's schema is older than this version and was not brought up to date.
    case olderSchema(location: String)
    /// The database belongs to another deployment (another server key).
    case otherDeployment(location: String)
    /// Concurrent writers kept colliding; the transaction was retried and gave up.
    case contention
    /// A value given cannot be kept (PostgreSQL: a NUL in a text, or a value too long to index).
    case unstorableValue

    public var code: String {
        switch self {
        case .badLocation: "storage.location"
        case .missing: "storage.missing"
        case .unavailable: "storage.unavailable"
        case .authentication: "storage.authentication"
        case .passwordNeeded: "storage.password_needed"
        case .authenticationMethod: "storage.authentication_method"
        case .passwordFile: "storage.password_file"
        case .full: "storage.full"
        case .readOnly: "storage.read_only"
        case .busy: "storage.busy"
        case .io: "storage.io"
        case .damaged: "storage.damaged"
        case .newerSchema: "storage.newer_schema"
        case .olderSchema: "storage.older_schema"
        case .otherDeployment: "storage.other_deployment"
        case .contention: "storage.contention"
        case .unstorableValue: "storage.unstorable_value"
        }
    }

    public var kind: ErrorKind {
        switch self {
        case .badLocation, .unstorableValue: .invalidInput
        case .missing: .notSetUp
        case .unavailable, .busy, .contention, .readOnly: .unavailable
        case .authentication, .passwordNeeded, .authenticationMethod, .passwordFile: .configuration
        case .full: .storageFull
        case .io, .damaged, .newerSchema, .olderSchema, .otherDeployment: .damaged
        }
    }

    /// How long a client should wait before trying again, when trying again may help.
    public var retryAfterSeconds: Int? {
        switch self {
        case .unavailable, .busy, .contention: 5
        case .full, .readOnly: 60
        default: nil
        }
    }

    public var details: [String: CanonicalValue] {
        retryAfterSeconds.map { ["retryAfterSeconds": .integer(Int64($0))] } ?? [:]
    }

    public func message(_ l: Language) -> String {
        switch self {
        case let .badLocation(text):
            l.pick("“\(text)” is not a database location: give a file path, sqlite:PATH or postgres://USER@HOST:PORT/DB (the password in PGPASSWORD or a file, never on the command line).",
                   "“\(text)”不是有效的数据库位置：请给出文件路径、sqlite:路径 或 postgres://用户@主机:端口/库名（密码放在 PGPASSWORD 或文件中，不要写在命令行上）。")
        case let .missing(location):
            l.pick("There is no Provident database at \(location); start the service once with `provident-server serve`, or give the right --database.",
                   "\(location) 处没有 Provident 数据库；请先运行一次 `provident-server serve`，或用 --database 指定正确的位置。")
        case let .unavailable(location):
            l.pick("The database \(location) cannot be reached now; nothing was changed. Try again shortly.",
                   "暂时无法连接数据库 \(location)；未做任何更改。请稍后再试。")
        case let .authentication(location):
            l.pick("The database \(location) refused the user name or password; check PGPASSWORD or the password file.",
                   "数据库 \(location) 拒绝了用户名或密码；请检查 PGPASSWORD 或密码文件。")
        case let .passwordNeeded(location):
            l.pick("The database \(location) asks for a password and none was given; put it in PGPASSWORD, or in a file named by database.passwordFile (PROVIDENT_DATABASE_PASSWORD_FILE).",
                   "数据库 \(location) 要求密码，但未提供；请把密码放在 PGPASSWORD 中，或放在 database.passwordFile（PROVIDENT_DATABASE_PASSWORD_FILE）指定的文件中。")
        case let .authenticationMethod(location):
            l.pick("The database \(location) asks for a way of signing in that Provident does not support; allow scram-sha-256 or md5 for this user in pg_hba.conf.",
                   "数据库 \(location) 要求的登录方式 Provident 不支持；请在 pg_hba.conf 中为该用户启用 scram-sha-256 或 md5。")
        case let .passwordFile(path):
            l.pick("The password file \(path) cannot be read; check the path in database.passwordFile and that this user may read it.",
                   "无法读取密码文件 \(path)；请检查 database.passwordFile 中的路径，以及当前用户是否有权读取。")
        case .full:
            l.pick("The server's disk is full; nothing was changed. Free space and try again.", "服务器磁盘已满；未做任何更改。请释放空间后重试。")
        case .readOnly:
            l.pick("The database is read-only; nothing was changed.", "数据库为只读；未做任何更改。")
        case .busy:
            l.pick("The database is busy with another command; nothing was changed. Try again in a moment.", "数据库正忙于其他命令；未做任何更改。请稍后再试。")
        case .io:
            l.pick("The disk reported an input/output error; nothing was changed. Check the disk.", "磁盘报告输入输出错误；未做任何更改。请检查磁盘。")
        case let .damaged(detail):
            l.pick("The database is damaged or not a Provident database (\(detail)); restore it from a backup.",
                   "数据库已损坏或不是 Provident 数据库（\(detail)）；请从备份恢复。")
        case let .newerSchema(location):
            l.pick("The database \(location) was written by a newer version of Provident; update this program.",
                   "数据库 \(location) 由更新版本的 Provident 写入；请升级本程序。")
        case let .olderSchema(location):
            l.pick("The database \(location) has an older schema that this program did not bring up to date; run `provident-server serve` once against it.",
                   "数据库 \(location) 的结构较旧，尚未升级；请先对它运行一次 `provident-server serve`。")
        case let .otherDeployment(location):
            l.pick("The database \(location) belongs to another deployment: its server key is not this one's. Give the right key (server.keyPath) or the right database.",
                   "数据库 \(location) 属于其他部署：其服务器密钥与本服务器不同。请指定正确的密钥（server.keyPath）或正确的数据库。")
        case .contention:
            l.pick("The database was too busy with other servers' writes; nothing was changed. Try again.",
                   "数据库正忙于其他服务器的写入；未做任何更改。请重试。")
        case .unstorableValue:
            l.pick("A value given cannot be kept by the database: a text holds the NUL character (U+0000), or a value is too long to index; nothing was changed. Correct it and try again.",
                   "所给的值数据库无法保存：文字中含有空字符（U+0000），或值过长无法建立索引；未做任何更改。请更正后重试。")
        }
    }
}
