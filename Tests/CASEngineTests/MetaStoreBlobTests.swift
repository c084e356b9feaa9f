import Testing
@testable import CASEngine

@Suite struct MetaStoreBlobTests {
    @Test func commitCreatesZeroRefRecordAndReview() throws {
        let t = try TempMeta()
        let recs = try t.store.commitBlobs([(dg(1), loc(1), nil), (dg(2), loc(2), "repo")], now: 10)
        #expect(recs.count == 2)
        #expect(recs[0] == BlobRecord(location: loc(1), refcount: 0, zeroedAt: 10, createdAt: 10))
        #expect(try t.store.blob(dg(1)) == recs[0])
        #expect(try t.store.blob(dg(3)) == nil)
        #expect(try t.store.isLinked(repository: "repo", digest: dg(2)))
        #expect(try !t.store.isLinked(repository: "repo", digest: dg(1)))
        #expect(try t.store.linkedAt(repository: "repo", digest: dg(2)) == 10)
        #expect(try t.store.reviewQueue(limit: 10) == [.blobZeroed(dg(1), at: 10), .blobZeroed(dg(2), at: 10)])
        #expect(try t.store.repositories(after: nil, limit: nil) == ["repo"])
    }

    @Test func commitDedupesKeepingFirstLocation() throws {
        let t = try TempMeta()
        _ = try t.store.commitBlobs([(dg(1), loc(1), nil)], now: 10)
        let recs = try t.store.commitBlobs([(dg(1), loc(9), "r"), (dg(1), loc(8), nil)], now: 20)
        #expect(recs.map(\.location) == [loc(1), loc(1)])
        #expect(recs[0].createdAt == 10)
        // Zero-ref blob committed again: grace period restarts.
        #expect(recs[0].zeroedAt == 20)
        #expect(try t.store.linkedAt(repository: "r", digest: dg(1)) == 20)
    }

    @Test func forEachBlobIsOrderedAndStops() throws {
        let t = try TempMeta()
        try t.store.commit([5, 3, 9, 1], into: nil)
        var seen: [BlobDigest] = []
        try t.store.forEachBlob { d, _ in seen.append(d); return true }
        #expect(seen == [dg(1), dg(3), dg(5), dg(9)])
        seen = []
        try t.store.forEachBlob { d, _ in seen.append(d); return seen.count < 2 }
        #expect(seen == [dg(1), dg(3)])
    }

    @Test func relocateIsCompareAndSwap() throws {
        let t = try TempMeta()
        try t.store.commit([1], into: nil)
        #expect(try !t.store.relocateBlob(dg(1), from: loc(7), to: loc(8)))
        #expect(try t.store.relocateBlob(dg(1), from: loc(1), to: loc(8)))
        #expect(try t.store.blob(dg(1))?.location == loc(8))
        #expect(try !t.store.relocateBlob(dg(2), from: loc(1), to: loc(8)))
    }

    @Test func removeBlobHonoursRefcountAndGraceAndDropsLinks() throws {
        let t = try TempMeta()
        try t.store.commit([1, 2], into: "a", now: 100)
        #expect(try t.store.link(repository: "b", digest: dg(1), now: 100))
        try t.store.putManifest(repository: "a", digest: dg(10), location: loc(10), edges: ManifestEdges(mediaType: imageType, references: [dg(2)]), tags: [], now: 100)
        #expect(try !t.store.removeBlob(dg(1), ifZeroSince: 99))   // too recent
        #expect(try !t.store.removeBlob(dg(2), ifZeroSince: 1000)) // referenced
        #expect(try !t.store.removeBlob(dg(3), ifZeroSince: 1000)) // unknown
        #expect(try t.store.removeBlob(dg(1), ifZeroSince: 100))
        #expect(try t.store.blob(dg(1)) == nil)
        #expect(try !t.store.isLinked(repository: "a", digest: dg(1)))
        #expect(try !t.store.isLinked(repository: "b", digest: dg(1)))
        // b had only that link: it disappears.
        #expect(try t.store.repositories(after: nil, limit: nil) == ["a"])
        #expect(try t.store.tags(repository: "b", after: nil, limit: nil) == nil)
    }

    @Test func linkAndUnlink() throws {
        let t = try TempMeta()
        #expect(try !t.store.link(repository: "r", digest: dg(1), now: 5))
        #expect(try t.store.repositories(after: nil, limit: nil) == [])
        try t.store.commit([1], into: nil, now: 1)
        #expect(try t.store.link(repository: "r", digest: dg(1), now: 5))
        #expect(try t.store.link(repository: "r", digest: dg(1), now: 7))
        #expect(try t.store.linkedAt(repository: "r", digest: dg(1)) == 7)
        #expect(try t.store.blob(dg(1))?.zeroedAt == 7)   // mount restarts grace
        #expect(try t.store.tags(repository: "r", after: nil, limit: nil) == [])
        #expect(try t.store.unlink(repository: "r", digest: dg(1)))
        #expect(try !t.store.unlink(repository: "r", digest: dg(1)))
        #expect(try t.store.linkedAt(repository: "r", digest: dg(1)) == nil)
        #expect(try t.store.repositories(after: nil, limit: nil) == [])
    }

    @Test func rejectsEmptyAndNULNames() throws {
        let t = try TempMeta()
        try t.store.commit([1], into: nil)
        #expect(throws: StoreError(.invalidArgument, "")) { try t.store.link(repository: "", digest: dg(1), now: 1) }
        #expect(throws: StoreError(.invalidArgument, "")) { try t.store.link(repository: "a\0b", digest: dg(1), now: 1) }
        #expect(throws: StoreError(.invalidArgument, "")) { try t.store.resolveTag(repository: "a", tag: "x\0") }
        #expect(throws: StoreError(.invalidArgument, "")) {
            try t.store.commitBlobs([(dg(2), loc(2), "bad\0")], now: 1)
        }
        #expect(try t.store.blob(dg(2)) == nil)   // whole batch rejected
        #expect(throws: StoreError(.invalidArgument, "")) { try t.store.putUpload(UploadRecord(id: "u\0", repository: "r", startedAt: 1)) }
    }

    @Test func uploads() throws {
        let t = try TempMeta()
        #expect(try t.store.uploadCount() == 0)
        let a = UploadRecord(id: "b-id", repository: "lib/x", startedAt: 5)
        let b = UploadRecord(id: "a-id", repository: "lib/y", startedAt: 6)
        try t.store.putUpload(a)
        try t.store.putUpload(b)
        #expect(try t.store.upload(id: "b-id") == a)
        #expect(try t.store.upload(id: "zz") == nil)
        #expect(try t.store.uploads() == [b, a])
        #expect(try t.store.uploadCount() == 2)
        try t.store.deleteUpload(id: "a-id")
        #expect(throws: StoreError(.uploadUnknown, "")) { try t.store.deleteUpload(id: "a-id") }
        #expect(try t.store.uploads() == [a])
    }

    @Test func reopenPersistsEverything() throws {
        let t = try TempMeta()
        try t.store.commit([1, 2], into: "r", now: 3)
        try t.store.putManifest(repository: "r", digest: dg(10), location: loc(10),
                                edges: ManifestEdges(mediaType: imageType, references: [dg(1), dg(2)], subject: dg(2), artifactType: "x"),
                                tags: ["latest"], now: 4)
        try t.store.putUpload(UploadRecord(id: "u", repository: "r", startedAt: 9))
        let before = (try t.store.blob(dg(1)), try t.store.reviewQueue(limit: 100))
        try t.reopen()
        #expect(try t.store.blob(dg(1)) == before.0)
        #expect(try t.store.reviewQueue(limit: 100) == before.1)
        #expect(try t.store.resolveTag(repository: "r", tag: "latest") == dg(10))
        #expect(try t.store.manifest(repository: "r", digest: dg(10)) == ManifestRecord(digest: dg(10), mediaType: imageType, location: loc(10)))
        #expect(try t.store.referrers(repository: "r", subject: dg(2), artifactType: nil).map(\.digest) == [dg(10)])
        #expect(try t.store.tagHistory(repository: "r", tag: "latest").map { "\($0.digest)@\($0.at)" } == ["\(dg(10))@4"])
        #expect(try t.store.upload(id: "u")?.startedAt == 9)
        #expect(try t.store.linkedAt(repository: "r", digest: dg(2)) == 3)
        #expect(try t.store.blob(dg(10))?.refcount == 1)
    }

    @Test func readOnlyRejectsWritesAndReads() throws {
        let t = try TempMeta()
        try t.store.commit([1], into: "r")
        try t.reopen(readOnly: true)
        #expect(try t.store.blob(dg(1)) != nil)
        #expect(throws: StoreError(.readOnly, "")) { try t.store.commit([2], into: nil) }
        #expect(throws: StoreError(.readOnly, "")) { try t.store.putUpload(UploadRecord(id: "u", repository: "r", startedAt: 1)) }
    }

    @Test func closedStoreThrowsClosed() throws {
        let t = try TempMeta()
        t.store.close()
        #expect(throws: StoreError(.closed, "")) { try t.store.blob(dg(1)) }
        #expect(throws: StoreError(.closed, "")) { try t.store.commit([1], into: nil) }
        t.store.close()   // idempotent
    }
}
