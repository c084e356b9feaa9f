// Inputs found by (or written for) the Fuzz/ harnesses, kept in the normal
// suite: each must return or throw, never trap.

@_spi(Fuzzing) import CASEngine
import Testing

@Suite("Fuzz regressions: engine decoders")
struct FuzzRegressionTests {
    static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> ($0 * 8)) } }
    static func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> ($0 * 8)) } }

    /// A manifest entry whose reference count says 0xFFFFFFFF: the decoder
    /// reserved that many digests up front (64 GiB) and trapped in the
    /// allocator. Now it throws `.corrupt` when the bytes run out.
    @Test func manifestEntryWithHugeReferenceCountThrows() {
        let entry: [UInt8] = Self.le64(7) + [1, 0, UInt8(ascii: "x"), 0] + Self.le32(0xFFFF_FFFF)
        #expect(throws: StoreError.self) { try FuzzEntryPoints.lmdbRecord(.manifestEntry, entry) }
        // Same bytes as the harness sees them (selector byte 3 = manifest entry).
        #expect(throws: StoreError.self) { try FuzzEntryPoints.lmdbRecord([3] + entry) }
    }

    @Test func truncatedAndEmptyRecordsThrow() throws {
        for kind in FuzzEntryPoints.LMDBRecordKind.allCases where kind != .digestKey && kind != .upload {
            #expect(throws: StoreError.self, "\(kind)") { try FuzzEntryPoints.lmdbRecord(kind, []) }
            #expect(throws: StoreError.self, "\(kind)") { try FuzzEntryPoints.lmdbRecord(kind, [2]) }
        }
        try FuzzEntryPoints.lmdbRecord(.digestKey, [])
        try FuzzEntryPoints.lmdbRecord(.digestKey, [1, 2, 3])
        try FuzzEntryPoints.lmdbRecord([])
        // Referrer annotations length larger than the record.
        let referrer: [UInt8] = Self.le64(1) + [1, 0, UInt8(ascii: "a"), 0, 1] + Self.le32(0xFFFF_FFFF)
        #expect(throws: StoreError.self) { try FuzzEntryPoints.lmdbRecord(.referrer, referrer) }
        // Review item with an unknown digest algorithm and an unknown kind.
        #expect(throws: StoreError.self) { try FuzzEntryPoints.lmdbRecord(.review, [1] + Self.le64(0) + [9]) }
        #expect(throws: StoreError.self) {
            try FuzzEntryPoints.lmdbRecord(.review, [7] + Self.le64(0) + [1] + [UInt8](repeating: 0, count: 32))
        }
    }

    @Test func packHeadersRejectGarbageAndAcceptSealedValidFields() throws {
        for n in [0, 1, 4, 31, 32, 127, 128, 129] {
            let zeros = [UInt8](repeating: 0, count: n)
            #expect(throws: StoreError.self) { try FuzzEntryPoints.packRecordHeader(zeros) }
            #expect(throws: StoreError.self) { try FuzzEntryPoints.packFileHeader(zeros, sealCRC: true) }
        }
        // "BREC", version 1, no flags, sha256, lengths 1/1, CRC sealed: accepted.
        var rec = [UInt8](repeating: 0, count: 128)
        rec.replaceSubrange(0..<4, with: Array("BREC".utf8))
        rec[4] = 1
        rec[8] = 1
        rec[16] = 1
        rec[24] = 1
        try FuzzEntryPoints.packRecordHeader(rec, sealCRC: true)
        #expect(throws: StoreError.self) { try FuzzEntryPoints.packRecordHeader(rec) }  // CRC still zero
        // Maximal lengths with lz4: rejected as absurd, not overflowed.
        var big = rec
        big[6] = 1
        for i in 16..<32 { big[i] = 0xFF }
        #expect(throws: StoreError.self) { try FuzzEntryPoints.packRecordHeader(big, sealCRC: true) }
        var pack = [UInt8](repeating: 0, count: 32)
        pack.replaceSubrange(0..<4, with: Array("BPAK".utf8))
        pack[4] = 1
        try FuzzEntryPoints.packFileHeader(pack, sealCRC: true)
    }
}
