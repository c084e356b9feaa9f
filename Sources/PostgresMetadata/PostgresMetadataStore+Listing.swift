// Tag listing and catalog, paginated in the database with distribution's
// `n` / `last` semantics (names after `last` in byte order, at most `n`).
// Thread safety: read-only, one statement each.

import Foundation
import PostgresNIO

extension PostgresMetadataStore {
    public struct Page: Sendable, Equatable {
        public let names: [String]
        /// More names follow the last one (the HTTP layer adds a Link header).
        public let hasMore: Bool
    }

    /// Tags of `repository` (nil: the repository is unknown).
    public func tags(repository: String, n: Int? = nil, last: String? = nil) async throws -> Page? {
        let limit = try Self.limit(n)
        return try await database.withConnection { c in
            guard let repo = try await Self.repositoryID(c, repository) else { return nil }
            let names = try await Self.all(c.query("""
                SELECT name FROM tags WHERE repository_id = \(repo) AND name > \(last ?? "")
                ORDER BY name LIMIT \(limit + 1)
                """), String.self)
            return Page(names: Array(names.prefix(limit)), hasMore: names.count > limit)
        }
    }

    /// Repositories holding a manifest, a tag or a blob link.
    public func catalog(n: Int? = nil, last: String? = nil) async throws -> Page {
        let limit = try Self.limit(n)
        return try await database.withConnection { c in
            let names = try await Self.all(c.query("""
                SELECT r.name FROM repositories r
                WHERE r.name > \(last ?? "")
                  AND (EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id)
                       OR EXISTS (SELECT 1 FROM repository_blobs l WHERE l.repository_id = r.id))
                ORDER BY r.name LIMIT \(limit + 1)
                """), String.self)
            return Page(names: Array(names.prefix(limit)), hasMore: names.count > limit)
        }
    }

    static func limit(_ n: Int?) throws -> Int {
        guard let n else { return Int(Int32.max - 1) }
        guard n >= 0 else { throw PostgresMetadataError.invalidArgument("n must not be negative") }
        return min(n, Int(Int32.max - 1))
    }
}
