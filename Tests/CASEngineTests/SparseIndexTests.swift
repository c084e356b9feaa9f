// Sparse indexes (`validation.manifests.indexes.platforms: none|list`): an
// index whose children need not all be pushed. The children it lacks are
// parent edges without references (MetaStore+Manifests invariant 6), so a
// platform pushed after its index is kept by the index — through the online
// collector, offline mark-and-sweep and a journal reindex — and goes with it.

import Foundation
import Testing
@testable import CASEngine

@Suite struct SparseIndexTests {
    typealias F = GCTests.Fixture
    static let untaggedNow = GCPolicy(deleteUntagged: true, gracePeriod: 0, untaggedDelay: 0)

    /// The bytes `F.manifest(name, …)` stores, so a test can name a child before pushing it.
    static func digest(of name: String) -> BlobDigest { sha256(Array("{\"schemaVersion\":2,\"name\":\"\(name)\"}".utf8)) }

    @discardableResult
    static func sparseIndex(_ f: F, children: [BlobDigest], tags: [String]) throws -> BlobDigest {
        let bytes = Array("{\"schemaVersion\":2,\"name\":\"sparse index\"}".utf8)
        let d = sha256(bytes)
        try f.store.putManifest(repository: "app", digest: d, bytes: bytes,
                                edges: ManifestEdges(mediaType: GCTests.index, references: [], sparseChildren: children), tags: tags)
        return d
    }

    static func expectClean(_ store: Store, _ comment: Comment) throws {
        let report = try store.fsck(verifyContent: true, scanPacks: false, repair: false, orphanAge: 0)
        #expect(report.isClean, "\(comment): \(report)")
        #expect(try store.meta.checkIndex().isEmpty, "\(comment)")
    }

    @Test func aChildPushedAfterItsSparseIndexIsKeptByItAndGoesWithIt() throws {
        let clock = GCTests.Clock()
        try GCTests().withStore(clock) { f in
            let lAmd = try f.blob("layer amd64")
            let amd = try f.manifest("amd64", refs: [lAmd], tags: [])
            let arm = Self.digest(of: "arm64")
            let index = try Self.sparseIndex(f, children: [amd, arm], tags: ["multi"])
            // The child the repository held is counted; the absent one is not.
            #expect(try f.store.meta.blob(amd)?.refcount == 2, "its own entry and the index")
            #expect(try f.store.meta.manifestEdges(repository: "app", digest: index)?.references == [amd])
            try Self.expectClean(f.store, "after the sparse push")

            clock.advance(60)
            let lArm = try f.blob("layer arm64")
            #expect(try f.manifest("arm64", refs: [lArm], tags: []) == arm, "the absent platform, pushed by digest")
            try Self.expectClean(f.store, "after the late child")

            clock.advance(3600)
            let online = try f.store.collectIncrementally(policy: Self.untaggedNow)
            #expect(online.deletedManifests.isEmpty, "\(online.deletedManifests)")
            #expect(!online.deletedBlobs.contains(lArm))
            let offline = try f.store.garbageCollect(policy: GCTests.offlineUntagged, dryRun: false)
            #expect(offline.deletedManifests.isEmpty, "\(offline.deletedManifests)")
            for d in [arm, lArm, amd, lAmd, index] { try f.store.verify(d) }

            // Untagged, the index takes both platforms with it, the late one included.
            try f.store.deleteTag(repository: "app", tag: "multi")
            clock.advance(1)
            var gone = Set<BlobDigest>()
            for _ in 0..<4 {
                gone.formUnion(try f.store.collectIncrementally(policy: Self.untaggedNow).deletedManifests.map(\.digest))
                clock.advance(1)
            }
            #expect(gone == [index, amd, arm])
            for d in [arm, lArm, amd, lAmd, index] { #expect(try f.store.stat(d) == nil, "\(d)") }
            try Self.expectClean(f.store, "after the collection")
        }
    }

    @Test func requiredChildrenMustExistAndSparseOnesNeedNot() throws {
        try GCTests().withStore { f in
            let missing = Self.digest(of: "never pushed")
            let bytes = Array("{\"schemaVersion\":2,\"name\":\"strict index\"}".utf8)
            #expect(throws: StoreError.self) {
                try f.store.putManifest(repository: "app", digest: sha256(bytes), bytes: bytes,
                                        edges: ManifestEdges(mediaType: GCTests.index, references: [missing]), tags: ["strict"])
            }
            #expect(try f.store.resolve(repository: "app", tag: "strict") == nil)
            let index = try Self.sparseIndex(f, children: [missing], tags: ["sparse"])
            #expect(try f.store.resolve(repository: "app", tag: "sparse") == index)
            // Deleting it removes its absent child's parent edge too.
            try f.store.deleteManifest(repository: "app", digest: index)
            try Self.expectClean(f.store, "after deleting the sparse index")
        }
    }

    @Test func reindexFromTheJournalKeepsTheAbsentChildEdges() throws {
        let clock = GCTests.Clock()
        try GCTests().withStore(clock) { f in
            let arm = Self.digest(of: "arm64")
            let index = try Self.sparseIndex(f, children: [arm], tags: ["multi"])
            f.store.close()
            try FileManager.default.removeItem(atPath: f.root.path + "/meta")
            let store = try Store(root: f.root.path, options: smallOptions(), clock: clock.read)
            defer { store.close() }
            _ = try store.fsck(verifyContent: false, scanPacks: true, repair: true, reindex: true, orphanAge: 0)
            #expect(try store.resolve(repository: "app", tag: "multi") == index)
            try Self.expectClean(store, "after the reindex")
            let lArm = sha256(Array("layer arm64".utf8))
            try store.putBlob(Array("layer arm64".utf8), digest: lArm, repository: "app")
            let bytes = Array("{\"schemaVersion\":2,\"name\":\"arm64\"}".utf8)
            try store.putManifest(repository: "app", digest: arm, bytes: bytes,
                                  edges: ManifestEdges(mediaType: GCTests.image, references: [lArm]), tags: [])
            clock.advance(3600)
            #expect(try store.collectIncrementally(policy: Self.untaggedNow).deletedManifests.isEmpty)
            try store.verify(arm)
        }
    }
}
