import Foundation
import Testing
@testable import CASEngine

@Suite struct UploadFileTests {
    @Test func appendResumeAndDigest() throws {
        let dir = try PackTempDir(); defer { dir.cleanup() }
        let store = try PackStore(layout: dir.layout, maxSharedPackSize: 1 << 30, compression: true)
        let data = packTestRandomBytes(300_000, seed: 11)
        let up = try store.createUploadFile(id: "u-1")
        #expect(throws: StoreError.self) { _ = try store.createUploadFile(id: "u-1") }
        #expect(throws: StoreError(.invalidArgument, "")) { _ = try store.createUploadFile(id: "../x") }
        try data.withUnsafeBytes { try up.append(UnsafeRawBufferPointer(rebasing: $0[0..<100_000])) }
        #expect(up.length == 100_000)
        #expect(try up.digest(.sha256) == packSHA256(Array(data[0..<100_000])))
        try up.sync()
        up.close()
        #expect(throws: StoreError(.closed, "")) { try up.append([1]) }

        #expect(try store.uploadFileIDs() == ["u-1"])
        #expect(try store.openUploadFile(id: "nope") == nil)
        let resumed = try #require(try store.openUploadFile(id: "u-1"))
        #expect(resumed.length == 100_000)
        try data.withUnsafeBytes { try resumed.append(UnsafeRawBufferPointer(rebasing: $0[100_000...])) }
        #expect(try resumed.digest(.sha256) == packSHA256(data))
        #expect(try resumed.digest(.sha512) == packSHA512(data))
        #expect(try resumed.readPayload() == data)
        #expect(resumed.payloadCRC == CRC32C.checksum(data))
        #expect(try packFileSize(dir.layout.uploadPath("u-1")) == UInt64(PackRecordHeader.size + data.count))
        resumed.close()
        store.removeUploadFile(id: "u-1")
        store.removeUploadFile(id: "u-1")
        #expect(try store.uploadFileIDs() == [])
    }

    @Test func commitDedicatedThenReadAndDescriptor() throws {
        let dir = try PackTempDir(); defer { dir.cleanup() }
        let store = try PackStore(layout: dir.layout, maxSharedPackSize: 1 << 30, compression: true)
        let small = Array("small".utf8)
        let shared = try store.appendBatch([(packSHA256(small), small)])[0]
        let data = packTestJSON(2000) // compressible, but dedicated packs are stored as uploaded
        let up = try store.createUploadFile(id: "big")
        try up.append(data)
        let digest = try up.digest(.sha256)
        let loc = try store.commitDedicated(up, digest: digest)
        #expect(loc.packID > shared.packID && loc.recordOffset == 0 && loc.flags == .dedicated)
        #expect(loc.rawLength == UInt64(data.count) && loc.storedLength == loc.rawLength)
        #expect(try store.uploadFileIDs() == [])
        #expect(try store.packIDs() == [shared.packID, loc.packID])
        #expect(try store.readAll(loc) == data)
        #expect(try store.read(loc, offset: 1000, length: 50) == Array(data[1000..<1050]))
        try store.verify(loc, digest: digest)
        let fd = try store.duplicateDescriptor(loc)
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: data.count)
        let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, data.count, off_t(loc.payloadOffset)) }
        #expect(n == data.count && buf == data)
        var records: [BlobLocation] = []
        let r = try store.scan(packID: loc.packID) { h, l in records.append(l); #expect(h.digest == digest) }
        #expect(records == [loc] && r.kind == .dedicated && r.validEnd == r.fileSize)

        // Reopen: the dedicated pack is not taken as the active shared pack.
        let reopened = try PackStore(layout: dir.layout, maxSharedPackSize: 1 << 30, compression: true)
        let next = try reopened.appendBatch([(packSHA256(small), small)])[0]
        #expect(next.packID == shared.packID)
        #expect(try reopened.readAll(loc) == data)
    }
    @Test func truncateRebuildsState() throws {
        let dir = try PackTempDir(); defer { dir.cleanup() }
        let store = try PackStore(layout: dir.layout, maxSharedPackSize: 1 << 30, compression: true)
        let data = packTestRandomBytes(50_000, seed: 12)
        let up = try store.createUploadFile(id: "t")
        try up.append(data)
        try up.truncate(to: 20_000)
        #expect(up.length == 20_000)
        #expect(try up.digest(.sha256) == packSHA256(Array(data[..<20_000])))
        try data.withUnsafeBytes { try up.append(UnsafeRawBufferPointer(rebasing: $0[20_000...])) }
        #expect(try up.digest(.sha256) == packSHA256(data))
        #expect(up.payloadCRC == CRC32C.checksum(data))
        #expect(throws: StoreError(.invalidArgument, "")) { try up.truncate(to: 60_000) }
        let loc = try store.commitDedicated(up, digest: packSHA256(data))
        try store.verify(loc, digest: packSHA256(data))
        #expect(throws: StoreError(.closed, "")) { try up.append([1]) }
    }
}
