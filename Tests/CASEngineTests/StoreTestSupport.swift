import Foundation
@testable import CASEngine

/// A fresh storage root in the temp directory, removed by `cleanup()`.
struct TempRoot {
    let path: String
    init() {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("berth-store-\(UUID().uuidString)").path
    }
    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

/// Deterministic generator for tests (SplitMix64).
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func bytes(_ n: Int) -> [UInt8] {
        (0..<n).map { _ in UInt8.random(in: 0...255, using: &self) }
    }
}

func sha256(_ bytes: [UInt8]) -> BlobDigest { BlobDigest.compute(bytes, .sha256) }

func smallOptions() -> StoreOptions {
    var o = StoreOptions()
    o.smallBlobThreshold = 16 << 10
    o.metadataMapSize = 256 << 20
    return o
}
