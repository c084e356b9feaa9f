// Store.commitClone (reflink import, FORMAT.md "Aligned dedicated packs") on
// a real reflink-capable file system (a loop-mounted XFS image, see
// Tests/Support/ReflinkMount.swift) and on the ordinary temp directory, where
// it must answer .unsupported and leave nothing behind.

import BerthTestSupport
import Foundation
import Testing
@testable import CASEngine

@Suite(.serialized) struct CloneCommitTests {
    /// A blob above smallOptions()'s 16 KiB threshold, not block-sized.
    static func payload(_ seed: UInt64, count: Int = 300_001) -> [UInt8] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    func readBack(_ store: Store, _ d: BlobDigest, _ repo: String) throws -> [UInt8] {
        let reader = try store.openBlob(d, in: repo)
        return try reader.read(offset: 0, length: Int(reader.size))
    }

    /// Files under uploads/ and packs/ of a storage root.
    func entries(_ root: String) throws -> (uploads: [String], packs: [String]) {
        let fm = FileManager.default
        return (try fm.contentsOfDirectory(atPath: root + "/uploads").sorted(),
                try fm.contentsOfDirectory(atPath: root + "/packs").sorted())
    }

    @Test(.enabled(if: ReflinkMount.enabled)) func clonedBlobReadsBackVerifiesAndIsCopyOnWrite() throws {
        let xfs = try ReflinkMount(); defer { xfs.remove() }
        let root = xfs.path + "/store", source = xfs.path + "/blob"
        let bytes = Self.payload(1)
        try write(bytes, to: source)
        let d = sha256(bytes)
        let store = try Store.open(at: root, options: smallOptions())
        defer { store.close() }
        let before = try entries(root).packs
        guard case .cloned(let info) = try store.commitClone(sourcePath: source, digest: d, repository: "app") else {
            Issue.record("expected a clone on XFS"); return
        }
        #expect(info.size == UInt64(bytes.count))
        #expect(try readBack(store, d, "app") == bytes)
        try store.verify(d)
        let record = try #require(try store.meta.blob(d))
        #expect(record.location.flags == [.dedicated, .aligned])
        #expect(record.location.payloadOffset == 4096)
        let after = try entries(root)
        #expect(after.uploads.isEmpty, "the temporary file was renamed away")
        #expect(after.packs.count == before.count + 1)
        let packSize = try FileManager.default.attributesOfItem(atPath: store.layout.packPath(record.location.packID))[.size] as? UInt64
        #expect(packSize == 4096 + UInt64(bytes.count))
        let packPath = store.layout.packPath(record.location.packID)
        #expect(try ReflinkMount.extentsShared(packPath, from: 4096), "the payload shares the source's extents")
        #expect(try ReflinkMount.extentsShared(source, from: 0))

        // Copy-on-write: overwriting the source leaves Berth's bytes alone.
        let handle = try #require(FileHandle(forWritingAtPath: source))
        try handle.seek(toOffset: 4096)
        try handle.write(contentsOf: Data(repeating: 0xAB, count: 8192))
        try handle.synchronize()
        try handle.close()
        #expect(try readBack(store, d, "app") == bytes)
        try store.verify(d)
        #expect(try store.fsck(verifyContent: true, scanPacks: true, repair: false, orphanAge: 0).isClean)

        // Again, in another repository: linked, not cloned twice.
        guard case .present = try store.commitClone(sourcePath: source, digest: d, repository: "other") else {
            Issue.record("a second commitClone of a present blob must link it"); return
        }
        #expect(try store.stat(d, in: "other") != nil)
    }

    @Test(.enabled(if: ReflinkMount.enabled)) func clonedPackIsFoundByReindexFromPacks() throws {
        let xfs = try ReflinkMount(); defer { xfs.remove() }
        let root = xfs.path + "/store", source = xfs.path + "/blob"
        let bytes = Self.payload(2, count: 70_000)
        try write(bytes, to: source)
        let d = sha256(bytes)
        do {
            let store = try Store.open(at: root, options: smallOptions())
            defer { store.close() }
            guard case .cloned = try store.commitClone(sourcePath: source, digest: d, repository: "app") else {
                Issue.record("expected a clone on XFS"); return
            }
        }
        try FileManager.default.removeItem(atPath: root + "/meta")
        let rebuilt = try Store.open(at: root, options: smallOptions())
        defer { rebuilt.close() }
        #expect(try rebuilt.stat(d) == nil)
        let r = try rebuilt.fsck(verifyContent: false, scanPacks: true, repair: true, reindex: true, orphanAge: 0)
        #expect(r.unindexedRecords.map(\.digest) == [d])
        #expect(r.unindexedRecords.first?.location.flags == [.dedicated, .aligned])
        try rebuilt.verify(d)
        let location = try #require(try rebuilt.meta.blob(d)).location
        #expect(try rebuilt.packs.readAll(location) == bytes)
    }

    @Test(.enabled(if: ReflinkMount.enabled)) func wrongDigestIsRefusedAndLeavesNothing() throws {
        let xfs = try ReflinkMount(); defer { xfs.remove() }
        let root = xfs.path + "/store", source = xfs.path + "/blob"
        let bytes = Self.payload(3)
        try write(bytes, to: source)
        let wrong = sha256(Self.payload(4))
        let store = try Store.open(at: root, options: smallOptions())
        defer { store.close() }
        let before = try entries(root)
        #expect(throws: StoreError.self) { try store.commitClone(sourcePath: source, digest: wrong, repository: "app") }
        do {
            _ = try store.commitClone(sourcePath: source, digest: wrong, repository: "app")
        } catch let e as StoreError {
            #expect(e.code == .digestMismatch)
        }
        #expect(try entries(root).uploads == before.uploads)
        #expect(try entries(root).packs == before.packs)
        #expect(try store.stat(wrong) == nil)
    }

    @Test(.enabled(if: ReflinkMount.enabled)) func interruptedCloneLeavesOnlyAnOrphanRemovedAtOpen() throws {
        let xfs = try ReflinkMount(); defer { xfs.remove() }
        let root = xfs.path + "/store", source = xfs.path + "/blob"
        let bytes = Self.payload(5)
        try write(bytes, to: source)
        do {
            let store = try Store.open(at: root, options: smallOptions())
            store.close()
        }
        // What a crash between the clone and the rename leaves: the
        // temporary file under uploads/ (an upload id, no session record).
        let tmpID = Store.newUploadID()
        let fd = try PosixIO.openFile(root + "/uploads/" + tmpID, O_RDWR | O_CREAT | O_EXCL, create: true)
        let src = try PosixIO.openFile(source, O_RDONLY)
        #expect(try PackStore.cloneRange(from: src, sourcePath: source, length: UInt64(bytes.count), into: fd, at: 4096) == nil)
        PosixIO.closeFile(src); PosixIO.closeFile(fd)
        let reopened = try Store.open(at: root, options: smallOptions())
        defer { reopened.close() }
        #expect(reopened.recovery.orphanUploadFiles == [tmpID])
        #expect(try entries(root).uploads.isEmpty)
        #expect(try reopened.stat(sha256(bytes)) == nil)
    }

    @Test func ordinaryTempDirectoryIsUnsupportedAndLeavesNothing() throws {
        let root = TempRoot(); defer { root.cleanup() }
        let store = try Store.open(at: root.path, options: smallOptions())
        defer { store.close() }
        let source = root.path + "-source"
        defer { try? FileManager.default.removeItem(atPath: source) }
        let bytes = Self.payload(6)
        try write(bytes, to: source)
        let before = try entries(root.path)
        let outcome = try store.commitClone(sourcePath: source, digest: sha256(bytes), repository: "app")
        guard case .unsupported(let reason) = outcome else {
            Issue.record("the temp directory (\(root.path)) unexpectedly cloned: \(outcome)"); return
        }
        #expect(reason.contains("reflink") || reason.contains("another file system"), "\(reason)")
        #expect(try entries(root.path).uploads == before.uploads)
        #expect(try entries(root.path).packs == before.packs)
        #expect(try store.stat(sha256(bytes)) == nil)
    }

    @Test func smallBlobIsUnsupported() throws {
        let root = TempRoot(); defer { root.cleanup() }
        let store = try Store.open(at: root.path, options: smallOptions())
        defer { store.close() }
        let source = root.path + "/uploads-neighbour"
        let bytes = Self.payload(7, count: 1000)
        try write(bytes, to: source)
        guard case .unsupported(let reason) = try store.commitClone(sourcePath: source, digest: sha256(bytes), repository: "app") else {
            Issue.record("small blobs belong in shared packs"); return
        }
        #expect(reason.contains("small blob"))
    }

    @Test func alignedFlagNeedsDedicated() throws {
        let d = sha256([1, 2, 3])
        let bad = PackRecordHeader(flags: [.aligned], digest: d, storedLength: 3, rawLength: 3, payloadCRC: 0).encode()
        #expect(throws: StoreError.self) { try PackRecordHeader.decode(bad) }
        let good = PackRecordHeader(flags: [.dedicated, .aligned], digest: d, storedLength: 3, rawLength: 3, payloadCRC: 0)
        #expect(try PackRecordHeader.decode(good.encode()) == good)
        #expect(PackRecordHeader.payloadGap([.dedicated]) == 128)
        #expect(PackRecordHeader.payloadGap([.dedicated, .aligned]) == 4096)
    }
}
