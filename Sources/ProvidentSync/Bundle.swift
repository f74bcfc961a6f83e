import ProvidentCrypto

/// A file carried by hand between a device and its server when no network reaches it
/// (sync-protocol.md §11.13): `{"bundle":"<base64 of the canonical body>","signature":"<base64>"}`,
/// plus `delegation` when a request is signed by the device's transport key.
public enum Bundle {
    /// The largest bundle file read, in bytes.
    public static let maxByteCount = 256 * 1_048_576

    /// What a bundle file is, by its body's `kind`.
    public enum Kind: String, Sendable {
        /// A device's change-sets and where it stands in the feed, for the server.
        case request
        /// The server's answers and the feed entries the device lacks.
        case answer
    }

    /// A bundle read from a file; its signature is checked with `verify`.
    public struct Opened: Sendable {
        /// The canonical body bytes, as signed.
        public let bytes: [UInt8]
        public let signature: Signature
        public let body: CanonicalValue
        /// The transport key's delegation, when the transport key signed.
        public let delegation: CanonicalValue?

        /// The id of the bundle: BLAKE2b-256 of its body bytes.
        public var id: Digest256 { Digest256(hashing: bytes) }

        /// Checks the signature with `key`.
        public func verify(_ key: PublicKey) throws(Problem) {
            guard key.isValidSignature(signature, for: bytes) else { throw .badSignature }
        }
    }

    /// Why a bundle file cannot be used.
    public enum Problem: ProvidentError, Hashable {
        /// Not a bundle file at all, cut short, or altered so that it no longer decodes.
        case unreadable(detail: String)
        /// The signature does not verify: the file was altered, or signed by someone else.
        case badSignature
        /// A bundle of the other kind (an answer given to the server, a request to a device).
        case wrongKind(expected: Kind)
        /// Made for another server (its key is not the one named).
        case otherServer
        /// Made by or for another device.
        case otherDevice

        public var kind: ErrorKind {
            switch self {
            case .unreadable, .wrongKind: .invalidInput
            case .badSignature: .unauthenticated
            case .otherServer, .otherDevice: .refused
            }
        }

        public var code: String {
            switch self {
            case .unreadable: "bundle.unreadable"
            case .badSignature: "bundle.signature"
            case .wrongKind: "bundle.kind"
            case .otherServer: "bundle.other_server"
            case .otherDevice: "bundle.other_device"
            }
        }

        public func message(_ l: Language) -> String {
            switch self {
            case let .unreadable(detail):
                l.pick("The file is not a whole Provident bundle (\(detail)): it may have been cut short while copying. Nothing was applied; copy it again.",
                       "该文件不是完整的 Provident 同步包（\(detail)）：可能在复制时被截断。未应用任何内容；请重新复制。")
            case .badSignature:
                l.pick("The bundle's signature does not verify: the file was altered or not made by whom it claims. Nothing was applied.",
                       "同步包的签名无法验证：文件已被改动，或并非由其声称的一方生成。未应用任何内容。")
            case let .wrongKind(expected):
                expected == .request
                    ? l.pick("This is an answer bundle, for the device: import it there with provident bundle import. Nothing was applied.",
                             "这是发给设备的答复包：请在设备上用 provident bundle import 导入。未应用任何内容。")
                    : l.pick("This is a device's request bundle, for the office: import it there with provident-server bundle import. Nothing was applied.",
                             "这是设备的请求包，应交给中心：请在中心用 provident-server bundle import 导入。未应用任何内容。")
            case .otherServer:
                l.pick("The bundle was made for another server (its key differs). Nothing was applied.", "该同步包是为另一台服务器生成的（密钥不同）。未应用任何内容。")
            case .otherDevice:
                l.pick("The bundle belongs to another device. Nothing was applied.", "该同步包属于另一台设备。未应用任何内容。")
            }
        }
    }

    /// Encodes `body` and signs it with `key`: the file's bytes.
    public static func seal(_ body: CanonicalValue, signingWith key: SigningKey, delegation: CanonicalValue? = nil) throws -> [UInt8] {
        let bytes = try CanonicalEncoder.encode(body)
        var file: [String: CanonicalValue] = ["bundle": .string(Base64.encode(bytes)),
                                              "signature": .string(Base64.encode(key.signature(for: bytes).bytes))]
        if let delegation { file["delegation"] = delegation }
        return try CanonicalEncoder.encode(.object(file))
    }

    /// Decodes a bundle file whose body is of `kind`; the caller checks the signature.
    public static func open(_ file: [UInt8], kind: Kind) throws(Problem) -> Opened {
        guard file.count <= maxByteCount else { throw .unreadable(detail: "over \(maxByteCount / 1_048_576) MiB") }
        guard let value = try? CanonicalDecoder.decode(file, limit: maxByteCount) else { throw .unreadable(detail: "not canonical JSON") }
        guard let object = value.objectValue, let text = object["bundle"]?.stringValue, let signatureText = object["signature"]?.stringValue,
              Set(object.keys).isSubset(of: ["bundle", "signature", "delegation"]) else {
            throw .unreadable(detail: "not {bundle, signature}")
        }
        guard let bytes = Base64.decode(text), let signatureBytes = Base64.decode(signatureText),
              let signature = try? Signature(bytes: signatureBytes) else { throw .unreadable(detail: "base64") }
        guard let body = try? CanonicalDecoder.decode(bytes, limit: maxByteCount) else { throw .unreadable(detail: "body not canonical JSON") }
        // The kind is read before the signature only to say plainly what the file is.
        guard body.objectValue?["kind"]?.stringValue == kind.rawValue else { throw .wrongKind(expected: kind) }
        guard body.objectValue?["v"]?.integerValue == ChangeSet.protocolVersion else { throw .unreadable(detail: "version") }
        return Opened(bytes: bytes, signature: signature, body: body, delegation: object["delegation"])
    }
}
