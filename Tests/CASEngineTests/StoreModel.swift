// The plain in-memory specification StorePropertyTests holds a real Store to.
// It states the documented semantics directly — RECOVERY.md ("What GC never
// takes", "Garbage collection"), MetaStore invariants 1-3, MetaStore+Blobs
// invariant 3, MetaStore+Tags invariant 3 — over plain sets and dictionaries,
// never over the engine's tables: refcounts and keeping are recomputed from
// the manifests on every question.
//
// Time is the test's frozen clock (`now`, whole seconds). A blob's grace
// period starts when it is stored, when its refcount falls to 0, and when a
// client links or sees it while at 0 (`zeroedAt`). Untagged reviews are the
// `manifestUntagged(repo, m, at)` requests RECOVERY.md step 4 lists: queued
// when a tag leaves a manifest, when a new manifest is pushed without a tag
// and, for the manifests it kept, when a manifest is deleted. Collection is
// in StoreModel+GC.swift.

@testable import CASEngine

struct StoreModel {
    struct Link: Hashable, Comparable {
        let repo: String
        let digest: BlobDigest
        static func < (a: Link, b: Link) -> Bool { (a.repo, a.digest) < (b.repo, b.digest) }
    }
    struct Manifest: Equatable {
        let refs: Set<BlobDigest>
        let subject: BlobDigest?
    }
    struct Review: Hashable {
        let repo: String
        let digest: BlobDigest
        let at: UInt64
    }

    var now: UInt64
    var content: [BlobDigest: [UInt8]] = [:]
    /// Start of each stored blob's current grace period (read at refcount 0).
    var zeroedAt: [BlobDigest: UInt64] = [:]
    var links: Set<Link> = []
    var manifests: [String: [BlobDigest: Manifest]] = [:]
    var tags: [String: [String: BlobDigest]] = [:]
    /// Pending untagged reviews. A review outlives a delete of its manifest
    /// and applies to the manifest if it is pushed again.
    var reviews: Set<Review> = []
    /// An online pass without the untagged policy dropped reviews: the next
    /// pass with it reviews every untagged manifest again.
    var untaggedReviewsDropped = false
    /// When each manifest last may have become unkept (pushed, lost its last
    /// tag, lost its keeper to a delete): the untagged delay counts from here.
    var unkeptSince: [Link: UInt64] = [:]
    /// Blobs garbage collection removed and nobody stored again: must be gone.
    var removed: Set<BlobDigest> = []
    /// Manifests whose pending reviews a collection left undetermined (see
    /// `collectOffline`): the test never pushes these again.
    var uncertain: Set<Link> = []

    init(now: UInt64) { self.now = now }

    // MARK: Questions

    /// MetaStore invariant 1: one per (repository, manifest) entry of `d`, one
    /// per manifest of any repository whose distinct references contain `d`.
    func refcount(_ d: BlobDigest) -> UInt64 {
        var n: UInt64 = 0
        for ms in manifests.values {
            if ms[d] != nil { n += 1 }
            n += UInt64(ms.values.filter { $0.refs.contains(d) }.count)
        }
        return n
    }

    /// Blob HEAD/GET and a mount's `from`: linked there, or one of its manifests.
    func visible(_ repo: String, _ d: BlobDigest) -> Bool {
        links.contains(Link(repo: repo, digest: d)) || manifests[repo]?[d] != nil
    }

    /// What a new manifest of `repo` may reference: visible, or referenced by
    /// one of the repository's manifests.
    func available(_ repo: String, _ d: BlobDigest) -> Bool {
        visible(repo, d) || (manifests[repo] ?? [:]).values.contains { $0.refs.contains(d) }
    }

    func isTagged(_ repo: String, _ m: BlobDigest) -> Bool { tags[repo]?.values.contains(m) ?? false }

    /// Repositories with a link, a manifest or a tag.
    var repositories: [String] {
        Set(links.map(\.repo)).union(manifests.filter { !$0.value.isEmpty }.keys)
            .union(tags.filter { !$0.value.isEmpty }.keys)
            .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    /// Manifests of `repo` whose subject is `d`.
    func referrers(_ repo: String, of d: BlobDigest) -> Set<BlobDigest> {
        Set((manifests[repo] ?? [:]).filter { $0.value.subject == d }.keys)
    }

    // MARK: Blobs

    /// Upload or monolithic PUT (dedupe included): stored if new, linked.
    mutating func putBlob(_ bytes: [UInt8], _ d: BlobDigest, in repo: String) {
        store(bytes, d, restartingGrace: true)
        links.insert(Link(repo: repo, digest: d))
    }

    /// Mount; `from` nil: any stored blob. False (nothing changes) when the
    /// blob is not stored or not visible in `from`.
    mutating func mount(_ d: BlobDigest, into repo: String, from: String?) -> Bool {
        guard content[d] != nil, from.map({ visible($0, d) }) ?? true else { return false }
        restartGrace(d)
        links.insert(Link(repo: repo, digest: d))
        return true
    }

    /// Blob DELETE: the repository's link only.
    mutating func unlink(_ d: BlobDigest, in repo: String) -> Bool {
        links.remove(Link(repo: repo, digest: d)) != nil
    }

    /// HEAD/GET: found when visible; a zero-ref blob a client saw restarts its grace.
    mutating func head(_ d: BlobDigest, in repo: String) -> Bool {
        guard visible(repo, d) else { return false }
        restartGrace(d)
        return true
    }

    mutating func store(_ bytes: [UInt8], _ d: BlobDigest, restartingGrace: Bool) {
        if content[d] == nil {
            content[d] = bytes
            zeroedAt[d] = now
            removed.remove(d)
        } else if restartingGrace {
            restartGrace(d)
        }
    }

    mutating func restartGrace(_ d: BlobDigest) {
        if refcount(d) == 0 { zeroedAt[d] = now }
    }

    /// Runs `body`; every blob whose refcount it took to 0 was zeroed now.
    mutating func releasing(_ body: (inout StoreModel) -> Void) {
        let before = content.keys.filter { refcount($0) > 0 }
        body(&self)
        for d in before where refcount(d) == 0 { zeroedAt[d] = now }
    }

    // MARK: Manifests and tags

    /// Manifest PUT. The bytes are stored first (a new blob at refcount 0; an
    /// existing one untouched); a manifest new to `repo` must find every
    /// reference available there, else nothing else changes and the answer
    /// is false (`.referenceUnknown`). Re-pushing changes no edge.
    mutating func putManifest(_ bytes: [UInt8], _ d: BlobDigest, in repo: String, _ m: Manifest, tags newTags: [String]) -> Bool {
        store(bytes, d, restartingGrace: false)
        if manifests[repo]?[d] == nil {
            guard m.refs.allSatisfy({ $0 == d || available(repo, $0) }) else { return false }
            manifests[repo, default: [:]][d] = m
            unkeptSince[Link(repo: repo, digest: d)] = now
            if newTags.isEmpty { reviews.insert(Review(repo: repo, digest: d, at: now)) }
        }
        for t in newTags { setTag(repo, t, d) }
        return true
    }

    mutating func setTag(_ repo: String, _ tag: String, _ d: BlobDigest) {
        let old = tags[repo]?[tag]
        tags[repo, default: [:]][tag] = d
        if let old, old != d { leftByTag(repo, old) }
    }

    mutating func deleteTag(_ repo: String, _ tag: String) {
        guard let old = tags[repo]?.removeValue(forKey: tag) else { return }
        leftByTag(repo, old)
    }

    private mutating func leftByTag(_ repo: String, _ m: BlobDigest) {
        if !isTagged(repo, m) {
            reviews.insert(Review(repo: repo, digest: m, at: now))
            unkeptSince[Link(repo: repo, digest: m)] = now
        }
    }

    /// The manifests `m` may have kept: child manifests of `repo` and referrers.
    func orphans(_ repo: String, of m: BlobDigest) -> Set<BlobDigest> {
        let ms = manifests[repo] ?? [:]
        return Set((ms[m]?.refs ?? []).filter { $0 != m && ms[$0] != nil }).union(referrers(repo, of: m))
    }

    /// Manifest DELETE (and the collectors' deletes): its tags go with it
    /// (no review of its own), what it kept is reviewed at `requeueAt`.
    mutating func deleteManifest(_ repo: String, _ m: BlobDigest, requeueAt: UInt64) {
        guard manifests[repo]?[m] != nil else { return }
        for o in orphans(repo, of: m) {
            reviews.insert(Review(repo: repo, digest: o, at: requeueAt))
            let link = Link(repo: repo, digest: o)
            unkeptSince[link] = min(unkeptSince[link] ?? requeueAt, requeueAt)
        }
        releasing { model in
            model.manifests[repo]![m] = nil
            model.tags[repo] = model.tags[repo]?.filter { $0.value != m }
        }
    }
}
