import BerthTestSupport
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

/// The suites' seeded generator.
typealias SeededRandom = SplitMix64

func sha256(_ bytes: [UInt8]) -> BlobDigest { BlobDigest.compute(bytes, .sha256) }

func smallOptions() -> StoreOptions {
    var o = StoreOptions()
    o.smallBlobThreshold = 16 << 10
    o.metadataMapSize = 256 << 20
    return o
}
