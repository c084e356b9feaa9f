// Errors of the PostgreSQL metadata store, and the one place where
// postgres-nio's errors are classified.
//
// Invariant: every error a public method of this module throws is a
// `PostgresMetadataError` (or `CancellationError`). Anything that means "the
// database cannot be reached right now" — refused connection, connection lost
// mid-query, server shutting down, no connection within `connecttimeout` — is
// `.unavailable`, which the HTTP layer maps to 503; a client may retry it.
// Everything else names what was wrong.

import PostgresNIO

public enum PostgresMetadataError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The database cannot be reached (retryable; HTTP 503).
    case unavailable(String)
    /// A tag compare-and-swap found another value (`actual` nil: no tag).
    case tagConflict(repository: String, tag: String, expected: String?, actual: String?)
    case manifestUnknown(repository: String, digest: String)
    case tagUnknown(repository: String, tag: String)
    case repositoryUnknown(String)
    /// A manifest names a blob or manifest the repository does not hold.
    case referenceUnknown(repository: String, digest: String)
    case invalidArgument(String)
    /// Migrations: the database's schema_migrations names a migration this binary does not ship.
    case unknownMigration(String)
    /// The collector's content delete failed; the item was postponed by the grace period.
    case contentDeleteFailed(digest: String, String)
    /// Any other database error (SQLSTATE and message).
    case database(String)

    public var description: String {
        switch self {
        case .unavailable(let why): return "database unavailable: \(why)"
        case .tagConflict(let repo, let tag, let expected, let actual):
            return "tag \(repo):\(tag) is \(actual ?? "absent"), expected \(expected ?? "absent")"
        case .manifestUnknown(let repo, let digest): return "manifest \(digest) unknown in \(repo)"
        case .tagUnknown(let repo, let tag): return "tag \(tag) unknown in \(repo)"
        case .repositoryUnknown(let repo): return "repository \(repo) unknown"
        case .referenceUnknown(let repo, let digest): return "manifest references \(digest), which \(repo) does not hold"
        case .invalidArgument(let why): return why
        case .unknownMigration(let id):
            return "the database has migration \(id) applied, which this binary does not know (it is older than the database)"
        case .contentDeleteFailed(let digest, let why): return "deleting the content of \(digest) failed (kept, retried later): \(why)"
        case .database(let why): return "database error: \(why)"
        }
    }

    public var isUnavailable: Bool {
        if case .unavailable = self { return true }
        return false
    }

    /// SQLSTATEs meaning the server is going away or not accepting work.
    static let unavailableStates: Set<String> = ["57P01", "57P02", "57P03", "53300"]
    /// Serialization failure and deadlock: the transaction may be retried.
    static let retryableStates: Set<String> = ["40001", "40P01"]

    /// Maps any error out of postgres-nio (or the pool) to this type.
    static func classify(_ error: any Error) -> any Error {
        if error is PostgresMetadataError || error is CancellationError { return error }
        if let e = error as? PSQLError {
            if e.code == .server {
                let state = e.serverInfo?[.sqlState] ?? ""
                let message = e.serverInfo?[.message] ?? "\(e.code)"
                if state.hasPrefix("08") || unavailableStates.contains(state) {
                    return PostgresMetadataError.unavailable("\(state) \(message)")
                }
                return PostgresMetadataError.database("\(state) \(message)")
            }
            if e.code == .tooManyParameters || e.code == .invalidCommandTag {
                return PostgresMetadataError.database("\(e.code)")
            }
            return PostgresMetadataError.unavailable("\(e.code)" + (e.underlying.map { ": \($0)" } ?? ""))
        }
        if let e = error as? PostgresDecodingError {
            return PostgresMetadataError.database("cannot decode column \(e.columnName): \(e.code)")
        }
        // Pool errors (circuit breaker tripped, pool shut down) and socket errors.
        return PostgresMetadataError.unavailable(String(describing: error))
    }

    /// The SQLSTATE of a server error, if `error` is one.
    static func sqlState(_ error: any Error) -> String? {
        guard let e = error as? PSQLError, e.code == .server else { return nil }
        return e.serverInfo?[.sqlState]
    }
}
