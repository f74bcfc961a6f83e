import Foundation
import ProvidentCrypto

#if canImport(Glibc)
import Glibc
#endif

/// Talking to the person at the terminal: prompts, passphrases without echo, tables.
enum Terminal {
    /// Whether standard input is a terminal (so we may ask questions).
    static var isInteractive: Bool { isatty(STDIN_FILENO) == 1 }

    /// Asks for one line of text on the terminal; nil at end of input.
    static func ask(_ prompt: String) -> String? {
        FileHandle.standardError.write(Data(prompt.utf8))
        return readLine(strippingNewline: true)
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

/// A plain-text table with columns aligned by display width, so Chinese characters (two
/// columns wide in a terminal) line up.
struct Table {
    enum Alignment {
        case left
        case right
    }

    var headers: [String]
    var alignments: [Alignment]
    var rows: [[String]] = []

    init(_ headers: [String], alignments: [Alignment]? = nil) {
        self.headers = headers
        self.alignments = alignments ?? headers.map { _ in .left }
    }

    mutating func add(_ row: [String]) {
        rows.append(row)
    }

    var rendered: String {
        let widths = headers.indices.map { column in
            ([headers[column]] + rows.map { $0[column] }).map(Self.displayWidth).max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            cells.indices.map { column in
                let padding = String(repeating: " ", count: widths[column] - Self.displayWidth(cells[column]))
                return alignments[column] == .right ? padding + cells[column] : cells[column] + padding
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        return ([line(headers), rule] + rows.map(line)).joined(separator: "\n")
    }

    /// The text followed by spaces up to `width` terminal columns (at least one space).
    static func pad(_ text: String, to width: Int) -> String {
        text + String(repeating: " ", count: max(1, width - displayWidth(text)))
    }

    /// Terminal columns a string takes: East Asian wide and full-width characters take two,
    /// combining marks none.
    static func displayWidth(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { width, scalar in
            switch scalar.value {
            case 0x0300...0x036F, 0x200B...0x200F: width
            case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
                 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F,
                 0x20000...0x3FFFD:
                width + 2
            default: width + 1
            }
        }
    }
}

/// JSON for scripts: sorted keys, pretty-printed, UTF-8 text as is.
enum JSONOutput {
    static func print<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        Terminal.say(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

extension Terminal {
    /// Prints rows under the first row as headers, aligned by display width.
    static func table(_ rows: [[String]]) {
        guard let headers = rows.first else { return }
        var table = Table(headers)
        for row in rows.dropFirst() { table.add(row) }
        say(table.rendered)
    }
}
