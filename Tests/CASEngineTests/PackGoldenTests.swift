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

    @Test(.enabled(if: ProcessInfo.processInfo.environment["BERTH_REGENERATE_GOLDEN"] == "1"))
    func regenerateGoldenFiles() throws {
        let dir = try PackTempDir(); defer { dir.cleanup() }
        let store = try PackStore(layout: dir.layout, maxSharedPackSize: 1 << 30, compression: true)
        let locs = try store.appendBatch([
            (sha256(Self.lz4Content), Self.lz4Content),
            (sha256(Self.plainContent), Self.plainContent),
            (sha512(Self.sha512Content), Self.sha512Content),
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
