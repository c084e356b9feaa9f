// Blobs and repository links. Thread safety and invariants: see
// PostgresMetadataStore.swift (one transaction per call; a link of a blob at
// refcount 0 restarts its grace in the same transaction).

import Foundation
import PostgresNIO

extension PostgresMetadataStore {
    public struct BlobInfo: Sendable, Equatable {
        public let digest: String
        public let size: Int64
        public let refcount: Int64
    }

    /// Records the blob (first upload) and links it into `repository`
    /// (upload or mount). At refcount 0 its grace restarts: zeroed_at = now()
    /// and its review item moves to now() + gracePeriod.
    public func linkBlob(repository: String, digest: String, size: Int64) async throws {
        guard size >= 0 else { throw PostgresMetadataError.invalidArgument("blob size must not be negative") }
        let grace = gracePeriod
        try await database.transaction { c in
            let repo = try await Self.ensureRepository(c, repository)
            try await c.query("INSERT INTO blobs (digest, size, zeroed_at) VALUES (\(digest), \(size), now()) ON CONFLICT (digest) DO NOTHING")
            let rows = try await c.query("SELECT size, refcount FROM blobs WHERE digest = \(digest) FOR UPDATE")
            guard let (stored, refcount) = try await Self.first(rows, (Int64, Int64).self) else {
                throw PostgresMetadataError.database("blob \(digest) vanished inside its own transaction")
            }
            guard stored == size else {
                throw PostgresMetadataError.invalidArgument("blob \(digest) is recorded with size \(stored), not \(size)")
            }
            try await c.query("""
                INSERT INTO repository_blobs (repository_id, blob_digest) VALUES (\(repo), \(digest))
                ON CONFLICT (repository_id, blob_digest) DO UPDATE SET linked_at = now()
                """)
            if refcount == 0 {
                try await c.query("UPDATE blobs SET zeroed_at = now() WHERE digest = \(digest)")
                try await Self.queueBlobs(c, [digest], grace: grace, event: "blob_linked")
            }
        }
    }

    public func blob(_ digest: String) async throws -> BlobInfo? {
        try await database.withConnection { c in
            let rows = try await c.query("SELECT size, refcount FROM blobs WHERE digest = \(digest)")
            return try await Self.first(rows, (Int64, Int64).self).map { BlobInfo(digest: digest, size: $0.0, refcount: $0.1) }
        }
    }

    public func isLinked(repository: String, digest: String) async throws -> Bool {
        try await database.withConnection { c in
            let rows = try await c.query("""
                SELECT count(*) FROM repository_blobs l JOIN repositories r ON r.id = l.repository_id
                WHERE r.name = \(repository) AND l.blob_digest = \(digest)
                """)
            return try await Self.first(rows, Int64.self) ?? 0 > 0
        }
    }
}
