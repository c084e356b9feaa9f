// Store-level model test: random sequences of put (small and uploaded),
// mount, unlink, manifest put with tags, tag delete, manifest delete and
// reopen, applied to a real Store and to a plain in-memory model. After every
// sequence (and at each reopen) the store must agree with the model: every
// blob's bytes identical, refcounts equal, tag listings and resolutions equal.
// Seeded; a failure names its seed.

import Foundation
import Testing
@testable import CASEngine

@Suite struct StorePropertyTests {
    struct Model {
        var content: [BlobDigest: [UInt8]] = [:]
        var links: Set<[String]> = []                        // [repo, digest]
        var manifests: [String: [BlobDigest: [BlobDigest]]] = [:]  // repo -> manifest -> refs
        var tags: [String: [String: BlobDigest]] = [:]

        func refcount(_ d: BlobDigest) -> UInt64 {
            var n: UInt64 = 0
            for (_, ms) in manifests {
                for (m, refs) in ms {
                    if m == d { n += 1 }
                    if Set(refs).contains(d) { n += 1 }
                }
            }
            return n
        }

        func available(_ repo: String, _ d: BlobDigest) -> Bool {
            links.contains([repo, d.description]) || manifests[repo]?[d] != nil
        }
    }

    static let repos = ["p/one", "p/two", "three"]

    func check(_ store: Store, _ model: Model, seed: UInt64) throws {
        for (d, bytes) in model.content {
            let reader = try store.openBlob(d, in: nil)
            #expect(try reader.read(offset: 0, length: bytes.count + 10) == bytes, "seed \(seed): bytes of \(d)")
            #expect(try store.refcount(of: d) == model.refcount(d), "seed \(seed): refcount of \(d)")
        }
        for repo in Self.repos {
            let expected = (model.tags[repo] ?? [:]).keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            let actual = try store.tags(repository: repo, after: nil, limit: nil) ?? []
            #expect(actual == expected, "seed \(seed): tags of \(repo)")
            for (tag, d) in model.tags[repo] ?? [:] {
                #expect(try store.resolve(repository: repo, tag: tag) == d, "seed \(seed): \(repo):\(tag)")
            }
        }
    }

    @Test(arguments: 1...40)
    func storeAgreesWithModel(seed: UInt64) throws {
        let root = TempRoot(); defer { root.cleanup() }
        var rng = SeededRandom(seed: seed)
        var model = Model()
        var store = try Store.open(at: root.path, options: smallOptions())
        defer { store.close() }
        var serial = 0
        for _ in 0..<60 {
            serial += 1
            let repo = Self.repos.randomElement(using: &rng)!
            switch Int.random(in: 0...11, using: &rng) {
            case 0...2:
                let size = [10, 700, 5_000, 40_000].randomElement(using: &rng)!
                let bytes = Array("s\(seed)-\(serial)".utf8) + rng.bytes(size)
                let d = sha256(bytes)
                if size > 16_000 {
                    let s = try store.startUpload(repository: repo)
                    _ = try bytes.withUnsafeBytes { try store.appendUpload(id: s.id, repository: repo, offset: 0, $0) }
                    _ = try store.commitUpload(id: s.id, repository: repo, digest: d)
                } else {
                    try store.putBlob(bytes, digest: d, repository: repo)
                }
                model.content[d] = bytes
                model.links.insert([repo, d.description])
            case 3:
                guard let d = model.content.keys.randomElement(using: &rng) else { continue }
                let mounted = try store.mountBlob(d, into: repo, from: nil)
                #expect(mounted != nil)
                model.links.insert([repo, d.description])
            case 4:
                let linked = model.links.filter { $0[0] == repo }
                guard let l = linked.randomElement(using: &rng) else { continue }
                try store.deleteBlob(BlobDigest(l[1])!, in: repo)
                model.links.remove(l)
            case 5...7:
                let candidates = model.content.keys.filter { model.available(repo, $0) }.sorted()
                guard !candidates.isEmpty else { continue }
                let refs = (0..<Int.random(in: 1...3, using: &rng)).map { _ in candidates.randomElement(using: &rng)! }
                let bytes = Array("{\"schemaVersion\":2,\"n\":\"\(seed)-\(serial)\"}".utf8)
                let d = sha256(bytes)
                let tags = Bool.random(using: &rng) ? ["t\(Int.random(in: 0...4, using: &rng))"] : []
                try store.putManifest(repository: repo, digest: d, bytes: bytes,
                                      edges: ManifestEdges(mediaType: "application/vnd.oci.image.manifest.v1+json", references: refs),
                                      tags: tags)
                model.content[d] = bytes
                model.manifests[repo, default: [:]][d] = refs
                for t in tags { model.tags[repo, default: [:]][t] = d }
            case 8:
                guard let (tag, _) = model.tags[repo]?.randomElement(using: &rng) else { continue }
                try store.deleteTag(repository: repo, tag: tag)
                model.tags[repo]?[tag] = nil
            case 9:
                guard let m = model.manifests[repo]?.keys.sorted().randomElement(using: &rng) else { continue }
                try store.deleteManifest(repository: repo, digest: m)
                model.manifests[repo]?[m] = nil
                model.tags[repo] = model.tags[repo]?.filter { $0.value != m }
            default:
                store.close()
                store = try Store.open(at: root.path, options: smallOptions())
                try check(store, model, seed: seed)
            }
        }
        try check(store, model, seed: seed)
    }
}
