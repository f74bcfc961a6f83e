import ProvidentCrypto

/// The signature a device puts on every HTTP request, in the manner of HTTP Message Signatures
/// (RFC 9421): Ed25519 over a signature base of the method, path, query, a digest of the body,
/// the time, a nonce and the device id (sync-protocol.md §11.2).
public struct RequestSignature: Hashable, Sendable {
    /// Header names, lower case as HTTP/2 carries them.
    public enum Header {
        public static let device = "provident-device"
        public static let date = "provident-date"
        public static let nonce = "provident-nonce"
        public static let contentDigest = "content-digest"
        public static let signature = "provident-signature"
        /// `transport` when the transport key signed the request (§5.1); absent for the device key.
        public static let key = "provident-key"
    }

    /// Which of the device's keys signs: the device key, or the transport key it certified.
    public enum Signer: String, Hashable, Sendable {
        case device
        case transport
    }

    /// The signed request's parts.
    public let method: String
    public let path: String
    /// The query string with its leading `?`, or `?` alone when there is none (RFC 9421 `@query`).
    public let query: String
    public let device: DeviceID
    /// Milliseconds since the Unix epoch, by the device's clock.
    public let dateMillis: Int64
    /// 32 lowercase hex digits, fresh for each request.
    public let nonce: String
    /// `blake2b-256=:<base64 of BLAKE2b-256(body)>:`, in the syntax of RFC 9530.
    public let contentDigest: String
    public let signer: Signer

    /// Describes a request about to be signed or just received.
    public init(method: String, path: String, query: String, device: DeviceID, dateMillis: Int64, nonce: String, body: [UInt8],
                signer: Signer = .device) {
        self.init(method: method, path: path, query: query, device: device, dateMillis: dateMillis, nonce: nonce,
                  contentDigest: Self.digest(of: body), signer: signer)
    }

    init(method: String, path: String, query: String, device: DeviceID, dateMillis: Int64, nonce: String, contentDigest: String,
         signer: Signer) {
        self.signer = signer
        self.method = method.uppercased()
        self.path = path
        self.query = query.isEmpty ? "?" : (query.hasPrefix("?") ? query : "?" + query)
        self.device = device
        self.dateMillis = dateMillis
        self.nonce = nonce
        self.contentDigest = contentDigest
    }

    /// The Content-Digest value for a body.
    public static func digest(of body: [UInt8]) -> String {
        "blake2b-256=:" + Base64.encode(BLAKE2b.hash(body, outputLength: 32)) + ":"
    }

    /// The signature base: one line per component, `"name": value`, joined by line feeds, the
    /// last line naming the components and parameters.
    public var base: [UInt8] {
        let components = ["@method", "@path", "@query", Header.contentDigest, Header.date, Header.device, Header.nonce]
        let lines = [
            "\"@method\": \(method)",
            "\"@path\": \(path)",
            "\"@query\": \(query)",
            "\"\(Header.contentDigest)\": \(contentDigest)",
            "\"\(Header.date)\": \(dateMillis)",
            "\"\(Header.device)\": \(device.rawValue)",
            "\"\(Header.nonce)\": \(nonce)",
            "\"@signature-params\": (" + components.map { "\"\($0)\"" }.joined(separator: " ")
                + ");alg=\"ed25519\";keyid=\"\(keyID)\"",
        ]
        return Array(lines.joined(separator: "\n").utf8)
    }

    /// The signature's `keyid`: the device id, followed by `/transport` for the transport key.
    public var keyID: String {
        signer == .device ? device.rawValue : device.rawValue + "/transport"
    }

    /// The headers to send, signed with `key`: the device key, or the transport key when
    /// `signer` is `.transport`.
    public func headers(signedWith key: SigningKey) -> [(name: String, value: String)] {
        var headers = [(Header.device, device.rawValue), (Header.date, String(dateMillis)), (Header.nonce, nonce),
                       (Header.contentDigest, contentDigest)]
        if signer == .transport { headers.append((Header.key, Signer.transport.rawValue)) }
        headers.append((Header.signature, Base64.encode(key.signature(for: base).bytes)))
        return headers
    }

    /// Why a request's signature is refused.
    public enum Problem: Error, Hashable, Sendable {
        /// A signature header is missing or malformed.
        case missingHeader(String)
        /// The body does not match its Content-Digest.
        case digestMismatch
        /// The request's time is outside the window around the receiver's clock.
        case outsideWindow(skewMillis: Int64, windowMillis: Int64)
        /// The signature does not verify with the device's key.
        case badSignature
    }

    /// Reads the signed parts of a received request from its headers (looked up by lower-case
    /// name) and checks its body against the digest.
    public static func received(method: String, path: String, query: String, body: [UInt8],
                                header: (String) -> String?) throws(Problem) -> (RequestSignature, Signature) {
        guard let deviceText = header(Header.device), let device = DeviceID(deviceText) else {
            throw .missingHeader(Header.device)
        }
        guard let dateText = header(Header.date), let date = Int64(dateText), date > 0, date < 1 << 53 else { throw .missingHeader(Header.date) }
        guard let nonce = header(Header.nonce), nonce.utf8.count == 32, Hex.decode(nonce) != nil else {
            throw .missingHeader(Header.nonce)
        }
        guard let digest = header(Header.contentDigest) else { throw .missingHeader(Header.contentDigest) }
        guard digest == Self.digest(of: body) else { throw .digestMismatch }
        guard let signatureText = header(Header.signature), let bytes = Base64.decode(signatureText),
              let signature = try? Signature(bytes: bytes) else { throw .missingHeader(Header.signature) }
        var signer = Signer.device
        if let keyText = header(Header.key) {
            guard keyText == Signer.transport.rawValue else { throw .missingHeader(Header.key) }
            signer = .transport
        }
        return (RequestSignature(method: method, path: path, query: query, device: device, dateMillis: date, nonce: nonce,
                                 contentDigest: digest, signer: signer), signature)
    }

    /// Checks the time window and the signature with the signer's public key: the device's own
    /// (whose id must be the request's device), or the transport key the device certified.
    public func verify(_ signature: Signature, publicKey: PublicKey, nowMillis: Int64, windowMillis: Int64) throws(Problem) {
        let skew = dateMillis - nowMillis
        guard abs(skew) <= windowMillis else { throw .outsideWindow(skewMillis: skew, windowMillis: windowMillis) }
        guard signer == .transport || DeviceID(publicKey: publicKey) == device, publicKey.isValidSignature(signature, for: base) else {
            throw .badSignature
        }
    }
}
