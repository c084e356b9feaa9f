// Test data for the store: digests and manifests with the shape the engine
// gives them (a config and layers; an index of child manifests).

import Foundation
import PostgresMetadata

enum Fixture {
    static func digest(_ name: String) -> String {
        var hex = ""
        for byte in Array(name.utf8).prefix(32) { hex += String(format: "%02x", byte) }
        return "sha256:" + hex + String(repeating: "0", count: 64 - hex.count)
    }

    typealias Store = PostgresMetadataStore

    static func image(_ name: String, config: String, layers: [String]) -> Store.Manifest {
        Store.Manifest(digest: digest(name), mediaType: "application/vnd.oci.image.manifest.v1+json",
                       payload: Array("{\"image\":\"\(name)\"}".utf8), configDigest: config,
                       references: [.init(digest: config, kind: .config)] + layers.map { .init(digest: $0, kind: .layer) })
    }

    static func index(_ name: String, children: [String]) -> Store.Manifest {
        Store.Manifest(digest: digest(name), mediaType: "application/vnd.oci.image.index.v1+json",
                       payload: Array("{\"index\":\"\(name)\"}".utf8), references: children.map { .init(digest: $0, kind: .manifest) })
    }

    /// Links the config and layers, then puts the image; returns its digest.
    @discardableResult
    static func push(_ store: Store, _ repo: String, _ name: String, layers: [String], tag: String? = nil) async throws -> String {
        let config = digest("cfg-" + name)
        for blob in [config] + layers { try await store.linkBlob(repository: repo, digest: blob, size: 10) }
        let m = image(name, config: config, layers: layers)
        try await store.putManifest(repository: repo, m)
        if let tag { try await store.putTag(repository: repo, tag: tag, digest: m.digest) }
        return m.digest
    }
}

extension PostgresCluster {
    /// Blobs whose refcount differs from a recount over manifests and references.
    func refcountMismatches() throws -> String {
        try psql("""
            SELECT b.digest || ' ' || b.refcount || ' ' || ((SELECT count(*) FROM manifests m WHERE m.digest = b.digest)
                   + (SELECT count(*) FROM manifest_references r WHERE r.child_digest = b.digest))
            FROM blobs b
            WHERE b.refcount <> (SELECT count(*) FROM manifests m WHERE m.digest = b.digest)
                   + (SELECT count(*) FROM manifest_references r WHERE r.child_digest = b.digest)
            """)
    }

    /// Blobs at refcount 0 without a review item (each must have one).
    func unqueuedZeroBlobs() throws -> String {
        try psql("""
            SELECT b.digest FROM blobs b WHERE b.refcount = 0
              AND NOT EXISTS (SELECT 1 FROM gc_blob_review_queue q WHERE q.digest = b.digest)
            """)
    }
}
