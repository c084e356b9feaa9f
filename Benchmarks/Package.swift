// swift-tools-version:6.0
// Berth's benchmarks: their own package on the main one (swift-nio's model),
// so the main build and test suite never pay for them.
//   swift run -c release -j 2 berth-bench engine
//   swift run -c release -j 2 berth-bench e2e
import PackageDescription

let package = Package(
    name: "BerthBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Berth", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "berth-bench",
            dependencies: [.product(name: "CASEngine", package: "Berth")],
            path: "Sources/berth-bench"
        ),
    ],
    swiftLanguageModes: [.v6]
)
