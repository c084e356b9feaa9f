// The online garbage collector inside `regctl serve` (berth.gc): every
// `interval`, work the review queue (Store.collectIncrementally), then compact
// shared packs that are mostly dead. No read-only mode, no downtime. Stops at
// a step boundary on graceful shutdown.

import CASEngine
import Logging
import NIOPosix
import RegistryConfig
import ServiceLifecycle

struct OnlineGC: Service {
    let store: Store
    let settings: RegistryConfiguration.Berth.GC
    let logger: Logger

    func run() async throws {
        let policy = GCPolicy(deleteUntagged: settings.deleteUntagged,
                              gracePeriod: UInt64(settings.gracePeriod),
                              untaggedDelay: UInt64(settings.untaggedDelay))
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let (report, compaction) = try await NIOThreadPool.singleton.runIfActive {
                        let report = try store.collectIncrementally(policy: policy)
                        // Compaction scans the index: only after this step
                        // freed records in shared packs (dedicated packs are
                        // unlinked by the collector itself).
                        let compaction = report.deletedBlobs.count > report.removedPacks
                            ? try store.compact(minDeadRatio: 0.5) : CompactionReport()
                        return (report, compaction)
                    }
                    if !report.deletedBlobs.isEmpty || !report.deletedManifests.isEmpty || !compaction.packsRewritten.isEmpty {
                        logger.info("garbage collected", metadata: [
                            "manifests": "\(report.deletedManifests.count)",
                            "blobs": "\(report.deletedBlobs.count)",
                            "bytes": "\(report.freedBytes)",
                            "packs_compacted": "\(compaction.packsRewritten.count)",
                        ])
                    }
                } catch {
                    logger.error("garbage collection step failed", metadata: ["error": "\(error)"])
                }
                do {
                    try await Task.sleep(for: .seconds(max(settings.interval, 1)))
                } catch {
                    return
                }
            }
        }
    }
}
