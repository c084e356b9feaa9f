// Manifests: put (with references and refcounts) and delete, each one
// transaction. Thread safety and invariants: see PostgresMetadataStore.swift.
//
// A reference is accepted if the repository holds it: a manifest kind must
// be a manifest of the repository (locked FOR KEY SHARE, so a collector
// holding it FOR UPDATE makes the put wait and then fail unknown); a config
// or layer must be linked there or referenced by one of its manifests
// (a layer shared with an image already pushed), as in the LMDB store.

import Foundation
import PostgresNIO

extension PostgresMetadataStore {
    /// Stores the manifest in `repository` with its references, +1 on the
    /// refcount of its own digest and of each distinct reference, and a
    /// review item (pushed untagged) due now() + untaggedDelay. Returns
    /// false, changing nothing, if the repository already holds it.
    @discardableResult
    public func putManifest(repository: String, _ manifest: Manifest) async throws -> Bool {
        let grace = gracePeriod, delay = untaggedDelay
        var seen = Set<String>()
        let references = manifest.references.filter { seen.insert($0.digest).inserted && $0.digest != manifest.digest }
        return try await database.transaction { c in
            let repo = try await Self.ensureRepository(c, repository)
            let payload = ByteBuffer(bytes: manifest.payload)
            let inserted = try await Self.first(c.query("""
                INSERT INTO manifests (repository_id, digest, media_type, payload, config_digest, subject_digest)
                VALUES (\(repo), \(manifest.digest), \(manifest.mediaType), \(payload), \(manifest.configDigest), \(manifest.subjectDigest))
                ON CONFLICT (repository_id, digest) DO NOTHING RETURNING 1
                """), Int32.self)
            guard inserted != nil else { return false }

            let children = references.filter { $0.kind == .manifest }.map(\.digest).sorted()
            let held = try await Self.all(c.query("""
                SELECT digest FROM manifests WHERE repository_id = \(repo) AND digest = ANY(\(children)::text[])
                ORDER BY digest FOR KEY SHARE
                """), String.self)
            if let missing = children.first(where: { !Set(held).contains($0) }) {
                throw PostgresMetadataError.referenceUnknown(repository: repository, digest: missing)
            }
            let blobs = references.filter { $0.kind != .manifest }.map(\.digest).sorted()
            let missingBlobs = try await Self.all(c.query("""
                SELECT d FROM unnest(\(blobs)::text[]) AS d
                WHERE NOT EXISTS (SELECT 1 FROM repository_blobs l WHERE l.repository_id = \(repo) AND l.blob_digest = d)
                  AND NOT EXISTS (SELECT 1 FROM manifest_references r WHERE r.repository_id = \(repo) AND r.child_digest = d)
                ORDER BY d
                """), String.self)
            if let missing = missingBlobs.first {
                throw PostgresMetadataError.referenceUnknown(repository: repository, digest: missing)
            }

            try await c.query("""
                INSERT INTO blobs (digest, size, zeroed_at) VALUES (\(manifest.digest), \(Int64(manifest.payload.count)), now())
                ON CONFLICT (digest) DO NOTHING
                """)
            try await Self.adjustRefcounts(c, [manifest.digest] + references.map(\.digest), by: 1, repository: repository, grace: grace)
            if !references.isEmpty {
                try await c.query("""
                    INSERT INTO manifest_references (repository_id, parent_digest, child_digest, kind)
                    SELECT \(repo), \(manifest.digest), d, k
                    FROM unnest(\(references.map(\.digest))::text[], \(references.map(\.kind.rawValue))::int2[]) AS t(d, k)
                    """)
            }
            try await Self.queueManifests(c, repo, [manifest.digest], delay: delay, event: "manifest_upload")
            return true
        }
    }

    public func manifest(repository: String, digest: String) async throws -> Manifest? {
        try await database.withConnection { c in
            guard let repo = try await Self.repositoryID(c, repository) else { return nil }
            let rows = try await c.query("""
                SELECT media_type, payload, config_digest, subject_digest FROM manifests
                WHERE repository_id = \(repo) AND digest = \(digest)
                """)
            guard let (mediaType, payload, config, subject) = try await Self.first(rows, (String, ByteBuffer, String?, String?).self) else {
                return nil
            }
            var references: [Reference] = []
            let refRows = try await c.query("""
                SELECT child_digest, kind FROM manifest_references WHERE repository_id = \(repo) AND parent_digest = \(digest)
                ORDER BY child_digest
                """)
            for try await (child, kind) in refRows.decode((String, Int16).self) {
                references.append(Reference(digest: child, kind: ReferenceKind(rawValue: kind) ?? .layer))
            }
            return Manifest(digest: digest, mediaType: mediaType, payload: Array(payload.readableBytesView), configDigest: config,
                            subjectDigest: subject, references: references)
        }
    }

    /// Deletes the manifest, its tags (recorded in tag_history), its
    /// references (-1 on each refcount and on its own), and queues its child
    /// manifests and referrers for review; one transaction.
    public func deleteManifest(repository: String, digest: String) async throws {
        let grace = gracePeriod, delay = untaggedDelay
        try await database.transaction { c in
            guard let repo = try await Self.repositoryID(c, repository),
                  try await Self.first(c.query("""
                      SELECT 1 FROM manifests WHERE repository_id = \(repo) AND digest = \(digest) FOR UPDATE
                      """), Int32.self) != nil
            else { throw PostgresMetadataError.manifestUnknown(repository: repository, digest: digest) }
            try await Self.deleteLockedManifest(c, repo, repository, digest, grace: grace, delay: delay)
        }
    }

    /// The body of a manifest delete; the caller holds the manifest row FOR UPDATE.
    static func deleteLockedManifest(_ c: PostgresConnection, _ repo: Int64, _ repository: String, _ digest: String,
                                     grace: TimeInterval, delay: TimeInterval) async throws {
        try await c.query("""
            WITH gone AS (DELETE FROM tags WHERE repository_id = \(repo) AND manifest_digest = \(digest) RETURNING name)
            INSERT INTO tag_history (repository_id, tag_name, action, manifest_digest)
            SELECT \(repo), name, 2, \(digest) FROM gone ORDER BY name
            """)
        var children: [String] = []
        var childManifests: [String] = []
        let refRows = try await c.query("""
            SELECT child_digest, kind FROM manifest_references WHERE repository_id = \(repo) AND parent_digest = \(digest)
            """)
        for try await (child, kind) in refRows.decode((String, Int16).self) {
            children.append(child)
            if kind == ReferenceKind.manifest.rawValue { childManifests.append(child) }
        }
        let referrers = try await all(c.query("""
            SELECT digest FROM manifests WHERE repository_id = \(repo) AND subject_digest = \(digest)
            """), String.self)
        try await c.query("DELETE FROM manifests WHERE repository_id = \(repo) AND digest = \(digest)")
        try await adjustRefcounts(c, [digest] + children, by: -1, repository: repository, grace: grace)
        try await queueManifests(c, repo, childManifests + referrers, delay: delay, event: "manifest_parent_deleted")
    }
}
