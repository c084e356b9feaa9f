// GC cost against the size of the garbage, as the store grows
// (issue "online GC": cost grows with garbage, not with the store).
//   - one collector pass over G zero-ref blobs, in stores of N live blobs:
//     time and anonymous memory (RssAnon) growth, for N = 10^4 … 10^6
//   - the same pass for G = 10^3 … 10^5 at N = 10^6
//   - compaction candidate selection (dead-byte accounting) time, same stores
// Entries are synthetic (index only, no pack bytes: `_indexForBenchmark`),
// so the figures are the metadata work of a pass, which is what grows.

@_spi(Benchmarks) import CASEngine
import Foundation

struct GCBench {
    let dir: String
    let runs = 3

    func run() throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        print("GC benchmarks in \(dir) (median of \(runs) runs; RssAnon growth during the pass)")
        print(String(format: "%-10@ %-10@ %12@ %14@ %14@ %14@", "live N" as NSString, "garbage G" as NSString,
                     "pass ms" as NSString, "µs per item" as NSString, "RssAnon +MiB" as NSString, "compact ms" as NSString))
        for n in [10_000, 100_000, 1_000_000] { try pass(live: n, garbage: 10_000) }
        for g in [1_000, 100_000] { try pass(live: 1_000_000, garbage: g) }
    }

    func digests(_ count: Int, salt: UInt64) -> [BlobDigest] {
        (0..<count).map { i in
            var bytes = [UInt8](repeating: 0, count: 16)
            var v = UInt64(i) ^ (salt << 40)
            for j in 0..<8 { bytes[j] = UInt8(truncatingIfNeeded: v); v >>= 8 }
            return BlobDigest.compute(bytes, .sha256)
        }
    }

    func pass(live: Int, garbage: Int) throws {
        var times: [Double] = [], mem: [Double] = [], compact: [Double] = []
        let liveDigests = digests(live, salt: 1)
        for run in 0..<runs {
            let root = dir + "/gc-\(live)-\(garbage)-\(run)-" + UUID().uuidString
            let store = try Store.open(at: root)
            for start in stride(from: 0, to: live, by: 50_000) {
                try store._indexForBenchmark(Array(liveDigests[start..<min(live, start + 50_000)]), referenced: true)
            }
            let trash = digests(garbage, salt: UInt64(2 + run))
            for start in stride(from: 0, to: garbage, by: 50_000) {
                try store._indexForBenchmark(Array(trash[start..<min(garbage, start + 50_000)]))
            }
            let before = Measure.rssAnon()
            var collected = 0
            times.append(try Measure.seconds {
                collected = try store.collectIncrementally(policy: GCPolicy(deleteUntagged: true, gracePeriod: 0, untaggedDelay: 0)).deletedBlobs.count
            })
            mem.append(max(0, Measure.rssAnon() - before))
            precondition(collected == garbage, "collected \(collected) of \(garbage)")
            compact.append(try Measure.seconds { _ = try store.compact(minDeadRatio: 0.5) })
            store.close()
            try? FileManager.default.removeItem(atPath: root)
        }
        let t = Measure.median(times)
        print(String(format: "%-10d %-10d %12.1f %14.2f %14.1f %14.2f", live, garbage, t * 1000, t * 1e6 / Double(garbage),
                     Measure.median(mem), Measure.median(compact) * 1000))
    }
}
