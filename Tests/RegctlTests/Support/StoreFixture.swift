// A storage root with a config.yml naming it, filled through the engine's
// own API (the same calls the HTTP handlers make), for regctl to work on.

import BerthTestSupport
import Foundation
@testable import CASEngine

final class StoreFixture {
    static let imageType = "application/vnd.oci.image.manifest.v1+json"

    let directory: URL
    var root: String { directory.appendingPathComponent("storage").path }
    var config: String { directory.appendingPathComponent("config.yml").path }
    var options: StoreOptions

    /// `maxSharedPackSize` small enough that a few blobs seal shared packs.
    init(maxSharedPackSize: UInt64 = 1 << 30) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("berth-regctltests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        options = StoreOptions()
        options.maxSharedPackSize = maxSharedPackSize
        options.metadataMapSize = 256 << 20
        try """
            version: 0.1
            storage:
              filesystem:
                rootdirectory: \(root)
            """.write(toFile: config, atomically: true, encoding: .utf8)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// Opens the store, runs `body`, closes it (regctl needs the root's lock).
    func with<T>(_ body: (Store) throws -> T) throws -> T {
        let store = try Store.open(at: root, options: options)
        defer { store.close() }
        return try body(store)
    }

    static func digest(_ bytes: [UInt8]) -> BlobDigest { BlobDigest.compute(bytes, .sha256) }

    /// Stores `bytes` in `repo`: above the small-blob threshold as an upload (dedicated pack).
    @discardableResult
    static func blob(_ store: Store, _ bytes: [UInt8], _ repo: String = "app") throws -> BlobDigest {
        let d = digest(bytes)
        if bytes.count > StoreOptions().smallBlobThreshold {
            let u = try store.startUpload(repository: repo)
            _ = try bytes.withUnsafeBytes { try store.appendUpload(id: u.id, repository: repo, offset: 0, $0) }
            _ = try store.commitUpload(id: u.id, repository: repo, digest: d)
        } else {
            try store.putBlob(bytes, digest: d, repository: repo)
        }
        return d
    }

    @discardableResult
    static func manifest(_ store: Store, _ name: String, refs: [BlobDigest], tags: [String], repo: String = "app") throws -> BlobDigest {
        let bytes = Array("{\"schemaVersion\":2,\"name\":\"\(name)\"}".utf8)
        let d = digest(bytes)
        try store.putManifest(repository: repo, digest: d, bytes: bytes,
                              edges: ManifestEdges(mediaType: imageType, references: refs), tags: tags)
        return d
    }
}
