// The seed of a seeded suite: BERTH_TEST_SEED when set (decimal, or hex with
// 0x), else the suite's fixed default, so a plain run is reproducible and a
// failure names the seed that replays it.

import Foundation

public enum TestSeed {
    public static func resolve(_ suite: String, default fallback: UInt64) -> UInt64 {
        var seed = fallback
        if let text = ProcessInfo.processInfo.environment["BERTH_TEST_SEED"] {
            let parsed = text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
            guard let parsed else { fatalError("BERTH_TEST_SEED=\(text) is not a 64-bit number") }
            seed = parsed
        }
        print("\(suite): seed \(seed) (replay with BERTH_TEST_SEED=\(seed))")
        return seed
    }
}
