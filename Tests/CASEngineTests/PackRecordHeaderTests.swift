import Testing
@testable import CASEngine

@Suite struct PackRecordHeaderTests {
    static let h256 = PackRecordHeader(flags: [.lz4], digest: packSHA256(Array("x".utf8)), storedLength: 123,
                                       rawLength: 4567, payloadCRC: 0xDEAD_BEEF)
    static let h512 = PackRecordHeader(flags: [.dedicated], digest: packSHA512(Array("y".utf8)), storedLength: 1 << 40,
                                       rawLength: 1 << 40, payloadCRC: 1)

    @Test func roundTrip() throws {
        for h in [PackRecordHeaderTests.h256, PackRecordHeaderTests.h512] {
            let bytes = h.encode()
            #expect(bytes.count == PackRecordHeader.size)
            #expect(try PackRecordHeader.decode(bytes) == h)
        }
    }

    @Test func layoutMatchesFormatDoc() {
        let b = PackRecordHeaderTests.h256.encode()
        #expect(Array(b[0..<4]) == [0x42, 0x52, 0x45, 0x43])
        #expect(Array(b[4..<6]) == [1, 0])
        #expect(Array(b[6..<8]) == [1, 0])
        #expect(b[8] == 1)
        #expect(Array(b[12..<16]) == [0xEF, 0xBE, 0xAD, 0xDE])
        #expect(Array(b[16..<24]) == [123, 0, 0, 0, 0, 0, 0, 0])
        #expect(Array(b[24..<32]) == [0xD7, 0x11, 0, 0, 0, 0, 0, 0])
        #expect(Array(b[32..<64]) == PackRecordHeaderTests.h256.digest.bytes)
        #expect(b[64..<124].allSatisfy { $0 == 0 })
        #expect(LittleEndianBytes.get(UInt32.self, from: b, at: 124) == CRC32C.checksum(Array(b[0..<124])))
    }

    @Test func everyCorruptedByteIsDetected() {
        for h in [PackRecordHeaderTests.h256, PackRecordHeaderTests.h512] {
            let good = h.encode()
            for i in 0..<good.count {
                var bad = good
                bad[i] ^= 0x01
                #expect(throws: StoreError.self) { try PackRecordHeader.decode(bad) }
            }
        }
    }

    @Test func errorCodes() {
        var b = PackRecordHeaderTests.h256.encode()
        b[0] = 0
        #expect(throws: StoreError(.corrupt, "")) { try PackRecordHeader.decode(b) }
        b = PackRecordHeaderTests.h256.encode()
        b[100] ^= 0xff
        #expect(throws: StoreError(.corrupt, "")) { try PackRecordHeader.decode(b) }
        // A future version is refused, not called corrupt.
        var v2 = PackRecordHeaderTests.h256
        v2.version = 2
        #expect(throws: StoreError(.unsupportedFormat, "")) { try PackRecordHeader.decode(v2.encode()) }
        #expect(throws: StoreError(.corrupt, "")) { try PackRecordHeader.decode(Array(b[0..<100])) }
        // Unknown flag bit (with a valid CRC).
        var f = PackRecordHeaderTests.h256
        f.flags = RecordFlags(rawValue: 0x80)
        #expect(throws: StoreError(.unsupportedFormat, "")) { try PackRecordHeader.decode(f.encode()) }
    }

    @Test func packFileHeader() throws {
        let h = PackFileHeader(packID: 0x0102_0304)
        let b = h.encode()
        #expect(b.count == 32)
        #expect(try PackFileHeader.decode(b) == h)
        for i in 0..<b.count {
            var bad = b
            bad[i] ^= 0x80
            #expect(throws: StoreError.self) { try PackFileHeader.decode(bad) }
        }
    }
}
