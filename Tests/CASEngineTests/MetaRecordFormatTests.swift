import CLMDB
import Testing
@testable import CASEngine

/// Holds the encodings to the byte tables of Sources/CASEngine/Index/SCHEMA.md.
@Suite struct MetaRecordFormatTests {
    @Test func blobRecordLayout() throws {
        let rec = BlobRecord(location: BlobLocation(packID: 0x0102_0304, recordOffset: 5, storedLength: 6, rawLength: 7, flags: [.lz4]),
                             refcount: 8, zeroedAt: 9, createdAt: 10)
        let bytes = rec.encode()
        #expect(bytes.count == 54)
        #expect(Array(bytes[0..<4]) == [4, 3, 2, 1])            // packID LE
        #expect(bytes[4] == 5 && bytes[12] == 6 && bytes[20] == 7)
        #expect(Array(bytes[28..<30]) == [1, 0])                 // flags
        #expect(bytes[30] == 8 && bytes[38] == 9 && bytes[46] == 10)
        #expect(try BlobRecord.decode(bytes) == rec)
        #expect(throws: StoreError(.corrupt, "")) { try BlobRecord.decode(Array(bytes.dropLast())) }
    }

    @Test func keysAndSequencesSortNumerically() {
        #expect(MetaKey.sequence(1) == [0, 0, 0, 0, 0, 0, 0, 1])
        #expect(MetaKey.sequence(256).lexicographicallyPrecedes(MetaKey.sequence(257)))
        #expect(MetaKey.sequence(255).lexicographicallyPrecedes(MetaKey.sequence(256)))
        #expect(MetaKey.repoDigest(Array("r".utf8), dg(1)) == [UInt8(ascii: "r"), 0] + dg(1).key)
        #expect(MetaKey.tagHistoryPrefix(Array("r".utf8), Array("t".utf8)) == [UInt8(ascii: "r"), 0, UInt8(ascii: "t"), 0])
    }

    @Test func reviewItemsAndManifestEntriesRoundTrip() throws {
        let sha512 = BlobDigest(algorithm: .sha512, bytes: [UInt8](repeating: 7, count: 64))!
        for item in [ReviewItem.blobZeroed(dg(3), at: 42), .manifestUntagged(repository: "a/b", digest: sha512, at: 1)] {
            #expect(try ReviewItem.decode(item.encode()) == item)
        }
        #expect(ReviewItem.blobZeroed(dg(3), at: 42).encode() == [1, 42, 0, 0, 0, 0, 0, 0, 0] + dg(3).key)
        let entry = ManifestEntry(createdAt: 3, mediaType: imageType, subject: sha512, references: [dg(1), sha512])
        #expect(try ManifestEntry.decode(entry.encode()) == entry)
        let r = ReferrerValue.encode(mediaType: "m", artifactType: nil, size: 9, annotations: [1, 2])
        #expect(r == [9, 0, 0, 0, 0, 0, 0, 0, 1, 0, UInt8(ascii: "m"), 0, 1, 2, 0, 0, 0, 1, 2])
        #expect(try ReferrerValue.decode(digest: dg(1), r) == Referrer(digest: dg(1), mediaType: "m", size: 9, artifactType: nil, annotations: [1, 2]))
    }

    @Test func lmdbErrorMapping() {
        #expect(throws: StoreError(.limitExceeded, "")) { try LMDB.check(MDB_MAP_FULL, "put") }
        #expect(throws: StoreError(.unsupportedFormat, "")) { try LMDB.check(MDB_VERSION_MISMATCH, "open") }
        let e = #expect(throws: StoreError(.metadata, "")) { try LMDB.check(MDB_CORRUPTED, "get") }
        #expect(e?.message.contains("MDB_CORRUPTED") == true)
        #expect(throws: Never.self) { try LMDB.check(0, "ok") }
    }
}
