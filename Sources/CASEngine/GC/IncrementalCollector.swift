// Online garbage collection: works the review queue that manifest deletes,
// tag moves and refcount drops fill, so its cost is proportional to the
// garbage, not to the store. No read-only mode, no downtime.
//
// Thread safety: safe to run beside live traffic (each step is one
// transaction that re-checks its condition); run one collector per store.
// Invariants:
//   1. A queued blob goes only if, in the deleting transaction, its refcount
//      is still 0 and it was zeroed at least `gracePeriod` ago; a mount, a
//      re-upload or a new reference in the meantime resets or raises it.
//   2. A queued untagged manifest goes only with the untagged policy, after
//      `untaggedDelay`, and only if it is still untagged and not kept by a
//      tagged index or as a referrer of a kept manifest (GarbageCollector
//      invariant 2, evaluated on the repository at that moment).
//   3. Items not yet due stay queued; stale items (blob gone or referenced
//      again, manifest gone or tagged again) are dropped.

extension Store {
    /// Processes at most `limit` due review items. Returns what was removed.
    public func collectIncrementally(policy: GCPolicy, limit: Int = 1000) throws -> GCReport {
        try checkWritable()
        var report = GCReport()
        let now = self.now
        var done: [ReviewItem] = []
        for item in try meta.reviewQueue(limit: limit) {
            switch item {
            case .blobZeroed(let d, let at):
                guard at + policy.gracePeriod <= now else { continue }
                guard let rec = try meta.blob(d), rec.refcount == 0 else {
                    done.append(item)
                    continue
                }
                if rec.zeroedAt + policy.gracePeriod > now { continue }  // grace restarted: a newer item is queued
                if try meta.removeBlob(d, ifZeroSince: now - policy.gracePeriod) {
                    report.deletedBlobs.append(d)
                    report.freedBytes += rec.location.rawLength
                    if rec.location.flags.contains(.dedicated) {
                        try packs.removePack(rec.location.packID)
                        report.removedPacks += 1
                    }
                }
                done.append(item)
            case .manifestUntagged(let repository, let m, let at):
                guard policy.deleteUntagged else {
                    done.append(item)
                    continue
                }
                guard at + policy.untaggedDelay <= now else { continue }
                let summaries = try meta.manifestSummaries(repository: repository)
                guard let summary = summaries.first(where: { $0.digest == m }),
                      !Self.keptManifests(summaries).contains(m)
                else {
                    done.append(item)
                    continue
                }
                try meta.deleteManifest(repository: repository, digest: m, now: now)
                report.deletedManifests.append(.init(repository: repository, digest: m))
                // Its children and referrers may have been kept only by it:
                // queue them for the same review.
                let children = summary.references.filter { r in summaries.contains { $0.digest == r } }
                let referrers = summaries.filter { $0.subject == m }.map(\.digest)
                try meta.enqueueUntaggedReviews(repository: repository, (children + referrers).filter { $0 != m }, at: now - policy.untaggedDelay)
                done.append(item)
            }
        }
        try meta.removeReviewItems(done)
        return report
    }
}
