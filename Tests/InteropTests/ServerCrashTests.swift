// Issue 7 item 5: server-level crashes. Three clients push images (shared
// and unique layers; monolithic, POST+PUT and chunked uploads; mounts) and
// one uploads large blobs in 64 KiB PATCHes, against a real `regctl serve`
// that is SIGKILLed at a seeded random moment BERTH_CRASH_SERVER_KILLS times
// (default 12) on one storage root. After each kill: `regctl fsck` (offline)
// is clean, refcounts included; the server restarts on the same root and,
// before any client may continue, every push acknowledged so far is checked
// (tags where they were acknowledged, or at a PUT the kill cut off; the
// closures of new pushes pulled and re-hashed). The chunked client then asks
// for its session's status and resumes from the Range the server reports,
// which must cover every acknowledged byte.

import BerthTestSupport
import Foundation
import Testing

@Suite(.serialized) struct ServerCrashTests {
    static let environment = [
        "REGISTRY_BERTH_SMALLBLOBTHRESHOLD": "8192",
        "REGISTRY_LOG_ACCESSLOG_DISABLED": "true",
    ]

    @Test func acknowledgedPushesSurviveSIGKILL() throws {
        let seed = SoakSeed.pick()
        let kills = Int(ProcessInfo.processInfo.environment["BERTH_CRASH_SERVER_KILLS"] ?? "") ?? 12
        print("server crash: seed \(seed) (BERTH_TEST_SEED=\(seed) replays it), \(kills) kills")
        var rng = SplitMix64(seed: seed)
        let root = try TemporaryDirectory("server-crash")
        defer { withExtendedLifetime(root) {} }
        let storage = root.path("storage")
        var server = try RegistryProcess.start(storageRoot: storage, environment: Self.environment)
        defer { server.stop() }

        let endpoint = CrashEndpoint()
        let ledger = CrashLedgerBox()
        let pool = LayerPool(seed: seed, count: 8)
        let done = DispatchSemaphore(value: 0)
        for i in 0..<3 {
            let pusher = CrashPusher(id: i, seed: seed &+ UInt64(i + 1), endpoint: endpoint, ledger: ledger, pool: pool)
            Thread { pusher.run(); done.signal() }.start()
        }
        let resumer = ChunkedResumer(seed: seed &+ 99, endpoint: endpoint, ledger: ledger)
        Thread { resumer.run(); done.signal() }.start()
        var joined = false
        func join() {
            guard !joined else { return }
            endpoint.stop()
            for _ in 0..<4 { done.wait() }
            joined = true
        }
        defer { join() }

        var checkedPushes = 0
        var checkedBlobs = 0
        var checks = 0
        var fsckRuns = 0
        for generation in 0..<kills {
            endpoint.publish(port: server.port, generation: generation)
            Thread.sleep(forTimeInterval: Double.random(in: 0.4...1.6, using: &rng))  // traffic, then the crash
            endpoint.withdraw()
            server.kill9()

            let fsck = try FsckSummary.run(root: storage)
            fsckRuns += 1
            #expect(fsck.clean, "seed \(seed), kill \(generation + 1): regctl fsck after SIGKILL:\n\(fsck.output)")
            let old = server.port
            server.stop()
            server = try RegistryProcess.start(storageRoot: storage, environment: Self.environment, avoidingPort: old)

            let snapshot = ledger.withLock { $0 }
            checks += try Self.verify(snapshot, port: server.port, pullFrom: checkedPushes, blobsFrom: checkedBlobs, seed: seed)
            checkedPushes = snapshot.pushed.count
            checkedBlobs = snapshot.blobs.count
            #expect(snapshot.problems.isEmpty, "seed \(seed), kill \(generation + 1):\n\(snapshot.problems.prefix(8).joined(separator: "\n"))")
            if !snapshot.problems.isEmpty { break }
        }
        // A last stretch of traffic, then a clean shutdown and a full check.
        endpoint.publish(port: server.port, generation: kills)
        Thread.sleep(forTimeInterval: 1)
        join()
        server.stop()
        let fsck = try FsckSummary.run(root: storage)
        #expect(fsck.clean, "seed \(seed): regctl fsck after the last, clean stop:\n\(fsck.output)")
        server = try RegistryProcess.start(storageRoot: storage, environment: Self.environment)
        let final = ledger.withLock { $0 }
        checks += try Self.verify(final, port: server.port, pullFrom: 0, blobsFrom: 0, seed: seed)
        #expect(final.problems.isEmpty, "seed \(seed):\n\(final.problems.prefix(8).joined(separator: "\n"))")
        #expect(final.pushed.count >= kills && final.resumed > 0,
                "seed \(seed): too little happened to mean anything (\(final.pushed.count) pushes, \(final.resumed) resumed uploads)")
        print("""
            server crash: seed \(seed): \(kills) SIGKILLs, \(fsckRuns + 1) clean fsck runs; \(final.pushed.count) pushes acknowledged \
            (\(final.counters.blobsUploaded) blob uploads, \(final.counters.dedupeHits) dedupe hits, \(final.counters.mounts) mounts), \
            \(final.interrupted) cut off by a kill; \(final.blobs.count) chunked uploads completed, \
            \(final.sessionsAcrossKills) sessions across a kill, \(final.resumed) resumed from the server's Range, \
            \(final.commitsCutOff) completing PUTs cut off after the session was consumed; \(checks) checks, \(final.problems.count) problems
            """)
    }

    /// Every tag is where it was acknowledged (or at a PUT the kill cut off);
    /// the closures of pushes from index `pullFrom` on and the chunked blobs
    /// from `blobsFrom` on are pulled and re-hashed. Returns the number of checks.
    static func verify(_ ledger: CrashLedger, port: Int, pullFrom: Int, blobsFrom: Int, seed: UInt64) throws -> Int {
        let session = SoakSession(name: "checker", port: port, seed: seed, window: 86_400)
        var checks = 0
        var byDigest: [String: SoakManifest] = [:]
        for p in ledger.pushed { byDigest[p.manifest.digest] = p.manifest }
        for (repo, tags) in ledger.tags {
            for (tag, acked) in tags {
                checks += 1
                let r = try session.request("HEAD", "/v2/\(repo)/manifests/\(tag)")
                let allowed = (ledger.unsettled[repo]?[tag] ?? []).union([acked])
                let served = r.header("docker-content-digest") ?? "none"
                #expect(r.status == 200 && allowed.contains(served),
                        "seed \(seed): \(repo):\(tag) answers \(r.status) \(served), acknowledged \(acked)")
            }
        }
        for p in ledger.pushed[pullFrom...] {
            try session.checkClosure(p.manifest, in: p.repo, reference: p.manifest.digest, referrers: [], what: "after restart")
        }
        // The chunked client uploads a few contents over and over: pull each once.
        var pulled = Set<String>()
        for (repo, blob) in ledger.blobs[blobsFrom...] where pulled.insert("\(repo)@\(blob.digest)").inserted {
            try session.checkBlob(blob, in: repo, what: "chunked upload after restart")
        }
        #expect(session.violations.isEmpty, "seed \(seed):\n\(session.violations.prefix(8).joined(separator: "\n"))")
        return checks + session.counters.checks
    }
}
