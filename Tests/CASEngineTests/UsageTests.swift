// Deduplication-aware usage: the engine's incremental figures agree with a
// computation from the test's own record of what it pushed and deleted,
// after every step of random histories (shared layers, indexes, deletes,
// the collector); fsck finds tampered figures and repair restores them; a
// schema-2 store is upgraded, and read as is (without figures) read-only.

import BerthTestSupport
import Foundation
import Testing
@testable import CASEngine

@Suite struct UsageTests {
    /// What the test pushed: per repository, manifest → (its size, references).
    struct Model {
        var repos: [String: [BlobDigest: [BlobDigest]]] = [:]
        var sizes: [BlobDigest: UInt64] = [:]

        func members(_ repo: String) -> Set<BlobDigest> {
            var s = Set<BlobDigest>()
            for (m, refs) in repos[repo] ?? [:] { s.insert(m); s.formUnion(refs) }
            return s
        }

        /// Referenced, unique and blob count per repository, and the union.
        func expected() -> (repos: [String: RepositoryUsage], bytes: UInt64, blobs: UInt64) {
            var holders: [BlobDigest: Int] = [:]
            let sets = repos.keys.reduce(into: [String: Set<BlobDigest>]()) { $0[$1] = members($1) }
            for s in sets.values { for d in s { holders[d, default: 0] += 1 } }
            var out: [String: RepositoryUsage] = [:]
            for (repo, s) in sets where !s.isEmpty {
                var u = RepositoryUsage()
                for d in s {
                    u.referencedBytes += sizes[d]!
                    u.blobs += 1
                    if holders[d] == 1 { u.uniqueBytes += sizes[d]! }
                }
                out[repo] = u
            }
            return (out, holders.keys.reduce(0) { $0 + sizes[$1]! }, UInt64(holders.count))
        }
    }

    func check(_ store: Store, _ model: Model, _ step: String) throws {
        let want = model.expected()
        let got = try store.usage()
        #expect(got.repositories == want.repos, "\(step)")
        #expect(got.referencedBytes == want.bytes && got.referencedBlobs == want.blobs, "\(step)")
        for (repo, u) in want.repos { #expect(try store.usage(repository: repo) == u, "\(step) \(repo)") }
    }

    @Test(arguments: TestSeed.seeds(1...4))
    func figuresAgreeWithAnIndependentSumAfterEveryStep(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        print("figuresAgreeWithAnIndependentSumAfterEveryStep: seed \(seed) (replay: BERTH_TEST_SEED=\(seed))")
        try GCTests().withStore { f in
            var model = Model()
            let repos = ["a", "b", "team/c"]
            // A pool of layers of distinct sizes, pushed into every repository.
            var layers: [BlobDigest] = []
            for i in 0..<8 {
                let size = Int(rng.next() % 5000) + i
                for repo in repos {
                    let d = try f.blob("layer-\(i)", repo, size: size)
                    model.sizes[d] = UInt64("layer-\(i)".utf8.count + size)
                    if repo == repos[0] { layers.append(d) }
                }
            }
            var n = 0
            for step in 0..<60 {
                let repo = repos[Int(rng.next() % UInt64(repos.count))]
                let roll = rng.next() % 10
                if roll < 6 {
                    // An image over 1-3 random layers, sometimes wrapped in an index.
                    // Some manifests are common to several repositories (same
                    // bytes, same references), the others new.
                    n += 1
                    let common = rng.next() % 4 == 0 ? Int(rng.next() % 3) : nil
                    let refs = common.map { [layers[$0], layers[$0 + 1]].sorted() }
                        ?? Array(Set((0..<(1 + Int(rng.next() % 3))).map { _ in layers[Int(rng.next() % UInt64(layers.count))] })).sorted()
                    let name = common.map { "common\($0)" } ?? "m\(n)"
                    let m = try f.manifest(name, refs: refs, tags: rng.next() % 2 == 0 ? ["t\(n % 4)"] : [], repo: repo)
                    model.sizes[m] = UInt64("{\"schemaVersion\":2,\"name\":\"\(name)\"}".utf8.count)
                    model.repos[repo, default: [:]][m] = refs
                    if rng.next() % 3 == 0 {
                        let idxName = "idx\(n)"
                        let idx = try f.manifest(idxName, refs: [m], tags: ["i\(n % 3)"], type: GCTests.index, repo: repo)
                        model.sizes[idx] = UInt64("{\"schemaVersion\":2,\"name\":\"\(idxName)\"}".utf8.count)
                        model.repos[repo, default: [:]][idx] = [m]
                    }
                } else if roll < 9, let victim = model.repos[repo]?.keys.sorted().first(where: { d in
                    // Not a child of another manifest of the repository (an index needs it).
                    !(model.repos[repo] ?? [:]).contains { $0.value.contains(d) }
                }) {
                    try f.store.deleteManifest(repository: repo, digest: victim)
                    model.repos[repo]![victim] = nil
                } else {
                    // The collector (layers at refcount 0 keep their grace period).
                    _ = try f.store.collectIncrementally(policy: GCPolicy(deleteUntagged: false, gracePeriod: 1 << 30, untaggedDelay: 0))
                }
                try check(f.store, model, "seed \(seed) step \(step)")
            }
            let fsck = try f.store.fsck(verifyContent: false, scanPacks: false, repair: false)
            #expect(fsck.indexFindings.isEmpty, "\(fsck.indexFindings)")
        }
    }

    @Test func theSharedLayerMovesBetweenUniqueAndShared() throws {
        try GCTests().withStore { f in
            let base = try f.blob("base", "a", size: 1000), baseB = try f.blob("base", "b", size: 1000)
            #expect(base == baseB)
            let own = try f.blob("own", "a", size: 10)
            let ma = try f.manifest("ma", refs: [base, own], tags: ["latest"], repo: "a")
            let sizeA = UInt64(1004 + 13) + UInt64("{\"schemaVersion\":2,\"name\":\"ma\"}".utf8.count)
            #expect(try f.store.usage(repository: "a") == RepositoryUsage(referencedBytes: sizeA, uniqueBytes: sizeA, blobs: 3))
            let mb = try f.manifest("mb", refs: [base], tags: ["latest"], repo: "b")
            let a = try #require(try f.store.usage(repository: "a"))
            #expect(a.uniqueBytes == sizeA - 1004 && a.sharedBytes == 1004, "base is shared now")
            #expect(try f.store.usage().savedByDeduplication == 1004)
            try f.store.deleteManifest(repository: "b", digest: mb)
            #expect(try f.store.usage(repository: "a")?.uniqueBytes == sizeA, "base is a's alone again")
            #expect(try f.store.usage(repository: "b") == nil)
            try f.store.deleteManifest(repository: "a", digest: ma)
            #expect(try f.store.usage() == RegistryUsage(repositories: [:], referencedBytes: 0, referencedBlobs: 0,
                                                         storedBytes: try f.store.usage().storedBytes,
                                                         deadBytes: try f.store.usage().deadBytes, gcBacklog: try f.store.usage().gcBacklog))
        }
    }

    @Test func fsckFindsTamperedFiguresAndRepairRebuildsThem() throws {
        try GCTests().withStore { f in
            let l = try f.blob("l", size: 100)
            _ = try f.manifest("m", refs: [l], tags: ["latest"])
            let before = try f.store.usage()
            try f.store.meta.env.write { txn in
                try txn.put(f.store.meta.db.repoUsage!, Array("app".utf8), [UInt8](repeating: 1, count: 24))
                try txn.delete(f.store.meta.db.blobRepos!, l.key + Array("app".utf8))
            }
            let found = try f.store.fsck(verifyContent: false, scanPacks: false, repair: false)
            #expect(found.indexFindings.filter { $0.table == "usage" }.count == 2, "\(found.indexFindings)")
            let repaired = try f.store.fsck(verifyContent: false, scanPacks: false, repair: true)
            #expect(repaired.indexFindings.isEmpty, "\(repaired.indexFindings)")
            #expect(try f.store.usage().repositories == before.repositories)
        }
    }

    /// A store written before the accounting (schema 2, no usage tables):
    /// a read-only open reads it and reports no figures; the first writable
    /// open builds them.
    @Test func aSchemaTwoStoreIsReadAsIsAndUpgradedByAWritableOpen() throws {
        let root = TempRoot(); defer { root.cleanup() }
        var expected: [String: RepositoryUsage] = [:]
        do {
            let store = try Store.open(at: root.path, options: smallOptions())
            let f = GCTests.Fixture(store: store, root: root)
            _ = try f.manifest("m", refs: [try f.blob("l", size: 50)], tags: ["latest"])
            _ = try f.manifest("n", refs: [try f.blob("l", "other", size: 50)], tags: ["latest"], repo: "other")
            expected = try store.usage().repositories
            try store.meta.env.write { txn in
                try txn.removeAll(store.meta.db.blobRepos!, deleteDatabase: true)
                try txn.removeAll(store.meta.db.repoUsage!, deleteDatabase: true)
                try txn.delete(store.meta.db.meta, MetaStore.usageBytesKey)
                try txn.delete(store.meta.db.meta, MetaStore.usageBlobsKey)
                try txn.put(store.meta.db.meta, MetaKey.schemaVersion, [2, 0, 0, 0])
            }
            store.close()
        }
        var readOnly = smallOptions()
        readOnly.readOnly = true
        do {
            let store = try Store.open(at: root.path, options: readOnly)
            defer { store.close() }
            #expect(try store.resolve(repository: "app", tag: "latest") != nil)
            #expect { try store.usage() } throws: { ($0 as? StoreError)?.code == .unsupportedFormat }
        }
        let store = try Store.open(at: root.path, options: smallOptions())
        defer { store.close() }
        let version = try store.meta.env.read { txn in try txn.get(store.meta.db.meta, MetaKey.schemaVersion) }
        #expect(version == [3, 0, 0, 0])
        #expect(try store.usage().repositories == expected)
        #expect(expected["app"]?.sharedBytes == 51, "the layer both repositories reference")
    }
}
