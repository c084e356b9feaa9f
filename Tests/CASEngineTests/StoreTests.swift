// Store facade: blobs, uploads (resume, mismatches), manifests, locking,
// recovery of orphan uploads, group commit under concurrency, corruption.

import Foundation
import Testing
import Synchronization
@testable import CASEngine

@Suite struct StoreTests {
    @Test func smallBlobRoundTripsAndDeduplicates() throws {
        let root = TempRoot(); defer { root.cleanup() }
        let store = try Store.open(at: root.path, options: smallOptions())
        defer { store.close() }
        let json = Array(String(repeating: "{\"k\":\"value\"},", count: 200).utf8)
        let d = sha256(json)
        let info = try store.putBlob(json, digest: d, repository: "a/b")
        #expect(info.size == UInt64(json.count))
        let reader = try store.openBlob(d, in: "a/b")
        #expect(try reader.read(offset: 0, length: json.count) == json)
        #expect(try reader.read(offset: 10, length: 5) == Array(json[10..<15]))
        #expect(try reader.makeDescriptor() == nil, "compressible JSON is stored LZ4: no zero-copy descriptor")
        // Same content into another repository: linked, not stored twice.
        try store.putBlob(json, digest: d, repository: "c")
        #expect(try store.stat(d, in: "c") != nil)
        #expect(try store.stat(d, in: "other") == nil)
        #expect(throws: StoreError(.blobUnknown, "")) { try store.openBlob(d, in: "other") }
        #expect(throws: StoreError(.digestMismatch, "")) { try store.putBlob(json + [1], digest: d, repository: "a/b") }
    }

    @Test func chunkedUploadBecomesDedicatedPackAndServesZeroCopy() throws {
        let root = TempRoot(); defer { root.cleanup() }
        let store = try Store.open(at: root.path, options: smallOptions())
        defer { store.close() }
        var rng = SeededRandom(seed: 7)
        let blob = rng.bytes(100_000)
        let s = try store.startUpload(repository: "big")
        _ = try blob[0..<40_000].withUnsafeBytes { try store.appendUpload(id: s.id, repository: "big", offset: 0, $0) }
        #expect(throws: StoreError(.outOfOrder, "")) {
            try blob[50_000...].withUnsafeBytes { try store.appendUpload(id: s.id, repository: "big", offset: 50_000, $0) }
        }
        #expect(throws: StoreError(.uploadUnknown, "")) { try store.uploadStatus(id: s.id, repository: "other") }
        _ = try blob[40_000...].withUnsafeBytes { try store.appendUpload(id: s.id, repository: "big", offset: 40_000, $0) }
        #expect(try store.uploadStatus(id: s.id, repository: "big").offset == 100_000)
        let info = try store.commitUpload(id: s.id, repository: "big", digest: sha256(blob), expectedSize: 100_000)
        #expect(info.size == 100_000)
        #expect(throws: StoreError(.uploadUnknown, "")) { try store.uploadStatus(id: s.id, repository: "big") }
        let reader = try store.openBlob(sha256(blob), in: "big")
        let (fd, offset) = try #require(try reader.makeDescriptor())
        defer { close(fd) }
        var back = [UInt8](repeating: 0, count: blob.count)
        let n = back.withUnsafeMutableBytes { pread(fd, $0.baseAddress, blob.count, off_t(offset)) }
        #expect(n == blob.count && back == blob)
    }

    @Test func mismatchedUploadsStoreNothing() throws {
        let root = TempRoot(); defer { root.cleanup() }
        let store = try Store.open(at: root.path, options: smallOptions())
        defer { store.close() }
        let blob = Array(repeating: UInt8(9), count: 30_000)
        let s1 = try store.startUpload(repository: "r")
        _ = try blob.withUnsafeBytes { try store.appendUpload(id: s1.id, repository: "r", offset: nil, $0) }
        let wrong = sha256(blob + [0])
        #expect(throws: StoreError(.digestMismatch, "")) { try store.commitUpload(id: s1.id, repository: "r", digest: wrong) }
        #expect(try store.stat(wrong) == nil)
        #expect(try store.stat(sha256(blob)) == nil)
        let s2 = try store.startUpload(repository: "r")
        _ = try blob.withUnsafeBytes { try store.appendUpload(id: s2.id, repository: "r", offset: nil, $0) }
        #expect(throws: StoreError(.sizeMismatch, "")) {
            try store.commitUpload(id: s2.id, repository: "r", digest: sha256(blob), expectedSize: 1)
        }
        #expect(try store.stat(sha256(blob)) == nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path + "/uploads").isEmpty)
    }

    @Test func uploadResumesAfterRestartAtItsOffset() throws {
        let root = TempRoot(); defer { root.cleanup() }
        var rng = SeededRandom(seed: 11)
        let blob = rng.bytes(70_000)
        let id: String
        do {
            let store = try Store.open(at: root.path, options: smallOptions())
            id = try store.startUpload(repository: "resume").id
            _ = try blob[..<33_333].withUnsafeBytes { try store.appendUpload(id: id, repository: "resume", offset: 0, $0) }
            store.close()
        }
        let store = try Store.open(at: root.path, options: smallOptions())
        defer { store.close() }
        #expect(try store.uploadStatus(id: id, repository: "resume").offset == 33_333)
        _ = try blob[33_333...].withUnsafeBytes { try store.appendUpload(id: id, repository: "resume", offset: 33_333, $0) }
        _ = try store.commitUpload(id: id, repository: "resume", digest: sha256(blob))
        #expect(try store.openBlob(sha256(blob), in: "resume").read(offset: 0, length: blob.count) == blob)
    }

    @Test func sha512UploadsAreStoredNatively() throws {
        let root = TempRoot(); defer { root.cleanup() }
        let store = try Store.open(at: root.path, options: smallOptions())
        defer { store.close() }
        let blob = Array("sha512 content".utf8)
        let d = BlobDigest.compute(blob, .sha512)
        let s = try store.startUpload(repository: "r")
        _ = try blob.withUnsafeBytes { try store.appendUpload(id: s.id, repository: "r", offset: nil, $0) }
        _ = try store.commitUpload(id: s.id, repository: "r", digest: d)
        #expect(try store.openBlob(d, in: "r").read(offset: 0, length: 100) == blob)
        try store.verify(d)
    }

    @Test func secondOpenOfARootIsRefused() throws {
        let root = TempRoot(); defer { root.cleanup() }
        let store = try Store.open(at: root.path)
        #expect(throws: StoreError(.locked, "")) { try Store.open(at: root.path) }
        store.close()
        let again = try Store.open(at: root.path)
        again.close()
        #expect(throws: StoreError(.closed, "")) { try again.stat(sha256([1])) }
    }

    @Test func openRemovesOrphanUploadFilesAndStaleRecords() throws {
        let root = TempRoot(); defer { root.cleanup() }
        let id: String
        do {
            let store = try Store.open(at: root.path, options: smallOptions())
            id = try store.startUpload(repository: "r").id
            store.close()
        }
        try FileManager.default.removeItem(atPath: root.path + "/uploads/" + id)
        let orphan = UUID().uuidString.lowercased()
        FileManager.default.createFile(atPath: root.path + "/uploads/" + orphan, contents: Data(count: 300))
        let store = try Store.open(at: root.path, options: smallOptions())
        defer { store.close() }
        #expect(store.recovery.orphanUploadFiles == [orphan])
        #expect(store.recovery.staleUploadRecords == [id])
        #expect(!FileManager.default.fileExists(atPath: root.path + "/uploads/" + orphan))
        #expect(throws: StoreError(.uploadUnknown, "")) { try store.uploadStatus(id: id, repository: "r") }
    }

    @Test func concurrentSmallWritesShareGroupCommits() throws {
        let root = TempRoot(); defer { root.cleanup() }
        let store = try Store.open(at: root.path, options: smallOptions())
        defer { store.close() }
        let blobs = (0..<400).map { i in Array("blob-\(i)-".utf8) + [UInt8](repeating: UInt8(i % 251), count: i) }
        let errors = Mutex<[String]>([])
        // 16 real threads (concurrentPerform would run only as many as there
        // are cores: on 2 cores every batch carried one entry).
        let done = DispatchGroup()
        for worker in 0..<16 {
            done.enter()
            Thread {
                defer { done.leave() }
                for i in stride(from: worker, to: blobs.count, by: 16) {
                    do {
                        try store.putBlob(blobs[i], digest: sha256(blobs[i]), repository: "g")
                    } catch {
                        errors.withLock { $0.append("put \(i): \(error)") }
                    }
                }
            }.start()
        }
        done.wait()
        #expect(errors.withLock { $0 } == [])
        let stats = store.groupCommitStatistics
        #expect(stats.entries == blobs.count, "every put went through the group committer once")
        // 16 writers waiting on one fdatasync: batches carry several entries.
        print("group commit: \(stats.entries) puts in \(stats.batches) commits")
        #expect(stats.batches >= 1 && stats.batches < blobs.count, "\(stats.batches) commits for \(blobs.count) puts: none shared")
        for b in blobs {
            #expect(try store.openBlob(sha256(b), in: "g").read(offset: 0, length: b.count) == b)
        }
    }

    @Test func manifestsTagsAndReferences() throws {
        let root = TempRoot(); defer { root.cleanup() }
        let store = try Store.open(at: root.path, options: smallOptions())
        defer { store.close() }
        let layer = Array("layer".utf8), config = Array("{}".utf8)
        try store.putBlob(layer, digest: sha256(layer), repository: "app")
        try store.putBlob(config, digest: sha256(config), repository: "app")
        let m = Array("{\"schemaVersion\":2,\"m\":1}".utf8)
        let edges = ManifestEdges(mediaType: "application/vnd.oci.image.manifest.v1+json",
                                  references: [sha256(config), sha256(layer)])
        let missing = ManifestEdges(mediaType: edges.mediaType, references: [sha256(Array("nope".utf8))])
        #expect(throws: StoreError(.referenceUnknown, "")) {
            try store.putManifest(repository: "app", digest: sha256(m + [1]), bytes: m + [1], edges: missing, tags: [])
        }
        #expect(throws: StoreError(.digestMismatch, "")) {
            try store.putManifest(repository: "app", digest: sha256(layer), bytes: m, edges: edges, tags: [])
        }
        try store.putManifest(repository: "app", digest: sha256(m), bytes: m, edges: edges, tags: ["latest", "v1"])
        #expect(try store.manifest(repository: "app", tag: "latest")?.bytes == m)
        #expect(try store.manifest(repository: "app", digest: sha256(m))?.mediaType == edges.mediaType)
        #expect(try store.tags(repository: "app", after: nil, limit: nil) == ["latest", "v1"])
        #expect(try store.tags(repository: "app", after: "latest", limit: 5) == ["v1"])
        #expect(try store.tags(repository: "nope", after: nil, limit: nil) == nil)
        #expect(try store.refcount(of: sha256(layer)) == 1)
        try store.deleteTag(repository: "app", tag: "v1")
        #expect(throws: StoreError(.tagUnknown, "")) { try store.deleteTag(repository: "app", tag: "v1") }
        try store.deleteManifest(repository: "app", digest: sha256(m))
        #expect(try store.refcount(of: sha256(layer)) == 0)
        #expect(try store.resolve(repository: "app", tag: "latest") == nil)
        #expect(throws: StoreError(.manifestUnknown, "")) { try store.deleteManifest(repository: "app", digest: sha256(m)) }
    }

    @Test func readOnlyStoreRefusesWrites() throws {
        let root = TempRoot(); defer { root.cleanup() }
        do { let s = try Store.open(at: root.path); s.close() }
        var o = StoreOptions()
        o.readOnly = true
        let store = try Store.open(at: root.path, options: o)
        defer { store.close() }
        #expect(throws: StoreError(.readOnly, "")) { try store.startUpload(repository: "r") }
        #expect(throws: StoreError(.readOnly, "")) { try store.putBlob([1], digest: sha256([1]), repository: "r") }
        #expect(try store.repositories(after: nil, limit: nil) == [])
    }
}

@Suite struct StoreMaintenanceTests {
    final class Clock: Sendable {
        let value = Mutex<UInt64>(5_000_000)
        func advance(_ s: UInt64) { value.withLock { $0 += s } }
        var read: @Sendable () -> UInt64 { { [self] in value.withLock { $0 } } }
    }

    @Test func purgeRemovesOnlyAbandonedUploadsAndHonoursDryRun() throws {
        let root = TempRoot(); defer { root.cleanup() }
        let clock = Clock()
        let store = try Store(root: root.path, options: smallOptions(), clock: clock.read)
        defer { store.close() }
        let old = try store.startUpload(repository: "r")
        _ = try [UInt8](repeating: 1, count: 100).withUnsafeBytes { try store.appendUpload(id: old.id, repository: "r", offset: 0, $0) }
        clock.advance(7200)
        let fresh = try store.startUpload(repository: "r")
        let dry = try store.purgeUploads(olderThan: 3600, dryRun: true)
        #expect(dry.map(\.id) == [old.id])
        #expect(try store.uploadStatus(id: old.id, repository: "r").offset == 100, "dry run removes nothing")
        let purged = try store.purgeUploads(olderThan: 3600, dryRun: false)
        #expect(purged.map(\.id) == [old.id])
        #expect(throws: StoreError(.uploadUnknown, "")) { try store.uploadStatus(id: old.id, repository: "r") }
        #expect(try store.uploadStatus(id: fresh.id, repository: "r").offset == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path + "/uploads") == [fresh.id])
    }

    @Test func uploadSessionsAreLimited() throws {
        let root = TempRoot(); defer { root.cleanup() }
        var o = smallOptions()
        o.maxUploadSessions = 3
        let store = try Store.open(at: root.path, options: o)
        defer { store.close() }
        let ids = try (0..<3).map { _ in try store.startUpload(repository: "r").id }
        #expect(throws: StoreError(.limitExceeded, "")) { try store.startUpload(repository: "r") }
        try store.cancelUpload(id: ids[0], repository: "r")
        _ = try store.startUpload(repository: "r")
    }

    @Test func uploadIDsCarry128RandomBits() {
        let ids = (0..<200).map { _ in Store.newUploadID() }
        #expect(Set(ids).count == 200)
        for id in ids {
            #expect(id.count == 36 && id.split(separator: "-").map(\.count) == [8, 4, 4, 4, 12], "\(id)")
        }
        // The UUID version nibble position is random too (not always "4").
        #expect(Set(ids.map { Array($0)[14] }).count > 4)
    }
}
