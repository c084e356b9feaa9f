// swift-tools-version:5.4
//
// libFuzzer harnesses for Berth's parsers and on-disk decoders, one
// executable per target (swift-nio-http2's FuzzTesting/ is the model).
//
// Tools version 5.4 on purpose: from 5.5 SwiftPM renames an executable's
// entry point to `<target>_main` for testable executables and links with
// `--defsym main=<target>_main`, which fails under -parse-as-library where
// libFuzzer provides `main`. (The harnesses build in Swift 5 mode.)
// Build and run with ./run.sh (see README.md); the sanitizer flags are
// passed on the command line, not here, so `swift build` alone still
// type-checks everything.
import PackageDescription

/// (target, Berth product it exercises)
let targets: [(String, String)] = [
    ("FuzzManifest", "OCIModel"),
    ("FuzzIndex", "OCIModel"),
    ("FuzzDescriptor", "OCIModel"),
    ("FuzzDigest", "OCIModel"),
    ("FuzzRepositoryName", "OCIModel"),
    ("FuzzReference", "OCIModel"),
    ("FuzzContentRange", "OCIModel"),
    ("FuzzByteRange", "OCIModel"),
    ("FuzzAcceptHeader", "OCIModel"),
    ("FuzzPackRecordHeader", "CASEngine"),
    ("FuzzPackFileHeader", "CASEngine"),
    ("FuzzLMDBRecords", "CASEngine"),
    ("FuzzLZ4", "CASEngine"),
    ("FuzzRouter", "RegistryHTTP"),
    ("FuzzQuery", "RegistryHTTP"),
    ("FuzzAuthHeader", "RegistryHTTP"),
    ("FuzzJWT", "RegistryHTTP"),
    ("FuzzHtpasswd", "RegistryHTTP"),
    ("FuzzConfig", "RegistryConfig"),
    ("FuzzHTTPFraming", "RegistryHTTP"),
]

let package = Package(
    name: "BerthFuzz",
    dependencies: [
        .package(name: "Berth", path: ".."),
    ],
    targets: targets.map { name, product in
        .executableTarget(
            name: name,
            dependencies: [.product(name: product, package: "Berth")],
            path: "Sources/\(name)"
        )
    }
)
