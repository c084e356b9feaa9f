// Migrations against a real PostgreSQL 15: up/down/status, idempotence,
// a failing migration rolled back whole, an unknown applied migration
// refused, and two migrators at once serialised by the advisory lock.

import Foundation
import Logging
import PostgresMetadata
import PostgresNIO
import Testing

@Suite("PostgreSQL migrations", .timeLimit(.minutes(3)))
struct MigrationTests {
    static let tables = ["blobs", "gc_blob_review_queue", "gc_manifest_review_queue", "manifest_references", "manifests",
                         "repositories", "repository_blobs", "tag_history", "tags", "upload_sessions"]

    func tables(_ cluster: PostgresCluster) throws -> [String] {
        try cluster.psql("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name")
            .split(separator: "\n").map(String.init)
    }

    @Test func upDownStatusAndIdempotence() async throws {
        let cluster = try PostgresCluster()
        try await withDatabase(cluster) { database in
            let migrator = Migrator(database: database)

            let fresh = try await migrator.status()
            #expect(fresh.map(\.id) == Migrations.all.map(\.id))
            #expect(fresh.allSatisfy { $0.appliedAt == nil && $0.known })

            #expect(try await migrator.up() == Migrations.all.map(\.id))
            #expect(try tables(cluster) == (Self.tables + ["schema_migrations"]).sorted())
            #expect(try await migrator.up() == [], "a second up applies nothing")
            let applied = try await migrator.status()
            #expect(applied.allSatisfy { $0.appliedAt != nil })

            let last2 = Migrations.all.suffix(2).map(\.id).reversed()
            #expect(try await migrator.down(limit: 2) == Array(last2))
            let after = try await migrator.status()
            #expect(after.prefix(4).allSatisfy { $0.appliedAt != nil } && after.suffix(2).allSatisfy { $0.appliedAt == nil })
            #expect(try !tables(cluster).contains("upload_sessions") && !tables(cluster).contains("gc_blob_review_queue"))

            #expect(try await migrator.up(limit: 1) == [Migrations.all[4].id])
            #expect(try await migrator.down().count == 5)
            #expect(try tables(cluster) == ["schema_migrations"], "down undoes every up")
            #expect(try await migrator.down() == [])
            #expect(try await migrator.up().count == Migrations.all.count, "down then up rebuilds the schema")
            #expect(try tables(cluster) == (Self.tables + ["schema_migrations"]).sorted())
        }
    }

    @Test func aFailingMigrationLeavesNoTrace() async throws {
        let cluster = try PostgresCluster()
        try await withDatabase(cluster) { (database: MetadataDatabase) async throws in
            let migrations = [
                Migration(id: "1_good", up: ["CREATE TABLE good (x int)"], down: ["DROP TABLE good"]),
                Migration(id: "2_bad", up: ["CREATE TABLE half (x int)", "CREATE TABLE broken (x no_such_type)"], down: []),
            ]
            let migrator = Migrator(database: database, migrations: migrations)
            await #expect(throws: PostgresMetadataError.self) { try await migrator.up() }
            #expect(try tables(cluster) == ["good", "schema_migrations"], "2_bad's first statement rolled back with it")
            #expect(try await migrator.status().map { $0.appliedAt != nil } == [true, false])
        }
    }

    @Test func anUnknownAppliedMigrationIsRefused() async throws {
        let cluster = try PostgresCluster()
        try await withDatabase(cluster) { database in
            let migrator = Migrator(database: database)
            try await migrator.up()
            try cluster.psql("INSERT INTO schema_migrations (id) VALUES ('29991231000000_from_a_newer_binary')")
            await #expect(throws: PostgresMetadataError.unknownMigration("29991231000000_from_a_newer_binary")) { try await migrator.up() }
            await #expect(throws: PostgresMetadataError.unknownMigration("29991231000000_from_a_newer_binary")) { try await migrator.down() }
            let status = try await migrator.status()
            #expect(status.last?.id == "29991231000000_from_a_newer_binary" && status.last?.known == false)
            #expect(try tables(cluster).contains("upload_sessions"), "down refused before reverting anything")
        }
    }

    /// Two migrators start while a third connection holds the advisory lock;
    /// once both are seen waiting on it (pg_locks), the lock is released: one
    /// applies everything, the other nothing, and no migration runs twice.
    @Test func concurrentMigratorsAreSerialisedByTheAdvisoryLock() async throws {
        let cluster = try PostgresCluster()
        let key = Migrator.lockKey
        let results = try await withDatabase(cluster) { holder in try await withDatabase(cluster) { a in try await withDatabase(cluster) { b in
            try await holder.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(key))", logger: Logger(label: "test"))
            let first = Task { try await Migrator(database: a).up() }
            let second = Task { try await Migrator(database: b).up() }
            while try cluster.psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted") != "2\n" {
                try await Task.sleep(for: .milliseconds(20))
            }
            try await connection.query("SELECT pg_advisory_unlock(\(key))", logger: Logger(label: "test"))
            return [try await first.value, try await second.value]
        } } } }
        #expect(results.map(\.count).sorted() == [0, Migrations.all.count], "\(results)")
        #expect(try cluster.psql("SELECT count(*) FROM schema_migrations") == "\(Migrations.all.count)\n")
    }
}
