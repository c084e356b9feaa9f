// The engine's metrics (EngineMetrics.swift) record what happened: fsyncs by
// kind, group-commit batch sizes, what GC collected, backlog and map gauges.

import Foundation
import MetricsTestKit
import Testing
@testable import CASEngine

@Suite struct EngineMetricsTests {
    @Test func writesGCAndGaugesAreRecorded() throws {
        let metrics = TestMetrics()
        let clock = GCTests.Clock()
        let root = TempRoot(); defer { root.cleanup() }
        var o = smallOptions()
        o.metricsFactory = metrics
        let store = try Store(root: root.path, options: o, clock: clock.read)
        defer { store.close() }
        let f = GCTests.Fixture(store: store, root: root)

        let small = try f.blob("small layer")
        let big = try f.blob("big layer", size: 40_000)
        let u = try store.startUpload(repository: "app")
        _ = try [UInt8](repeating: 3, count: 100).withUnsafeBytes { try store.appendUpload(id: u.id, repository: "app", offset: 0, $0) }
        _ = try store.syncUpload(id: u.id, repository: "app")
        #expect(try metrics.expectTimer("berth_engine_fsync_seconds", [("kind", "pack")]).values.count == 1)
        #expect(try metrics.expectTimer("berth_engine_fsync_seconds", [("kind", "dedicated")]).values.count == 1)
        #expect(try metrics.expectTimer("berth_engine_fsync_seconds", [("kind", "upload")]).values.count == 1)
        #expect(try metrics.expectRecorder("berth_engine_group_commit_blobs").values == [1])

        let policy = GCPolicy(deleteUntagged: true, gracePeriod: 60, untaggedDelay: 0)
        var stats = try store.publishGauges(policy: policy)
        #expect(stats.reviewBacklog == 2, "two zero-ref blobs queued")
        #expect(stats.reviewDue == 0)
        #expect(stats.openUploads == 1)
        #expect(stats.mapUsed > 0 && stats.mapUsed <= stats.mapSize)
        #expect(try metrics.expectGauge("berth_gc_backlog_items").lastValue == 2)
        #expect(try metrics.expectGauge("berth_upload_sessions_open").lastValue == 1)
        #expect(try metrics.expectGauge("berth_lmdb_map_size_bytes").lastValue == Double(stats.mapSize))

        clock.advance(61)
        stats = try store.statistics(policy: policy)
        #expect(stats.reviewDue == 2)
        let report = try store.collectIncrementally(policy: policy)
        #expect(Set(report.deletedBlobs) == [small, big])
        #expect(try metrics.expectCounter("berth_gc_collected_blobs_total").totalValue == 2)
        #expect(try metrics.expectCounter("berth_gc_collected_bytes_total").totalValue == Int64(report.freedBytes))
        #expect(report.freedBytes == UInt64("small layer".utf8.count + "big layer".utf8.count + 40_000))
        #expect(try store.publishGauges(policy: policy).reviewBacklog == 0)
        #expect(try metrics.expectGauge("berth_gc_backlog_items").lastValue == 0)
    }
}
