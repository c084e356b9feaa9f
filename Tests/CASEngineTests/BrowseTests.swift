// The web page's reads (Store+Browse): tags with push times, untagged
// manifests with when the collector takes them (untagged delay, retention,
// history protection), repository summaries, totals, and the collector's
// durable last-pass time.

import Foundation
import Testing
@testable import CASEngine

@Suite struct BrowseTests {
    typealias Clock = GCTests.Clock

    @Test func tagsUntaggedAndTheirCollectionTimes() throws {
        let clock = Clock()
        try GCTests().withStore(clock) { f in
            f.store.tagHistoryPolicy = TagHistoryPolicy(protect: 7200)
            let start = clock.read()
            let layer = try f.blob("layer")
            let a = try f.manifest("a", refs: [layer], tags: ["v1"])
            clock.advance(100)
            let b = try f.manifest("b", refs: [layer], tags: ["v2"])
            clock.advance(100)
            let loose = try f.manifest("loose", refs: [], tags: [])
            let idx = try f.manifest("idx", refs: [a], tags: ["multi"], type: GCTests.index)
            _ = idx
            // v1 moves to b: a stays kept by idx; nothing else is untagged but `loose`.
            clock.advance(50)
            try f.store.promoteTags(repository: "app", chain: ["v2", "v1"], expect: [:], freeze: nil, by: "ci")
            let view = try #require(try f.store.browse(repository: "app"))
            #expect(view.tags.map(\.tag) == ["multi", "v1", "v2"])
            #expect(view.tags.first { $0.tag == "v1" }?.digest == b && view.tags.first { $0.tag == "v1" }?.pushed == start + 250)
            #expect(view.untagged.map(\.digest) == [loose])
            let m = view.untagged[0]
            #expect(m.unkeptAt == start + 200 && m.protectedUntil == nil)
            let gc = GCPolicy(deleteUntagged: true, gracePeriod: 0, untaggedDelay: 3600)
            #expect(m.collectionDue(gc: gc, retention: nil) == start + 200 + 3600)
            #expect(m.collectionDue(gc: GCPolicy(deleteUntagged: false, gracePeriod: 0, untaggedDelay: 3600), retention: nil) == nil)
            let retention = RetentionPolicy(name: "r", matches: { _ in true }, keepTags: [], deleteUntagged: true, untaggedDelay: 60)
            #expect(m.collectionDue(gc: gc, retention: retention) == start + 200 + 60, "the earlier of the two")

            // Untag b (v1 and v2 deleted): history names it, so protection postpones it.
            clock.advance(10)
            try f.store.deleteTag(repository: "app", tag: "v1")
            try f.store.deleteTag(repository: "app", tag: "v2")
            let after = try #require(try f.store.browse(repository: "app"))
            let ub = try #require(after.untagged.first { $0.digest == b })
            #expect(ub.protectedUntil == ub.unkeptAt + 7200)
            #expect(ub.collectionDue(gc: gc, retention: nil) == ub.unkeptAt + 7200, "protection ends after the delay")
            #expect(try f.store.browse(repository: "nothing") == nil)

            let summary = try #require(try f.store.repositorySummary(repository: "app"))
            #expect(summary.tags == 1 && summary.manifests == 4 && summary.lastPush == start + 200)
        }
    }

    @Test func lastCollectionIsRecordedDurablyByBothCollectors() throws {
        let clock = Clock()
        let root = TempRoot(); defer { root.cleanup() }
        do {
            let store = try Store(root: root.path, options: smallOptions(), clock: clock.read)
            defer { store.close() }
            #expect(try store.usageTotals().lastCollection == nil)
            _ = try store.collectIncrementally(policy: GCPolicy(deleteUntagged: false, gracePeriod: 0, untaggedDelay: 0))
            #expect(try store.usage().lastCollection == clock.read())
            clock.advance(500)
            _ = try store.garbageCollect(policy: GCPolicy(deleteUntagged: false, gracePeriod: 0, untaggedDelay: 0), dryRun: true)
            #expect(try store.usageTotals().lastCollection == clock.read() - 500, "a dry run is not a collection")
            _ = try store.garbageCollect(policy: GCPolicy(deleteUntagged: false, gracePeriod: 0, untaggedDelay: 0), dryRun: false)
        }
        let reopened = try Store(root: root.path, options: smallOptions(), clock: clock.read)
        defer { reopened.close() }
        #expect(try reopened.usageTotals().lastCollection == clock.read(), "kept across a reopen")
    }
}
