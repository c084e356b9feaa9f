// PostgreSQL stopped under a running store: operations fail with the typed
// `.unavailable` error (the HTTP layer's 503), nothing half-done is visible,
// and once the server is back the same store recovers by itself.

import Foundation
import PostgresMetadata
import RegistryConfig
import Testing

@Suite("PostgreSQL restarted under the store", .timeLimit(.minutes(4)))
struct UnavailableTests {
    typealias D = Fixture

    @Test func aRestartGivesUnavailableThenRecovers() async throws {
        try await withStore(connectTimeout: 10) { store, cluster in
            let before = try await D.push(store, "app", "before", layers: [D.digest("l")], tag: "v1")

            cluster.stop()
            do {
                try await store.putTag(repository: "app", tag: "v2", digest: before)
                Issue.record("putTag succeeded with the server down")
            } catch let error as PostgresMetadataError {
                #expect(error.isUnavailable, "\(error)")
            }
            do {
                _ = try await store.tags(repository: "app")
                Issue.record("tags succeeded with the server down")
            } catch let error as PostgresMetadataError {
                #expect(error.isUnavailable, "\(error)")
            }

            try cluster.start()
            // The pool reconnects on its own (backoff); poll until an operation succeeds.
            var recovered: PostgresMetadataStore.Page?
            let deadline = Date().addingTimeInterval(120)
            while recovered == nil, Date() < deadline {
                do {
                    recovered = try await store.tags(repository: "app")
                } catch let error as PostgresMetadataError where error.isUnavailable {
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            #expect(recovered?.names == ["v1"], "the acknowledged tag survived; the failed one was never written")
            try await store.putTag(repository: "app", tag: "v2", digest: before)
            #expect(try await store.resolveTag(repository: "app", tag: "v2") == before)
            #expect(try cluster.refcountMismatches() == "")
        }
    }

    @Test func aServerThatNeverAnswersIsUnavailable() async throws {
        var settings = RegistryConfiguration.Database()
        settings.enabled = true
        settings.host = "127.0.0.1"
        settings.port = try PostgresCluster.freePort()
        settings.user = "postgres"
        settings.dbname = "registry"
        settings.connectTimeout = 1
        let database = try MetadataDatabase(settings)
        let store = PostgresMetadataStore(database: database)
        do {
            _ = try await store.catalog()
            Issue.record("catalog succeeded with no server")
        } catch let error as PostgresMetadataError {
            #expect(error.isUnavailable, "\(error)")
        }
        await database.shutdown()
    }
}
