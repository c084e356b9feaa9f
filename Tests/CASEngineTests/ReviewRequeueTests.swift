// A review item re-queued after the collector read it (issue 13: "online GC
// loses the review of a blob re-zeroed within the same second").
//
// Review items are `(kind, at, digest[, repo])` and the queue holds an
// identical item once. A blob zeroed, referenced and zeroed again within one
// second asks for the same item twice. Before the fix the second request was
// dropped as a duplicate while the collector, which had read the first one
// and found it stale (the blob was referenced at that moment), then removed
// it: the blob stayed at refcount 0 with no review left — never collected
// online (a leak; never an early collection, since `removeBlobs` re-checks
// refcount and zeroed-at in its own transaction). Every clock here is frozen,
// so each test is deterministic; each failed on the code before the fix.

import Foundation
import Testing
@testable import CASEngine

@Suite struct ReviewRequeueTests {
    static let policy = GCPolicy(deleteUntagged: true, gracePeriod: 0, untaggedDelay: 0)

    /// Passes until one removes nothing; everything removed.
    func collectToQuiescence(_ store: Store, _ policy: GCPolicy = Self.policy) throws -> (manifests: Set<BlobDigest>, blobs: Set<BlobDigest>) {
        var manifests = Set<BlobDigest>(), blobs = Set<BlobDigest>()
        for _ in 0..<10 {
            let r = try store.collectIncrementally(policy: policy)
            if r.deletedManifests.isEmpty && r.deletedBlobs.isEmpty { break }
            manifests.formUnion(r.deletedManifests.map(\.digest))
            blobs.formUnion(r.deletedBlobs)
        }
        return (manifests, blobs)
    }

    /// Single-threaded: the collector's own delete re-zeroes, in the same
    /// second, blobs whose stale items sit in the page it is working.
    @Test func blobsReZeroedByTheCollectorsOwnDeleteAreCollected() throws {
        try GCTests().withStore(GCTests.Clock()) { f in
            let layer = try f.blob("layer")                                 // (layer, T) queued
            let m = try f.manifest("pushed by digest", refs: [layer], tags: [])  // layer referenced: (layer, T) stale
            let got = try collectToQuiescence(f.store)
            #expect(got.manifests == [m])
            #expect(got.blobs == [layer, m], "zeroed again by the delete of m, in the second of their first review")
            #expect(try f.store.stat(layer) == nil)
            #expect(try f.store.meta.reviewQueueCount() == 0)
        }
    }

    /// Concurrent: a client's manifest DELETE lands between the collector's
    /// reading of a stale item and its removal of the items it processed.
    @Test func aBlobReZeroedByAClientWhileTheCollectorWorksItsPageIsCollected() throws {
        try GCTests().withStore(GCTests.Clock()) { f in
            let layer = try f.blob("layer")
            let m = try f.manifest("v1", refs: [layer], tags: ["latest"])
            _ = try f.blob("garbage", "other")   // a due blob: the collector reaches gc.blob.after-decision
            let store = f.store
            let first = try GCRaceTests().interleave(.gcBlobAfterDecision, store,
                                                      call: { try store.collectIncrementally(policy: Self.policy) }) {
                try f.store.deleteManifest(repository: "app", digest: m)  // layer and m at 0 again, same second
            }
            #expect(!first.deletedBlobs.contains(layer), "referenced when the pass read its item")
            let rest = try collectToQuiescence(f.store)
            #expect(rest.blobs == [layer, m], "the re-zeroing re-queued their reviews")
            #expect(try f.store.meta.reviewQueueCount() == 0)
        }
    }

    /// The metadata-level contract: an item re-queued after a reader saw it
    /// moves behind that reader's page, and removing the page's entries
    /// (by sequence) leaves it queued.
    @Test func removingAPageKeepsItemsReQueuedSinceItWasRead() throws {
        let t = try TempMeta()
        try t.store.commit([1, 2], into: "r", now: 5)
        try t.store.putManifest(repository: "r", digest: dg(10), location: loc(10),
                                edges: ManifestEdges(mediaType: imageType, references: [dg(1)]), tags: ["t"], now: 5)
        let page = try t.store.reviewPage(after: nil, limit: 100)
        #expect(page.map(\.item) == [.blobZeroed(dg(1), at: 5), .blobZeroed(dg(2), at: 5)])
        let end = try t.store.sequenceHighWater()
        try t.store.deleteManifest(repository: "r", digest: dg(10), now: 5)  // 1 and 10 reach 0 in second 5 again
        let requeued = try t.store.reviewPage(after: nil, limit: 100)
        #expect(requeued.first { $0.item == .blobZeroed(dg(1), at: 5) }.map { $0.seq >= end } == true,
                "a re-queued item moves behind the pass that read it")
        try t.store.removeReviewItems(page)
        #expect(try t.store.reviewQueue(limit: 100) == [.blobZeroed(dg(10), at: 5), .blobZeroed(dg(1), at: 5)])
        // Entries whose item was re-queued or already removed are ignored.
        try t.store.removeReviewItems(page)
        #expect(try t.store.reviewQueueCount() == 2)
        try t.store.removeReviewItems(try t.store.reviewPage(after: nil, limit: 100))
        #expect(try t.store.reviewQueueCount() == 0)
    }
}
