import Testing
@testable import CASEngine

@Suite struct MetaStoreManifestTests {
    func image(_ refs: [Int], subject: Int? = nil, artifactType: String? = nil, annotations: [UInt8]? = nil) -> ManifestEdges {
        ManifestEdges(mediaType: imageType, references: refs.map(dg), subject: subject.map(dg),
                      artifactType: artifactType, annotations: annotations)
    }

    func refcount(_ t: TempMeta, _ n: Int) throws -> UInt64? { try t.store.blob(dg(n))?.refcount }

    @Test func putManifestCountsEdgesOnceAndIsIdempotent() throws {
        let t = try TempMeta()
        try t.store.commit([1, 2], into: "r")
        try t.store.putManifest(repository: "r", digest: dg(10), location: loc(10), edges: image([1, 2, 2]), tags: ["v1"], now: 5)
        #expect(try refcount(t, 10) == 1)
        #expect(try refcount(t, 1) == 1)
        #expect(try refcount(t, 2) == 1)   // duplicates counted once
        #expect(try t.store.blob(dg(1))?.zeroedAt == 0)
        #expect(try t.store.blob(dg(10))?.createdAt == 5)
        // Re-push: nothing changes, even with a different location.
        try t.store.putManifest(repository: "r", digest: dg(10), location: loc(99), edges: image([1, 2]), tags: ["v1"], now: 6)
        #expect(try refcount(t, 10) == 1)
        #expect(try refcount(t, 1) == 1)
        #expect(try t.store.manifest(repository: "r", digest: dg(10))?.location == loc(10))
        #expect(try t.store.tagHistory(repository: "r", tag: "v1").count == 1)
        #expect(try t.store.manifestEdges(repository: "r", digest: dg(10))?.references == [dg(1), dg(2)])
    }

    @Test func putManifestErrors() throws {
        let t = try TempMeta()
        try t.store.commit([1], into: "r")
        try t.store.commit([2], into: "other")
        // No blob record and no location: nothing recorded, the caller stores the bytes again.
        #expect(try !t.store.putManifest(repository: "r", digest: dg(10), location: nil, edges: image([1]), tags: [], now: 1))
        #expect(try t.store.manifest(repository: "r", digest: dg(10)) == nil)
        // dg(2) exists but is not linked in r.
        let error = #expect(throws: StoreError(.referenceUnknown, "")) {
            try t.store.putManifest(repository: "r", digest: dg(10), location: loc(10), edges: image([1, 2]), tags: [], now: 1)
        }
        #expect(error?.message.contains(dg(2).description) == true)
        #expect(try t.store.blob(dg(10)) == nil)   // rolled back
        #expect(try refcount(t, 1) == 0)
        #expect(throws: StoreError(.referenceUnknown, "")) {
            try t.store.putManifest(repository: "r", digest: dg(10), location: loc(10), edges: image([3]), tags: [], now: 1)
        }
        // Manifest already stored as a blob: location may be nil.
        try t.store.commit([11], into: nil)
        try t.store.putManifest(repository: "r", digest: dg(11), location: nil, edges: image([1]), tags: [], now: 1)
        #expect(try refcount(t, 11) == 1)
        #expect(throws: StoreError(.invalidArgument, "")) {
            try t.store.putManifest(repository: "r", digest: dg(11), location: nil, edges: image([1]), tags: [""], now: 1)
        }
    }

    @Test func sameManifestInTwoRepositoriesAndSharedLayer() throws {
        let t = try TempMeta()
        try t.store.commit([1, 2, 3], into: "a")
        try t.store.commit([1, 2], into: "b")
        try t.store.putManifest(repository: "a", digest: dg(10), location: loc(10), edges: image([1, 2]), tags: [], now: 2)
        try t.store.putManifest(repository: "b", digest: dg(10), location: loc(10), edges: image([1, 2]), tags: [], now: 2)
        // Layer 1 shared with a second manifest of a; accepted even after unlink
        // because a manifest of a already references it.
        #expect(try t.store.unlink(repository: "a", digest: dg(1)))
        try t.store.putManifest(repository: "a", digest: dg(20), location: loc(20), edges: image([1, 3]), tags: [], now: 2)
        #expect(try refcount(t, 10) == 2)
        #expect(try refcount(t, 1) == 3)
        #expect(try refcount(t, 2) == 2)
        #expect(try refcount(t, 3) == 1)
        #expect(try t.store.isAvailable(repository: "a", digest: dg(1)))
        #expect(try t.store.manifestsReferencing(repository: "a", digest: dg(1)) == [dg(10), dg(20)])
        try t.store.deleteManifest(repository: "a", digest: dg(10), now: 50)
        #expect(try refcount(t, 10) == 1)
        #expect(try refcount(t, 1) == 2)
        #expect(try refcount(t, 2) == 1)
        try t.store.deleteManifest(repository: "b", digest: dg(10), now: 60)
        #expect(try t.store.blob(dg(10)) == BlobRecord(location: loc(10), refcount: 0, zeroedAt: 60, createdAt: 2))
        #expect(try t.store.blob(dg(2))?.zeroedAt == 60)
        #expect(try refcount(t, 1) == 1)
        let queue = try t.store.reviewQueue(limit: 100)
        #expect(queue.suffix(2) == [.blobZeroed(dg(10), at: 60), .blobZeroed(dg(2), at: 60)])
        #expect(throws: StoreError(.manifestUnknown, "")) { try t.store.deleteManifest(repository: "b", digest: dg(10), now: 61) }
    }

    @Test func indexNeedsChildrenFirst() throws {
        let t = try TempMeta()
        try t.store.commit([1, 2], into: "r")
        #expect(throws: StoreError(.referenceUnknown, "")) {
            try t.store.putManifest(repository: "r", digest: dg(30), location: loc(30),
                                    edges: ManifestEdges(mediaType: indexType, references: [dg(10), dg(20)]), tags: [], now: 1)
        }
        try t.store.putManifest(repository: "r", digest: dg(10), location: loc(10), edges: image([1]), tags: [], now: 1)
        try t.store.putManifest(repository: "r", digest: dg(20), location: loc(20), edges: image([2]), tags: [], now: 1)
        try t.store.putManifest(repository: "r", digest: dg(30), location: loc(30),
                                edges: ManifestEdges(mediaType: indexType, references: [dg(10), dg(20)]), tags: ["multi"], now: 1)
        #expect(try refcount(t, 10) == 2)
        #expect(try refcount(t, 30) == 1)
        #expect(try t.store.manifest(repository: "r", digest: dg(30))?.mediaType == indexType)
        try t.store.deleteManifest(repository: "r", digest: dg(30), now: 9)
        #expect(try refcount(t, 10) == 1)
        #expect(try t.store.resolveTag(repository: "r", tag: "multi") == nil)
    }

    @Test func tagsMoveDeleteHistoryAndReview() throws {
        let t = try TempMeta()
        try t.store.commit([1], into: "r")
        for m in [10, 20] {
            try t.store.putManifest(repository: "r", digest: dg(m), location: loc(UInt32(m)), edges: image([1]), tags: [], now: 1)
        }
        try t.store.removeReviewItems(try t.store.reviewPage(after: nil, limit: 100))
        #expect(throws: StoreError(.manifestUnknown, "")) { try t.store.setTag(repository: "r", tag: "x", digest: dg(1), now: 2) }
        try t.store.setTag(repository: "r", tag: "latest", digest: dg(10), now: 2)
        try t.store.setTag(repository: "r", tag: "stable", digest: dg(10), now: 3)
        try t.store.setTag(repository: "r", tag: "latest", digest: dg(10), now: 4)   // no-op
        try t.store.setTag(repository: "r", tag: "latest", digest: dg(20), now: 5)   // 10 still tagged "stable"
        #expect(try t.store.reviewQueue(limit: 10) == [])
        try t.store.setTag(repository: "r", tag: "stable", digest: dg(20), now: 6)   // 10 now untagged
        #expect(try t.store.reviewQueue(limit: 10) == [.manifestUntagged(repository: "r", digest: dg(10), at: 6)])
        try t.store.deleteTag(repository: "r", tag: "stable", now: 7)                // 20 still "latest"
        #expect(try t.store.reviewQueue(limit: 10).count == 1)
        try t.store.deleteTag(repository: "r", tag: "latest", now: 8)
        #expect(try t.store.reviewQueue(limit: 10) == [.manifestUntagged(repository: "r", digest: dg(10), at: 6),
                                                       .manifestUntagged(repository: "r", digest: dg(20), at: 8)])
        #expect(try t.store.reviewQueue(limit: 1).count == 1)
        #expect(try t.store.reviewQueue(limit: 0) == [])
        #expect(throws: StoreError(.tagUnknown, "")) { try t.store.deleteTag(repository: "r", tag: "latest", now: 9) }
        #expect(throws: StoreError(.tagUnknown, "")) { try t.store.deleteTag(repository: "nope", tag: "latest", now: 9) }
        #expect(try t.store.tagHistory(repository: "r", tag: "latest").map { "\($0.digest)@\($0.at)" } ==
                ["\(dg(10))@2", "\(dg(20))@5"])
        #expect(try t.store.tagHistory(repository: "r", tag: "stable").map(\.at) == [3, 6])
        #expect(try t.store.tagHistory(repository: "r", tag: "none") == [])
        try t.store.setTag(repository: "r", tag: "latest", digest: dg(10), now: 10)
        #expect(try t.store.tagHistory(repository: "r", tag: "latest").map(\.at) == [2, 5, 10])
        let untagged10 = try t.store.reviewPage(after: nil, limit: 10).filter { $0.item == .manifestUntagged(repository: "r", digest: dg(10), at: 6) }
        try t.store.removeReviewItems(untagged10 + [(seq: 1, item: .blobZeroed(dg(5), at: 1))])  // the second is not queued
        #expect(try t.store.reviewQueue(limit: 10) == [.manifestUntagged(repository: "r", digest: dg(20), at: 8)])
    }

    @Test func deleteManifestRemovesItsTags() throws {
        let t = try TempMeta()
        try t.store.commit([1], into: "r")
        try t.store.putManifest(repository: "r", digest: dg(10), location: loc(10), edges: image([1]), tags: ["a", "b"], now: 2)
        try t.store.deleteManifest(repository: "r", digest: dg(10), now: 3)
        #expect(try t.store.tags(repository: "r", after: nil, limit: nil) == [])   // still has the link
        #expect(try t.store.tagHistory(repository: "r", tag: "a").map { "\($0.digest)@\($0.at)" } == ["\(dg(10))@2"])
        #expect(try t.store.manifest(repository: "r", digest: dg(10)) == nil)
        #expect(try t.store.reviewQueue(limit: 100).contains(.manifestUntagged(repository: "r", digest: dg(10), at: 3)) == false)
        #expect(try t.store.unlink(repository: "r", digest: dg(1)))
        #expect(try t.store.tags(repository: "r", after: nil, limit: nil) == nil)
        #expect(try t.store.repositories(after: nil, limit: nil) == [])
    }

    @Test func pagination() throws {
        let t = try TempMeta()
        for repo in ["b", "a/x", "a", "c"] {
            try t.store.commit([1], into: repo)
        }
        try t.store.putManifest(repository: "a", digest: dg(10), location: loc(10), edges: image([1]),
                                tags: ["v2", "latest", "v10", "V1", "é"], now: 1)
        #expect(try t.store.repositories(after: nil, limit: nil) == ["a", "a/x", "b", "c"])
        #expect(try t.store.repositories(after: "a", limit: 2) == ["a/x", "b"])
        #expect(try t.store.repositories(after: "a/y", limit: nil) == ["b", "c"])   // not present
        #expect(try t.store.repositories(after: "c", limit: nil) == [])
        #expect(try t.store.repositories(after: nil, limit: 0) == [])
        #expect(try t.store.repositories(after: nil, limit: 100).count == 4)
        #expect(try t.store.tags(repository: "a", after: nil, limit: nil) == ["V1", "latest", "v10", "v2", "é"])
        #expect(try t.store.tags(repository: "a", after: "latest", limit: 2) == ["v10", "v2"])
        #expect(try t.store.tags(repository: "a", after: "m", limit: nil) == ["v10", "v2", "é"])
        #expect(try t.store.tags(repository: "a", after: nil, limit: 0) == [])
        #expect(try t.store.tags(repository: "a", after: "é", limit: 10) == [])
        #expect(try t.store.tags(repository: "a/x", after: nil, limit: nil) == [])   // prefix isolation
        #expect(try t.store.tags(repository: "zzz", after: nil, limit: nil) == nil)
        #expect(try t.store.tags(repository: "zzz", after: nil, limit: 0) == nil)
    }

    @Test func referrersByArtifactType() throws {
        let t = try TempMeta()
        try t.store.commit([1], into: "r")
        try t.store.putManifest(repository: "r", digest: dg(10), location: loc(10), edges: image([1]), tags: ["v"], now: 1)
        try t.store.putManifest(repository: "r", digest: dg(21), location: loc(21, raw: 321),
                                edges: image([1], subject: 10, artifactType: "sig", annotations: Array("{\"a\":1}".utf8)), tags: [], now: 1)
        try t.store.putManifest(repository: "r", digest: dg(22), location: loc(22, raw: 322),
                                edges: image([1], subject: 10, artifactType: "sbom"), tags: [], now: 1)
        // Subject need not exist (OCI allows pushing referrers first).
        try t.store.putManifest(repository: "r", digest: dg(23), location: loc(23), edges: image([1], subject: 99), tags: [], now: 1)
        let all = try t.store.referrers(repository: "r", subject: dg(10), artifactType: nil)
        #expect(all == [
            Referrer(digest: dg(21), mediaType: imageType, size: 321, artifactType: "sig", annotations: Array("{\"a\":1}".utf8)),
            Referrer(digest: dg(22), mediaType: imageType, size: 322, artifactType: "sbom", annotations: nil),
        ])
        #expect(try t.store.referrers(repository: "r", subject: dg(10), artifactType: "sbom").map(\.digest) == [dg(22)])
        #expect(try t.store.referrers(repository: "r", subject: dg(10), artifactType: "none") == [])
        #expect(try t.store.referrers(repository: "other", subject: dg(10), artifactType: nil) == [])
        #expect(try t.store.referrers(repository: "r", subject: dg(99), artifactType: nil).map(\.size) == [100])
        #expect(try t.store.blob(dg(10))?.refcount == 1)   // subject edge is weak
        try t.store.deleteManifest(repository: "r", digest: dg(21), now: 2)
        #expect(try t.store.referrers(repository: "r", subject: dg(10), artifactType: nil).map(\.digest) == [dg(22)])
    }
}
