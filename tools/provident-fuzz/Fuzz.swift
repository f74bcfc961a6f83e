import Foundation
import ProvidentCrypto
import ProvidentDomain
import ProvidentSpreadsheet
import ProvidentSync

#if canImport(Glibc)
import Glibc
#endif

/// libFuzzer targets for the parsers that read what others send: the canonical decoder, the
/// change-set envelope, the request-signature headers, the bank statement and employer list
/// readers, and the .xlsx workbook reader. Built by `make fuzz` with `-sanitize=fuzzer`; the target is chosen by
/// `PROVIDENT_FUZZ_TARGET`. A parser may refuse anything; it must never crash, and what the
/// canonical decoder accepts must encode back to the same bytes.
enum FuzzTarget: String, CaseIterable {
    case canonical, envelope, signature, statement, employers, workbook

    static let chosen: FuzzTarget = {
        let name = getenv("PROVIDENT_FUZZ_TARGET").map { String(cString: $0) } ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            FileHandle.standardError.write(Data("PROVIDENT_FUZZ_TARGET must be one of: \(allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
            exit(64)
        }
        return target
    }()

    static let key = SigningKey.generate()

    func run(_ bytes: [UInt8]) {
        switch self {
        case .canonical:
            guard let value = try? CanonicalDecoder.decode(bytes, limit: 1 << 20) else { return }
            guard let again = try? CanonicalEncoder.encode(value), again == bytes else {
                fatalError("the decoder accepted bytes that do not encode back to themselves")
            }
        case .envelope:
            _ = try? SignedChangeSet(envelope: bytes)
        case .signature:
            // The input is header lines, `name: value`, then a blank line and the body.
            let text = String(decoding: bytes, as: UTF8.self)
            let parts = text.split(separator: "\n\n", maxSplits: 1, omittingEmptySubsequences: false)
            var headers: [String: String] = [:]
            for line in parts.first?.split(separator: "\n") ?? [] {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            let body = parts.count > 1 ? Array(parts[1].utf8) : []
            if let (request, signature) = try? RequestSignature.received(method: "POST", path: "/v1/push", query: "?", body: body,
                                                                          header: { headers[$0] }) {
                _ = try? request.verify(signature, publicKey: Self.key.publicKey, nowMillis: request.dateMillis, windowMillis: 300_000)
            }
        case .statement:
            guard let (text, _) = try? TextDecoding.decode(bytes), let table = try? CSVTable(parsing: text) else { return }
            _ = try? BankStatement.lines(of: table, language: .english)
        case .employers:
            guard let (text, _) = try? TextDecoding.decode(bytes), let table = try? CSVTable(parsing: text) else { return }
            _ = try? EmployerList.rows(of: table, language: .chinese)
        case .workbook:
            // An uploaded .xlsx: the ZIP, its XML parts, then the statement reader on its rows.
            guard let table = try? Workbook.firstSheet(bytes) else { return }
            _ = try? BankStatement.read(table, language: .chinese)
        }
    }
}

#if PROVIDENT_FUZZING
/// libFuzzer's driver (SwiftPM gives the executable its own `main`, so libFuzzer's is not used).
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>,
                     _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

@main struct ProvidentFuzz {
    static func main() {
        _ = FuzzTarget.chosen
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv) { data, size in
            let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
            FuzzTarget.chosen.run(bytes)
            return 0
        })
    }
}
#else
@main struct ProvidentFuzz {
    static func main() {
        FileHandle.standardError.write(Data("provident-fuzz is built for fuzzing by `make fuzz` (swiftc -sanitize=fuzzer); this build only checks that it compiles.\n".utf8))
        exit(64)
    }
}
#endif
