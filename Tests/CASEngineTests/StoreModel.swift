// The plain in-memory model StorePropertyTests holds a real Store to: blobs,
// per-repository visibility (links and manifests), refcounts, tags, and what
// each garbage collector removes (GarbageCollector.swift and
// IncrementalCollector.swift, invariant 2 of each, with grace 0).

@testable import CASEngine

struct StoreModel {
    struct Link: Hashable { let repo: String; let digest: BlobDigest }

    var content: [BlobDigest: [UInt8]] = [:]
    var links: Set<Link> = []
    var manifests: [String: [BlobDigest: [BlobDigest]]] = [:]  // repo -> manifest -> refs
    var tags: [String: [String: BlobDigest]] = [:]
    /// Manifests whose last tag went (moved or deleted): the online collector's
    /// untagged reviews. Never-tagged manifests are not queued.
    var untaggedReviews: Set<Link> = []
    /// Blobs garbage collection removed: must be gone from the store.
    var removed: Set<BlobDigest> = []

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

    /// Store.stat(_:in:): linked there, or a manifest of the repository.
    func available(_ repo: String, _ d: BlobDigest) -> Bool {
        links.contains(Link(repo: repo, digest: d)) || manifests[repo]?[d] != nil
    }

    /// Repositories with a link, a manifest or a tag.
    var repositories: [String] {
        Set(links.map(\.repo)).union(manifests.filter { !$0.value.isEmpty }.keys)
            .union(tags.filter { !$0.value.isEmpty }.keys)
            .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    func isTagged(_ repo: String, _ m: BlobDigest) -> Bool { tags[repo]?.values.contains(m) ?? false }

    // MARK: Operations

    mutating func putBlob(_ bytes: [UInt8], _ d: BlobDigest, in repo: String) {
        content[d] = bytes
        removed.remove(d)
        links.insert(Link(repo: repo, digest: d))
    }

    mutating func putManifest(_ bytes: [UInt8], _ d: BlobDigest, in repo: String, refs: [BlobDigest], tags newTags: [String]) {
        content[d] = bytes
        manifests[repo, default: [:]][d] = refs
        for t in newTags { setTag(repo, t, d) }
    }

    mutating func setTag(_ repo: String, _ tag: String, _ d: BlobDigest) {
        let old = tags[repo]?[tag]
        tags[repo, default: [:]][tag] = d
        if let old, old != d, !isTagged(repo, old) { untaggedReviews.insert(Link(repo: repo, digest: old)) }
    }

    mutating func deleteTag(_ repo: String, _ tag: String) {
        guard let old = tags[repo]?.removeValue(forKey: tag) else { return }
        if !isTagged(repo, old) { untaggedReviews.insert(Link(repo: repo, digest: old)) }
    }

    mutating func deleteManifest(_ repo: String, _ m: BlobDigest) {
        manifests[repo]?[m] = nil
        tags[repo] = tags[repo]?.filter { $0.value != m }
    }

    // MARK: Garbage collection (grace period 0)

    /// Manifests kept in `repo`: tagged ones and, transitively, the manifests
    /// of the repository they reference (index children). No referrers here.
    func kept(_ repo: String) -> Set<BlobDigest> {
        let ms = manifests[repo] ?? [:]
        var keep = Set<BlobDigest>()
        var work = ms.keys.filter { isTagged(repo, $0) }
        while let m = work.popLast() {
            guard keep.insert(m).inserted else { continue }
            work += (ms[m] ?? []).filter { ms[$0] != nil }
        }
        return keep
    }

    /// Every blob at refcount 0 goes, with its links.
    mutating func sweep() -> Set<BlobDigest> {
        let garbage = Set(content.keys.filter { refcount($0) == 0 })
        for d in garbage { content[d] = nil }
        links = links.filter { !garbage.contains($0.digest) }
        removed.formUnion(garbage)
        return garbage
    }

    /// `Store.garbageCollect`: with `deleteUntagged`, every manifest not kept
    /// goes first; then the sweep.
    mutating func collectOffline(deleteUntagged: Bool) -> (manifests: Set<Link>, blobs: Set<BlobDigest>) {
        var gone = Set<Link>()
        if deleteUntagged {
            for repo in manifests.keys {
                let keep = kept(repo)
                for m in manifests[repo]!.keys where !keep.contains(m) { gone.insert(Link(repo: repo, digest: m)) }
            }
            for l in gone { deleteManifest(l.repo, l.digest) }
        }
        return (gone, sweep())
    }

    /// `Store.collectIncrementally` with the untagged policy, run until it
    /// removes nothing: queued untagged manifests not kept go, their index
    /// children are queued in turn, then the sweep (every zeroing queued a review).
    mutating func collectOnline() -> (manifests: Set<Link>, blobs: Set<BlobDigest>) {
        var gone = Set<Link>()
        while let item = untaggedReviews.popFirst() {
            guard let refs = manifests[item.repo]?[item.digest], !kept(item.repo).contains(item.digest) else { continue }
            deleteManifest(item.repo, item.digest)
            gone.insert(item)
            for r in refs where manifests[item.repo]?[r] != nil { untaggedReviews.insert(Link(repo: item.repo, digest: r)) }
        }
        return (gone, sweep())
    }
}
