// swift-tools-version:6.0
//
// Module graph (see ../shared/DESIGN.md and STYLE.md):
//
//   regctl ──► RegistryHTTP ──► CASEngine ──► COpenSSL, CLZ4, CLMDB
//     │             ├──► OCIModel (pure Swift, no I/O)
//     │             └──► RegistryConfig (config.yml + REGISTRY_* overrides)
//     └──► everything
//
// CASEngine never imports NIOHTTP*, NIOSSL, OCIModel or ArgumentParser.
// OCIModel imports Foundation only.
import PackageDescription

let package = Package(
    name: "Berth",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "regctl", targets: ["regctl"]),
        .library(name: "CASEngine", targets: ["CASEngine"]),
        .library(name: "OCIModel", targets: ["OCIModel"]),
        .library(name: "RegistryHTTP", targets: ["RegistryHTTP"]),
        .library(name: "RegistryConfig", targets: ["RegistryConfig"]),
        .library(name: "ObjectStorage", targets: ["ObjectStorage"]),
        .library(name: "PostgresMetadata", targets: ["PostgresMetadata"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.30.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.36.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.0"),
    ],
    targets: [
        // C system libraries, used by CASEngine only.
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),

        .target(name: "OCIModel"),
        .target(
            name: "CASEngine",
            dependencies: [
                "COpenSSL", "CLZ4", "CLMDB",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            exclude: ["FORMAT.md", "RECOVERY.md", "Index/SCHEMA.md"]
        ),
        .target(
            name: "RegistryConfig",
            dependencies: [.product(name: "Yams", package: "Yams")],
            exclude: ["README.md"]
        ),
        .target(
            name: "RegistryHTTP",
            dependencies: [
                "CASEngine", "OCIModel", "RegistryConfig",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                // EmbeddedChannel for the HTTP framing fuzz entry point only.
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                // Notification delivery to webhook receivers.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // S3-compatible blob storage: SigV4 signing and an S3 client over
        // async-http-client (issue 10). Not yet used by the engine.
        .target(
            name: "ObjectStorage",
            dependencies: [
                "COpenSSL", "RegistryConfig",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // PostgreSQL metadata store (issue 10): migrations, refcounts, GC review queues.
        .target(
            name: "PostgresMetadata",
            dependencies: [
                "RegistryConfig",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            exclude: ["SCHEMA.md"]
        ),
        .testTarget(
            name: "PostgresMetadataTests",
            dependencies: [
                "PostgresMetadata", "RegistryConfig", "BerthTestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "regctl",
            dependencies: [
                "RegistryHTTP", "CASEngine", "OCIModel", "RegistryConfig", "PostgresMetadata",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // Child process for the crash suite: writes and commits blobs, reporting
        // each acknowledged commit on stdout, until the test kills it with SIGKILL.
        .executableTarget(
            name: "berth-crash-writer",
            dependencies: ["CASEngine", "BerthTestSupport"],
            path: "Tests/CrashWriter"
        ),
        // Shared by the test suites and the crash writer (seeded generator).
        .target(name: "BerthTestSupport", path: "Tests/Support"),

        // SigV4 against botocore; the S3 client against a real SeaweedFS.
        .testTarget(
            name: "ObjectStorageTests",
            dependencies: [
                "ObjectStorage", "RegistryConfig",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            // Run by SigV4ConformanceTests with python3 (botocore's signer).
            exclude: ["Scripts"]
        ),
        .testTarget(name: "OCIModelTests", dependencies: ["OCIModel", "BerthTestSupport"]),
        .testTarget(
            name: "CASEngineTests",
            dependencies: [
                "CASEngine", "BerthTestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "RegistryConfigTests", dependencies: ["RegistryConfig"], resources: [.copy("Fixtures")]),
        // Fuzz/Corpus replayed through the harnesses' entry points (FuzzEntryPoints).
        .testTarget(name: "FuzzReplayTests", dependencies: ["OCIModel", "CASEngine", "RegistryHTTP", "RegistryConfig"]),
        // The built `regctl` binary's operator commands on real storage roots.
        .testTarget(name: "RegctlTests", dependencies: ["CASEngine", "BerthTestSupport"]),
        // Real clients (skopeo, oras) against a real `regctl serve` process.
        .testTarget(name: "InteropTests", dependencies: ["OCIModel", "BerthTestSupport"]),
        .testTarget(
            name: "RegistryHTTPTests",
            dependencies: [
                "RegistryHTTP", "CASEngine", "OCIModel", "RegistryConfig", "BerthTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
