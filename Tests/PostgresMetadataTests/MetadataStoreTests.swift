// PostgresMetadataStore against a real PostgreSQL 15: refcounts against a
// recount after put/delete sequences, review items written with the change
// that causes them, tag CAS, pagination from the database.

import Foundation
import PostgresMetadata
import Testing

@Suite("PostgreSQL metadata store", .timeLimit(.minutes(3)))
struct MetadataStoreTests {
    typealias D = Fixture

    @Test func refcountsEqualARecountAfterPutsAndDeletes() async throws {
        try await withStore { store, cluster in
            let shared = D.digest("shared-layer")
            let a = try await D.push(store, "app", "a", layers: [shared, D.digest("a-layer")], tag: "a")
            let b = try await D.push(store, "app", "b", layers: [shared], tag: "b")
            try await D.push(store, "other", "a", layers: [shared])
            let index = D.index("multi", children: [a, b])
            #expect(try await store.putManifest(repository: "app", index))
            #expect(try await store.putManifest(repository: "app", index) == false, "a second put changes nothing")
            try await store.putTag(repository: "app", tag: "multi", digest: index.digest)
            #expect(try cluster.refcountMismatches() == "")
            #expect(try await store.blob(shared)?.refcount == 3, "three images name it, in two repositories")
            #expect(try await store.blob(a)?.refcount == 3, "its manifest rows in two repositories and the index's reference")

            try await store.deleteManifest(repository: "app", digest: index.digest)
            #expect(try cluster.refcountMismatches() == "")
            #expect(try await store.resolveTag(repository: "app", tag: "multi") == nil, "its tag went with it")
            try await store.deleteManifest(repository: "app", digest: a)
            try await store.deleteManifest(repository: "other", digest: D.digest("a"))
            #expect(try cluster.refcountMismatches() == "")
            #expect(try await store.blob(D.digest("a-layer"))?.refcount == 0)
            #expect(try await store.blob(shared)?.refcount == 1)
            #expect(try cluster.unqueuedZeroBlobs() == "", "each blob at 0 was queued in the delete's transaction")
            #expect(try cluster.psql("SELECT action, tag_name FROM tag_history ORDER BY id") == "1|a\n1|b\n1|multi\n2|multi\n2|a\n")
        }
    }

    @Test func aManifestNamingWhatTheRepositoryDoesNotHoldIsRefused() async throws {
        try await withStore { store, cluster in
            try await store.linkBlob(repository: "elsewhere", digest: D.digest("l"), size: 1)
            try await store.linkBlob(repository: "app", digest: D.digest("cfg"), size: 1)
            let m = D.image("m", config: D.digest("cfg"), layers: [D.digest("l")])
            await #expect(throws: PostgresMetadataError.referenceUnknown(repository: "app", digest: D.digest("l"))) {
                try await store.putManifest(repository: "app", m)
            }
            let orphanIndex = D.index("i", children: [D.digest("nope")])
            await #expect(throws: PostgresMetadataError.referenceUnknown(repository: "app", digest: D.digest("nope"))) {
                try await store.putManifest(repository: "app", orphanIndex)
            }
            #expect(try await store.manifest(repository: "app", digest: m.digest) == nil)
            #expect(try cluster.refcountMismatches() == "" && cluster.psql("SELECT count(*) FROM manifests") == "0\n",
                    "the refused put left nothing")
            await #expect(throws: PostgresMetadataError.manifestUnknown(repository: "app", digest: m.digest)) {
                try await store.putTag(repository: "app", tag: "t", digest: m.digest)
            }
        }
    }

    @Test func untaggingQueuesTheManifestWithTheChange() async throws {
        try await withStore(untaggedDelay: 3_600) { store, cluster in
            let m = try await D.push(store, "app", "m", layers: [D.digest("l")], tag: "v1")
            try await store.putTag(repository: "app", tag: "latest", digest: m)
            try cluster.psql("DELETE FROM gc_manifest_review_queue")
            try await store.deleteTag(repository: "app", tag: "v1")
            #expect(try cluster.psql("SELECT count(*) FROM gc_manifest_review_queue") == "0\n", "still tagged latest")
            let n = try await D.push(store, "app", "n", layers: [D.digest("l")])
            try cluster.psql("DELETE FROM gc_manifest_review_queue")
            #expect(try await store.putTag(repository: "app", tag: "latest", digest: n) == m)
            #expect(try cluster.psql("""
                SELECT digest, event, review_after > now() + interval '59 minutes' FROM gc_manifest_review_queue
                """) == "\(m)|tag_switch|t\n", "due after the untagged delay")
            await #expect(throws: PostgresMetadataError.tagUnknown(repository: "app", tag: "v1")) {
                try await store.deleteTag(repository: "app", tag: "v1")
            }
        }
    }

    /// Eight writers swap the same tag from the same old digest at once:
    /// exactly one wins; every other one is told the winner's digest.
    @Test func tagCompareAndSwapUnderConcurrency() async throws {
        try await withStore { store, _ in
            let old = try await D.push(store, "app", "old", layers: [], tag: "latest")
            var candidates: [String] = []
            for i in 0..<8 { candidates.append(try await D.push(store, "app", "new\(i)", layers: [])) }
            let outcomes = await withTaskGroup(of: (String, Result<String?, PostgresMetadataError>).self) { group in
                for candidate in candidates {
                    group.addTask {
                        do {
                            return (candidate, .success(try await store.putTag(repository: "app", tag: "latest", digest: candidate,
                                                                              expecting: .digest(old))))
                        } catch let error as PostgresMetadataError {
                            return (candidate, .failure(error))
                        } catch {
                            return (candidate, .failure(.database("\(error)")))
                        }
                    }
                }
                return await group.reduce(into: [(String, Result<String?, PostgresMetadataError>)]()) { $0.append($1) }
            }
            let winners = outcomes.filter { if case .success = $0.1 { return true } else { return false } }
            #expect(winners.count == 1, "\(outcomes)")
            let winner = try #require(winners.first?.0)
            #expect(try await store.resolveTag(repository: "app", tag: "latest") == winner)
            for (_, outcome) in outcomes {
                if case .failure(let error) = outcome {
                    #expect(error == .tagConflict(repository: "app", tag: "latest", expected: old, actual: winner))
                }
            }
            await #expect(throws: PostgresMetadataError.tagConflict(repository: "app", tag: "latest", expected: nil, actual: winner)) {
                _ = try await store.putTag(repository: "app", tag: "latest", digest: old, expecting: .absent)
            }
            #expect(try await store.putTag(repository: "app", tag: "fresh", digest: old, expecting: .absent) == nil)
        }
    }

    @Test func tagsAndCatalogPaginateFromTheDatabase() async throws {
        try await withStore { store, _ in
            let m = try await D.push(store, "b/app", "m", layers: [])
            for tag in ["v10", "v2", "latest", "v1"] { try await store.putTag(repository: "b/app", tag: tag, digest: m) }
            try await store.linkBlob(repository: "a/uploads-only", digest: D.digest("x"), size: 1)
            try await D.push(store, "c", "m", layers: [])
            let first = try #require(try await store.tags(repository: "b/app", n: 2))
            #expect(first.names == ["latest", "v1"] && first.hasMore)
            let rest = try #require(try await store.tags(repository: "b/app", n: 2, last: "v1"))
            #expect(rest.names == ["v10", "v2"] && !rest.hasMore)
            #expect(try await store.tags(repository: "nope") == nil)
            let catalog = try await store.catalog(n: 2)
            #expect(catalog.names == ["a/uploads-only", "b/app"] && catalog.hasMore)
            let after = try await store.catalog(last: "b/app")
            #expect(after.names == ["c"] && !after.hasMore)
        }
    }
}

@Suite("PostgreSQL upload sessions", .timeLimit(.minutes(2)))
struct UploadSessionTests {
    @Test func aSessionAdvancesOnlyFromTheSizeItIsAt() async throws {
        try await withStore { store, _ in
            try await store.startUpload(id: "u1", repository: "app")
            #expect(try await store.upload(id: "u1")?.size == 0)
            #expect(try await store.updateUpload(id: "u1", expectedSize: 0, size: 5, state: [1, 2, 3]))
            #expect(try await store.updateUpload(id: "u1", expectedSize: 0, size: 9, state: [9]) == false, "stale replica")
            let session = try #require(try await store.upload(id: "u1"))
            #expect(session.repository == "app" && session.size == 5 && session.state == [1, 2, 3])
            await #expect(throws: PostgresMetadataError.self) { try await store.startUpload(id: "u1", repository: "app") }
            #expect(try await store.finishUpload(id: "u1"))
            #expect(try await store.upload(id: "u1") == nil)
            #expect(try await store.finishUpload(id: "u1") == false)
        }
    }
}
