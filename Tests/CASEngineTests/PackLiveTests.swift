// Live-byte accounting (MetaStore+PackLive) equals what the index implies
// after writes, GC, compaction and reopen; a schema-1 environment is upgraded
// with both derived tables rebuilt.

import Foundation
import Testing
@testable import CASEngine

@Suite struct PackLiveTests {
    /// pack_live recomputed from the blob index.
    static func expected(_ store: Store) throws -> [UInt32: UInt64] {
        var live: [UInt32: UInt64] = [:]
        try store.meta.forEachBlob { _, rec in
            if !rec.location.flags.contains(.dedicated) { live[rec.location.packID, default: 0] += MetaStore.recordBytes(rec.location) }
            return true
        }
        return live
    }

    @Test func accountingFollowsWritesGCAndCompaction() throws {
        let clock = GCTests.Clock()
        try GCTests().withStore(clock, maxPack: 8192) { f in
            var rng = SeededRandom(seed: 21)
            var kept: [BlobDigest] = []
            for i in 0..<40 {
                let bytes = rng.bytes(700)
                let d = sha256(bytes)
                try f.store.putBlob(bytes, digest: d, repository: "app")
                if i % 3 == 0 { kept.append(try f.manifest("m\(i)", refs: [d], tags: ["t\(i)"])) }
                #expect(try f.store.meta.packLiveBytes() == Self.expected(f.store))
            }
            _ = try f.blob("big", size: 40_000)  // dedicated: not accounted
            #expect(try f.store.meta.packLiveBytes() == Self.expected(f.store))
            clock.advance(100)
            let gc = try f.store.collectIncrementally(policy: GCPolicy(deleteUntagged: false, gracePeriod: 50, untaggedDelay: 0))
            #expect(gc.deletedBlobs.count == 26 + 1, "26 unreferenced small blobs and the big one")
            #expect(try f.store.meta.packLiveBytes() == Self.expected(f.store))
            let deadBefore = try f.store.deadBytes()
            #expect(deadBefore > 27 * 700)
            let report = try f.store.compact(minDeadRatio: 0.3)
            #expect(!report.packsRewritten.isEmpty)
            #expect(try f.store.meta.packLiveBytes() == Self.expected(f.store))
            #expect(try f.store.deadBytes() == deadBefore - report.bytesReclaimed)
            for m in kept { #expect(try f.store.manifest(repository: "app", digest: m) != nil) }
        }
    }

    @Test func schemaOneIsUpgradedWithDerivedTablesRebuilt() throws {
        let root = TempRoot(); defer { root.cleanup() }
        var digests: [BlobDigest] = []
        do {
            let store = try Store.open(at: root.path, options: smallOptions())
            let f = GCTests.Fixture(store: store, root: root)
            let layer = try f.blob("layer")
            let child = try f.manifest("child", refs: [layer], tags: [])
            digests = [layer, child, try f.manifest("index", refs: [child], tags: ["multi"], type: GCTests.index)]
            // Make it a version-1 environment: no derived tables, version 1.
            try store.meta.env.write { txn in
                for dbi in [store.meta.db.manifestParents, store.meta.db.packLive] {
                    var keys: [[UInt8]] = []
                    try txn.scan(dbi, from: nil) { k, _ in keys.append(k); return true }
                    for k in keys { try txn.delete(dbi, k) }
                }
                try txn.put(store.meta.db.meta, MetaKey.schemaVersion, [1, 0, 0, 0])
            }
            store.close()
        }
        let store = try Store.open(at: root.path, options: smallOptions())
        defer { store.close() }
        let version = try store.meta.env.read { txn in try txn.get(store.meta.db.meta, MetaKey.schemaVersion) }
        #expect(version == [3, 0, 0, 0])
        #expect(try store.meta.packLiveBytes() == Self.expected(store))
        // The parents index is back: the child, queued for review when it was
        // pushed untagged, is kept by its tagged index (without the rebuilt
        // index the walk up would find no parent and delete it).
        let policy = GCPolicy(deleteUntagged: true, gracePeriod: 3600, untaggedDelay: 0)
        #expect(try store.collectIncrementally(policy: policy).deletedManifests.isEmpty)
        #expect(try store.manifest(repository: "app", digest: digests[1]) != nil)
        try store.deleteTag(repository: "app", tag: "multi")
        // The index goes first; the child, queued again by that delete, on the next pass.
        #expect(try store.collectIncrementally(policy: policy).deletedManifests.map(\.digest) == [digests[2]])
        #expect(try store.collectIncrementally(policy: policy).deletedManifests.map(\.digest) == [digests[1]])
    }
}
