/// libsodium declares its pointer parameters nonnull, even where a length of zero means the
/// pointer is never read (signing an empty message, for one). These helpers always hand it a
/// valid address: the buffer's own, or a local byte when the buffer is empty.

@inline(__always)
func withBytes<R>(_ bytes: [UInt8], _ body: (UnsafePointer<UInt8>, Int) throws -> R) rethrows -> R {
    try bytes.withUnsafeBufferPointer { buffer in
        try withBase(UnsafeRawBufferPointer(buffer), body)
    }
}

@inline(__always)
func withMutableBytes<R>(_ bytes: inout [UInt8], _ body: (UnsafeMutablePointer<UInt8>, Int) throws -> R) rethrows -> R {
    try bytes.withUnsafeMutableBufferPointer { buffer in
        if let base = buffer.baseAddress { return try body(base, buffer.count) }
        var placeholder: UInt8 = 0
        return try body(&placeholder, 0)
    }
}

@inline(__always)
func withBase<R>(_ buffer: UnsafeRawBufferPointer, _ body: (UnsafePointer<UInt8>, Int) throws -> R) rethrows -> R {
    if let base = buffer.baseAddress {
        return try body(base.assumingMemoryBound(to: UInt8.self), buffer.count)
    }
    var placeholder: UInt8 = 0
    return try body(&placeholder, 0)
}

@inline(__always)
func withMutableBase<R>(_ buffer: UnsafeMutableRawBufferPointer,
                        _ body: (UnsafeMutablePointer<UInt8>, Int) throws -> R) rethrows -> R {
    if let base = buffer.baseAddress {
        return try body(base.assumingMemoryBound(to: UInt8.self), buffer.count)
    }
    var placeholder: UInt8 = 0
    return try body(&placeholder, 0)
}

extension SecretBytes {
    /// The secret as a non-null pointer and length, for libsodium.
    @inline(__always)
    func withPointer<R>(_ body: (UnsafePointer<UInt8>, Int) throws -> R) rethrows -> R {
        try withUnsafeBytes { raw in try withBase(raw, body) }
    }
}
