// Flipped bytes in a pack record are detected and never served as content:
// a header byte by its CRC when the blob is opened; a payload byte by the
// payload CRC and digest on verification, and on every manifest read.

import Foundation
import Testing
@testable import CASEngine

@Suite struct StoreCorruptionTests {
    /// Stores `bytes`, closes the store, XORs one byte of its record at
    /// `recordOffset + delta`, reopens.
    func corrupt(_ bytes: [UInt8], at delta: (BlobLocation) -> UInt64, manifest: Bool = false,
                 _ check: (Store, BlobDigest) throws -> Void) throws {
        let root = TempRoot(); defer { root.cleanup() }
        let d = sha256(bytes)
        let location: BlobLocation
        do {
            var o = smallOptions()
            o.compression = false
            let store = try Store.open(at: root.path, options: o)
            if manifest {
                try store.putManifest(repository: "r", digest: d, bytes: bytes,
                                      edges: ManifestEdges(mediaType: "application/vnd.oci.image.manifest.v1+json", references: []),
                                      tags: ["t"])
            } else {
                try store.putBlob(bytes, digest: d, repository: "r")
            }
            location = try #require(try store.meta.blob(d)).location
            store.close()
        }
        let path = StorageLayout(root: root.path).packPath(location.packID)
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        let offset = location.recordOffset + delta(location)
        try handle.seek(toOffset: offset)
        let old = try #require(try handle.read(upToCount: 1))
        try handle.seek(toOffset: offset)
        handle.write(Data([old[0] ^ 0x5a]))
        try handle.close()
        let store = try Store.open(at: root.path, options: smallOptions())
        defer { store.close() }
        try check(store, d)
    }

    @Test(arguments: [0, 9, 20, 60, 100, 127])
    func flippedHeaderByteIsRefusedAtOpen(byte: Int) throws {
        try corrupt(Array("header victim ".utf8) + Array(repeating: 1, count: 500), at: { _ in UInt64(byte) }) { store, d in
            #expect(throws: StoreError(.corrupt, "")) { try store.openBlob(d, in: "r") }
            #expect(throws: StoreError(.corrupt, "")) { try store.verify(d) }
        }
    }

    @Test func flippedPayloadByteFailsVerification() throws {
        try corrupt(Array("payload victim".utf8) + Array(repeating: 2, count: 500), at: { $0.payloadOffset - $0.recordOffset + 200 }) { store, d in
            #expect(throws: StoreError(.corrupt, "")) { try store.verify(d) }
        }
    }

    @Test func flippedManifestByteIsNeverServed() throws {
        let m = Array("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"layers\":[]}".utf8)
        try corrupt(m, at: { $0.payloadOffset - $0.recordOffset + 5 }, manifest: true) { store, d in
            #expect(throws: StoreError(.corrupt, "")) { try store.manifest(repository: "r", digest: d) }
            #expect(throws: StoreError(.corrupt, "")) { try store.manifest(repository: "r", tag: "t") }
        }
    }
}
