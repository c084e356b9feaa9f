// Applies and reverts `Migrations.all`, recording them in schema_migrations.
//
// Thread safety: any number of migrators (threads, processes, replicas) may
// run at once against one database.
// Invariants:
// 1. `up` and `down` hold the session advisory lock `lockKey` on one
//    connection for their whole run, so two migrators never interleave; the
//    second waits, then reads what the first recorded and does only what is
//    left (nothing, when both ran `up`).
// 2. Each migration is one transaction: its statements and its
//    schema_migrations row commit together or not at all (PostgreSQL DDL is
//    transactional), so a failed migration leaves the schema as it was.
// 3. A database that records a migration this binary does not ship is
//    refused by `up` and `down` (`unknownMigration`): an older binary must
//    not build on or tear down a newer schema. `status` lists it.

import Foundation
import PostgresNIO

public struct MigrationStatus: Sendable, Equatable {
    public let id: String
    /// nil: pending.
    public let appliedAt: Date?
    /// false: recorded in the database but not shipped in this binary.
    public let known: Bool
}

public struct Migrator: Sendable {
    /// pg_advisory_lock key ("berth-migrate" in spirit; any fixed bigint).
    public static let lockKey: Int64 = 0x4265_7274_684D_6967
    static let createTable = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            id text PRIMARY KEY,
            applied_at timestamptz NOT NULL DEFAULT clock_timestamp()
        )
        """

    let database: MetadataDatabase
    let migrations: [Migration]

    public init(database: MetadataDatabase, migrations: [Migration] = Migrations.all) {
        self.database = database
        self.migrations = migrations
    }

    /// Every shipped migration in order (applied or pending), then any unknown applied ones.
    public func status() async throws -> [MigrationStatus] {
        let applied = try await database.withConnection { connection in try await Self.applied(connection) }
        var out = migrations.map { MigrationStatus(id: $0.id, appliedAt: applied[$0.id], known: true) }
        let known = Set(migrations.map(\.id))
        for (id, at) in applied.sorted(by: { $0.key < $1.key }) where !known.contains(id) {
            out.append(MigrationStatus(id: id, appliedAt: at, known: false))
        }
        return out
    }

    /// Applies pending migrations in order (at most `limit`); returns their ids.
    @discardableResult
    public func up(limit: Int? = nil) async throws -> [String] {
        try await locked { connection in
            let applied = try await Self.applied(connection)
            try self.refuseUnknown(applied)
            var done: [String] = []
            for migration in self.migrations where applied[migration.id] == nil {
                if let limit, done.count >= limit { break }
                try await Self.inTransaction(connection) {
                    for statement in migration.up { try await connection.query(PostgresQuery(unsafeSQL: statement)) }
                    try await connection.query("INSERT INTO schema_migrations (id) VALUES (\(migration.id))")
                }
                done.append(migration.id)
            }
            return done
        }
    }

    /// Reverts applied migrations newest first (at most `limit`; nil: all); returns their ids.
    @discardableResult
    public func down(limit: Int? = nil) async throws -> [String] {
        try await locked { connection in
            let applied = try await Self.applied(connection)
            try self.refuseUnknown(applied)
            var done: [String] = []
            for migration in self.migrations.reversed() where applied[migration.id] != nil {
                if let limit, done.count >= limit { break }
                try await Self.inTransaction(connection) {
                    for statement in migration.down { try await connection.query(PostgresQuery(unsafeSQL: statement)) }
                    try await connection.query("DELETE FROM schema_migrations WHERE id = \(migration.id)")
                }
                done.append(migration.id)
            }
            return done
        }
    }

    private func refuseUnknown(_ applied: [String: Date]) throws {
        let known = Set(migrations.map(\.id))
        if let unknown = applied.keys.sorted().first(where: { !known.contains($0) }) {
            throw PostgresMetadataError.unknownMigration(unknown)
        }
    }

    /// Runs `body` holding the advisory lock (invariant 1); creates schema_migrations.
    private func locked<R: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> R) async throws -> R {
        try await database.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(Self.lockKey))")
            do {
                try await connection.query(PostgresQuery(unsafeSQL: Self.createTable))
                let result = try await body(connection)
                try await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))")
                return result
            } catch {
                // Connection still usable: release. Lost: the server released it.
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))")
                throw error
            }
        }
    }

    private static func inTransaction(_ connection: PostgresConnection, _ body: () async throws -> Void) async throws {
        try await connection.query("BEGIN")
        do {
            try await body()
            try await connection.query("COMMIT")
        } catch {
            _ = try? await connection.query("ROLLBACK")
            throw error
        }
    }

    static func applied(_ connection: PostgresConnection) async throws -> [String: Date] {
        let exists = try await connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL")
        var present = false
        for try await flag in exists.decode(Bool.self) { present = flag }
        guard present else { return [:] }
        var out: [String: Date] = [:]
        for try await (id, at) in try await connection.query("SELECT id, applied_at FROM schema_migrations").decode((String, Date).self) {
            out[id] = at
        }
        return out
    }
}
