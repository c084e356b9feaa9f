import Testing
@testable import CASEngine

@Suite struct CRC32CTests {
    @Test func knownVectors() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
        // RFC 3720 B.4 vectors.
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xff, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
    }

    @Test func incrementalEqualsWhole() {
        let data = packTestRandomBytes(10_007, seed: 7)
        let whole = CRC32C.checksum(data)
        for split in [0, 1, 7, 8, 9, 4096, 10_000, 10_007] {
            let a = CRC32C.checksum(Array(data[..<split]))
            #expect(CRC32C.checksum(Array(data[split...]), seed: a) == whole)
        }
    }

    @Test func matchesBitwiseReference() {
        func reference(_ b: [UInt8]) -> UInt32 {
            var c: UInt32 = 0xFFFF_FFFF
            for x in b {
                c ^= UInt32(x)
                for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
            }
            return ~c
        }
        for n in [1, 3, 8, 15, 16, 17, 100, 1000] {
            let d = packTestRandomBytes(n, seed: UInt64(n))
            #expect(CRC32C.checksum(d) == reference(d))
        }
    }
}
