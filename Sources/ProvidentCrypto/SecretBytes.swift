import CSodium

/// Bytes that must not outlive their use: a seed, a secret key, a passphrase, a derived key.
///
/// The storage is allocated outside Swift's copy-on-write arrays, so the runtime makes no stray
/// copies, and it is wiped with `sodium_memzero` (which the optimiser may not remove) when the
/// last reference goes away. The contents are fixed at initialisation, which is what makes
/// sharing across tasks safe.
public final class SecretBytes: @unchecked Sendable {
    private let storage: UnsafeMutableRawBufferPointer
    private let usedCount: Int

    /// The number of bytes held.
    public var count: Int { usedCount }

    /// Allocates `count` bytes and lets `fill` write them; the bytes are zero before `fill` runs.
    /// If `fill` throws, the bytes are wiped before the error propagates.
    public init(count: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        Sodium.ensureReady()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 16)
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        do {
            try fill(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count]))
        } catch {
            sodium_memzero(buffer.baseAddress, buffer.count)
            buffer.deallocate()
            throw error
        }
        storage = buffer
        usedCount = count
    }

    /// Copies `bytes` into protected storage. The caller stays responsible for its own copy.
    public convenience init(copying bytes: some Collection<UInt8>) {
        self.init(count: bytes.count) { buffer in
            buffer.copyBytes(from: bytes)
        }
    }

    /// Takes the UTF-8 bytes of a passphrase typed or read from a file.
    public convenience init(utf8 text: String) {
        self.init(copying: text.utf8)
    }

    /// Reads the secret without copying it out.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(rebasing: storage[0..<usedCount]))
    }

    /// Compares in constant time.
    public func constantTimeEquals(_ other: SecretBytes) -> Bool {
        guard usedCount == other.usedCount else { return false }
        if usedCount == 0 { return true }
        return withPointer { a, _ in
            other.withPointer { b, _ in sodium_memcmp(a, b, usedCount) == 0 }
        }
    }

    deinit {
        sodium_memzero(storage.baseAddress, storage.count)
        storage.deallocate()
    }
}
