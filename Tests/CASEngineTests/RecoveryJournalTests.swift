// The recovery journal: after `meta/` is lost, `fsck --reindex` brings back
// every manifest, tag, referrer, blob link and refcount the index held, from
// the packs plus journal/ — through checkpoints, a lost journal tail and a
// torn one; and fsck without --repair changes nothing on disk.

import Foundation
import Testing
@testable import CASEngine

@Suite struct RecoveryJournalTests {
    typealias F = GCTests.Fixture

    /// What a client can see, plus the refcounts that keep it.
    struct Fingerprint: Equatable, CustomStringConvertible {
        var tags: [String: BlobDigest] = [:]
        var manifests: Set<String> = []
        var referrers: [String: [BlobDigest]] = [:]
        var visible: Set<String> = []
        var refcounts: [BlobDigest: UInt64] = [:]
        var description: String { "tags \(tags.keys.sorted()), \(manifests.count) manifests, \(visible.count) visible, \(refcounts.count) referenced" }
    }

    static func fingerprint(_ s: Store) throws -> Fingerprint {
        var f = Fingerprint()
        for repo in try s.repositories(after: nil, limit: nil) {
            for t in try s.tags(repository: repo, after: nil, limit: nil) ?? [] {
                f.tags["\(repo):\(t)"] = try s.resolve(repository: repo, tag: t)
            }
            for m in try s.meta.manifestSummaries(repository: repo) {
                f.manifests.insert("\(repo)@\(m.digest)")
                let refs = try s.referrers(repository: repo, subject: m.digest, artifactType: nil).map(\.digest).sorted()
                if !refs.isEmpty { f.referrers["\(repo)@\(m.digest)"] = refs }
                for r in m.references where try s.stat(r, in: repo) != nil { f.visible.insert("\(repo)/\(r)") }
            }
        }
        try s.meta.forEachBlob { d, rec in
            if rec.refcount > 0 { f.refcounts[d] = rec.refcount }
            return true
        }
        return f
    }

    /// The seed's flows: promotion beta → latest → archive and a rollback, a
    /// two-platform index pushed children first, a signature referrer, an
    /// untagged push the collector takes, a deleted tag, a deleted manifest,
    /// a second repository sharing a layer.
    static func populate(_ f: F, _ clock: GCTests.Clock) throws {
        let c1 = try f.blob("config-1"), l1 = try f.blob("layer-1", size: 40_000), l2 = try f.blob("layer-2")
        let v1 = try f.manifest("v1", refs: [c1, l1, l2], tags: ["beta"])
        _ = try f.manifest("v1", refs: [c1, l1, l2], tags: ["latest"])
        let c2 = try f.blob("config-2"), l3 = try f.blob("layer-3")
        let v2 = try f.manifest("v2", refs: [c2, l2, l3], tags: ["beta"])
        _ = try f.manifest("v1", refs: [c1, l1, l2], tags: ["archive"])
        _ = try f.manifest("v2", refs: [c2, l2, l3], tags: ["latest"])
        _ = try f.manifest("v1", refs: [c1, l1, l2], tags: ["latest"])          // rollback
        let arm = try f.blob("layer-arm")
        let ch1 = try f.manifest("amd64", refs: [c1, l2], tags: [])
        let ch2 = try f.manifest("arm64", refs: [c2, arm], tags: [])
        _ = try f.manifest("index", refs: [ch1, ch2], tags: ["multi"], type: "application/vnd.oci.image.index.v1+json")
        let sig = try f.blob("signature")
        _ = try f.manifest("sig-v2", refs: [sig], subject: v2, tags: [])
        let junk = try f.blob("junk layer")
        _ = try f.manifest("untagged", refs: [junk], tags: [])
        let doomed = try f.manifest("doomed", refs: [c1], tags: ["old", "older"])
        try f.store.deleteManifest(repository: "app", digest: doomed)
        _ = try f.manifest("v1", refs: [c1, l1, l2], tags: ["scratch"])
        try f.store.deleteTag(repository: "app", tag: "scratch")
        let o1 = try f.manifest("other", refs: [try f.blob("config-o", "other"), try f.blob("layer-2", "other")],
                                tags: ["latest", "gone"], repo: "other")
        try f.store.deleteTag(repository: "other", tag: "gone")
        _ = o1
        _ = v1
        clock.advance(10)
        let report = try f.store.collectIncrementally(policy: GCPolicy(deleteUntagged: true, gracePeriod: 5, untaggedDelay: 0))
        #expect(report.deletedManifests.count == 1, "the untagged push is collected: \(report.deletedManifests)")
    }

    func loseMetaAndReindex(_ f: F, _ clock: GCTests.Clock) throws -> (Store, FsckReport) {
        f.store.close()
        try FileManager.default.removeItem(atPath: f.root.path + "/meta")
        let store = try Store(root: f.root.path, options: smallOptions(), clock: clock.read)
        #expect(store.recovery.journal == .needsReplay)
        #expect(try store.resolve(repository: "app", tag: "latest") == nil)
        let r = try store.fsck(verifyContent: false, scanPacks: true, repair: true, reindex: true, orphanAge: 0)
        return (store, r)
    }

    @Test func reindexAfterLosingMetaBringsBackEveryImage() throws {
        let clock = GCTests.Clock()
        try GCTests().withStore(clock) { f in
            try Self.populate(f, clock)
            let before = try Self.fingerprint(f.store)
            #expect(before.tags.count == 5, "\(before.tags.keys.sorted())")
            let (store, r) = try loseMetaAndReindex(f, clock)
            defer { store.close() }
            #expect(r.journalSkipped.isEmpty, "\(r.journalSkipped)")
            let after = try Self.fingerprint(store)
            #expect(after.tags == before.tags)
            #expect(after.manifests == before.manifests)
            #expect(after.referrers == before.referrers)
            #expect(after.visible == before.visible)
            #expect(after.refcounts == before.refcounts)
            #expect(try !store.journalNeedsReplay())
            #expect(try store.fsck(verifyContent: true, scanPacks: true, repair: false, orphanAge: 0).isClean)
            // The collector keeps every restored closure once grace periods pass.
            clock.advance(3600)
            let gc = try store.collectIncrementally(policy: GCPolicy(deleteUntagged: true, gracePeriod: 5, untaggedDelay: 0))
            #expect(gc.deletedManifests.isEmpty)
            let collected = try Self.fingerprint(store)
            #expect(collected == after, "only blobs nothing references went: \(gc.deletedBlobs.count)")
            // A second replay changes nothing (invariant 2 of MetaStore+Journal).
            _ = try store.fsck(verifyContent: false, scanPacks: true, repair: true, reindex: true, orphanAge: 0)
            #expect(try Self.fingerprint(store) == collected)
        }
    }

    @Test func checkpointsKeepOnlyTheNewestSnapshotAndStillRestoreEverything() throws {
        let clock = GCTests.Clock()
        try GCTests().withStore(clock) { f in
            try Self.populate(f, clock)
            try f.store.checkpointJournal()
            let layout = f.store.layout
            let (segmentsAfterFirst, snapshotsAfterFirst) = try RecoveryJournal.files(layout)
            #expect(snapshotsAfterFirst.count == 1)
            #expect(segmentsAfterFirst == snapshotsAfterFirst, "older segments are removed")
            // Changes after the checkpoint live only in the new segment.
            let c = try f.blob("config-3")
            _ = try f.manifest("v3", refs: [c], tags: ["latest", "v3"])
            try f.store.deleteTag(repository: "app", tag: "archive")
            try f.store.checkpointJournal()
            _ = try f.manifest("v4", refs: [c], tags: ["v4"])
            let (segments, snapshots) = try RecoveryJournal.files(layout)
            #expect(snapshots == [snapshotsAfterFirst[0] + 1] && segments == snapshots)
            let before = try Self.fingerprint(f.store)
            let (store, r) = try loseMetaAndReindex(f, clock)
            defer { store.close() }
            #expect(r.journalSkipped.isEmpty, "\(r.journalSkipped)")
            #expect(try Self.fingerprint(store) == before)
        }
    }

    @Test func checkpointIfNeededFollowsTheSegmentSize() throws {
        let root = TempRoot(); defer { root.cleanup() }
        var o = smallOptions()
        o.journalCheckpointBytes = 4096
        let store = try Store.open(at: root.path, options: o)
        defer { store.close() }
        let f = F(store: store, root: root)
        let c = try f.blob("c")
        _ = try f.manifest("m", refs: [c], tags: ["a"])
        #expect(try !store.checkpointJournalIfNeeded(), "a few records are below the threshold")
        for i in 0..<100 { _ = try f.manifest("m", refs: [c], tags: ["tag-\(i)"]) }
        #expect(try store.checkpointJournalIfNeeded())
        #expect(store.journal!.activeSegmentBytes == 0)
    }

    /// The index committed a change whose journal frame never reached the
    /// disk (power cut before the frame's fdatasync: no client was answered).
    /// Open notices the journal ends before `journal_end` and re-snapshots.
    @Test func aJournalTailLostAfterTheIndexCommittedIsResnapshotted() throws {
        let clock = GCTests.Clock()
        try GCTests().withStore(clock) { f in
            try Self.populate(f, clock)
            let c = try f.blob("config-late")
            _ = try f.manifest("late", refs: [c], tags: ["late"])
            let before = try Self.fingerprint(f.store)
            let position = f.store.journal!.position
            f.store.close()
            let path = f.store.layout.journalPath(position.segment, suffix: StorageLayout.journalSegmentSuffix)
            let frames = try RecoveryJournal.readFrames(path).frames
            let lastTwo = RecoveryJournal.framedSize(Array(frames.suffix(2)))   // the manifest and its tag
            #expect(truncate(path, off_t(position.offset - lastTwo)) == 0)
            var o = smallOptions()
            o.readOnly = true
            let check = try Store(root: f.root.path, options: o, clock: clock.read)
            let r0 = try check.fsck(verifyContent: false, scanPacks: false, repair: false)
            check.close()
            #expect(r0.journalBehindIndex && r0.journalFindings.isEmpty && r0.isClean, "\(r0.journalFindings)")
            let reopened = try Store(root: f.root.path, options: smallOptions(), clock: clock.read)
            #expect(reopened.recovery.journal == .resnapshotted)
            reopened.close()
            let (store, r) = try loseMetaAndReindex(F(store: reopened, root: f.root), clock)
            defer { store.close() }
            #expect(r.journalSkipped.isEmpty, "\(r.journalSkipped)")
            #expect(try Self.fingerprint(store) == before)
        }
    }

    @Test func aTornFrameAtTheEndIsDroppedOnOpen() throws {
        let clock = GCTests.Clock()
        try GCTests().withStore(clock) { f in
            try Self.populate(f, clock)
            let before = try Self.fingerprint(f.store)
            let position = f.store.journal!.position
            f.store.close()
            let path = f.store.layout.journalPath(position.segment, suffix: StorageLayout.journalSegmentSuffix)
            let handle = try #require(FileHandle(forWritingAtPath: path))
            try handle.seekToEnd()
            handle.write(Data([40, 0, 0, 0, 1, 2, 3, 4, 9, 9]))     // a frame header promising 40 bytes, 2 written
            try handle.close()
            let reopened = try Store(root: f.root.path, options: smallOptions(), clock: clock.read)
            #expect(reopened.recovery.journal == .consistent)
            #expect(reopened.journal!.position == position)
            let (store, _) = try loseMetaAndReindex(F(store: reopened, root: f.root), clock)
            defer { store.close() }
            #expect(try Self.fingerprint(store) == before)
        }
    }

    @Test func recordsRoundTripAndGarbageIsRejected() throws {
        let d = sha256([1]), e = sha256([2])
        let records: [JournalRecord] = [
            .manifestPut(repository: "a/b", digest: d, at: 7,
                         edges: ManifestEdges(mediaType: "m", references: [d, e], subject: e, artifactType: "t", annotations: Array("{}".utf8))),
            .manifestPut(repository: "a", digest: d, at: 0, edges: ManifestEdges(mediaType: "", references: [])),
            .manifestPut(repository: "a", digest: e, at: 3, edges: ManifestEdges(mediaType: "i", references: [d], sparseChildren: [e])),
            .manifestDeleted(repository: "a", digest: e, at: 9),
            .tagSet(repository: "a", tag: "latest", digest: d, at: 1),
            .tagDeleted(repository: "a", tag: "x", at: 2),
            .snapshotEnd(count: 5),
        ]
        for r in records { #expect(try JournalRecord.decode(r.encode()) == r) }
        for r in records {
            let bytes = r.encode()
            #expect(throws: StoreError.self) { try JournalRecord.decode(Array(bytes.dropLast())) }
            #expect(throws: StoreError.self) { try JournalRecord.decode(bytes + [0]) }
        }
        #expect(throws: StoreError.self) { try JournalRecord.decode([99]) }
    }

    /// fsck without --repair opens read-only: no torn tail truncated, no
    /// temporary file removed, no journal touched, no byte of meta/ changed.
    @Test func fsckWithoutRepairChangesNothingOnDisk() throws {
        let clock = GCTests.Clock()
        try GCTests().withStore(clock) { f in
            try Self.populate(f, clock)
            f.store.close()
            let packs = f.root.path + "/packs"
            let shared = try #require(try PosixIO.listDirectory(packs).filter { $0.hasSuffix(".pack") }.sorted().last { name in
                let prefix = [UInt8](try Data(contentsOf: URL(fileURLWithPath: packs + "/" + name)).prefix(PackFileHeader.size))
                return PackKind.detect(prefix) == .shared
            })
            let handle = try #require(FileHandle(forWritingAtPath: packs + "/" + shared))
            try handle.seekToEnd()
            handle.write(Data([1, 2, 3]))                          // a torn tail
            try handle.close()
            #expect(FileManager.default.createFile(atPath: packs + "/00000099.pack.tmp", contents: Data([7])))
            let before = try Self.tree(f.root.path)
            var o = smallOptions()
            o.readOnly = true
            let store = try Store(root: f.root.path, options: o, clock: clock.read)
            let r = try store.fsck(verifyContent: true, scanPacks: true, repair: false, orphanAge: 0)
            store.close()
            #expect(r.blobsChecked > 0)
            #expect(try Self.tree(f.root.path) == before)
            // A writable open then does recover (the tail and the temp file go).
            let writable = try Store(root: f.root.path, options: smallOptions(), clock: clock.read)
            writable.close()
            #expect(try Self.tree(f.root.path) != before)
        }
    }

    /// Every file under `root` with its bytes, except LMDB's lock file (its
    /// reader table is shared memory, not data).
    static func tree(_ root: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        let e = try #require(FileManager.default.enumerator(atPath: root))
        while let rel = e.nextObject() as? String {
            var isDir: ObjCBool = false
            let path = root + "/" + rel
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue,
                  rel != "meta/lock.mdb" else { continue }
            out[rel] = try Data(contentsOf: URL(fileURLWithPath: path))
        }
        return out
    }
}
