#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Small, crash-safe file writes for secrets: temporary file, fsync, rename, fsync of the directory.
package enum AtomicFile {
    /// Writes `bytes` to `path` with exactly `mode` permissions, replacing any existing file atomically.
    package static func write(_ bytes: [UInt8], to path: String, mode: mode_t) throws(CryptoError) {
        let directory = parentDirectory(of: path)
        let temporary = "\(directory)/.\(baseName(of: path)).\(Hex.encode(SecureRandom.bytes(count: 6))).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .io(operation: "create", path: temporary, errno: errno) }
        var failure: CryptoError?
        if fchmod(fd, mode) != 0 {
            failure = .io(operation: "set permissions on", path: temporary, errno: errno)
        }
        var written = 0
        while failure == nil, written < bytes.count {
            let n = bytes.withUnsafeBytes { buffer in
                posixWrite(fd, UnsafeRawBufferPointer(rebasing: buffer[written...]))
            }
            if n < 0 {
                if errno == EINTR { continue }
                failure = .io(operation: "write", path: temporary, errno: errno)
            } else {
                written += n
            }
        }
        if failure == nil, fsync(fd) != 0 { failure = .io(operation: "flush", path: temporary, errno: errno) }
        close(fd)
        if let failure {
            unlink(temporary)
            throw failure
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw .io(operation: "replace", path: path, errno: code)
        }
        let dirfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirfd >= 0 {
            _ = fsync(dirfd)
            close(dirfd)
        }
    }

    /// Reads a whole small file, refusing files larger than `limit` bytes.
    /// Refuses a file that others than its owner may read or write (a key); a missing file
    /// is reported as the read would.
    package static func requirePrivate(_ path: String) throws(CryptoError) {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .io(operation: "open", path: path, errno: errno) }
        let mode = UInt16(info.st_mode & 0o777)
        if mode & 0o077 != 0 { throw .keyFileExposed(path: path, mode: mode) }
    }

    package static func read(_ path: String, limit: Int) throws(CryptoError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(operation: "open", path: path, errno: errno) }
        defer { close(fd) }
        var out = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { posixRead(fd, $0) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "read", path: path, errno: errno)
            }
            if n == 0 { break }
            out += chunk[0..<n]
            if out.count > limit { throw .notAKeyFile }
        }
        return out
    }

    private static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let parent = String(path[..<slash])
        return parent.isEmpty ? "/" : parent
    }

    private static func baseName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}

// File-scope wrappers: inside `AtomicFile`, `read` and `write` name its own methods.
private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> Int {
    write(fd, buffer.baseAddress, buffer.count)
}

private func posixRead(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) -> Int {
    read(fd, buffer.baseAddress, buffer.count)
}
