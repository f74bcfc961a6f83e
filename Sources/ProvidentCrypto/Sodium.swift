import CSodium

/// The one place libsodium is initialised.
///
/// `sodium_init` must run before any other libsodium call. Swift runs a global's initialiser
/// exactly once, thread-safely, so every entry point of this module touches `Sodium.ready`
/// first and the library is initialised on first use, whatever thread gets there first.
enum Sodium {
    static let ready: Void = {
        // sodium_init returns 0 on success, 1 if already initialised, -1 on failure; it only
        // fails when the system has no source of randomness, where no key can be made safely.
        guard sodium_init() >= 0 else {
            fatalError("libsodium failed to initialise: the system provides no source of randomness")
        }
    }()

    @inline(__always)
    static func ensureReady() {
        _ = ready
    }
}
