// Online garbage collection: works the review queue that manifest deletes,
// tag moves and refcount drops fill, so its cost is proportional to the
// garbage, not to the store. No read-only mode, no downtime.
//
// Thread safety: safe to run beside live traffic (each decision is re-made
// inside the one write transaction that acts on it); run one collector per
// store.
// Invariants (RECOVERY.md "What GC never takes"):
//   1. A queued blob goes only if, in the deleting transaction, its refcount
//      is still 0 and it was zeroed at least `gracePeriod` ago; a mount, a
//      re-upload, a HEAD/GET or a new reference in the meantime resets or
//      raises it (MetaStore+Blobs invariant 3).
//   2. A queued untagged manifest goes only with the untagged policy, after
//      `untaggedDelay`, and only if — in the deleting transaction — it is
//      still untagged and not kept by a tagged index or as a referrer of a
//      kept manifest (MetaStore+Keep invariants 2-3). The choice made from
//      the queue is only a hint.
//   3. Items not yet due stay queued; stale items (blob gone or referenced
//      again, manifest gone or kept again) are dropped — only at the
//      sequence number the pass read: an identical item re-queued meanwhile
//      (a blob zeroed again in the same second, even by this pass's own
//      manifest deletes) moved behind the pass and is reviewed by the next
//      (MetaStore+Queues invariant 3).
//   4. One pass looks at every item queued before it started (paged, no
//      fixed cap): a busy registry's backlog cannot outrun it. Items queued
//      during the pass wait for the next one.
//   5. With the untagged policy off, untagged reviews are dropped (they
//      would pile up forever) and `untagged_reviews_dropped` is recorded; the
//      first pass with the policy on again queues a review, at its own time,
//      for every untagged manifest of every repository (the review re-checks
//      what keeps each one), so switching the policy on collects what was
//      left while it was off — one untagged delay after the switch.

extension Store {
    /// Processes every due review item queued before the call, `batch` at a
    /// time: each page's removals are one write transaction (re-checking
    /// every item inside it), so a pass costs O(garbage / batch) commits.
    /// Returns what was removed.
    public func collectIncrementally(policy: GCPolicy, batch: Int = 1000) throws -> GCReport {
        try checkWritable()
        var report = GCReport()
        let now = self.now
        let cutoff = now >= policy.gracePeriod ? now - policy.gracePeriod : 0
        let requeueAt = now >= policy.untaggedDelay ? now - policy.untaggedDelay : 0
        if policy.deleteUntagged, try meta.untaggedReviewsDropped() {
            for repository in try meta.allRepositories() {
                let untagged = try meta.manifestSummaries(repository: repository).filter { !$0.tagged }.map(\.digest)
                try meta.enqueueUntaggedReviews(repository: repository, untagged, at: now)
            }
            try meta.setUntaggedReviewsDropped(false)
        }
        var droppedUntagged = false
        let end = try meta.sequenceHighWater()
        var cursor: UInt64? = nil
        while true {
            let page = try meta.reviewPage(after: cursor, limit: max(1, batch)).filter { $0.seq < end }
            guard let last = page.last else { break }
            cursor = last.seq
            var done: [(seq: UInt64, item: ReviewItem)] = []
            var blobs: [BlobDigest] = []
            var manifests: [(repository: String, digest: BlobDigest)] = []
            for entry in page {
                let item = entry.item
                switch item {
                case .blobZeroed(let d, let at):
                    guard at + policy.gracePeriod <= now else { continue }
                    done.append(entry)
                    // Gone, referenced again, or grace restarted (the restart
                    // queued a newer item): nothing to do for this one.
                    guard let rec = try meta.blob(d), rec.refcount == 0, rec.zeroedAt <= cutoff else { continue }
                    blobs.append(d)
                case .manifestUntagged(let repository, let m, let at):
                    guard policy.deleteUntagged else { done.append(entry); droppedUntagged = true; continue }
                    guard at + policy.untaggedDelay <= now else { continue }
                    done.append(entry)
                    manifests.append((repository, m))
                }
            }
            if !manifests.isEmpty {
                try failpoint(.gcManifestAfterDecision)
                for m in try meta.deleteUntaggedManifests(manifests, now: now, requeueAt: requeueAt) {
                    report.deletedManifests.append(.init(repository: m.repository, digest: m.digest))
                }
            }
            if !blobs.isEmpty {
                try failpoint(.gcBlobAfterDecision)
                for (d, rec) in try meta.removeBlobs(blobs, ifZeroSince: cutoff) {
                    report.deletedBlobs.append(d)
                    report.freedBytes += rec.location.rawLength
                    if rec.location.flags.contains(.dedicated) {
                        // Readers that opened the blob hold their own descriptor.
                        try failpoint(.packBeforeUnlink)
                        try packs.removePack(rec.location.packID)
                        report.removedPacks += 1
                    }
                }
            }
            try meta.removeReviewItems(done)
        }
        if droppedUntagged, try !meta.untaggedReviewsDropped() { try meta.setUntaggedReviewsDropped(true) }
        try meta.setLastCollection(now)
        metrics.collected(report)
        return report
    }
}
