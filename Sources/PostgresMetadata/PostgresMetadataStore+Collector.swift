// The online collector's claim: workers on every replica take due review
// items with FOR UPDATE SKIP LOCKED, one item per transaction.
//
// Thread safety: any number of workers, in any number of processes, call
// these at once.
// Invariants:
// 1. A claim locks the queue row AND the row it reviews (blob or manifest)
//    in one SKIP LOCKED statement: an item another worker holds, or whose
//    blob/manifest a writer is changing right now, is skipped, never waited
//    for, so no two workers hold the same item and the collector cannot
//    deadlock with writers.
// 2. The decision is re-checked on the locked rows inside the claiming
//    transaction: a blob whose refcount is > 0 again, or a manifest that is
//    tagged, referenced by a manifest of its repository, or a referrer of one
//    of its manifests, is dropped from the queue (`.dropped`), not deleted.
//    Writers that would re-reference the item wait for the lock and then
//    fail unknown (the row is gone) — never reference a deleted row.
// 3. A collected blob's `deleteContent` runs inside the transaction, before
//    the row is deleted: if it throws, nothing is committed and the item
//    stays queued (moved back by gracePeriod so a failing store is not
//    retried in a loop) — the metadata never says "gone" for content that
//    is still there, and content is never deleted for a row that survives.
// 4. A collected manifest is deleted as `deleteManifest` deletes it, so its
//    blobs reaching refcount 0 are queued in the same transaction.

import Foundation
import PostgresNIO

extension PostgresMetadataStore {
    public enum BlobClaim: Sendable, Equatable {
        /// Nothing was due (or every due item is held by another worker).
        case none
        /// Referenced again: removed from the queue, kept.
        case dropped(String)
        /// Deleted (content first, then the row).
        case collected(String)
    }

    public enum ManifestClaim: Sendable, Equatable {
        case none
        case dropped(repository: String, digest: String)
        case collected(repository: String, digest: String)
    }

    /// Claims one due blob review item and decides it (invariants 1-3).
    /// `deleteContent` removes the blob's bytes from the blob store; it runs
    /// while the item is held.
    public func collectDueBlob(deleteContent: @escaping @Sendable (String) async throws -> Void) async throws -> BlobClaim {
        do {
            return try await claimBlob(deleteContent)
        } catch PostgresMetadataError.contentDeleteFailed(let digest, let why) {
            try await postponeBlob(digest)
            throw PostgresMetadataError.contentDeleteFailed(digest: digest, why)
        }
    }

    private func claimBlob(_ deleteContent: @escaping @Sendable (String) async throws -> Void) async throws -> BlobClaim {
        try await database.transaction { c in
            let rows = try await c.query("""
                SELECT q.digest, b.refcount FROM gc_blob_review_queue q JOIN blobs b ON b.digest = q.digest
                WHERE q.review_after <= now() ORDER BY q.review_after, q.digest LIMIT 1
                FOR UPDATE OF q, b SKIP LOCKED
                """)
            guard let (digest, refcount) = try await Self.first(rows, (String, Int64).self) else { return .none }
            if refcount > 0 {
                try await c.query("DELETE FROM gc_blob_review_queue WHERE digest = \(digest)")
                return .dropped(digest)
            }
            do {
                try await deleteContent(digest)
            } catch {
                throw PostgresMetadataError.contentDeleteFailed(digest: digest, String(describing: error))
            }
            try await c.query("DELETE FROM blobs WHERE digest = \(digest)")
            return .collected(digest)
        }
    }

    /// Claims one due manifest review item and decides it (invariants 1, 2, 4).
    public func collectDueManifest() async throws -> ManifestClaim {
        let grace = gracePeriod, delay = untaggedDelay
        return try await database.transaction { c in
            let rows = try await c.query("""
                SELECT q.repository_id, r.name, q.digest FROM gc_manifest_review_queue q
                JOIN manifests m ON m.repository_id = q.repository_id AND m.digest = q.digest
                JOIN repositories r ON r.id = q.repository_id
                WHERE q.review_after <= now() ORDER BY q.review_after, q.repository_id, q.digest LIMIT 1
                FOR UPDATE OF q, m SKIP LOCKED
                """)
            guard let (repo, repository, digest) = try await Self.first(rows, (Int64, String, String).self) else { return .none }
            let kept = try await Self.first(c.query("""
                SELECT EXISTS (SELECT 1 FROM tags WHERE repository_id = \(repo) AND manifest_digest = \(digest))
                    OR EXISTS (SELECT 1 FROM manifest_references WHERE repository_id = \(repo) AND child_digest = \(digest))
                    OR EXISTS (SELECT 1 FROM manifests m JOIN manifests s ON s.repository_id = m.repository_id AND s.digest = m.subject_digest
                               WHERE m.repository_id = \(repo) AND m.digest = \(digest))
                """), Bool.self) ?? true
            if kept {
                try await c.query("DELETE FROM gc_manifest_review_queue WHERE repository_id = \(repo) AND digest = \(digest)")
                return .dropped(repository: repository, digest: digest)
            }
            try await Self.deleteLockedManifest(c, repo, repository, digest, grace: grace, delay: delay)
            return .collected(repository: repository, digest: digest)
        }
    }

    /// Moves a blob's review item back by gracePeriod (after its content delete failed).
    func postponeBlob(_ digest: String) async throws {
        let grace = gracePeriod
        try await database.transaction { c in
            _ = try await c.query("""
                UPDATE gc_blob_review_queue SET review_after = now() + \(grace) * interval '1 second' WHERE digest = \(digest)
                """)
        }
    }
}
