// database.draintimeout: shutdown waits for operations in flight (0: as
// long as they take), and with a timeout stops the pool after it, failing
// what is still running as unavailable. The operation is held open on a
// gate; shutdown is seen draining before the gate opens. With a timeout,
// shutdown returns while a statement hangs in the server, and nothing of
// that transaction is committed.

import Foundation
import Logging
import PostgresMetadata
import PostgresNIO
import Testing

@Suite("PostgreSQL pool drain", .timeLimit(.minutes(2)))
struct DrainTests {
    /// A transaction that inserts, signals `held`, then waits on `release`
    /// (or, with `hang`, in the server: a statement that never ends).
    func heldInsert(_ database: MetadataDatabase, held: Gate, release: Gate, hang: Bool = false) -> Task<Void, any Error> {
        Task {
            try await database.transaction { c in
                try await c.query("CREATE TABLE IF NOT EXISTS drained (x int)", logger: Logger(label: "test"))
                try await c.query("INSERT INTO drained VALUES (1)", logger: Logger(label: "test"))
                held.open()
                if hang { try await c.query("SELECT pg_sleep(3600)", logger: Logger(label: "test")) }
                await release.wait()
            }
        }
    }

    @Test func shutdownWaitsForOperationsInFlight() async throws {
        let cluster = try PostgresCluster()
        let database = try MetadataDatabase(cluster.settings())
        let held = Gate(), release = Gate()
        let op = heldInsert(database, held: held, release: release)
        await held.wait()
        let shutdown = Task { await database.shutdown() }
        while !database.isDraining { await Task.yield() }
        release.open()
        try await op.value
        await shutdown.value
        #expect(try cluster.psql("SELECT count(*) FROM drained") == "1\n", "the held transaction committed")
    }

    @Test func drainTimeoutStopsThePoolUnderAHungOperation() async throws {
        let cluster = try PostgresCluster()
        var settings = cluster.settings()
        settings.drainTimeout = 0.5
        let database = try MetadataDatabase(settings)
        let held = Gate(), release = Gate()
        let op = heldInsert(database, held: held, release: release, hang: true)
        await held.wait()
        // Returns although the statement in flight never ends (the draintimeout passed).
        await database.shutdown()
        release.open()
        op.cancel()
        #expect(try cluster.psql("SELECT to_regclass('drained') IS NULL") == "t\n", "nothing of the cut transaction committed")
    }
}
