import ProvidentDomain
import ProvidentSync

/// A problem with the replica database itself.
public enum StoreError: ProvidentError, Hashable {
    /// No replica at the path.
    case missing(path: String)
    /// The file is not a SQLite database, or SQLite reports it damaged.
    case damaged(path: String, detail: String)
    /// The replica was written by a newer version of Provident.
    case newerSchema(path: String)
    /// The replica has no device identity (initialisation did not finish).
    case noIdentity
    /// A stored record cannot be read by this version (written by a newer one, or damaged).
    case unreadableRecord(RecordKey)
    /// Another Provident process holds the replica for longer than the wait allows.
    case busy(path: String)
    /// The disk holding the replica is full (SQLite could not grow the file or its journal).
    case diskFull(path: String)
    /// The disk or its file system failed to read or write, or is read-only.
    case unwritable(path: String, readOnly: Bool)

    /// How surfaces report it.
    public var kind: ErrorKind {
        switch self {
        case .missing, .noIdentity: .notSetUp
        case .damaged, .newerSchema, .unreadableRecord: .damaged
        case .busy: .refused
        case .diskFull: .storageFull
        case .unwritable: .unavailable
        }
    }

    /// A stable code.
    public var code: String {
        switch self {
        case .missing: "store.missing"
        case .damaged: "store.damaged"
        case .newerSchema: "store.newer_schema"
        case .noIdentity: "store.no_identity"
        case .unreadableRecord: "store.unreadable_record"
        case .busy: "store.busy"
        case .diskFull: "store.disk_full"
        case .unwritable: "store.io"
        }
    }

    /// What is wrong and what to do.
    public func message(_ language: Language) -> String {
        let l = language
        switch self {
        case let .missing(path):
            return l.pick("There is no Provident replica at \(path); run `provident init` first.",
                          "\(path) 没有 Provident 数据；请先运行 `provident init`。")
        case let .damaged(path, detail):
            return l.pick("The replica \(path) is damaged (\(detail)); restore it from a backup. Nothing was changed.",
                          "数据文件 \(path) 已损坏（\(detail)）；请从备份恢复。未做任何更改。")
        case let .newerSchema(path):
            return l.pick("The replica \(path) was written by a newer version of Provident; update this program.",
                          "数据文件 \(path) 由更新版本的 Provident 写入；请升级本程序。")
        case .noIdentity:
            return l.pick("The replica has no device identity; initialisation did not finish. Run `provident init` again.",
                          "数据文件中没有设备身份，初始化未完成；请重新运行 `provident init`。")
        case let .unreadableRecord(key):
            return l.pick("The stored record \(key) cannot be read by this version; update Provident.",
                          "本版本无法读取已存记录 \(key)；请升级 Provident。")
        case let .busy(path):
            return l.pick("Another Provident command is using \(path); try again in a moment.",
                          "另一个 Provident 命令正在使用 \(path)；请稍后再试。")
        case let .diskFull(path):
            return l.pick("The disk holding \(path) is full: free some space and try again. Nothing was lost; this change was not made.",
                          "\(path) 所在的磁盘已满：请清理出空间后再试。没有数据丢失；本次更改未执行。")
        case let .unwritable(path, readOnly):
            return readOnly
                ? l.pick("\(path) is on a read-only disk; nothing was changed. Remount it read-write, or use another --data-dir.",
                         "\(path) 位于只读磁盘上；未做任何更改。请以可写方式重新挂载，或使用其他 --data-dir。")
                : l.pick("The disk holding \(path) could not be read or written (an I/O error); nothing was changed. Check the disk, then try again.",
                         "\(path) 所在的磁盘读写出错（I/O 错误）；未做任何更改。请检查磁盘后再试。")
        }
    }
}
