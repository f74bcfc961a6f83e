// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Provident",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "ProvidentCrypto", targets: ["ProvidentCrypto"]),
    ],
    targets: [
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"]), .brew(["libsodium"])]
        ),
        .target(name: "ProvidentCrypto", dependencies: ["CSodium"]),
        .testTarget(name: "ProvidentCryptoTests", dependencies: ["ProvidentCrypto"]),
    ],
    swiftLanguageModes: [.v6]
)
