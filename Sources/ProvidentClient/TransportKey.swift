import Foundation
import ProvidentCrypto
import ProvidentDomain
import ProvidentSync

#if canImport(Glibc)
import Glibc
#endif

extension DataDirectory {
    /// The transport key (sync-protocol.md §5.1), unsealed, mode 0600: it signs sync requests
    /// without the passphrase, and nothing else.
    public var transportKeyPath: String { path + "/transport.key" }
    /// The device key's certificate for the transport key.
    public var transportDelegationPath: String { path + "/transport.delegation" }
}

/// A transport key ready to sign requests, with the delegation that certifies it.
public struct TransportCredentials: Sendable {
    public let key: SigningKey
    public let delegation: TransportDelegation
}

extension LocalDevice {
    /// The transport key, or nil when this device has none yet. Throws when the file is there
    /// but cannot be trusted: readable by others, damaged, or not certified by this device.
    public func transportCredentials() throws -> TransportCredentials? {
        let path = directory.transportKeyPath
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        var info = stat()
        guard stat(path, &info) == 0 else { throw ClientError.transportKeyUnusable(path: path, problem: .damaged) }
        guard info.st_mode & 0o077 == 0 else { throw ClientError.transportKeyUnusable(path: path, problem: .readableByOthers) }
        guard let keyData = FileManager.default.contents(atPath: path), let key = try? HostKeyFile.decode(Array(keyData)),
              let delegationData = FileManager.default.contents(atPath: directory.transportDelegationPath),
              let value = try? CanonicalDecoder.decode(Array(delegationData), limit: 4_096),
              let delegation = try? TransportDelegation(envelope: value, devicePublicKey: try replica.deviceState().publicKey),
              delegation.transportKey == key.publicKey else {
            throw ClientError.transportKeyUnusable(path: path, problem: .damaged)
        }
        return TransportCredentials(key: key, delegation: delegation)
    }

    /// Makes a new transport key certified by the device key, replacing the one there was.
    /// The delegation is written first: a crash between the two writes leaves a pair that does
    /// not match, which is reported as damaged and replaced at the next unlock.
    @discardableResult
    public func makeTransportKey(deviceKey: SigningKey, now: Instant) throws -> TransportCredentials {
        let key = SigningKey.generate()
        let delegation = try TransportDelegation(transportKey: key.publicKey, issuedAt: now.millisSinceEpoch, signingWith: deviceKey)
        try AtomicFile.write(try CanonicalEncoder.encode(delegation.envelopeValue), to: directory.transportDelegationPath, mode: 0o600)
        try AtomicFile.write(HostKeyFile.encode(key), to: directory.transportKeyPath, mode: 0o600)
        return TransportCredentials(key: key, delegation: delegation)
    }

    /// After the passphrase unlocked the device key: the transport key, made anew when there is
    /// none or the one there cannot be used (which `replaced` then names).
    public func ensureTransportKey(deviceKey: SigningKey, now: Instant) throws -> (credentials: TransportCredentials, replaced: ClientError?) {
        do {
            if let credentials = try transportCredentials() { return (credentials, nil) }
            return (try makeTransportKey(deviceKey: deviceKey, now: now), nil)
        } catch let problem as ClientError {
            return (try makeTransportKey(deviceKey: deviceKey, now: now), problem)
        }
    }
}
