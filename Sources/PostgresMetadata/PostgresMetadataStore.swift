// The engine's metadata store on PostgreSQL (schema in SCHEMA.md): the same
// operations as CASEngine's MetaStore, for replicas that share one database.
//
// Thread safety: Sendable; every method may be called concurrently from any
// number of tasks and processes.
// Invariants (each checked by PostgresMetadataTests):
// 1. Every write method is ONE transaction (MetadataDatabase.transaction);
//    refcounts and review-queue rows change in the transaction of the change
//    that causes them.
// 2. blobs.refcount = rows of `manifests` with that digest + rows of
//    `manifest_references` with it as child (links and subjects do not
//    count), as in the LMDB schema.
// 3. A blob whose refcount reaches 0, or that is linked while at 0, gets
//    zeroed_at = now() and a blob review item due now() + gracePeriod. A
//    manifest pushed, or left with no tag, gets a manifest review item due
//    now() + untaggedDelay; so do the children and referrers of a deleted
//    manifest.
// 4. Row locks are taken in digest order (blobs) before they are changed, so
//    concurrent writers do not deadlock; a deadlock or serialization failure
//    left anyway is retried by `transaction`.
// 5. The collector (PostgresMetadataStore+Collector) claims with FOR UPDATE
//    SKIP LOCKED and never waits for a lock, so it cannot deadlock with the
//    writers; writers that need a row the collector holds wait for it and
//    then see the collector's outcome (the row gone: unknown).

import Foundation
import Logging
import PostgresNIO

public final class PostgresMetadataStore: Sendable {
    public let database: MetadataDatabase
    /// Seconds a blob at refcount 0 stays before the collector may take it.
    public let gracePeriod: TimeInterval
    /// Seconds an untagged manifest stays before the collector may take it.
    public let untaggedDelay: TimeInterval

    public init(database: MetadataDatabase, gracePeriod: TimeInterval = 86_400, untaggedDelay: TimeInterval = 3_600) {
        self.database = database
        self.gracePeriod = gracePeriod
        self.untaggedDelay = untaggedDelay
    }

    /// What a manifest names, by kind (manifest_references.kind).
    public enum ReferenceKind: Int16, Sendable {
        case config = 1
        case layer = 2
        /// A manifest of an index (the child must be a manifest of the repository).
        case manifest = 3
    }

    public struct Reference: Sendable, Hashable {
        public let digest: String
        public let kind: ReferenceKind
        public init(digest: String, kind: ReferenceKind) { self.digest = digest; self.kind = kind }
    }

    public struct Manifest: Sendable, Equatable {
        public let digest: String
        public let mediaType: String
        public let payload: [UInt8]
        public let configDigest: String?
        public let subjectDigest: String?
        public let references: [Reference]

        public init(digest: String, mediaType: String, payload: [UInt8], configDigest: String? = nil,
                    subjectDigest: String? = nil, references: [Reference]) {
            self.digest = digest
            self.mediaType = mediaType
            self.payload = payload
            self.configDigest = configDigest
            self.subjectDigest = subjectDigest
            self.references = references
        }
    }

    // MARK: shared statements (run inside a caller's transaction)

    static let maxNameBytes = 400

    static func checkName(_ name: String, _ what: String) throws {
        guard !name.isEmpty, name.utf8.count <= maxNameBytes, !name.utf8.contains(0) else {
            throw PostgresMetadataError.invalidArgument("\(what) must be 1-\(maxNameBytes) bytes without NUL")
        }
    }

    /// The repository's id, creating the row. Two statements: the insert
    /// waits for a concurrent creator, the select then sees its row.
    static func ensureRepository(_ c: PostgresConnection, _ name: String) async throws -> Int64 {
        try checkName(name, "repository name")
        try await c.query("INSERT INTO repositories (name) VALUES (\(name)) ON CONFLICT (name) DO NOTHING")
        guard let id = try await repositoryID(c, name) else { throw PostgresMetadataError.repositoryUnknown(name) }
        return id
    }

    static func repositoryID(_ c: PostgresConnection, _ name: String) async throws -> Int64? {
        try await first(c.query("SELECT id FROM repositories WHERE name = \(name)"), Int64.self)
    }

    static func first<T: PostgresDecodable & Sendable>(_ rows: PostgresRowSequence, _ type: T.Type) async throws -> T? {
        for try await value in rows.decode(T.self) { return value }
        return nil
    }

    static func first<each C: PostgresDecodable & Sendable>(_ rows: PostgresRowSequence,
                                                           _ type: (repeat each C).Type) async throws -> (repeat each C)? {
        for try await value in rows.decode((repeat each C).self) { return value }
        return nil
    }

    static func all<T: PostgresDecodable & Sendable>(_ rows: PostgresRowSequence, _ type: T.Type) async throws -> [T] {
        var out: [T] = []
        for try await value in rows.decode(T.self) { out.append(value) }
        return out
    }

    /// Adds `delta` to each digest's refcount (locking in digest order,
    /// invariant 4); digests reaching 0 are queued for review (invariant 3).
    /// Throws `referenceUnknown` naming a digest with no blob row.
    static func adjustRefcounts(_ c: PostgresConnection, _ digests: [String], by delta: Int64, repository: String,
                                grace: TimeInterval) async throws {
        let sorted = Array(Set(digests)).sorted()
        guard !sorted.isEmpty else { return }
        let locked = try await all(c.query("SELECT digest FROM blobs WHERE digest = ANY(\(sorted)) ORDER BY digest FOR UPDATE"), String.self)
        if locked.count != sorted.count, let missing = sorted.first(where: { !Set(locked).contains($0) }) {
            throw PostgresMetadataError.referenceUnknown(repository: repository, digest: missing)
        }
        var zeroed: [String] = []
        let rows = try await c.query("""
            UPDATE blobs SET refcount = refcount + \(delta),
                zeroed_at = CASE WHEN refcount + \(delta) = 0 THEN now() ELSE NULL END
            WHERE digest = ANY(\(sorted)) RETURNING digest, refcount
            """)
        for try await (digest, count) in rows.decode((String, Int64).self) where count == 0 { zeroed.append(digest) }
        try await queueBlobs(c, zeroed, grace: grace, event: "blob_zeroed")
    }

    /// Queues blobs for review at now() + grace; an item already queued is
    /// moved later, never earlier (a fresh link restarts the grace).
    static func queueBlobs(_ c: PostgresConnection, _ digests: [String], grace: TimeInterval, event: String) async throws {
        guard !digests.isEmpty else { return }
        try await c.query("""
            INSERT INTO gc_blob_review_queue AS q (digest, review_after, event)
            SELECT d, now() + \(grace) * interval '1 second', \(event) FROM unnest(\(digests.sorted())::text[]) AS d
            ON CONFLICT (digest) DO UPDATE SET review_after = GREATEST(q.review_after, EXCLUDED.review_after), event = EXCLUDED.event
            """)
    }

    /// Queues manifests of a repository for review at now() + delay (only those that exist).
    static func queueManifests(_ c: PostgresConnection, _ repositoryID: Int64, _ digests: [String], delay: TimeInterval,
                               event: String) async throws {
        guard !digests.isEmpty else { return }
        try await c.query("""
            INSERT INTO gc_manifest_review_queue AS q (repository_id, digest, review_after, event)
            SELECT m.repository_id, m.digest, now() + \(delay) * interval '1 second', \(event)
            FROM manifests m WHERE m.repository_id = \(repositoryID) AND m.digest = ANY(\(digests.sorted())::text[])
            ORDER BY m.digest
            ON CONFLICT (repository_id, digest) DO UPDATE SET review_after = GREATEST(q.review_after, EXCLUDED.review_after),
                event = EXCLUDED.event
            """)
    }
}
