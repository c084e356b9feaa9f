// What each collector removes, stated from RECOVERY.md "Garbage collection"
// and GarbageCollector invariants 1-2 (StoreModel.swift has the state).
//
// Kept: a manifest reachable from a tag of its repository — tagged itself, a
// child manifest of a kept manifest, or a referrer (subject) of a kept one.

@testable import CASEngine

extension StoreModel {
    func kept(_ repo: String) -> Set<BlobDigest> {
        let ms = manifests[repo] ?? [:]
        var keep = Set<BlobDigest>()
        var work = ms.keys.filter { isTagged(repo, $0) }
        while let m = work.popLast() {
            guard keep.insert(m).inserted else { continue }
            work += ms[m]!.refs.filter { ms[$0] != nil }
            work += referrers(repo, of: m)
        }
        return keep
    }

    /// Every blob at refcount 0 whose grace period is over goes, with its links.
    mutating func sweep(grace: UInt64) -> Set<BlobDigest> {
        let garbage = Set(content.keys.filter { refcount($0) == 0 && zeroedAt[$0]! + grace <= now })
        for d in garbage {
            content[d] = nil
            zeroedAt[d] = nil
        }
        links = links.filter { !garbage.contains($0.digest) }
        removed.formUnion(garbage)
        return garbage
    }

    /// `Store.garbageCollect` (regctl garbage-collect): with `deleteUntagged`
    /// every manifest not kept goes (the queue is neither read nor emptied;
    /// what a deleted manifest kept is reviewed at `now`), then the sweep.
    ///
    /// An orphan deleted in the same run as its keeper was queued for review
    /// only if the keeper went first; the order is the engine's business, so
    /// such (repository, manifest) pairs become `uncertain`.
    mutating func collectOffline(deleteUntagged: Bool, grace: UInt64) -> (manifests: Set<Link>, blobs: Set<BlobDigest>) {
        var gone = Set<Link>()
        if deleteUntagged {
            for (repo, ms) in manifests {
                let keep = kept(repo)
                for m in ms.keys where !keep.contains(m) { gone.insert(Link(repo: repo, digest: m)) }
            }
            for l in gone {
                for o in orphans(l.repo, of: l.digest) where gone.contains(Link(repo: l.repo, digest: o)) {
                    uncertain.insert(Link(repo: l.repo, digest: o))
                }
            }
            for l in gone.sorted() {
                let certain = orphans(l.repo, of: l.digest).filter { !gone.contains(Link(repo: l.repo, digest: $0)) }
                for o in certain { reviews.insert(Review(repo: l.repo, digest: o, at: now)) }
                releasing { model in
                    model.manifests[l.repo]![l.digest] = nil
                    model.tags[l.repo] = model.tags[l.repo]?.filter { $0.value != l.digest }
                }
            }
        }
        return (gone, sweep(grace: grace))
    }

    /// `Store.collectIncrementally`, passes repeated until one removes
    /// nothing. Without the untagged policy every pending review is dropped
    /// unused (and remembered as dropped: the first pass with the policy
    /// reviews every untagged manifest again, at its own time). With it, each review due (`at + untaggedDelay <= now`) is
    /// taken: its manifest goes if it still exists, is not kept and has been
    /// unkept for the untagged delay (since its latest untagging), and what
    /// it kept is reviewed at `now - untaggedDelay` (due at once). Reviews not
    /// yet due stay. Then the sweep: every zero-ref blob has its review.
    mutating func collectOnline(_ policy: GCPolicy) -> (manifests: Set<Link>, blobs: Set<BlobDigest>) {
        var gone = Set<Link>()
        if policy.deleteUntagged {
            if untaggedReviewsDropped {
                for (repo, ms) in manifests {
                    let tagged = Set((tags[repo] ?? [:]).values)
                    for d in ms.keys where !tagged.contains(d) { reviews.insert(Review(repo: repo, digest: d, at: now)) }
                }
                untaggedReviewsDropped = false
            }
            let requeueAt = now - min(now, policy.untaggedDelay)
            while let r = reviews.first(where: { $0.at + policy.untaggedDelay <= now }) {
                reviews.remove(r)
                guard manifests[r.repo]?[r.digest] != nil, !kept(r.repo).contains(r.digest),
                      unkeptSince[Link(repo: r.repo, digest: r.digest)] ?? 0 <= requeueAt else { continue }
                deleteManifest(r.repo, r.digest, requeueAt: requeueAt)
                gone.insert(Link(repo: r.repo, digest: r.digest))
            }
        } else {
            if !reviews.isEmpty { untaggedReviewsDropped = true }
            reviews = []
        }
        return (gone, sweep(grace: policy.gracePeriod))
    }
}
