// Tags: put/move with compare-and-swap, delete, resolve; each one
// transaction that also writes tag_history and, when a manifest is left
// with no tag, its review item. Thread safety and invariants: see
// PostgresMetadataStore.swift.
//
// CAS: the tag row is created with INSERT … ON CONFLICT DO NOTHING or else
// locked FOR UPDATE before the expectation is checked, so of two concurrent
// swaps from the same old digest exactly one succeeds and the other gets
// `tagConflict` naming the winner's digest.

import Foundation
import PostgresNIO

extension PostgresMetadataStore {
    /// What the caller believes the tag names before the change.
    public enum TagExpectation: Sendable, Equatable {
        /// No check (distribution's PUT).
        case any
        /// The tag must not exist.
        case absent
        /// The tag must name this digest.
        case digest(String)
    }

    /// Points `tag` at `digest` (a manifest of the repository). Returns the
    /// digest the tag named before (nil: it was created).
    @discardableResult
    public func putTag(repository: String, tag: String, digest: String, expecting: TagExpectation = .any) async throws -> String? {
        try Self.checkName(tag, "tag")
        let delay = untaggedDelay
        return try await database.transaction { c in
            guard let repo = try await Self.repositoryID(c, repository),
                  try await Self.first(c.query("""
                      SELECT 1 FROM manifests WHERE repository_id = \(repo) AND digest = \(digest) FOR KEY SHARE
                      """), Int32.self) != nil
            else { throw PostgresMetadataError.manifestUnknown(repository: repository, digest: digest) }

            func conflict(_ actual: String?) -> PostgresMetadataError {
                var expected: String?
                if case .digest(let d) = expecting { expected = d }
                return .tagConflict(repository: repository, tag: tag, expected: expected, actual: actual)
            }
            var old: String?
            var created = false
            for _ in 0..<8 {
                if try await Self.first(c.query("""
                    INSERT INTO tags (repository_id, name, manifest_digest) VALUES (\(repo), \(tag), \(digest))
                    ON CONFLICT (repository_id, name) DO NOTHING RETURNING 1
                    """), Int32.self) != nil {
                    created = true
                    break
                }
                // The row exists (perhaps just committed by another writer): lock and read it.
                if let current = try await Self.first(c.query("""
                    SELECT manifest_digest FROM tags WHERE repository_id = \(repo) AND name = \(tag) FOR UPDATE
                    """), String.self) {
                    old = current
                    break
                }
                // Deleted between the two statements: try the insert again.
            }
            if created {
                if case .digest = expecting { throw conflict(nil) }
            } else {
                guard let current = old else { throw PostgresMetadataError.database("tag \(tag) kept changing under the swap") }
                switch expecting {
                case .any: break
                case .absent: throw conflict(current)
                case .digest(let expected) where expected != current: throw conflict(current)
                case .digest: break
                }
                if current == digest { return current }
                try await c.query("""
                    UPDATE tags SET manifest_digest = \(digest), updated_at = now() WHERE repository_id = \(repo) AND name = \(tag)
                    """)
            }
            try await c.query("""
                INSERT INTO tag_history (repository_id, tag_name, action, manifest_digest) VALUES (\(repo), \(tag), 1, \(digest))
                """)
            if let old { try await Self.queueIfUntagged(c, repo, old, delay: delay, event: "tag_switch") }
            return old
        }
    }

    /// Deletes the tag (if it names `expecting`, when given); returns the
    /// digest it named. The manifest, if left with no tag, is queued for
    /// review due now() + untaggedDelay.
    @discardableResult
    public func deleteTag(repository: String, tag: String, expecting: String? = nil) async throws -> String {
        let delay = untaggedDelay
        return try await database.transaction { c in
            guard let repo = try await Self.repositoryID(c, repository),
                  let digest = try await Self.first(c.query("""
                      DELETE FROM tags WHERE repository_id = \(repo) AND name = \(tag) RETURNING manifest_digest
                      """), String.self)
            else { throw PostgresMetadataError.tagUnknown(repository: repository, tag: tag) }
            if let expecting, expecting != digest {
                throw PostgresMetadataError.tagConflict(repository: repository, tag: tag, expected: expecting, actual: digest)
            }
            try await c.query("""
                INSERT INTO tag_history (repository_id, tag_name, action, manifest_digest) VALUES (\(repo), \(tag), 2, \(digest))
                """)
            try await Self.queueIfUntagged(c, repo, digest, delay: delay, event: "tag_delete")
            return digest
        }
    }

    public func resolveTag(repository: String, tag: String) async throws -> String? {
        try await database.withConnection { c in
            try await Self.first(c.query("""
                SELECT t.manifest_digest FROM tags t JOIN repositories r ON r.id = t.repository_id
                WHERE r.name = \(repository) AND t.name = \(tag)
                """), String.self)
        }
    }

    static func queueIfUntagged(_ c: PostgresConnection, _ repo: Int64, _ digest: String, delay: TimeInterval, event: String) async throws {
        let tagged = try await first(c.query("""
            SELECT 1 FROM tags WHERE repository_id = \(repo) AND manifest_digest = \(digest) LIMIT 1
            """), Int32.self) != nil
        if !tagged { try await queueManifests(c, repo, [digest], delay: delay, event: event) }
    }
}
