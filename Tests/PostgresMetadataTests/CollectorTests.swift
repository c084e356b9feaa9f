// The collector's claim against a real PostgreSQL 15: two workers never take
// the same item (interleaving forced by holding one claim's transaction open
// on a gate, not by sleeping), a blob referenced again before its review is
// dropped from the queue and kept, and a writer racing a claim on the same
// blob waits for it and is refused instead of referencing a deleted row.

import Foundation
import Logging
import PostgresMetadata
import Synchronization
import Testing

@Suite("PostgreSQL collector claims", .timeLimit(.minutes(3)))
struct CollectorTests {
    typealias D = Fixture

    /// Collects everything due; returns the digests deleted.
    func drainBlobs(_ store: PostgresMetadataStore) async throws -> [String] {
        var collected: [String] = []
        while true {
            switch try await store.collectDueBlob(deleteContent: { _ in }) {
            case .none: return collected
            case .collected(let d): collected.append(d)
            case .dropped: continue
            }
        }
    }

    @Test func twoCollectorsNeverClaimTheSameBlob() async throws {
        try await withStore { store, cluster in
            let x = D.digest("x"), y = D.digest("y")
            try await store.linkBlob(repository: "app", digest: x, size: 1)
            try await store.linkBlob(repository: "app", digest: y, size: 1)
            let held = Gate(), release = Gate()
            let heldDigest = Locked<String?>(nil)
            // Worker A claims one item and keeps its transaction open inside the content delete.
            let workerA = Task {
                try await store.collectDueBlob { digest in
                    heldDigest.withLock { $0 = digest }
                    held.open()
                    await release.wait()
                }
            }
            await held.wait()
            let a = try #require(heldDigest.withLock { $0 })
            // Worker B, while A holds its item: takes the other one, then finds nothing it may take.
            let b1 = try await store.collectDueBlob(deleteContent: { _ in })
            let b2 = try await store.collectDueBlob(deleteContent: { _ in })
            release.open()
            let aOutcome = try await workerA.value
            #expect(aOutcome == .collected(a))
            #expect(b1 == .collected(a == x ? y : x), "B skipped A's locked item")
            #expect(b2 == PostgresMetadataStore.BlobClaim.none, "the held item is skipped, not waited for")
            #expect(try cluster.psql("SELECT count(*) FROM blobs") == "0\n")
        }
    }

    /// A manifest review item held by another worker's open transaction is
    /// skipped; the worker takes the next one.
    @Test func twoCollectorsNeverClaimTheSameManifest() async throws {
        try await withStore { store, cluster in
            let m1 = try await D.push(store, "app", "m1", layers: [])
            let m2 = try await D.push(store, "app", "m2", layers: [])
            try await withDatabase(cluster) { other in
                try await other.transaction { c in
                    try await c.query("""
                        SELECT digest FROM gc_manifest_review_queue WHERE digest = \(m1) FOR UPDATE SKIP LOCKED
                        """, logger: Logger(label: "test"))
                    #expect(try await store.collectDueManifest() == .collected(repository: "app", digest: m2))
                    #expect(try await store.collectDueManifest() == PostgresMetadataStore.ManifestClaim.none)
                }
            }
            #expect(try await store.collectDueManifest() == .collected(repository: "app", digest: m1))
            #expect(try cluster.refcountMismatches() == "")
        }
    }

    @Test func aBlobReferencedAgainIsDroppedNotCollected() async throws {
        try await withStore { store, cluster in
            let layer = D.digest("layer")
            try await store.linkBlob(repository: "app", digest: layer, size: 10)
            // Due now (grace 0); before the collector looks, an image names it.
            let image = try await D.push(store, "app", "img", layers: [layer], tag: "latest")
            var claims: [PostgresMetadataStore.BlobClaim] = []
            while true {
                let claim = try await store.collectDueBlob(deleteContent: { _ in Issue.record("content deleted") })
                if claim == .none { break }
                claims.append(claim)
            }
            #expect(Set(claims.map { "\($0)" }) == ["\(PostgresMetadataStore.BlobClaim.dropped(layer))",
                                                    "\(PostgresMetadataStore.BlobClaim.dropped(D.digest("cfg-img")))"])
            #expect(try await store.blob(layer)?.refcount == 1)
            #expect(try cluster.psql("SELECT count(*) FROM gc_blob_review_queue") == "0\n", "dropped from the queue")
            // The manifest item of the pushed image is tagged by now: dropped too.
            #expect(try await store.collectDueManifest() == .dropped(repository: "app", digest: image))
            #expect(try await store.manifest(repository: "app", digest: image) != nil)
        }
    }

    /// The untag → collect chain: the manifest goes, its blobs reach 0 in the
    /// same transaction and are collected next; an index keeps its children.
    @Test func untaggedImagesAreCollectedWithTheirBlobs() async throws {
        try await withStore { store, cluster in
            let shared = D.digest("shared")
            let gone = try await D.push(store, "app", "gone", layers: [shared, D.digest("only-gone")], tag: "old")
            let child = try await D.push(store, "app", "child", layers: [shared])
            let index = D.index("idx", children: [child])
            try await store.putManifest(repository: "app", index)
            try await store.putTag(repository: "app", tag: "idx", digest: index.digest)
            try await store.deleteTag(repository: "app", tag: "old")
            var claims: [PostgresMetadataStore.ManifestClaim] = []
            while true {
                let claim = try await store.collectDueManifest()
                if claim == .none { break }
                claims.append(claim)
            }
            #expect(claims.contains(.collected(repository: "app", digest: gone)))
            #expect(claims.contains(.dropped(repository: "app", digest: child)), "kept by the tagged index")
            #expect(!claims.contains(.collected(repository: "app", digest: child)))
            let collected = Set(try await drainBlobs(store))
            #expect(collected == [gone, D.digest("only-gone"), D.digest("cfg-gone")], "\(collected)")
            #expect(try await store.blob(shared)?.refcount == 1)
            #expect(try cluster.refcountMismatches() == "")
        }
    }

    /// A claim holds blob X (transaction open in its content delete) while a
    /// writer puts a manifest naming X: the writer waits for the claim and is
    /// refused once X is gone — never a manifest pointing at deleted content.
    @Test func aWriterRacingAClaimIsRefusedNotDangling() async throws {
        try await withStore { store, cluster in
            let x = D.digest("x")
            try await store.linkBlob(repository: "app", digest: x, size: 1)
            try await store.linkBlob(repository: "app", digest: D.digest("cfg"), size: 1)
            let held = Gate(), release = Gate()
            let claim = Task {
                try await store.collectDueBlob { _ in
                    held.open()
                    await release.wait()
                }
            }
            await held.wait()
            let writer = Task { try await store.putManifest(repository: "app", D.image("m", config: D.digest("cfg"), layers: [x])) }
            // Release the claim only once the writer is blocked on its lock.
            while try cluster.psql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'") == "0\n" {
                try await Task.sleep(for: .milliseconds(20))
            }
            release.open()
            let claimed = try await claim.value
            // cfg may be the one claimed first (ordered by due time, then digest); whichever it was, the writer lost.
            guard case .collected = claimed else { Issue.record("claim: \(claimed)"); return }
            await #expect(throws: PostgresMetadataError.self) { try await writer.value }
            #expect(try cluster.psql("SELECT count(*) FROM manifests") == "0\n")
            #expect(try cluster.refcountMismatches() == "")
        }
    }
}
