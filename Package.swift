// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Provident",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ProvidentCrypto", targets: ["ProvidentCrypto"]),
        .library(name: "ProvidentSync", targets: ["ProvidentSync"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0", traits: [.defaults, "YAML"]),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", from: "0.9.20"),
        .package(url: "https://github.com/vapor/multipart-kit.git", from: "4.7.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
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
        .target(name: "ProvidentStore", dependencies: ["ProvidentDomain", "ProvidentSync", "ProvidentCrypto",
                                                       .product(name: "GRDB", package: "GRDB.swift")]),
        // The server's use cases, given a store, a key, a policy, a clock and a logger.
        .target(name: "ProvidentServerCore", dependencies: ["ProvidentDomain", "ProvidentSync", "ProvidentCrypto",
                                                            .product(name: "Logging", package: "swift-log"),
                                                            .product(name: "Metrics", package: "swift-metrics")]),
        // The server's store in SQL, one implementation over either database.
        .target(name: "ProvidentServerStore", dependencies: ["ProvidentServerCore", "ProvidentDomain", "ProvidentSync", "ProvidentCrypto"]),
        .target(name: "ProvidentServerSQLite", dependencies: ["ProvidentServerStore", "ProvidentServerCore", "ProvidentStore",
                                                              .product(name: "GRDB", package: "GRDB.swift"),
                                                              .product(name: "GRDBSQLite", package: "GRDB.swift")]),
        .target(name: "ProvidentServerPostgres", dependencies: ["ProvidentServerStore", "ProvidentServerCore", "ProvidentCrypto",
                                                                .product(name: "PostgresNIO", package: "postgres-nio"),
                                                                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
                                                                .product(name: "Logging", package: "swift-log")]),
        .target(name: "ProvidentServer", dependencies: [
            "ProvidentServerCore", "ProvidentServerStore", "ProvidentServerSQLite", "ProvidentServerPostgres",
            "ProvidentDomain", "ProvidentSync", "ProvidentCrypto", "ProvidentSpreadsheet",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "MultipartKit", package: "multipart-kit"),
            .product(name: "Mustache", package: "swift-mustache"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "Configuration", package: "swift-configuration"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        // The office's files: CSV or .xlsx (ZIPFoundation and Foundation's XML parser) as tables.
        .target(name: "ProvidentSpreadsheet", dependencies: ["ProvidentDomain", "ProvidentSync",
                                                            .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        // What both command-line programs share: language, tables, JSON, the parser's errors.
        .target(name: "ProvidentCLIKit", dependencies: ["ProvidentSync", "ProvidentDomain", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .target(name: "ProvidentClient", dependencies: ["ProvidentStore", "ProvidentDomain", "ProvidentSync", "ProvidentCrypto",
                                                        .product(name: "AsyncHTTPClient", package: "async-http-client")]),
        .executableTarget(
            name: "provident",
            dependencies: ["ProvidentClient", "ProvidentCLIKit", "ProvidentStore", "ProvidentDomain", "ProvidentSync", "ProvidentCrypto",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "clients/provident"
        ),
        .executableTarget(
            name: "provident-server",
            dependencies: ["ProvidentServer", "ProvidentCLIKit", "ProvidentSpreadsheet", "ProvidentServerCore", "ProvidentServerStore", "ProvidentDomain", "ProvidentSync", "ProvidentCrypto",
                           .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Configuration", package: "swift-configuration"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "Metrics", package: "swift-metrics"),
                           .product(name: "Prometheus", package: "swift-prometheus")]
        ),
        .target(name: "ProvidentBenchSupport", dependencies: ["ProvidentDomain", "ProvidentSync"], path: "tools/ProvidentBenchSupport"),
        .executableTarget(
            name: "provident-replica-generator",
            dependencies: ["ProvidentBenchSupport", "ProvidentStore", "ProvidentDomain", "ProvidentSync", "ProvidentCrypto"],
            path: "tools/provident-replica-generator"
        ),
        .executableTarget(
            name: "provident-load",
            dependencies: ["ProvidentBenchSupport", "ProvidentDomain", "ProvidentSync", "ProvidentCrypto",
                           .product(name: "AsyncHTTPClient", package: "async-http-client")],
            path: "tools/provident-load"
        ),
        .executableTarget(
            name: "provident-bench",
            dependencies: ["ProvidentCrypto", "ProvidentSync"],
            path: "tools/provident-bench"
        ),
        // libFuzzer targets; `make fuzz` builds them with -sanitize=fuzzer (tools/fuzz).
        .executableTarget(
            name: "provident-fuzz",
            dependencies: ["ProvidentDomain", "ProvidentSync", "ProvidentCrypto", "ProvidentSpreadsheet"],
            path: "tools/provident-fuzz"
        ),
        .target(name: "ProvidentTestSupport", path: "Sources/ProvidentTestSupport"),
        .testTarget(name: "ProvidentCryptoTests", dependencies: ["ProvidentCrypto"]),
        .testTarget(name: "ProvidentSyncTests", dependencies: ["ProvidentSync", "ProvidentCrypto", "ProvidentTestSupport"]),
        .testTarget(name: "ProvidentDomainTests", dependencies: ["ProvidentDomain", "ProvidentSync", "ProvidentTestSupport", "ProvidentSpreadsheet",
                                                                 .product(name: "ZIPFoundation", package: "ZIPFoundation")],
                    exclude: ["Fixtures"]),
        .testTarget(name: "ProvidentCLITests", dependencies: [
            "ProvidentTestSupport", "ProvidentSync", "ProvidentCrypto", "ProvidentDomain", "ProvidentStore", "ProvidentClient",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "ZIPFoundation", package: "ZIPFoundation"),
        ], exclude: ["HelpScreens"]),
        .testTarget(name: "ProvidentServerTests", dependencies: [
            "ProvidentServerCore", "ProvidentServerStore", "ProvidentServerSQLite", "ProvidentServerPostgres", "ProvidentServer",
            "ProvidentStore", "ProvidentBenchSupport", "ProvidentTestSupport", "ProvidentDomain", "ProvidentSync", "ProvidentCrypto",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
        .testTarget(name: "ProvidentStoreTests", dependencies: ["ProvidentStore", "ProvidentDomain", "ProvidentSync", "ProvidentCrypto",
                                                                .product(name: "GRDB", package: "GRDB.swift")]),
    ],
    swiftLanguageModes: [.v6]
)
