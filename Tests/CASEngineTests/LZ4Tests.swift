import Testing
@testable import CASEngine

@Suite struct LZ4Tests {
    @Test func compressesJSONAndRoundTrips() throws {
        let json = packTestJSON(50)
        let c = try #require(LZ4Block.compressIfWorthwhile(json))
        #expect(c.count < json.count * 7 / 8)
        #expect(try LZ4Block.decompress(c, rawLength: json.count) == json)
    }

    @Test func skipsSmallRandomAndCompressedMagic() {
        #expect(LZ4Block.compressIfWorthwhile(Array(packTestJSON(50).prefix(511))) == nil)
        #expect(LZ4Block.compressIfWorthwhile(packTestRandomBytes(100_000, seed: 3)) == nil)
        var gz = [UInt8](repeating: 0x41, count: 10_000); gz[0] = 0x1f; gz[1] = 0x8b
        #expect(LZ4Block.compressIfWorthwhile(gz) == nil)
        var zst = [UInt8](repeating: 0x41, count: 10_000); zst[0] = 0x28; zst[1] = 0xb5; zst[2] = 0x2f; zst[3] = 0xfd
        #expect(LZ4Block.compressIfWorthwhile(zst) == nil)
        // Sample decides: incompressible first 4 KiB, compressible rest -> skipped.
        let mixed = packTestRandomBytes(4096, seed: 9) + [UInt8](repeating: 0, count: 100_000)
        #expect(LZ4Block.compressIfWorthwhile(mixed) == nil)
    }

    @Test func decompressRejectsWrongLength() throws {
        let json = packTestJSON(20)
        let c = try #require(LZ4Block.compressIfWorthwhile(json))
        #expect(throws: StoreError(.corrupt, "")) { try LZ4Block.decompress(c, rawLength: json.count + 1) }
        #expect(throws: StoreError(.corrupt, "")) { try LZ4Block.decompress(Array(c.dropLast(3)), rawLength: json.count) }
    }
}
