// Seeds of the random tests. Every random test takes its seed from here, so
// it prints the seed it ran with and `BERTH_TEST_SEED=<n>` replays it:
//
//   BERTH_TEST_SEED=17 swift test --skip-build --filter StorePropertyTests
//
// Parameterised tests (one case per seed) run only the given seed(s) when the
// variable is set (`BERTH_TEST_SEED=3,17` for several).

import Foundation

public enum TestSeed {
    /// The seeds from `BERTH_TEST_SEED` (decimal or 0x-hex, comma-separated), if set.
    public static var fromEnvironment: [UInt64]? {
        guard let raw = ProcessInfo.processInfo.environment["BERTH_TEST_SEED"], !raw.isEmpty else { return nil }
        let seeds = raw.split(separator: ",").compactMap { part -> UInt64? in
            let s = part.trimmingCharacters(in: .whitespaces)
            return s.hasPrefix("0x") ? UInt64(s.dropFirst(2), radix: 16) : UInt64(s)
        }
        return seeds.isEmpty ? nil : seeds
    }

    /// Arguments for a parameterised random test: the environment's seeds, or `defaults`.
    public static func seeds(_ defaults: some Sequence<UInt64>) -> [UInt64] {
        fromEnvironment ?? Array(defaults)
    }

    /// The seed of a single random test: the environment's first, or `defaultSeed`.
    /// Prints it, with the line that replays it.
    public static func seed(_ defaultSeed: UInt64, _ test: String = #function) -> UInt64 {
        let seed = fromEnvironment?.first ?? defaultSeed
        announce(seed, test)
        return seed
    }

    /// Prints the seed a test runs with (parameterised tests call this per case).
    public static func announce(_ seed: UInt64, _ test: String = #function) {
        print("\(test): seed \(seed) (replay: BERTH_TEST_SEED=\(seed))")
    }

    /// A generator seeded by `seed(_:_:)`.
    public static func generator(_ defaultSeed: UInt64, _ test: String = #function) -> SplitMix64 {
        SplitMix64(seed: seed(defaultSeed, test))
    }

    /// The seed of a seeded suite (the crash suites): as `seed(_:_:)`, named by suite.
    public static func resolve(_ suite: String, default fallback: UInt64) -> UInt64 {
        seed(fallback, suite)
    }
}
