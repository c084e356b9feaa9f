// Format v1 golden files: written once by the v1 code (generator below, off by
// default) and checked byte for byte forever after. If this test fails, the
// on-disk format changed: that needs a version bump and a reader for v1, never
// an edit of the literals.

import Foundation
import Testing
@testable import CASEngine

@Suite struct PackGoldenTests {
    // Content of the golden records (stated literally so the files never depend on test helpers).
    static let lz4Content = Array(String(repeating: "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"size\":1234}\n", count: 20).utf8)
    static let plainContent = Array(String(repeating: "Berth golden plain record v1\n", count: 10).utf8)
    static let sha512Content = Array("Berth golden sha512 record\n".utf8)
    static let dedicatedContent = (0..<1000).map { UInt8($0 % 251) }

    static var fixtures: URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("format-v1")
    }

    /// Copies the fixtures into a fresh store as packs 1 (shared) and 2 (dedicated).
    static func openGoldenStore(_ dir: PackTempDir) throws -> PackStore {
        let layout = dir.layout
        try layout.createDirectories()
        try FileManager.default.copyItem(at: fixtures.appendingPathComponent("shared.pack"), to: URL(fileURLWithPath: layout.packPath(1)))
        try FileManager.default.copyItem(at: fixtures.appendingPathComponent("dedicated.pack"), to: URL(fileURLWithPath: layout.packPath(2)))
        return try PackStore(layout: layout, maxSharedPackSize: 1 << 30, compression: true)
    }

    @Test func fixtureFilesAreByteIdentical() throws {
        let shared = Array(try Data(contentsOf: Self.fixtures.appendingPathComponent("shared.pack")))
        let dedicated = Array(try Data(contentsOf: Self.fixtures.appendingPathComponent("dedicated.pack")))
        #expect(shared.count == 815)
        #expect(dedicated.count == 1128)
        #expect(packSHA256(shared).hex == "f313a4c8a948e527092789da65524267397e7031e050313989545e7535f67234")
        #expect(packSHA256(dedicated).hex == "5088ac97e9d5a759d51d1732f263d031ffb40c13be9c07bf170ba6aa592ef353")
        // Shared pack file header: "BPAK", version 1, reserved, pack id 1, reserved, CRC32C.
        #expect(packHex(shared[0..<32]) == "4250414b010000000100000000000000000000000000000000000000a820f5d8")
        #expect(try PackFileHeader.decode(shared) == PackFileHeader(version: 1, packID: 1))
        // Record headers, byte for byte.
        #expect(packHex(shared[32..<160]) == "4252454301000100010000005c5e18d552000000000000003c05000000000000dd63062cda41e6ba26348a4ea36529204e81b0d552395581c765b3657956ed28000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000eabbb981")
        #expect(packHex(shared[242..<370]) == "425245430100000001000000622c6fb22201000000000000220100000000000094b1346faf19c7bdca659a0869e7b2b2469b727f3bf2af70adb13a02178ceed1000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000b90346f1")
        #expect(packHex(shared[660..<788]) == "4252454301000000020000003d4a43d71b000000000000001b0000000000000047ee1cbd5a84159d54cbdf31dd8a60bbf27298be118aa5fb295e5178771bb02df71cef7161426f729166d048f3e2b836b38e8b7001e857cbe687b6f19af913e600000000000000000000000000000000000000000000000000000000e1632f83")
        #expect(packHex(dedicated[0..<128]) == "4252454301000200010000002062f611e803000000000000e8030000000000004e4c294b331f7a2099a379bec34b9f9fc03dc46ab465d998f4d683da53487e6d00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000063167b9a")
        // Plain payloads are the original bytes verbatim.
        #expect(Array(shared[370..<660]) == Self.plainContent)
        #expect(Array(shared[788..<815]) == Self.sha512Content)
        #expect(Array(dedicated[128...]) == Self.dedicatedContent)
        // The lz4 payload is a raw LZ4 block decoding to the original.
        #expect(try LZ4Block.decompress(Array(shared[160..<242]), rawLength: 1340) == Self.lz4Content)
    }

    @Test func goldenPacksOpenAndDecode() throws {
        let dir = try PackTempDir(); defer { dir.cleanup() }
        let store = try Self.openGoldenStore(dir)
        #expect(store.recoveryReport == PackRecoveryReport())
        #expect(try store.packIDs() == [1, 2])

        var records: [(PackRecordHeader, BlobLocation)] = []
        let r = try store.scan(packID: 1) { records.append(($0, $1)) }
        #expect(r == PackScanResult(kind: .shared, validEnd: 815, fileSize: 815, recordCount: 3))
        let expected: [(UInt64, UInt64, UInt64, RecordFlags, UInt32, String, [UInt8])] = [
            (32, 82, 1340, .lz4, 0xD518_5E5C,
             "sha256:dd63062cda41e6ba26348a4ea36529204e81b0d552395581c765b3657956ed28", Self.lz4Content),
            (242, 290, 290, [], 0xB26F_2C62,
             "sha256:94b1346faf19c7bdca659a0869e7b2b2469b727f3bf2af70adb13a02178ceed1", Self.plainContent),
            (660, 27, 27, [], 0xD743_4A3D,
             "sha512:47ee1cbd5a84159d54cbdf31dd8a60bbf27298be118aa5fb295e5178771bb02df71cef7161426f729166d048f3e2b836b38e8b7001e857cbe687b6f19af913e6",
             Self.sha512Content),
        ]
        #expect(records.count == expected.count)
        for ((header, loc), e) in zip(records, expected) {
            #expect(loc == BlobLocation(packID: 1, recordOffset: e.0, storedLength: e.1, rawLength: e.2, flags: e.3))
            #expect(header.version == 1 && header.flags == e.3 && header.payloadCRC == e.4)
            #expect(header.storedLength == e.1 && header.rawLength == e.2)
            #expect(header.digest.description == e.5)
            #expect(try store.readHeader(loc) == header)
            #expect(try store.readAll(loc) == e.6)
            try store.verify(loc, digest: try #require(BlobDigest(e.5)))
        }

        var dedicated: [(PackRecordHeader, BlobLocation)] = []
        let rd = try store.scan(packID: 2) { dedicated.append(($0, $1)) }
        #expect(rd == PackScanResult(kind: .dedicated, validEnd: 1128, fileSize: 1128, recordCount: 1))
        let (dh, dl) = try #require(dedicated.first)
        #expect(dl == BlobLocation(packID: 2, recordOffset: 0, storedLength: 1000, rawLength: 1000, flags: .dedicated))
        #expect(dh.payloadCRC == 0x11F6_6220)
        #expect(dh.digest.description == "sha256:4e4c294b331f7a2099a379bec34b9f9fc03dc46ab465d998f4d683da53487e6d")
        #expect(try store.read(dl, offset: 990, length: 100) == Array(Self.dedicatedContent[990...]))
        try store.verify(dl, digest: dh.digest)

        // Appending continues the golden shared pack (copy) after its last record.
        let next = try store.appendBatch([(packSHA256([1, 2, 3]), [1, 2, 3])])
        #expect(next[0].packID == 1 && next[0].recordOffset == 815)
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["BERTH_REGENERATE_GOLDEN"] == "1"))
    func regenerateGoldenFiles() throws {
        let dir = try PackTempDir(); defer { dir.cleanup() }
        let store = try PackStore(layout: dir.layout, maxSharedPackSize: 1 << 30, compression: true)
        let locs = try store.appendBatch([
            (packSHA256(Self.lz4Content), Self.lz4Content),
            (packSHA256(Self.plainContent), Self.plainContent),
            (packSHA512(Self.sha512Content), Self.sha512Content),
        ])
        #expect(locs.map(\.packID) == [1, 1, 1] && locs[0].flags == .lz4)
        let up = try store.createUploadFile(id: "golden")
        try up.append(Self.dedicatedContent)
        let d = try store.commitDedicated(up, digest: try up.digest(.sha256))
        #expect(d.packID == 2)
        let out = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/format-v1")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        for (id, name) in [(UInt32(1), "shared.pack"), (2, "dedicated.pack")] {
            let dst = out.appendingPathComponent(name)
            try? FileManager.default.removeItem(at: dst)
            try FileManager.default.copyItem(atPath: dir.layout.packPath(id), toPath: dst.path)
        }
    }
}
