// Store-level model test: random sequences of blob put (small, uploaded, and
// again after collection), mount (with and without a source), blob DELETE,
// HEAD, manifest PUT (new or re-pushed into any repository, with references,
// index children, subjects and tags; references unknown in the repository
// are refused), tag delete, manifest delete, offline garbage collection
// (plain and --delete-untagged, with and without a grace period, each after
// a dry run), the online collector (untagged policy on or off, grace periods
// and untagged delays), compaction and close + reopen, applied to a real
// Store on a frozen clock and to StoreModel. The clock moves by 0 (most
// steps: one second sees many changes), 1 or a few seconds, or past the
// grace period. After every GC, compaction and reopen, and at the end, the
// store must agree exactly with the model (StorePropertyTests+Check.swift):
// bytes, refcounts, grace starts, which repositories see and may reference
// which blob and manifest, links, referrers, tags, repositories, what each
// collection removed. Seeded: each case prints its seed; BERTH_TEST_SEED=<n>
// replays it.

import BerthTestSupport
import Foundation
import Testing
@testable import CASEngine

@Suite struct StorePropertyTests {
    typealias Link = StoreModel.Link
    static let repos = ["p/one", "p/two", "three"]
    static let manifestType = "application/vnd.oci.image.manifest.v1+json"
    static let grace: UInt64 = 10, untaggedDelay: UInt64 = 5

    static func options() -> StoreOptions {
        var o = smallOptions()
        o.maxSharedPackSize = 64 << 10  // several shared packs, so compaction has something to rewrite
        return o
    }

    /// Everything pushed so far, for pushing it again.
    struct Catalog {
        var layers: [BlobDigest: [UInt8]] = [:]
        var manifests: [BlobDigest: (bytes: [UInt8], edges: StoreModel.Manifest)] = [:]
    }

    @Test(arguments: TestSeed.seeds(1...40))
    func storeAgreesWithModel(seed: UInt64) throws {
        TestSeed.announce(seed)
        let root = TempRoot(); defer { root.cleanup() }
        var rng = SeededRandom(seed: seed)
        let clock = GCTests.Clock()
        var model = StoreModel(now: clock.read())
        var catalog = Catalog()
        var store = try Store(root: root.path, options: Self.options(), clock: clock.read)
        defer { store.close() }
        for step in 0..<120 {
            let advance: UInt64 = [0, 0, 0, 0, 0, 1, 1, 3, 6, 11].randomElement(using: &rng)!
            clock.advance(advance)
            model.now += advance
            let repo = Self.repos.randomElement(using: &rng)!
            let context = "seed \(seed) step \(step) t+\(model.now - 1_000_000)"
            let known = Set(model.content.keys).union(model.removed).union(catalog.manifests.keys).sorted()
            switch Int.random(in: 0...19, using: &rng) {
            case 0...2:
                let size = [10, 700, 3_000, 5_000, 40_000].randomElement(using: &rng)!
                let bytes = Array("s\(seed)-\(step)".utf8) + rng.bytes(size)
                try putBlob(store, bytes, repo)
                model.putBlob(bytes, sha256(bytes), in: repo)
                catalog.layers[sha256(bytes)] = bytes
            case 3:
                guard let d = catalog.layers.keys.sorted().randomElement(using: &rng) else { continue }
                try putBlob(store, catalog.layers[d]!, repo)  // dedupe, or stored again after collection
                model.putBlob(catalog.layers[d]!, d, in: repo)
            case 4:
                guard let d = known.randomElement(using: &rng) else { continue }
                let from = Bool.random(using: &rng) ? Self.repos.randomElement(using: &rng)! : nil
                let mounted = try store.mountBlob(d, into: repo, from: from)
                #expect((mounted != nil) == model.mount(d, into: repo, from: from), "\(context): mount \(d) from \(from ?? "any")")
            case 5:
                guard let d = known.randomElement(using: &rng) else { continue }
                let expected = model.unlink(d, in: repo)
                do {
                    try store.deleteBlob(d, in: repo)
                    #expect(expected, "\(context): DELETE of \(d) in \(repo) should be BLOB_UNKNOWN")
                } catch let e as StoreError where e.code == .blobUnknown {
                    #expect(!expected, "\(context): DELETE of linked \(d) in \(repo) refused")
                }
            case 6:
                guard let d = known.randomElement(using: &rng) else { continue }
                #expect((try store.stat(d, in: repo) != nil) == model.head(d, in: repo), "\(context): HEAD \(d) in \(repo)")
            case 7...9:
                let candidates = known.filter { model.available(repo, $0) }
                var refs = (0..<Int.random(in: 0...3, using: &rng)).compactMap { _ in candidates.randomElement(using: &rng) }
                if Int.random(in: 0..<8, using: &rng) == 0, let any = known.randomElement(using: &rng) { refs.append(any) }
                if refs.isEmpty, let any = candidates.randomElement(using: &rng) { refs.append(any) }
                let ms = (model.manifests[repo] ?? [:]).keys.sorted()
                let subject = Int.random(in: 0..<3, using: &rng) == 0 ? ms.randomElement(using: &rng) : nil
                let bytes = Array("{\"schemaVersion\":2,\"n\":\"\(seed)-\(step)\"}".utf8)
                let edges = StoreModel.Manifest(refs: Set(refs), subject: subject)
                catalog.manifests[sha256(bytes)] = (bytes, edges)
                try putManifest(store, &model, bytes, edges, repo, tags: randomTags(&rng), context)
            case 10:
                guard let m = catalog.manifests.keys.sorted().randomElement(using: &rng),
                      !model.uncertain.contains(Link(repo: repo, digest: m)) else { continue }
                let (bytes, edges) = catalog.manifests[m]!
                try putManifest(store, &model, bytes, edges, repo, tags: randomTags(&rng), context)
            case 11:
                guard let tag = model.tags[repo]?.keys.sorted().randomElement(using: &rng) else { continue }
                try store.deleteTag(repository: repo, tag: tag)
                model.deleteTag(repo, tag)
            case 12:
                guard let m = model.manifests[repo]?.keys.sorted().randomElement(using: &rng) else { continue }
                try store.deleteManifest(repository: repo, digest: m)
                model.deleteManifest(repo, m, requeueAt: model.now)
            case 13, 14:
                let policy = GCPolicy(deleteUntagged: Bool.random(using: &rng), gracePeriod: Bool.random(using: &rng) ? 0 : Self.grace,
                                      untaggedDelay: 0)
                let label = "\(context) gc (untagged: \(policy.deleteUntagged), grace \(policy.gracePeriod))"
                var predicted = model
                let expected = predicted.collectOffline(deleteUntagged: policy.deleteUntagged, grace: policy.gracePeriod)
                expectReport(try store.garbageCollect(policy: policy, dryRun: true), expected, "\(label) dry run")
                try check(store, model, "\(label) after the dry run")
                expectReport(try store.garbageCollect(policy: policy, dryRun: false), expected, label)
                model = predicted
                try check(store, model, "\(label) after")
            case 15, 16:
                let policy = GCPolicy(deleteUntagged: Int.random(in: 0..<4, using: &rng) != 0,
                                      gracePeriod: Bool.random(using: &rng) ? 0 : Self.grace,
                                      untaggedDelay: Bool.random(using: &rng) ? 0 : Self.untaggedDelay)
                let label = "\(context) online gc (untagged: \(policy.deleteUntagged), grace \(policy.gracePeriod), delay \(policy.untaggedDelay))"
                let expected = model.collectOnline(policy)
                var manifests = Set<Link>(), blobs = Set<BlobDigest>()
                for _ in 0..<20 {
                    let r = try store.collectIncrementally(policy: policy, batch: [1, 3, 1000].randomElement(using: &rng)!)
                    if r.deletedManifests.isEmpty && r.deletedBlobs.isEmpty { break }
                    manifests.formUnion(r.deletedManifests.map { Link(repo: $0.repository, digest: $0.digest) })
                    blobs.formUnion(r.deletedBlobs)
                }
                #expect(manifests == expected.manifests, "\(label): manifests collected")
                #expect(blobs == expected.blobs, "\(label): blobs collected")
                try check(store, model, "\(label) after")
            case 17:
                _ = try store.compact(minDeadRatio: [0.01, 0.5].randomElement(using: &rng)!)
                try check(store, model, "\(context) after compact")
            default:
                store.close()
                store = try Store(root: root.path, options: Self.options(), clock: clock.read)
                try check(store, model, "\(context) after reopen")
            }
        }
        try check(store, model, "seed \(seed) end")
    }

    func randomTags(_ rng: inout SeededRandom) -> [String] {
        Int.random(in: 0..<5, using: &rng) < 2 ? ["t\(Int.random(in: 0...4, using: &rng))"] : []
    }

    func putBlob(_ store: Store, _ bytes: [UInt8], _ repo: String) throws {
        let d = sha256(bytes)
        if bytes.count > 16_000 {
            let s = try store.startUpload(repository: repo)
            _ = try bytes.withUnsafeBytes { try store.appendUpload(id: s.id, repository: repo, offset: 0, $0) }
            _ = try store.commitUpload(id: s.id, repository: repo, digest: d)
        } else {
            try store.putBlob(bytes, digest: d, repository: repo)
        }
    }

    func putManifest(_ store: Store, _ model: inout StoreModel, _ bytes: [UInt8], _ edges: StoreModel.Manifest,
                     _ repo: String, tags: [String], _ context: String) throws {
        let d = sha256(bytes)
        let accepted = model.putManifest(bytes, d, in: repo, edges, tags: tags)
        let e = ManifestEdges(mediaType: Self.manifestType, references: edges.refs.sorted(), subject: edges.subject)
        do {
            try store.putManifest(repository: repo, digest: d, bytes: bytes, edges: e, tags: tags)
            #expect(accepted, "\(context): manifest \(d) in \(repo) should be refused (a reference is unknown there)")
        } catch let error as StoreError where error.code == .referenceUnknown {
            #expect(!accepted, "\(context): manifest \(d) in \(repo) refused: \(error)")
        }
    }
}
