import Foundation
import ProvidentCLIKit
import ProvidentCrypto

#if canImport(Glibc)
import Glibc
#endif

/// Talking to the person at the terminal: prompts, passphrases without echo, tables.
enum Terminal {
    /// Whether standard input is a terminal (so we may ask questions).
    static var isInteractive: Bool { isatty(STDIN_FILENO) == 1 }

    /// Asks for one line of text on the terminal; nil at end of input. The prompt edits with
    /// Backspace only: an arrow or function key types its escape sequence (ESC [ D) into the
    /// line, so a line holding one is asked again, whatever the question.
    static func ask(_ prompt: String) -> String? {
        while true {
            FileHandle.standardError.write(Data(prompt.utf8))
            guard let line = readLine(strippingNewline: true) else { return nil }
            guard line.unicodeScalars.contains("\u{1B}") else { return line }
            warn(t("  The answer holds an arrow or function key, which this prompt cannot use; type it again, correcting with Backspace only.",
                   "  回答中含有方向键或功能键，本提示不支持这些键；请重新输入，只用退格键修改。"))
        }
    }

    /// Asks for a secret on the controlling terminal with echo turned off, restoring the terminal
    /// afterwards, also when the person presses Ctrl-C. Nil when there is no terminal.
    static func askSecret(_ prompt: String) -> SecretBytes? {
        let tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard tty >= 0 else { return nil }
        defer { close(tty) }
        var saved = termios()
        guard tcgetattr(tty, &saved) == 0 else { return nil }
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        silent.c_lflag |= tcflag_t(ECHONL)
        EchoGuard.arm(fd: tty, saved: saved)
        defer { EchoGuard.disarm() }
        _ = prompt.withCString { write(tty, $0, strlen($0)) }
        guard tcsetattr(tty, TCSAFLUSH, &silent) == 0 else { return nil }
        defer { _ = tcsetattr(tty, TCSAFLUSH, &saved) }

        var bytes = [UInt8]()
        var byte: UInt8 = 0
        while read(tty, &byte, 1) == 1, byte != UInt8(ascii: "\n") {
            if byte != UInt8(ascii: "\r") { bytes.append(byte) }
        }
        let secret = SecretBytes(copying: bytes)
        for index in bytes.indices { bytes[index] = 0 }
        return secret
    }

    /// Reads a passphrase file: its first line, without the line break.
    static func readSecretFile(_ path: String) -> SecretBytes? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        var bytes = [UInt8](data)
        if let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) { bytes.removeSubrange(newline...) }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        let secret = SecretBytes(copying: bytes)
        for index in bytes.indices { bytes[index] = 0 }
        return secret
    }

    /// Writes a line to standard output.
    static func say(_ text: String = "") {
        print(text)
    }

    /// Writes a line to standard error.
    static func warn(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}

/// Restores terminal echo if the process is interrupted while a passphrase is being typed.
private enum EchoGuard {
    nonisolated(unsafe) static var fd: Int32 = -1
    nonisolated(unsafe) static var saved = termios()

    static func arm(fd: Int32, saved: termios) {
        Self.saved = saved
        Self.fd = fd
        signal(SIGINT) { signal in
            if EchoGuard.fd >= 0 { _ = tcsetattr(EchoGuard.fd, TCSAFLUSH, &EchoGuard.saved) }
            _exit(128 + signal)
        }
    }

    static func disarm() {
        fd = -1
        signal(SIGINT, SIG_DFL)
    }
}

extension JSONOutput {
    /// Prints JSON for scripts on standard output.
    static func print<T: Encodable>(_ value: T) throws {
        Terminal.say(try text(value))
    }
}

extension Terminal {
    /// Prints rows under the first row as headers, aligned by display width.
    static func table(_ rows: [[String]]) {
        guard let headers = rows.first else { return }
        var table = TextTable(headers)
        for row in rows.dropFirst() { table.add(row) }
        say(table.rendered)
    }
}
