// StorePropertyTests' comparison of a Store with its StoreModel. Reads only
// what does not change state: global blob reads, `Store.isAvailable` and
// `MetaStore.isAvailable` (a HEAD through `stat(_:in:)` would restart grace
// periods; the test does its HEADs as operations of the sequence).

import Foundation
import Testing
@testable import CASEngine

extension StorePropertyTests {
    func check(_ store: Store, _ model: StoreModel, _ context: String) throws {
        for (d, bytes) in model.content {
            let reader = try store.openBlob(d, in: nil)
            #expect(try reader.read(offset: 0, length: bytes.count + 10) == bytes, "\(context): bytes of \(d)")
            let refcount = model.refcount(d)
            #expect(try store.refcount(of: d) == refcount, "\(context): refcount of \(d)")
            if refcount == 0 {
                #expect(try store.meta.blob(d)?.zeroedAt == model.zeroedAt[d], "\(context): grace start of \(d)")
            }
            let linking = model.links.filter { $0.digest == d }.map(\.repo).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            #expect(try store.repositoriesLinking(d, limit: 10) == linking, "\(context): repositories linking \(d)")
        }
        for d in model.removed { #expect(try store.stat(d) == nil, "\(context): collected \(d) still stored") }
        let known = Set(model.content.keys).union(model.removed).sorted()
        for repo in Self.repos {
            let ms = model.manifests[repo] ?? [:]
            for d in known {
                let visible = model.visible(repo, d), available = model.available(repo, d)
                #expect(try store.isAvailable(d, in: repo) == visible, "\(context): \(d) visible in \(repo) should be \(visible)")
                #expect(try store.meta.isAvailable(repository: repo, digest: d) == available,
                        "\(context): \(d) referenceable in \(repo) should be \(available)")
                #expect((try store.manifestInfo(repository: repo, digest: d) != nil) == (ms[d] != nil),
                        "\(context): \(d) a manifest of \(repo) should be \(ms[d] != nil)")
            }
            for m in ms.keys.sorted() {
                let referrers = Set(try store.referrers(repository: repo, subject: m, artifactType: nil).map(\.digest))
                #expect(referrers == model.referrers(repo, of: m), "\(context): referrers of \(m) in \(repo)")
            }
            let expected = (model.tags[repo] ?? [:]).keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            let actual = try store.tags(repository: repo, after: nil, limit: nil) ?? []
            #expect(actual == expected, "\(context): tags of \(repo)")
            for (tag, d) in model.tags[repo] ?? [:] {
                #expect(try store.resolve(repository: repo, tag: tag) == d, "\(context): \(repo):\(tag)")
            }
        }
        #expect(try store.repositories(after: nil, limit: nil) == model.repositories, "\(context): repositories")
    }

    func expectReport(_ report: GCReport, _ predicted: (manifests: Set<Link>, blobs: Set<BlobDigest>), _ context: String) {
        #expect(Set(report.deletedManifests.map { Link(repo: $0.repository, digest: $0.digest) }) == predicted.manifests,
                "\(context): manifests collected")
        #expect(Set(report.deletedBlobs) == predicted.blobs, "\(context): blobs collected")
    }
}
