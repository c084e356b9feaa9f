// Garbage collection and compaction: the operator stories of the seed notes
// (`latest` re-pointed, beta → latest → archive promotion, signatures),
// offline mark-and-sweep with --dry-run/--delete-untagged semantics, the
// online review-queue collector with its grace periods, and compaction.

import Foundation
import Synchronization
import Testing
@testable import CASEngine

@Suite struct GCTests {
    static let image = "application/vnd.oci.image.manifest.v1+json"
    static let index = "application/vnd.oci.image.index.v1+json"

    /// A settable clock for the store under test.
    final class Clock: Sendable {
        let value = Mutex<UInt64>(1_000_000)
        func advance(_ s: UInt64) { value.withLock { $0 += s } }
        var read: @Sendable () -> UInt64 { { [self] in value.withLock { $0 } } }
    }

    struct Fixture {
        let store: Store
        let root: TempRoot

        @discardableResult
        func blob(_ s: String, _ repo: String = "app", size: Int = 0) throws -> BlobDigest {
            let bytes = Array(s.utf8) + [UInt8](repeating: 7, count: size)
            let d = sha256(bytes)
            if bytes.count > 16 << 10 {
                let u = try store.startUpload(repository: repo)
                _ = try bytes.withUnsafeBytes { try store.appendUpload(id: u.id, repository: repo, offset: 0, $0) }
                _ = try store.commitUpload(id: u.id, repository: repo, digest: d)
            } else {
                try store.putBlob(bytes, digest: d, repository: repo)
            }
            return d
        }

        @discardableResult
        func manifest(_ name: String, refs: [BlobDigest], subject: BlobDigest? = nil, tags: [String],
                      type: String = GCTests.image, repo: String = "app") throws -> BlobDigest {
            let bytes = Array("{\"schemaVersion\":2,\"name\":\"\(name)\"}".utf8)
            let d = sha256(bytes)
            try store.putManifest(repository: repo, digest: d, bytes: bytes,
                                  edges: ManifestEdges(mediaType: type, references: refs, subject: subject,
                                                       artifactType: subject == nil ? nil : "application/vnd.example.sig"),
                                  tags: tags)
            return d
        }
    }

    func withStore(_ clock: Clock = Clock(), maxPack: UInt64 = 1 << 30, _ body: (Fixture) throws -> Void) throws {
        let root = TempRoot(); defer { root.cleanup() }
        var o = smallOptions()
        o.maxSharedPackSize = maxPack
        let store = try Store(root: root.path, options: o, clock: clock.read)
        defer { store.close() }
        try body(Fixture(store: store, root: root))
    }

    static let offline = GCPolicy(deleteUntagged: false, gracePeriod: 0, untaggedDelay: 0)
    static let offlineUntagged = GCPolicy(deleteUntagged: true, gracePeriod: 0, untaggedDelay: 0)

    @Test func repointedLatestIsFreedOnlyWithDeleteUntagged() throws {
        try withStore { f in
            let c1 = try f.blob("config-1"), l1 = try f.blob("layer-1", size: 40_000), l2 = try f.blob("layer-2")
            let old = try f.manifest("v1", refs: [c1, l1, l2], tags: ["latest"])
            let c2 = try f.blob("config-2"), l3 = try f.blob("layer-3")
            let new = try f.manifest("v2", refs: [c2, l2, l3], tags: ["latest"])

            // Plain GC keeps the untagged old image: it is still a manifest of the repository.
            let plain = try f.store.garbageCollect(policy: Self.offline, dryRun: false)
            #expect(plain.deletedManifests.isEmpty && plain.deletedBlobs.isEmpty)
            #expect(try f.store.manifest(repository: "app", digest: old) != nil)

            let dry = try f.store.garbageCollect(policy: Self.offlineUntagged, dryRun: true)
            #expect(dry.deletedManifests.map(\.digest) == [old])
            #expect(Set(dry.deletedBlobs) == [old, c1, l1])
            #expect(try f.store.manifest(repository: "app", digest: old) != nil, "dry run changes nothing")
            #expect(try f.store.stat(l1) != nil)

            let packsBefore = try FileManager.default.contentsOfDirectory(atPath: f.root.path + "/packs").count
            let real = try f.store.garbageCollect(policy: Self.offlineUntagged, dryRun: false)
            #expect(Set(real.deletedBlobs) == [old, c1, l1])
            #expect(real.removedPacks == 1, "the 40 KB layer had its own pack")
            #expect(try FileManager.default.contentsOfDirectory(atPath: f.root.path + "/packs").count == packsBefore - 1)
            for gone in [old, c1, l1] { #expect(try f.store.stat(gone) == nil) }
            for kept in [new, c2, l2, l3] { try f.store.verify(kept) }
            #expect(try f.store.manifest(repository: "app", tag: "latest")?.digest == new)
        }
    }

    @Test func promotionFlowKeepsEveryTaggedRelease() throws {
        try withStore { f in
            let a = try f.manifest("a", refs: [try f.blob("la")], tags: ["beta"])
            // archive <- latest <- beta, then a new beta
            let b = try f.manifest("b", refs: [try f.blob("lb")], tags: ["latest"])
            try f.store.putManifest(repository: "app", digest: b, bytes: Array("{\"schemaVersion\":2,\"name\":\"b\"}".utf8),
                                    edges: ManifestEdges(mediaType: Self.image, references: []), tags: ["archive"])
            try f.store.putManifest(repository: "app", digest: a, bytes: Array("{\"schemaVersion\":2,\"name\":\"a\"}".utf8),
                                    edges: ManifestEdges(mediaType: Self.image, references: []), tags: ["latest"])
            let c = try f.manifest("c", refs: [try f.blob("lc")], tags: ["beta"])
            let report = try f.store.garbageCollect(policy: Self.offlineUntagged, dryRun: false)
            #expect(report.deletedManifests.isEmpty)
            #expect(Set(report.kept.map(\.digest)) == [a, b, c])
            #expect(try f.store.tagHistory(repository: "app", tag: "latest").map(\.digest) == [b, a])
        }
    }

    @Test func indexChildrenAndReferrersLiveWithWhatKeepsThem() throws {
        try withStore { f in
            let lAmd = try f.blob("l-amd"), lArm = try f.blob("l-arm"), sigLayer = try f.blob("sig-layer")
            let lOrphan = try f.blob("l-orphan")
            let amd = try f.manifest("amd64", refs: [lAmd], tags: [])
            let arm = try f.manifest("arm64", refs: [lArm], tags: [])
            let idx = try f.manifest("index", refs: [amd, arm], tags: ["multi"], type: Self.index)
            let sig = try f.manifest("sig", refs: [sigLayer], subject: idx, tags: [])
            let orphan = try f.manifest("orphan", refs: [lOrphan], tags: [])
            let report = try f.store.garbageCollect(policy: Self.offlineUntagged, dryRun: false)
            #expect(report.deletedManifests.map(\.digest) == [orphan])
            #expect(Set(report.deletedBlobs) == [orphan, lOrphan])
            for kept in [amd, arm, idx, sig] { #expect(try f.store.manifest(repository: "app", digest: kept) != nil) }

            // Untag the index: now the index, its children and its signature go.
            try f.store.deleteTag(repository: "app", tag: "multi")
            let second = try f.store.garbageCollect(policy: Self.offlineUntagged, dryRun: false)
            #expect(Set(second.deletedManifests.map(\.digest)) == [amd, arm, idx, sig])
            #expect(Set(second.deletedBlobs) == [amd, arm, idx, sig, lAmd, lArm, sigLayer])
            // Nothing is left of the repository: no manifest, tag or link keeps it listed.
            #expect(try f.store.repositories(after: nil, limit: nil) == [])
            #expect(try f.store.tags(repository: "app", after: nil, limit: nil) == nil)
            for gone in [amd, arm, idx, sig, lAmd, lArm, sigLayer] { #expect(try f.store.stat(gone) == nil) }
        }
    }

    @Test func onlineCollectorHonoursGraceAndUntaggedDelay() throws {
        let clock = Clock()
        try withStore(clock) { f in
            let policy = GCPolicy(deleteUntagged: true, gracePeriod: 3600, untaggedDelay: 600)
            let l1 = try f.blob("layer-1", size: 30_000)
            let old = try f.manifest("v1", refs: [l1], tags: ["latest"])
            let new = try f.manifest("v2", refs: [try f.blob("layer-2")], tags: ["latest"])
            #expect(try f.store.collectIncrementally(policy: policy).deletedManifests.isEmpty, "untagged delay not yet passed")
            clock.advance(601)
            let first = try f.store.collectIncrementally(policy: policy)
            #expect(first.deletedManifests.map(\.digest) == [old])
            #expect(first.deletedBlobs.isEmpty, "zero-ref blobs wait for the grace period")
            #expect(try f.store.refcount(of: l1) == 0)

            // A mount (a client re-using the layer) restarts the grace period.
            clock.advance(3000)
            #expect(try f.store.mountBlob(l1, into: "other", from: "app") != nil)
            clock.advance(700)
            let second = try f.store.collectIncrementally(policy: policy)
            #expect(!second.deletedBlobs.contains(l1), "mounted 700 s ago: still in grace")
            #expect(second.deletedBlobs.contains(old), "the old manifest's own bytes are past grace")
            clock.advance(3600)
            let third = try f.store.collectIncrementally(policy: policy)
            #expect(third.deletedBlobs.contains(l1))
            #expect(third.removedPacks == 1)
            #expect(try f.store.stat(l1) == nil)
            #expect(try f.store.manifest(repository: "app", tag: "latest")?.digest == new)
        }
    }

    @Test func headOfAZeroRefBlobRestartsItsGracePeriod() throws {
        let clock = Clock()
        try withStore(clock) { f in
            let policy = GCPolicy(deleteUntagged: false, gracePeriod: 3600, untaggedDelay: 0)
            let layer = try f.blob("uploaded, manifest not pushed yet")
            clock.advance(3000)
            #expect(try f.store.stat(layer, in: "app") != nil)  // the client's HEAD
            clock.advance(1000)
            #expect(try f.store.collectIncrementally(policy: policy).deletedBlobs.isEmpty,
                    "4000 s after upload but 1000 s after the HEAD: kept")
            try f.manifest("now", refs: [layer], tags: ["latest"])
            clock.advance(7200)
            #expect(try f.store.collectIncrementally(policy: policy).deletedBlobs.isEmpty)
            try f.store.verify(layer)
        }
    }

    @Test func compactionReclaimsDeadSharedPackBytes() throws {
        try withStore(maxPack: 64 << 10) { f in
            var keep: [BlobDigest] = []
            var rng = SeededRandom(seed: 3)
            for i in 0..<60 {
                let bytes = rng.bytes(3000)  // incompressible: 60 records fill several 64 KiB packs
                let layer = sha256(bytes)
                try f.store.putBlob(bytes, digest: layer, repository: "app")
                let m = try f.manifest("m\(i)", refs: [layer], tags: ["t\(i)"])
                if i % 4 == 0 { keep += [layer, m] }
            }
            for i in 0..<60 where i % 4 != 0 { try f.store.deleteTag(repository: "app", tag: "t\(i)") }
            _ = try f.store.garbageCollect(policy: Self.offlineUntagged, dryRun: false)
            let before = try FileManager.default.contentsOfDirectory(atPath: f.root.path + "/packs").count
            let report = try f.store.compact(minDeadRatio: 0.5)
            #expect(!report.packsRewritten.isEmpty)
            #expect(report.bytesReclaimed > 50_000)
            let after = try FileManager.default.contentsOfDirectory(atPath: f.root.path + "/packs").count
            #expect(after < before)
            for d in keep { try f.store.verify(d) }
            // Reopen: everything still where the index says.
            f.store.close()
            let reopened = try Store.open(at: f.root.path, options: smallOptions())
            defer { reopened.close() }
            for d in keep { try reopened.verify(d) }
        }
    }
}

/// Online passes with the untagged policy off drop untagged reviews; the first
/// pass with it on again re-queues every untagged manifest, so what was left
/// while it was off is collected one untagged delay after the switch.
@Suite struct UntaggedPolicySwitchTests {
    @Test func switchingTheUntaggedPolicyOnCollectsWhatWasLeftWhileItWasOff() throws {
        let clock = GCTests.Clock()
        try GCTests().withStore(clock) { f in
            let layer = try f.blob("layer of the untagged image")
            let untagged = try f.manifest("pushed by digest", refs: [layer], tags: [])
            let kept = try f.manifest("tagged", refs: [try f.blob("kept layer")], tags: ["latest"])
            let off = GCPolicy(deleteUntagged: false, gracePeriod: 0, untaggedDelay: 60)
            let on = GCPolicy(deleteUntagged: true, gracePeriod: 0, untaggedDelay: 60)
            clock.advance(120)
            #expect(try f.store.collectIncrementally(policy: off).deletedManifests.isEmpty)
            #expect(try f.store.meta.reviewQueue(limit: 100).isEmpty, "the untagged review was dropped")
            // Switched on: reviewed again, one untagged delay from the switch.
            #expect(try f.store.collectIncrementally(policy: on).deletedManifests.isEmpty, "not before the delay")
            clock.advance(61)
            let r = try f.store.collectIncrementally(policy: on)
            #expect(r.deletedManifests.map(\.digest) == [untagged])
            #expect(try f.store.manifest(repository: "app", digest: kept) != nil)
            clock.advance(1)
            #expect(try f.store.collectIncrementally(policy: on).deletedBlobs.contains(layer))
        }
    }
}

/// The untagged delay counts from a manifest's latest untagging: a review
/// left by an earlier one (the manifest was tagged again, then untagged) must
/// not take it early.
@Suite struct UntaggedDelayTests {
    @Test func aStaleReviewDoesNotShortenTheDelayOfALaterUntagging() throws {
        let clock = GCTests.Clock()
        try GCTests().withStore(clock) { f in
            let policy = GCPolicy(deleteUntagged: true, gracePeriod: 0, untaggedDelay: 100)
            let m = try f.manifest("image", refs: [try f.blob("layer")], tags: ["latest"])
            try f.store.deleteTag(repository: "app", tag: "latest")        // review due at t+100
            clock.advance(90)
            _ = try f.manifest("image", refs: [], tags: ["latest"])         // tagged again…
            try f.store.deleteTag(repository: "app", tag: "latest")        // …untagged at t+90: due at t+190
            clock.advance(20)                                               // t+110: the first review is due
            #expect(try f.store.collectIncrementally(policy: policy).deletedManifests.isEmpty,
                    "untagged 20 s ago: the delay is 100 s")
            #expect(try f.store.manifest(repository: "app", digest: m) != nil)
            clock.advance(80)                                               // t+190
            #expect(try f.store.collectIncrementally(policy: policy).deletedManifests.map(\.digest) == [m])
        }
    }
}
