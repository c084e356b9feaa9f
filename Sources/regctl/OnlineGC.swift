// The online garbage collector inside `regctl serve` (berth.gc): every
// `interval`, write the pull times noted since the last pass, apply
// `berth.retention` (or with `dryrun` log what it would delete), work the review queue (Store.collectIncrementally), then compact
// shared packs it left mostly dead, and checkpoint the recovery journal once
// its segment is large. No read-only mode, no downtime.

import CASEngine
import Logging
import NIOPosix
import RegistryConfig
import RegistryHTTP
import ServiceLifecycle

struct OnlineGC: Service {
    let store: Store
    let settings: RegistryConfiguration.Berth.GC
    /// `berth.retention`: applied (or, dry, only logged) before each pass.
    let retention: [RetentionPolicy]
    let retentionDryRun: Bool
    let modes: ServerModes
    let logger: Logger

    func run() async throws {
        let policy = GCPolicy(deleteUntagged: settings.deleteUntagged,
                              gracePeriod: UInt64(settings.gracePeriod),
                              untaggedDelay: UInt64(settings.untaggedDelay))
        let retention = self.retention, retentionDryRun = self.retentionDryRun
        await runPeriodically(every: settings.interval, skipWhile: modes, logger: logger, what: "garbage collection") { [store, logger] in
            let (report, compaction, retained) = try await NIOThreadPool.singleton.runIfActive {
                // Pull times noted since the last pass (batched: MetaStore+Pulls).
                try store.flushPulls()
                let retained = retention.isEmpty ? [] : try store.applyRetention(retention, dryRun: retentionDryRun)
                let report = try store.collectIncrementally(policy: policy)
                try store.publishGauges(policy: policy)
                // Compaction scans the index: only after this step freed
                // records in shared packs (the collector unlinks dedicated
                // packs itself).
                let compaction = report.deletedBlobs.count > report.removedPacks
                    ? try store.compact(minDeadRatio: 0.5) : CompactionReport()
                try store.checkpointJournalIfNeeded()
                return (report, compaction, retained)
            }
            for d in retained {
                logger.notice(retentionDryRun ? "retention (dry run) would \(d)" : "retention: \(d)")
            }
            if !report.deletedBlobs.isEmpty || !report.deletedManifests.isEmpty || !compaction.packsRewritten.isEmpty {
                logger.info("garbage collected", metadata: [
                    "manifests": "\(report.deletedManifests.count)",
                    "blobs": "\(report.deletedBlobs.count)",
                    "bytes": "\(report.freedBytes)",
                    "packs_compacted": "\(compaction.packsRewritten.count)",
                ])
            }
        }
    }
}
