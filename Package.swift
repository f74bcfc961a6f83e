// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Provident",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "ProvidentCrypto", targets: ["ProvidentCrypto"]),
        .library(name: "ProvidentSync", targets: ["ProvidentSync"]),
    ],
    targets: [
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"]), .brew(["libsodium"])]
        ),
        .target(name: "ProvidentCrypto", dependencies: ["CSodium"]),
        .target(name: "ProvidentSync", dependencies: ["ProvidentCrypto"]),
        .executableTarget(
            name: "provident-bench",
            dependencies: ["ProvidentCrypto", "ProvidentSync"],
            path: "tools/provident-bench"
        ),
        .testTarget(name: "ProvidentCryptoTests", dependencies: ["ProvidentCrypto"]),
        .testTarget(name: "ProvidentSyncTests", dependencies: ["ProvidentSync", "ProvidentCrypto"]),
    ],
    swiftLanguageModes: [.v6]
)
