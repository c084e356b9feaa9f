// fsck finds damaged records, wrong refcounts, orphaned packs and records
// missing from the index; --repair fixes refcounts and orphans; --reindex
// rebuilds the blob index from the packs and replays the recovery journal.

import Foundation
import Testing
@testable import CASEngine

@Suite struct FsckTests {
    func populated(_ root: TempRoot) throws -> (Store, [BlobDigest]) {
        let store = try Store.open(at: root.path, options: smallOptions())
        var rng = SeededRandom(seed: 5)
        var digests: [BlobDigest] = []
        for size in [100, 2000, 50_000] {
            let bytes = rng.bytes(size)
            let d = sha256(bytes)
            if size > 16 << 10 {
                let u = try store.startUpload(repository: "r")
                _ = try bytes.withUnsafeBytes { try store.appendUpload(id: u.id, repository: "r", offset: 0, $0) }
                _ = try store.commitUpload(id: u.id, repository: "r", digest: d)
            } else {
                try store.putBlob(bytes, digest: d, repository: "r")
            }
            digests.append(d)
        }
        let m = Array("{\"schemaVersion\":2}".utf8)
        try store.putManifest(repository: "r", digest: sha256(m), bytes: m,
                              edges: ManifestEdges(mediaType: "application/vnd.oci.image.manifest.v1+json", references: digests),
                              tags: ["latest"])
        return (store, digests + [sha256(m)])
    }

    @Test func cleanStoreIsClean() throws {
        let root = TempRoot(); defer { root.cleanup() }
        let (store, _) = try populated(root)
        defer { store.close() }
        let r = try store.fsck(verifyContent: true, scanPacks: true, repair: false, orphanAge: 0)
        #expect(r.isClean, "\(r)")
        #expect(r.blobsChecked == 4 && r.manifestsChecked == 1)
    }

    @Test func wrongRefcountIsFoundAndRepaired() throws {
        let root = TempRoot(); defer { root.cleanup() }
        let (store, digests) = try populated(root)
        defer { store.close() }
        try store.meta.repairRefcount(digests[0], to: 7, now: store.now)
        let found = try store.fsck(verifyContent: false, scanPacks: false, repair: false)
        #expect(found.refcountMismatches.map(\.digest) == [digests[0]])
        #expect(found.refcountMismatches.first?.expected == 1)
        let fixed = try store.fsck(verifyContent: false, scanPacks: false, repair: true)
        #expect(fixed.repaired.count == 1)
        #expect(try store.refcount(of: digests[0]) == 1)
        #expect(try store.fsck(verifyContent: false, scanPacks: false, repair: false).isClean)
    }

    @Test func orphanDedicatedPackIsRemovedByRepair() throws {
        let root = TempRoot(); defer { root.cleanup() }
        let (store, _) = try populated(root)
        defer { store.close() }
        // A dedicated pack renamed into place whose index commit never
        // happened (crash between RECOVERY.md large-blob steps 5 and 6).
        let bytes = [UInt8](repeating: 3, count: 40_000)
        let upload = try store.packs.createUploadFile(id: UUID().uuidString.lowercased())
        try upload.append(bytes)
        let location = try store.packs.commitDedicated(upload, digest: sha256(bytes))
        let found = try store.fsck(verifyContent: false, scanPacks: true, repair: false, orphanAge: 0)
        #expect(found.orphanPacks == [location.packID])
        #expect(found.unindexedRecords.map(\.digest) == [sha256(bytes)])
        let fixed = try store.fsck(verifyContent: false, scanPacks: false, repair: true, orphanAge: 0)
        #expect(fixed.repaired == ["removed orphan pack \(location.packID)"])
        #expect(!FileManager.default.fileExists(atPath: store.layout.packPath(location.packID)))
    }

    @Test func damagedRecordIsReportedNotDropped() throws {
        let root = TempRoot(); defer { root.cleanup() }
        let (store, digests) = try populated(root)
        let location = try #require(try store.meta.blob(digests[2])).location
        store.close()
        let handle = try #require(FileHandle(forUpdatingAtPath: StorageLayout(root: root.path).packPath(location.packID)))
        try handle.seek(toOffset: location.payloadOffset + 100)
        handle.write(Data([0xff, 0x00, 0xff]))
        try handle.close()
        let reopened = try Store.open(at: root.path, options: smallOptions())
        defer { reopened.close() }
        let quick = try reopened.fsck(verifyContent: false, scanPacks: false, repair: true)
        #expect(quick.corrupt.isEmpty, "header checks pass: payload damage needs --verify-content")
        let deep = try reopened.fsck(verifyContent: true, scanPacks: false, repair: true)
        #expect(deep.corrupt.map(\.digest) == [digests[2]])
        #expect(try reopened.stat(digests[2]) != nil, "never dropped from the index")
    }

    @Test func indexIsRebuiltFromPacksAlone() throws {
        let root = TempRoot(); defer { root.cleanup() }
        let (store, digests) = try populated(root)
        store.close()
        try FileManager.default.removeItem(atPath: root.path + "/meta")
        let rebuilt = try Store.open(at: root.path, options: smallOptions())
        defer { rebuilt.close() }
        #expect(try rebuilt.stat(digests[0]) == nil)
        #expect(rebuilt.recovery.journal == .needsReplay)
        let r = try rebuilt.fsck(verifyContent: false, scanPacks: true, repair: true, reindex: true, orphanAge: 0)
        #expect(Set(r.unindexedRecords.map(\.digest)) == Set(digests))
        #expect(r.journalSkipped.isEmpty)
        // The journal brings the manifest, its tag and its edges back: every
        // blob is referenced again (the manifest by itself and its entry).
        for d in digests {
            let info = try #require(try rebuilt.stat(d))
            try rebuilt.verify(d)
            #expect(info.refcount == 1)
        }
        #expect(try rebuilt.resolve(repository: "r", tag: "latest") == digests[3])
        #expect(try !rebuilt.journalNeedsReplay())
        #expect(try rebuilt.fsck(verifyContent: true, scanPacks: true, repair: false, orphanAge: 0).isClean)
    }
}
