import Foundation
import Testing
@testable import CASEngine

@Suite struct PackStoreTests {
    @Test func layoutNames() {
        let l = StorageLayout(root: "/r/")
        #expect(l.packPath(7) == "/r/packs/00000007.pack")
        #expect(l.packPath(UInt32.max) == "/r/packs/4294967295.pack")
        #expect(l.formatFile == "/r/FORMAT" && l.lockFile == "/r/lock" && l.metaDirectory == "/r/meta")
        #expect(l.uploadPath("u1") == "/r/uploads/u1")
        #expect(StorageLayout.packID(fromFileName: "00000007.pack") == 7)
        #expect(StorageLayout.packID(fromFileName: "4294967295.pack") == UInt32.max)
        for bad in ["7.pack", "0000007.pack", "00000007.pack.tmp", "0000000a.pack", "4294967296.pack", "000000007.pack", "+0000007.pack"] {
            #expect(StorageLayout.packID(fromFileName: bad) == nil, "\(bad)")
        }
    }

    @Test func appendBatchAndReadBack() throws {
        let dir = try PackTempDir(); defer { dir.cleanup() }
        let store = try PackStore(layout: dir.layout, maxSharedPackSize: 1 << 30, compression: true)
        let json = packTestJSON(40)
        let random = packTestRandomBytes(5000, seed: 1)
        var gz = packTestJSON(40); gz[0] = 0x1f; gz[1] = 0x8b
        let tiny = Array("hi".utf8)
        let blobs = [json, random, gz, tiny, []].map { (digest: packSHA256($0), bytes: $0) }
        let locs = try store.appendBatch(blobs)
        #expect(locs.count == 5)
        #expect(locs[0].flags == [.lz4] && locs[0].storedLength < locs[0].rawLength)
        #expect(locs[1].flags == [] && locs[2].flags == [] && locs[3].flags == [])
        #expect(locs[0].recordOffset == UInt64(PackFileHeader.size))
        for (b, l) in zip(blobs, locs) {
            #expect(try store.readAll(l) == b.bytes)
            try store.verify(l, digest: b.digest)
            #expect(try store.readHeader(l).digest == b.digest)
        }
        // Records are contiguous.
        for i in 1..<locs.count {
            #expect(locs[i].recordOffset == locs[i - 1].payloadOffset + locs[i - 1].storedLength)
        }
        // A second batch goes after the first, in the same pack.
        let more = try store.appendBatch([(packSHA512(random), random)])
        #expect(more[0].packID == locs[0].packID && more[0].recordOffset == locs[4].payloadOffset)
        try store.verify(more[0], digest: packSHA512(random))
    }

    @Test func rangeReadsAtEdges() throws {
        let dir = try PackTempDir(); defer { dir.cleanup() }
        let store = try PackStore(layout: dir.layout, maxSharedPackSize: 1 << 30, compression: true)
        let json = packTestJSON(30), random = packTestRandomBytes(3000, seed: 2)
        let locs = try store.appendBatch([(packSHA256(json), json), (packSHA256(random), random)])
        for (bytes, loc) in [(json, locs[0]), (random, locs[1])] {
            let n = bytes.count
            #expect(try store.read(loc, offset: 0, length: 1) == [bytes[0]])
            #expect(try store.read(loc, offset: UInt64(n - 1), length: 10) == [bytes[n - 1]])
            #expect(try store.read(loc, offset: UInt64(n), length: 10) == [])
            #expect(try store.read(loc, offset: UInt64(n + 5), length: 10) == [])
            #expect(try store.read(loc, offset: 10, length: 0) == [])
            #expect(try store.read(loc, offset: 17, length: 100) == Array(bytes[17..<117]))
            #expect(try store.read(loc, offset: 0, length: Int.max) == bytes)
        }
    }

    @Test func tornTailIsTruncatedOnReopen() throws {
        let dir = try PackTempDir(); defer { dir.cleanup() }
        let a = packTestJSON(10), b = packTestRandomBytes(1000, seed: 5)
        var locs: [BlobLocation] = []
        do {
            let store = try PackStore(layout: dir.layout, maxSharedPackSize: 1 << 30, compression: true)
            locs = try store.appendBatch([(packSHA256(a), a), (packSHA256(b), b)])
            #expect(store.recoveryReport.truncated.isEmpty)
        }
        let path = dir.layout.packPath(locs[0].packID)
        let goodSize = try packFileSize(path)
        // A torn record: full valid header, half of its payload.
        let c = packTestRandomBytes(800, seed: 6)
        let header = PackRecordHeader(flags: [], digest: packSHA256(c), storedLength: 800, rawLength: 800,
                                      payloadCRC: CRC32C.checksum(c)).encode()
        try packAppendToFile(path: path, header + c.prefix(400))
        let store = try PackStore(layout: dir.layout, maxSharedPackSize: 1 << 30, compression: true)
        #expect(store.recoveryReport.truncated == [.init(packID: locs[0].packID, fromOffset: goodSize, bytes: 528)])
        #expect(try packFileSize(path) == goodSize)
        #expect(try store.readAll(locs[0]) == a && store.readAll(locs[1]) == b)
        // New appends land where the tail was cut.
        let d = try store.appendBatch([(packSHA256(c), c)])
        #expect(d[0].packID == locs[0].packID && d[0].recordOffset == goodSize)

        // Garbage tail, and a full-length record whose payload CRC is wrong (zero-filled extent).
        let end = try packFileSize(path)
        let zeroed = PackRecordHeader(flags: [], digest: packSHA256(c), storedLength: 800, rawLength: 800,
                                      payloadCRC: CRC32C.checksum(c)).encode() + [UInt8](repeating: 0, count: 800)
        try packAppendToFile(path: path, zeroed + Array("garbage".utf8))
        let store2 = try PackStore(layout: dir.layout, maxSharedPackSize: 1 << 30, compression: true)
        #expect(store2.recoveryReport.truncated == [.init(packID: locs[0].packID, fromOffset: end, bytes: 935)])
        #expect(try store2.readAll(d[0]) == c)
        let scan = try store2.scan(packID: locs[0].packID) { _, _ in }
        #expect(scan.recordCount == 3 && scan.validEnd == end && scan.fileSize == end)
    }

    @Test func flippedBytesAreCorrupt() throws {
        let dir = try PackTempDir(); defer { dir.cleanup() }
        let store = try PackStore(layout: dir.layout, maxSharedPackSize: 1 << 30, compression: true)
        let json = packTestJSON(30), random = packTestRandomBytes(3000, seed: 2)
        let locs = try store.appendBatch([(packSHA256(json), json), (packSHA256(random), random)])
        let path = dir.layout.packPath(locs[0].packID)
        // Payload flips.
        try packFlipByte(path: path, at: locs[0].payloadOffset + 5)
        try packFlipByte(path: path, at: locs[1].payloadOffset + 2999)
        #expect(throws: StoreError(.corrupt, "")) { try store.verify(locs[0], digest: packSHA256(json)) }
        #expect(throws: StoreError(.corrupt, "")) { try store.verify(locs[1], digest: packSHA256(random)) }
        // Header flip.
        try packFlipByte(path: path, at: locs[1].recordOffset + 40)
        #expect(throws: StoreError(.corrupt, "")) { try store.readHeader(locs[1]) }
        // Wrong location lengths / wrong digest.
        var wrong = locs[0]; wrong.rawLength += 1
        #expect(throws: StoreError(.corrupt, "")) { try store.readHeader(wrong) }
        #expect(throws: StoreError(.corrupt, "")) { try store.verify(locs[0], digest: packSHA256(random)) }
    }

    @Test func rollsOverToNewSharedPack() throws {
        let dir = try PackTempDir(); defer { dir.cleanup() }
        let store = try PackStore(layout: dir.layout, maxSharedPackSize: 4096, compression: false)
        var all: [(BlobDigest, [UInt8], BlobLocation)] = []
        for i in 0..<6 {
            let blobs = (0..<3).map { j -> (digest: BlobDigest, bytes: [UInt8]) in
                let b = packTestRandomBytes(700, seed: UInt64(i * 10 + j)); return (packSHA256(b), b)
            }
            let locs = try store.appendBatch(blobs)
            all += zip(blobs, locs).map { ($0.digest, $0.bytes, $1) }
        }
        let ids = Set(all.map { $0.2.packID })
        #expect(ids.count >= 3)
        #expect(try store.packIDs() == ids.sorted())
        for (_, bytes, loc) in all { #expect(try store.readAll(loc) == bytes) }
        var scanned = 0
        for id in ids.sorted() {
            let r = try store.scan(packID: id) { h, loc in
                scanned += 1
                #expect(all.contains { $0.0 == h.digest && $0.2 == loc })
            }
            #expect(r.validEnd == r.fileSize && r.kind == .shared)
            // A sealed pack exceeds the limit by at most one record.
            #expect(r.fileSize < 4096 + 700 + 128)
        }
        #expect(scanned == all.count)
        // Reopen: the last pack continues if below the limit, ids keep increasing.
        let reopened = try PackStore(layout: dir.layout, maxSharedPackSize: 4096, compression: false)
        let b = packTestRandomBytes(10, seed: 99)
        let loc = try reopened.appendBatch([(packSHA256(b), b)])[0]
        #expect(loc.packID >= ids.max()!)
        #expect(reopened.recoveryReport.truncated.isEmpty)
    }

    @Test func removePackAndDescriptor() throws {
        let dir = try PackTempDir(); defer { dir.cleanup() }
        let store = try PackStore(layout: dir.layout, maxSharedPackSize: 1 << 30, compression: true)
        let b = packTestRandomBytes(2000, seed: 8)
        let loc = try store.appendBatch([(packSHA256(b), b)])[0]
        let fd = try store.duplicateDescriptor(loc)
        try store.removePack(loc.packID)
        #expect(try store.packIDs() == [])
        // The dup'd descriptor still reads the unlinked file.
        var buf = [UInt8](repeating: 0, count: 2000)
        let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 2000, off_t(loc.payloadOffset)) }
        close(fd)
        #expect(n == 2000 && buf == b)
        #expect(throws: StoreError(.blobUnknown, "")) { try store.readAll(loc) }
        // Next append creates a new pack with a fresh id.
        let loc2 = try store.appendBatch([(packSHA256(b), b)])[0]
        #expect(loc2.packID > loc.packID)
    }

    @Test func unsupportedPackVersionIsRefusedNotTruncated() throws {
        let dir = try PackTempDir(); defer { dir.cleanup() }
        let b = packTestRandomBytes(100, seed: 1)
        let loc: BlobLocation
        do {
            let store = try PackStore(layout: dir.layout, maxSharedPackSize: 1 << 30, compression: true)
            loc = try store.appendBatch([(packSHA256(b), b)])[0]
        }
        let path = dir.layout.packPath(loc.packID)
        let size = try packFileSize(path)
        // Rewrite the record header as a (future) version 2, valid CRC.
        var h = try PackRecordHeader.decode(Array(try Data(contentsOf: URL(fileURLWithPath: path)))[Int(loc.recordOffset)...].map { $0 })
        h.version = 2
        let fh = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        try fh.seek(toOffset: loc.recordOffset); try fh.write(contentsOf: h.encode()); try fh.close()
        #expect(throws: StoreError(.unsupportedFormat, "")) {
            _ = try PackStore(layout: dir.layout, maxSharedPackSize: 1 << 30, compression: true)
        }
        #expect(try packFileSize(path) == size)
    }
    @Test func concurrentAppendsAndReads() async throws {
        let dir = try PackTempDir(); defer { dir.cleanup() }
        let store = try PackStore(layout: dir.layout, maxSharedPackSize: 64 * 1024, compression: true)
        let results = try await withThrowingTaskGroup(of: [([UInt8], BlobLocation)].self) { group in
            for t in 0..<4 {
                group.addTask {
                    var out: [([UInt8], BlobLocation)] = []
                    for i in 0..<25 {
                        let b = i % 2 == 0 ? packTestJSON(5 + i) : packTestRandomBytes(300 + i * 50, seed: UInt64(t * 100 + i))
                        let loc = try store.appendBatch([(packSHA256(b), b)])[0]
                        #expect(try store.readAll(loc) == b)
                        out.append((b, loc))
                    }
                    return out
                }
            }
            var all: [([UInt8], BlobLocation)] = []
            for try await r in group { all += r }
            return all
        }
        #expect(Set(results.map { $0.1 }).count == 100)
        for (b, loc) in results { try store.verify(loc, digest: packSHA256(b)) }
        var scanned = 0
        for id in try store.packIDs() { try store.scan(packID: id) { _, _ in scanned += 1 } }
        #expect(scanned == 100)
    }

    @Test func oversizedRecordAndPackIDHighWaterMark() throws {
        let dir = try PackTempDir(); defer { dir.cleanup() }
        let store = try PackStore(layout: dir.layout, maxSharedPackSize: 100, compression: false)
        store.ensureNextPackID(atLeast: 10)
        let b = packTestRandomBytes(1000, seed: 4)
        let locs = try store.appendBatch([(packSHA256(b), b), (packSHA256(b), b)])
        // One record per pack, no empty packs in between.
        #expect(locs.map(\.packID) == [10, 11])
        #expect(try store.packIDs() == [10, 11])
        #expect(store.nextPackIDHint == 12)
        #expect(try store.readAll(locs[1]) == b)
    }
    @Test func damageInsideThePackIsNotTruncated() throws {
        let dir = try PackTempDir(); defer { dir.cleanup() }
        let a = packTestRandomBytes(600, seed: 21), b = packTestRandomBytes(600, seed: 22)
        let locs: [BlobLocation]
        do {
            let store = try PackStore(layout: dir.layout, maxSharedPackSize: 1 << 30, compression: true)
            locs = try store.appendBatch([(packSHA256(a), a), (packSHA256(b), b)])
        }
        let path = dir.layout.packPath(locs[0].packID)
        let size = try packFileSize(path)
        try packFlipByte(path: path, at: locs[0].payloadOffset + 10)
        let store = try PackStore(layout: dir.layout, maxSharedPackSize: 1 << 30, compression: true)
        #expect(store.recoveryReport.truncated.isEmpty)
        #expect(store.recoveryReport.damaged == [.init(packID: locs[0].packID, fromOffset: locs[0].recordOffset,
                                                       nextValidHeader: locs[1].recordOffset)])
        #expect(try packFileSize(path) == size)
        #expect(try store.readAll(locs[1]) == b)
        // The damaged pack is sealed: new records go elsewhere.
        let c = try store.appendBatch([(packSHA256(a), a)])[0]
        #expect(c.packID > locs[0].packID)
    }
}
