import ArgumentParser
import Foundation
import ProvidentCLIKit
import ProvidentClient
import ProvidentCrypto
import ProvidentDomain

/// Where the device's data lives.
struct DataOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"),
            help: ArgumentHelp(t("The device's data folder (default: PROVIDENT_HOME, else ~/.provident).",
                                 "设备数据文件夹（默认：PROVIDENT_HOME，否则 ~/.provident）。"), valueName: "dir"))
    var dataDirectory: String?

    var directory: DataDirectory {
        DataDirectory.resolve(option: dataDirectory, environment: ProcessInfo.processInfo.environment)
    }

    /// Opens the device for reading (no passphrase needed).
    func open() throws -> LocalDevice {
        ServerTrust.choose(for: directory)
        return try LocalDevice.open(directory: directory, environment: ProcessInfo.processInfo.environment)
    }
}

/// How a command that signs gets the passphrase.
struct PassphraseOptions: ParsableArguments {
    @Option(name: .customLong("passphrase-file"),
            help: ArgumentHelp(t("Read the passphrase from the first line of this file instead of asking (for scripts).",
                                 "从此文件第一行读取口令，而不是在终端询问（供脚本使用）。"), valueName: "file"))
    var passphraseFile: String?

    /// The passphrase: from the file, or asked on the terminal without echo.
    func passphrase(prompt: String) throws -> SecretBytes {
        if let passphraseFile {
            guard let secret = Terminal.readSecretFile(passphraseFile) else {
                throw ClientError.passphraseFileUnreadable(path: passphraseFile)
            }
            return secret
        }
        guard let secret = Terminal.askSecret(prompt) else { throw ClientError.passphraseUnavailable }
        return secret
    }

    /// Unseals the device key, and reports how long that took when PROVIDENT_TIMING is set.
    /// At a terminal, a mistyped passphrase may be typed again, three tries in all.
    func unlock(_ device: LocalDevice) throws -> SigningKey {
        var tries = 0
        var key: SigningKey?
        while key == nil {
            tries += 1
            let secret = try passphrase(prompt: t("Passphrase: ", "口令："))
            let start = ContinuousClock.now
            do {
                key = try device.unlock(passphrase: secret)
            } catch CryptoError.wrongPassphrase where passphraseFile == nil && tries < 3 {
                Terminal.warn(t("Wrong passphrase; \(3 - tries) tries left.", "口令错误；还可再试 \(3 - tries) 次。"))
            }
            Timing.report("unseal", since: start)
        }
        guard let key else { throw CryptoError.wrongPassphrase }
        // A device set up before transport keys existed gets one now; the next sync with the
        // passphrase registers it (sync-protocol.md §5.1).
        _ = try? device.ensureTransportKey(deviceKey: key, now: currentInstant())
        return key
    }
}

/// Output for scripts instead of people.
struct FormatOptions: ParsableArguments {
    @Flag(help: ArgumentHelp(t("Print JSON for scripts.", "以 JSON 格式输出（供脚本使用）。")))
    var json = false
}

/// Phase timings on standard error when PROVIDENT_TIMING=1: for benchmarks, never for people.
enum Timing {
    static let enabled = ProcessInfo.processInfo.environment["PROVIDENT_TIMING"] == "1"

    static func report(_ phase: String, since start: ContinuousClock.Instant) {
        guard enabled else { return }
        let elapsed = ContinuousClock.now - start
        let millis = Double(elapsed.components.seconds) * 1_000 + Double(elapsed.components.attoseconds) / 1e15
        Terminal.warn("timing \(phase) \(String(format: "%.1f", millis)) ms")
    }
}

/// The current time, from the system clock.
func currentInstant() -> Instant {
    Instant(millisSinceEpoch: Int64((Date().timeIntervalSince1970 * 1_000).rounded(.down)))
}

/// Formats money for people.
func money(_ fen: Int64) -> String {
    Money(fen: fen).formatted
}
