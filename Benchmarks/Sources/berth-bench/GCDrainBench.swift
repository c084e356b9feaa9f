// The GC backlog under sustained small-image pushes (issue "online GC": the
// backlog drains, no fixed per-pass cap a busy registry outruns).
//   Pushers (real engine writes: 2 blobs + a manifest re-pointing one tag per
//   pusher, so each push leaves the previous image untagged garbage) run for
//   `seconds`, while the online collector's loop runs every `interval` with
//   untagged deletion on and a grace of 2 s (every push must succeed). Every interval the review backlog
//   is sampled. After the pushers stop, the collector keeps running until
//   the backlog is empty. Printed: push rate, backlog samples (first and
//   last quarter while pushing, and items already due right after a pass), garbage collected, drain time after the pushes stopped.
// One store per run, in a store pre-filled with `live` referenced blobs.

@_spi(Benchmarks) import CASEngine
import Foundation
import Synchronization

struct GCDrainBench {
    let dir: String
    var live = 100_000
    var pushers = 8
    var seconds = 20.0
    var interval = 0.5
    /// Seconds a zero-ref blob waits: pushes finish well within it, so every
    /// push must succeed (a failure is a lost blob, and is reported).
    var grace: UInt64 = 2

    func run() throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let root = dir + "/gc-drain-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try Store.open(at: root)
        defer { store.close() }
        let filler = GCBench(dir: dir).digests(live, salt: 9)
        for start in stride(from: 0, to: live, by: 50_000) {
            try store._indexForBenchmark(Array(filler[start..<min(live, start + 50_000)]), referenced: true)
        }
        let policy = GCPolicy(deleteUntagged: true, gracePeriod: grace, untaggedDelay: 0)
        let firstError = Mutex<String?>(nil)
        let stop = Atomic<Bool>(false), pushes = Atomic<Int>(0), failures = Atomic<Int>(0)
        let collectorDone = DispatchSemaphore(value: 0)
        let pushing = Atomic<Bool>(true)
        final class Samples: @unchecked Sendable {
            var backlogWhilePushing: [Int] = []
            var dueAfterPass: [Int] = []
            var collected = 0, manifests = 0, passes = 0
            var drainSeconds = 0.0
        }
        let samples = Samples()
        print("GC drain: \(live) live blobs, \(pushers) pushers for \(seconds) s, collector every \(interval) s (grace \(grace) s, untagged deletion on)")
        let collector = Thread {
            var drainStart: UInt64?
            while true {
                let t0 = DispatchTime.now().uptimeNanoseconds
                if let r = try? store.collectIncrementally(policy: policy) {
                    samples.collected += r.deletedBlobs.count
                    samples.manifests += r.deletedManifests.count
                    samples.passes += 1
                }
                let stats = try? store.statistics(policy: policy)
                let backlog = stats?.reviewBacklog ?? -1
                if pushing.load(ordering: .acquiring) {
                    samples.backlogWhilePushing.append(backlog)
                    samples.dueAfterPass.append(stats?.reviewDue ?? -1)
                } else {
                    if drainStart == nil { drainStart = t0 }
                    if backlog == 0 {
                        samples.drainSeconds = Double(DispatchTime.now().uptimeNanoseconds - drainStart!) / 1e9
                        break
                    }
                }
                let spent = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
                if spent < interval { Thread.sleep(forTimeInterval: interval - spent) }
            }
            collectorDone.signal()
        }
        collector.start()
        let started = DispatchTime.now().uptimeNanoseconds
        let timer = Thread {
            Thread.sleep(forTimeInterval: seconds)
            stop.store(true, ordering: .releasing)
        }
        timer.start()
        Measure.onThreads(pushers) { p in
            var i = 0
            while !stop.load(ordering: .acquiring) {
                do {
                    let config = Array("{\"pusher\":\(p),\"push\":\(i)}".utf8)
                    let layer = Array("layer \(p) \(i) ".utf8) + [UInt8](repeating: UInt8(truncatingIfNeeded: i), count: 2048)
                    let c = BlobDigest.compute(config, .sha256), l = BlobDigest.compute(layer, .sha256)
                    let repo = "bench/p\(p)"
                    try store.putBlob(config, digest: c, repository: repo)
                    try store.putBlob(layer, digest: l, repository: repo)
                    let manifest = Array("{\"schemaVersion\":2,\"config\":\"\(c)\",\"layers\":[\"\(l)\"]}".utf8)
                    try store.putManifest(repository: repo, digest: BlobDigest.compute(manifest, .sha256), bytes: manifest,
                                          edges: ManifestEdges(mediaType: "application/vnd.oci.image.manifest.v1+json", references: [c, l]),
                                          tags: ["latest"])
                    pushes.add(1, ordering: .relaxed)
                } catch {
                    failures.add(1, ordering: .relaxed)
                    firstError.withLock { if $0 == nil { $0 = "\(error)" } }
                }
                i += 1
            }
        }
        let pushSeconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        pushing.store(false, ordering: .releasing)
        collectorDone.wait()
        let n = pushes.load(ordering: .relaxed)
        let b = samples.backlogWhilePushing
        let tail = b.suffix(max(1, b.count / 4))
        print(String(format: "pushes %d (%.0f images/s), failures %d", n, Double(n) / pushSeconds, failures.load(ordering: .relaxed))
              + (firstError.withLock { $0 }.map { " (first: \($0))" } ?? ""))
        let head = b.prefix(max(1, b.count / 4))
        print("review backlog while pushing (items not yet past their grace period, plus due ones): median of the first quarter "
              + "\(Int(Measure.median(head.map(Double.init)))), of the last quarter \(Int(Measure.median(tail.map(Double.init)))), max \(b.max() ?? 0), \(b.count) samples")
        let due = samples.dueAfterPass
        print("items already due right after a pass: median \(Int(Measure.median(due.map(Double.init)))), max \(due.max() ?? 0)")
        print("collected \(samples.manifests) manifests, \(samples.collected) blobs in \(samples.passes) passes; "
              + String(format: "drained %.2f s after the pushes stopped", samples.drainSeconds))
    }
}
