// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Provident",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "ProvidentCrypto", targets: ["ProvidentCrypto"]),
        .library(name: "ProvidentSync", targets: ["ProvidentSync"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"]), .brew(["libsodium"])]
        ),
        .target(name: "ProvidentCrypto", dependencies: ["CSodium"]),
        .target(name: "ProvidentSync", dependencies: ["ProvidentCrypto"]),
        .target(name: "ProvidentDomain", dependencies: ["ProvidentSync", .product(name: "Yams", package: "Yams")]),
        .executableTarget(
            name: "provident-bench",
            dependencies: ["ProvidentCrypto", "ProvidentSync"],
            path: "tools/provident-bench"
        ),
        .testTarget(name: "ProvidentCryptoTests", dependencies: ["ProvidentCrypto"]),
        .testTarget(name: "ProvidentSyncTests", dependencies: ["ProvidentSync", "ProvidentCrypto"]),
        .testTarget(name: "ProvidentDomainTests", dependencies: ["ProvidentDomain", "ProvidentSync"]),
    ],
    swiftLanguageModes: [.v6]
)
