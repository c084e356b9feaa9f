// The check-then-act windows of online GC, forced with failpoints: one thread
// is held at a named point inside an engine call while the collector (or
// compaction) runs, then released. Each test names the window it closes; on
// the code before the fix each failed (the decision was made outside the
// transaction that acted on it).

import Foundation
import Synchronization
import Testing
@testable import CASEngine

/// Runs `body` on its own thread (a failpoint pause blocks that thread).
final class Background<T: Sendable>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<T, any Error>?

    init(_ body: @escaping @Sendable () throws -> T) {
        let thread = Thread { [self] in
            result = Result { try body() }
            done.signal()
        }
        thread.start()
    }

    func value(timeout: TimeInterval = 60) throws -> T {
        guard done.wait(timeout: .now() + timeout) == .success else { throw StoreError(.io, "background call did not finish") }
        return try result!.get()
    }
}

@Suite struct GCRaceTests {
    typealias F = GCTests.Fixture
    static let grace: UInt64 = 60
    static let policy = GCPolicy(deleteUntagged: true, gracePeriod: grace, untaggedDelay: 0)

    /// Shared packs of 4 KiB, so a few records fill one and seal it.
    func withStore(_ clock: GCTests.Clock = GCTests.Clock(), _ body: (F, GCTests.Clock) throws -> Void) throws {
        try GCTests().withStore(clock, maxPack: 4096) { f in try body(f, clock) }
    }

    /// Writes `live` (kept by a tagged manifest that is written after it)
    /// and incompressible filler into the active shared pack until it is full,
    /// seals it with one more record, and lets the collector free the filler:
    /// the first pack is then mostly dead, a compaction candidate. Returns the
    /// live blob and its holder manifest.
    @discardableResult
    func mostlyDeadSealedPack(_ f: F, _ clock: GCTests.Clock, live: [UInt8]) throws -> (blob: BlobDigest, holder: BlobDigest) {
        var rng = SeededRandom(seed: 11)
        let d = sha256(live)
        let filler = rng.bytes(1500)
        try f.store.putBlob(filler, digest: sha256(filler), repository: "filler")
        try f.store.putBlob(live, digest: d, repository: "app")
        let holder = try f.manifest("holder", refs: [d], tags: ["t"])
        let more = rng.bytes(3000)
        try f.store.putBlob(more, digest: sha256(more), repository: "filler")  // the pack is full now
        _ = try f.blob("first record of the next pack", "filler")
        clock.advance(Self.grace + 1)
        let freed = try f.store.collectIncrementally(policy: GCPolicy(deleteUntagged: false, gracePeriod: Self.grace, untaggedDelay: 0))
        #expect(freed.deletedBlobs.count == 3)
        return (d, holder)
    }

    /// Holds the next hit of `point` in `store` while `during` runs.
    func interleave<T: Sendable>(_ point: Failpoint.Name, _ store: Store, call: @escaping @Sendable () throws -> T,
                                 during: () throws -> Void) throws -> T {
        let pause = Failpoint.Pause()
        Failpoint.arm(point, .pause(pause), scope: store.rootPath, count: 1)
        let background = Background(call)
        #expect(pause.waitUntilReached(), "\(point.rawValue) was never reached")
        do { try during() } catch { pause.release(); throw error }
        pause.release()
        return try background.value()
    }

    @Test func smallBlobDedupeRacingTheCollectorStillStoresTheBlob() throws {
        try withStore { f, clock in
            let bytes = Array("config pushed long ago, never referenced".utf8)
            let d = sha256(bytes)
            try f.store.putBlob(bytes, digest: d, repository: "a")
            clock.advance(Self.grace + 1)
            let store = f.store
            let info = try interleave(.dedupeAfterCheck, store, call: { try store.putBlob(bytes, digest: d, repository: "b") }) {
                let got = try f.store.collectIncrementally(policy: Self.policy).deletedBlobs
                #expect(got == [d], "the collector wins the race")
            }
            #expect(info.digest == d)
            // 201 means stored: present, linked where it was pushed, readable, and in a fresh grace period.
            #expect(try f.store.stat(d, in: "b") != nil)
            try f.store.verify(d)
            clock.advance(Self.grace - 1)
            #expect(try f.store.collectIncrementally(policy: Self.policy).deletedBlobs.isEmpty)
        }
    }

    @Test func uploadCommitDedupeRacingTheCollectorKeepsTheBytes() throws {
        try withStore { f, clock in
            // Above smallBlobThreshold: a dedicated pack.
            let payload = Array("x".utf8) + [UInt8](repeating: 7, count: 39_999)
            let d = try f.blob("x", "a", size: 39_999)
            clock.advance(Self.grace + 1)
            let store = f.store
            let upload = try store.startUpload(repository: "b")
            _ = try payload.withUnsafeBytes { try store.appendUpload(id: upload.id, repository: "b", offset: 0, $0) }
            let info = try interleave(.dedupeAfterCheck, store, call: {
                try store.commitUpload(id: upload.id, repository: "b", digest: d)
            }) {
                let got = try f.store.collectIncrementally(policy: Self.policy).deletedBlobs
                #expect(got == [d])
            }
            #expect(info.size == 40_000)
            #expect(try f.store.stat(d, in: "b") != nil)
            try f.store.verify(d)
            let reader = try f.store.openBlob(d, in: "b")
            #expect(try reader.read(offset: 0, length: 40_000) == payload)
        }
    }

    @Test func collectorDoesNotUndoATagPutAfterItsDecision() throws {
        try withStore { f, _ in
            let layer = try f.blob("layer")
            let m = try f.manifest("v1", refs: [layer], tags: ["old"])
            try f.store.deleteTag(repository: "app", tag: "old")  // queued for untagged review, due at once
            let store = f.store, policy = Self.policy
            let report = try interleave(.gcManifestAfterDecision, store, call: { try store.collectIncrementally(policy: policy) }) {
                // The client re-tags the manifest while the collector has chosen it.
                let bytes = Array("{\"schemaVersion\":2,\"name\":\"v1\"}".utf8)
                try f.store.putManifest(repository: "app", digest: m, bytes: bytes,
                                        edges: ManifestEdges(mediaType: GCTests.image, references: [layer]), tags: ["release"])
            }
            #expect(report.deletedManifests.isEmpty)
            #expect(try f.store.resolve(repository: "app", tag: "release") == m)
            #expect(try f.store.manifest(repository: "app", tag: "release")?.digest == m)
            try f.store.verify(layer)
        }
    }

    @Test func collectorDoesNotTakeAChildAnIndexAdoptedAfterItsDecision() throws {
        try withStore { f, _ in
            let amd = try f.manifest("amd64", refs: [try f.blob("l-amd")], tags: [])  // pushed by digest: queued
            let store = f.store, policy = Self.policy
            let report = try interleave(.gcManifestAfterDecision, store, call: { try store.collectIncrementally(policy: policy) }) {
                _ = try f.manifest("index", refs: [amd], tags: ["multi"], type: GCTests.index)
            }
            #expect(report.deletedManifests.isEmpty, "the index adopted the child before the delete")
            #expect(try f.store.manifest(repository: "app", digest: amd) != nil)
            #expect(try f.store.collectIncrementally(policy: policy).deletedManifests.isEmpty)
        }
    }

    @Test func untaggedChildrenAndReferrersAreCollectedOnceNothingKeepsThem() throws {
        try withStore { f, _ in
            let amd = try f.manifest("amd64", refs: [try f.blob("l-amd")], tags: [])
            let idx = try f.manifest("index", refs: [amd], tags: ["multi"], type: GCTests.index)
            let sig = try f.manifest("sig", refs: [try f.blob("sig-layer")], subject: idx, tags: [])
            #expect(try f.store.collectIncrementally(policy: Self.policy).deletedManifests.isEmpty, "all kept by the tag")
            // A client deletes the index by digest (not a tag move): its child
            // and its signature lose what kept them.
            try f.store.deleteManifest(repository: "app", digest: idx)
            let report = try f.store.collectIncrementally(policy: Self.policy)
            #expect(Set(report.deletedManifests.map(\.digest)) == [amd, sig])
        }
    }

    @Test func headOfAZeroRefBlobRacingTheCollectorAnswersNotFound() throws {
        try withStore { f, clock in
            let d = try f.blob("uploaded, then forgotten")
            clock.advance(Self.grace + 1)
            let store = f.store
            let seen = try interleave(.statAfterCheck, store, call: { try store.stat(d, in: "app") }) {
                let got = try f.store.collectIncrementally(policy: Self.policy).deletedBlobs
                #expect(got == [d])
            }
            #expect(seen == nil, "the blob is gone: 200 would promise bytes that no longer exist")
        }
    }

    @Test func aBlobAClientSawIsKeptForAFullGracePeriod() throws {
        try withStore { f, clock in
            let d = try f.blob("seen by HEAD")
            clock.advance(Self.grace + 1)
            #expect(try f.store.stat(d, in: "app") != nil)
            #expect(try f.store.collectIncrementally(policy: Self.policy).deletedBlobs.isEmpty)
            clock.advance(Self.grace - 1)
            #expect(try f.store.collectIncrementally(policy: Self.policy).deletedBlobs.isEmpty)
            _ = try f.store.openBlob(d, in: "app")  // GET restarts it too
            clock.advance(Self.grace - 1)
            #expect(try f.store.collectIncrementally(policy: Self.policy).deletedBlobs.isEmpty)
            clock.advance(2)
            #expect(try f.store.collectIncrementally(policy: Self.policy).deletedBlobs == [d])
        }
    }

    @Test func aBlobSeenAfterTheCollectorsDecisionIsKept() throws {
        try withStore { f, clock in
            let d = try f.blob("seen between the decision and the delete", "a")
            clock.advance(Self.grace + 1)
            let store = f.store
            let report = try interleave(.gcBlobAfterDecision, store, call: { try store.collectIncrementally(policy: Self.policy) }) {
                let seen = try f.store.stat(d, in: "a")  // the HEAD restarts its grace period
                #expect(seen != nil)
            }
            #expect(report.deletedBlobs.isEmpty, "the delete re-checks zeroed-at in its own transaction")
            try f.store.verify(d)
            clock.advance(Self.grace - 1)
            #expect(try f.store.collectIncrementally(policy: Self.policy).deletedBlobs.isEmpty)
            clock.advance(1)
            #expect(try f.store.collectIncrementally(policy: Self.policy).deletedBlobs == [d])
        }
    }

    @Test func readerThatLookedUpBeforeCompactionStillReads() throws {
        try withStore { f, clock in
            let keep = Array("kept blob in a mostly dead pack".utf8)
            let d = try mostlyDeadSealedPack(f, clock, live: keep).blob
            let store = f.store
            let bytes = try interleave(.readAfterLookup, store, call: { () -> [UInt8] in
                let reader = try store.openBlob(d, in: "app")
                return try reader.read(offset: 0, length: 1 << 20)
            }) {
                let report = try f.store.compact(minDeadRatio: 0.5)
                #expect(report.recordsMoved == 2, "the blob and its holder moved, the old pack is unlinked")
            }
            #expect(bytes == keep)
        }
    }

    @Test func openReaderSurvivesCompactionUnlinkingItsPack() throws {
        try withStore { f, clock in
            let keep = Array("streamed while compaction runs".utf8)
            let d = try mostlyDeadSealedPack(f, clock, live: keep).blob
            let reader = try f.store.openBlob(d, in: "app")
            let report = try f.store.compact(minDeadRatio: 0.5)
            #expect(report.packsRewritten.count == 1)
            #expect(!FileManager.default.fileExists(atPath: f.root.path + "/packs/" + StorageLayout.packFileName(report.packsRewritten[0])))
            #expect(try reader.read(offset: 0, length: 1 << 20) == keep)
        }
    }

    @Test func manifestGetRacingCompactionServesTheManifest() throws {
        try withStore { f, clock in
            let m = try mostlyDeadSealedPack(f, clock, live: Array("layer".utf8)).holder
            let store = f.store
            let got = try interleave(.readAfterLookup, store, call: { try store.manifest(repository: "app", tag: "t") }) {
                let got = try f.store.compact(minDeadRatio: 0.5).recordsMoved
                #expect(got == 2)
            }
            #expect(got?.digest == m)
        }
    }

    @Test func manifestPutWhoseBytesWereCollectedStoresThemAgain() throws {
        try withStore { f, clock in
            // The manifest's bytes sit in a shared pack at refcount 0 (pushed
            // once, then deleted by digest) past their grace period.
            let layer = try f.blob("layer")
            _ = try f.manifest("holder", refs: [layer], tags: ["keep"])
            let bytes = Array("{\"schemaVersion\":2,\"name\":\"again\"}".utf8)
            let m = sha256(bytes)
            let edges = ManifestEdges(mediaType: GCTests.image, references: [layer])
            try f.store.putManifest(repository: "app", digest: m, bytes: bytes, edges: edges, tags: ["t"])
            try f.store.deleteManifest(repository: "app", digest: m)
            var rng = SeededRandom(seed: 12)
            let filler = rng.bytes(3500)
            try f.store.putBlob(filler, digest: sha256(filler), repository: "filler")  // fills the pack
            _ = try f.blob("first record of the next pack", "filler")
            clock.advance(Self.grace + 1)
            let store = f.store
            try interleave(.manifestAfterBytes, store, call: {
                try store.putManifest(repository: "app", digest: m, bytes: bytes, edges: edges, tags: ["t"])
            }) {
                let report = try f.store.collectIncrementally(policy: GCPolicy(deleteUntagged: false, gracePeriod: Self.grace, untaggedDelay: 0))
                #expect(report.deletedBlobs.contains(m))
                // The pack that held the old record is rewritten and unlinked.
                #expect(try f.store.compact(minDeadRatio: 0.5).packsRewritten.count == 1)
            }
            #expect(try f.store.manifest(repository: "app", tag: "t")?.digest == m)
            try f.store.verify(m)
        }
    }

    @Test func mountRacingTheCollectorIsNotAcknowledgedForAGoneBlob() throws {
        try withStore { f, clock in
            let d = try f.blob("mount source", "a")
            clock.advance(Self.grace + 1)
            let store = f.store
            let mounted = try interleave(.mountAfterCheck, store, call: { try store.mountBlob(d, into: "b", from: "a") }) {
                let got = try f.store.collectIncrementally(policy: Self.policy).deletedBlobs
                #expect(got == [d])
            }
            #expect(mounted == nil, "gone: the client must upload (202), not be told 201")
            #expect(try f.store.stat(d, in: "b") == nil)
        }
    }

    @Test func syncUploadIsOnThePatchPath() throws {
        try withStore { f, _ in
            let u = try f.store.startUpload(repository: "app")
            let chunk = [UInt8](repeating: 1, count: 1000)
            _ = try chunk.withUnsafeBytes { try f.store.appendUpload(id: u.id, repository: "app", offset: 0, $0) }
            Failpoint.arm(.uploadBeforeSync, .fail, scope: f.store.rootPath, count: 1)
            #expect(throws: StoreError(.io, "")) { try f.store.syncUpload(id: u.id, repository: "app") }
            #expect(try f.store.syncUpload(id: u.id, repository: "app").offset == 1000)
        }
    }
}
