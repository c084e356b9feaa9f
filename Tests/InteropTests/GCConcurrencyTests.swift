// Issue 7 item 4: concurrency under GC, against a real `regctl serve` whose
// online collector runs every 250 ms with a 4 s grace period, a 1 s untagged
// delay and untagged deletion on. Six clients run the bug report's flows
// (GCSoakWorker) for BERTH_SOAK_SECONDS (default 40; the long soak sets more)
// or BERTH_SOAK_OPS operations each. Checked:
//   - at checkpoints and at the end, every acknowledged tag's closure (index
//     children, configs, layers, referrers) is pullable and exact;
//   - no push is refused for a blob sighted within the grace period
//     (SoakSession's window rule), no mount declined for one;
//   - after the clients stop, the collector takes exactly what the model says
//     is garbage: collected manifests 404, kept ones 200, tag lists exact, and
//     `regctl fsck` (offline) finds no problem and exactly the expected number
//     of blobs and manifests.
// Seeded: BERTH_TEST_SEED replays each client's sequence of operations (the
// interleaving differs from run to run).

import Foundation
import Testing

@Suite(.serialized) struct GCConcurrencyTests {
    static let grace = 4.0
    static let interval = 0.25

    static var environment: [String: String] {
        [
            "REGISTRY_BERTH_GC_GRACEPERIOD": "\(Int(grace))s",
            "REGISTRY_BERTH_GC_LINKGRACEPERIOD": "\(Int(grace))s",
            "REGISTRY_BERTH_GC_DELETEUNTAGGED": "true",
            "REGISTRY_BERTH_GC_UNTAGGEDDELAY": "1s",
            "REGISTRY_BERTH_GC_INTERVAL": "250ms",
            // Layers above 8 KiB take the upload-file / dedicated-pack path.
            "REGISTRY_BERTH_SMALLBLOBTHRESHOLD": "8192",
            "REGISTRY_LOG_LEVEL": "debug",
            "REGISTRY_LOG_ACCESSLOG_DISABLED": "true",
        ]
    }

    @Test func acknowledgedClosuresSurviveTheOnlineCollector() throws {
        let seed = SoakSeed.pick()
        let env = ProcessInfo.processInfo.environment
        let seconds = Double(env["BERTH_SOAK_SECONDS"] ?? "") ?? 40
        let maxOps = Int(env["BERTH_SOAK_OPS"] ?? "") ?? 1_000_000
        print("gc soak: seed \(seed) (BERTH_TEST_SEED=\(seed) replays it), \(seconds) s, grace \(Self.grace) s")
        let root = try TemporaryDirectory("gc-soak")
        defer { withExtendedLifetime(root) {} }
        let storage = root.path("storage")
        var server = try RegistryProcess.start(storageRoot: storage, environment: Self.environment)
        defer { server.stop() }

        // Window: the grace period minus the engine's whole-second clock and a margin.
        let pool = LayerPool(seed: seed, count: 24)
        let workers = (0..<6).map {
            GCSoakWorker(id: $0, port: server.port, seed: seed &+ UInt64($0) &* 0x9E37_79B9, window: Self.grace - 1.5,
                         pool: pool, sharedRepositories: ["soak/shared-a", "soak/shared-b"])
        }
        let started = Date()
        let deadline = started.addingTimeInterval(seconds)
        let done = DispatchSemaphore(value: 0)
        for w in workers {
            Thread { w.run(until: deadline, maxOperations: maxOps); done.signal() }.start()
        }
        for _ in workers { done.wait() }
        let trafficSeconds = Date().timeIntervalSince(started)
        for w in workers { try w.checkpoint() }  // collector still running

        var totals = SoakSession.Counters()
        for w in workers { totals.add(w.session.counters) }
        let failures = workers.flatMap { $0.errors } + workers.flatMap { $0.session.violations }
        #expect(failures.isEmpty, "seed \(seed): \(failures.count) failures:\n\(failures.prefix(8).joined(separator: "\n"))")
        #expect(totals.manifestsAcked > 100 && totals.checks > 100, "seed \(seed): too little traffic to mean anything")

        // The collector catches up: exactly the model's garbage goes.
        let expected = workers.map { $0.model.expectedSurvivors() }
        let kept = expected.flatMap(\.kept)
        let gone = expected.flatMap(\.gone)
        let probe = RawHTTPClient(port: server.port)
        let convergeDeadline = Date().addingTimeInterval(10 * Self.grace)
        var wrong: [String] = []
        repeat {
            wrong = []
            for e in kept + gone {
                let status = try probe.send("HEAD", "/v2/\(e.repo)/manifests/\(e.manifest.digest)").status
                if e.present && status != 200 { wrong.append("kept \(e.repo)@\(e.manifest.digest) answers \(status)") }
                if !e.present && status != 404 {
                    wrong.append("garbage \(e.repo)@\(e.manifest.digest) (\(e.manifest.kind)) answers \(status): not collected")
                }
            }
            if wrong.isEmpty || Date() > convergeDeadline { break }
            usleep(250_000)
        } while true
        #expect(wrong.isEmpty, "seed \(seed): after \(Int(10 * Self.grace)) s:\n\(wrong.prefix(20).joined(separator: "\n"))")
        #expect(!gone.isEmpty, "seed \(seed): the run produced no garbage; the collector check means nothing")
        for repo in Set(kept.map(\.repo)) {
            let r = try probe.send("GET", "/v2/\(repo)/tags/list")
            let object = try #require(try? JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
            let served = Set((object["tags"] as? [String]) ?? [])
            let acked = Set(workers.flatMap { ($0.model.tags[repo] ?? [:]).keys })
            #expect(served == acked, "seed \(seed): tags of \(repo): served \(served.sorted()), acknowledged \(acked.sorted())")
        }
        // berth.gc.interval 250ms reaches the serve loop (it used to wait at least 1 s).
        let log = server.log
        let waits = Self.values(log, line: "garbage collection pass done", field: "next_in_seconds")
        let passes = waits.count
        #expect(passes > 0 && waits.allSatisfy { $0 == Self.interval },
                "the online collector waits \(Set(waits).sorted()) s between passes, configured \(Self.interval) s")
        let collected = Int(Self.values(log, line: "garbage collected", field: "manifests").reduce(0, +))
        let collectedBlobs = Int(Self.values(log, line: "garbage collected", field: "blobs").reduce(0, +))

        // Blobs: offline fsck counts exactly the kept closures' blobs. A blob
        // zeroed by the last collections needs a grace period to go: stop,
        // count, and restart for another period, up to three times.
        var blobDigests = Set<String>()
        for e in kept {
            blobDigests.insert(e.manifest.digest)
            for b in e.manifest.blobs { blobDigests.insert(b.digest) }
            for c in e.manifest.children { blobDigests.insert(c.digest) }
        }
        var fsck = FsckSummary(blobs: -1, manifests: -1, clean: false, output: "")
        for attempt in 1...3 {
            Thread.sleep(forTimeInterval: Self.grace + 1.5)
            server.stop()
            fsck = try FsckSummary.run(root: storage)
            if fsck.blobs <= blobDigests.count || attempt == 3 { break }
            server = try RegistryProcess.start(storageRoot: storage, environment: Self.environment)
        }
        #expect(fsck.clean, "seed \(seed): regctl fsck:\n\(fsck.output)")
        #expect(fsck.manifests == kept.count, "seed \(seed): fsck counts \(fsck.manifests) manifests, the model keeps \(kept.count)")
        let leftovers = fsck.blobs == blobDigests.count ? "" : try FsckSummary.eligible(root: storage)
        #expect(fsck.blobs == blobDigests.count,
                "seed \(seed): fsck counts \(fsck.blobs) blobs, the kept closures hold \(blobDigests.count)\n\(leftovers)")
        print("""
            gc soak: seed \(seed): \(totals.operations) operations (\(totals.requests) requests) in \(String(format: "%.1f", trafficSeconds)) s by \(workers.count) clients; \
            \(totals.manifestsAcked) manifests and \(totals.tagsAcked) tags acknowledged; \(totals.blobsUploaded) blobs uploaded, \
            \(totals.dedupeHits) HEAD dedupe hits, \(totals.mounts) mounts (\(totals.mountFallbacks) declined); \
            \(totals.checks) checks, \(totals.lost) lost, \(totals.expired) pushes refused after their window, \
            \(failures.count) failures; collector: \(passes) passes, \(collected) manifests and \(collectedBlobs) blobs collected; \
            end state: \(kept.count) manifests kept, \(gone.count) gone, \(blobDigests.count) blobs
            """)
    }

    /// The numeric values of `field` on the log lines containing `line`
    /// (text or JSON log format).
    static func values(_ log: String, line: String, field: String) -> [Double] {
        log.split(separator: "\n").filter { $0.contains(line) }.compactMap { l in
            guard let r = l.range(of: "\(field)[^0-9]{1,4}[0-9.]+", options: .regularExpression) else { return nil }
            return Double(l[r].drop { !$0.isNumber })
        }
    }
}

/// `regctl fsck` on a storage root no server holds.
struct FsckSummary {
    var blobs: Int
    var manifests: Int
    /// Exit 0 and "fsck: clean".
    var clean: Bool
    var output: String

    static func environment(_ root: URL) -> [String: String] {
        ["REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY": root.path]
    }

    static func run(root: URL) throws -> FsckSummary {
        let result = try Command.run(try RegistryProcess.regctlExecutable().path, ["fsck"], environment: environment(root))
        let out = result.stdoutText + result.stderr
        var summary = FsckSummary(blobs: -1, manifests: -1, clean: result.succeeded && out.contains("fsck: clean"), output: out)
        if let r = out.range(of: #"checked [0-9]+ blobs, [0-9]+ manifests"#, options: .regularExpression) {
            let numbers = out[r].split(separator: " ").compactMap { Int($0) }
            summary.blobs = numbers[0]
            summary.manifests = numbers[1]
        }
        return summary
    }

    /// What offline GC would delete (names the leftovers of a failed count).
    static func eligible(root: URL) throws -> String {
        let result = try Command.run(try RegistryProcess.regctlExecutable().path, ["garbage-collect", "--dry-run"],
                                     environment: environment(root).merging(GCConcurrencyTests.environment) { a, _ in a })
        return result.stdoutText.split(separator: "\n").filter { $0.contains("eligible") }.prefix(20).joined(separator: "\n")
    }
}
