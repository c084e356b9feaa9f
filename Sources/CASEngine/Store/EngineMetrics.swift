// The engine's own metrics, through swift-metrics (serve bootstraps
// Prometheus; the debug listener exports them):
//
//   berth_engine_fsync_seconds{kind}        timer: pack (group-commit fdatasync),
//                                           dedicated (upload file before rename),
//                                           upload (PATCH chunk)
//   berth_engine_group_commit_blobs         recorder: blobs per group commit
//   berth_gc_collected_blobs_total          counter
//   berth_gc_collected_bytes_total          counter (original bytes)
//   berth_gc_collected_manifests_total      counter
//   berth_gc_backlog_items                  gauge: review items queued
//   berth_gc_due_items                      gauge: of those, due under the policy
//   berth_engine_dead_bytes                 gauge: shared-pack bytes no entry names
//   berth_lmdb_map_size_bytes               gauge
//   berth_lmdb_map_used_bytes               gauge
//   berth_upload_sessions_open              gauge
//
// Thread safety: Sendable; handles are created once per store from the
// factory in StoreOptions (nil: the global MetricsSystem factory at open).
// Invariants:
//   1. Recording never throws and never blocks on I/O.
//   2. Gauges are published by `publishGauges` (the online collector calls it
//      every pass), counters and timers at the event.

import Metrics

struct EngineMetrics: Sendable {
    let fsyncPack, fsyncDedicated, fsyncUpload: Metrics.Timer
    let groupCommitBlobs: Recorder
    let collectedBlobs, collectedBytes, collectedManifests: Counter
    let backlog, due, deadBytes, mapSize, mapUsed, uploads: Gauge

    init(factory: (any MetricsFactory)?) {
        let f = factory ?? MetricsSystem.factory
        fsyncPack = Metrics.Timer(label: "berth_engine_fsync_seconds", dimensions: [("kind", "pack")], factory: f)
        fsyncDedicated = Metrics.Timer(label: "berth_engine_fsync_seconds", dimensions: [("kind", "dedicated")], factory: f)
        fsyncUpload = Metrics.Timer(label: "berth_engine_fsync_seconds", dimensions: [("kind", "upload")], factory: f)
        groupCommitBlobs = Recorder(label: "berth_engine_group_commit_blobs", factory: f)
        collectedBlobs = Counter(label: "berth_gc_collected_blobs_total", factory: f)
        collectedBytes = Counter(label: "berth_gc_collected_bytes_total", factory: f)
        collectedManifests = Counter(label: "berth_gc_collected_manifests_total", factory: f)
        backlog = Gauge(label: "berth_gc_backlog_items", factory: f)
        due = Gauge(label: "berth_gc_due_items", factory: f)
        deadBytes = Gauge(label: "berth_engine_dead_bytes", factory: f)
        mapSize = Gauge(label: "berth_lmdb_map_size_bytes", factory: f)
        mapUsed = Gauge(label: "berth_lmdb_map_used_bytes", factory: f)
        uploads = Gauge(label: "berth_upload_sessions_open", factory: f)
    }

    /// Runs `body` (an fsync) and records its duration on `timer`.
    static func time<T>(_ timer: Metrics.Timer, _ body: () throws -> T) rethrows -> T {
        let start = ContinuousClock.now
        defer {
            let d = ContinuousClock.now - start
            timer.recordNanoseconds(d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000)
        }
        return try body()
    }

    /// Counts what a (non-dry-run) collection removed.
    func collected(_ report: GCReport) {
        if !report.deletedBlobs.isEmpty { collectedBlobs.increment(by: report.deletedBlobs.count) }
        if report.freedBytes > 0 { collectedBytes.increment(by: Int(clamping: report.freedBytes)) }
        if !report.deletedManifests.isEmpty { collectedManifests.increment(by: report.deletedManifests.count) }
    }
}

/// A point-in-time view of the engine (metrics gauges, `regctl` output).
public struct EngineStatistics: Sendable, Equatable {
    public var reviewBacklog: Int
    public var reviewDue: Int
    public var deadBytes: UInt64
    public var mapSize: Int
    public var mapUsed: Int
    public var openUploads: Int
}

extension Store {
    /// Counts the review queue (O(backlog)), sums dead shared-pack bytes
    /// (O(packs)) and reads the map and session figures.
    public func statistics(policy: GCPolicy) throws -> EngineStatistics {
        try checkOpen()
        let now = self.now
        var backlog = 0, due = 0
        var cursor: UInt64? = nil
        while true {
            let page = try meta.reviewPage(after: cursor, limit: 1000)
            guard let last = page.last else { break }
            cursor = last.seq
            backlog += page.count
            for (_, item) in page {
                switch item {
                case .blobZeroed(_, let at): if at + policy.gracePeriod <= now { due += 1 }
                case .manifestUntagged(_, _, let at): if policy.deleteUntagged && at + policy.untaggedDelay <= now { due += 1 }
                }
            }
        }
        let map = meta.env.mapUsage
        return EngineStatistics(reviewBacklog: backlog, reviewDue: due, deadBytes: try deadBytes(),
                                mapSize: map.size, mapUsed: map.used,
                                openUploads: try meta.uploadCount())
    }

    /// Sets the engine's gauges from `statistics(policy:)`.
    @discardableResult
    public func publishGauges(policy: GCPolicy) throws -> EngineStatistics {
        let s = try statistics(policy: policy)
        metrics.backlog.record(s.reviewBacklog)
        metrics.due.record(s.reviewDue)
        metrics.deadBytes.record(Int64(clamping: s.deadBytes))
        metrics.mapSize.record(s.mapSize)
        metrics.mapUsed.record(s.mapUsed)
        metrics.uploads.record(s.openUploads)
        return s
    }
}
