// Read-side helpers for garbage collection and fsck: one repository's
// manifests with their edges and whether any tag (or tag history) keeps them.
//
// Thread safety: as MetaStore (one read transaction per call).
// Invariants:
//   1. `manifestSummaries` is one snapshot: tags and edges are consistent
//      with each other.

extension MetaStore {
    struct ManifestSummary: Sendable, Equatable {
        let digest: BlobDigest
        let references: [BlobDigest]
        /// A sparse index's children absent when it was recorded (parent
        /// edges only: MetaStore+Manifests invariant 6).
        var absent: [BlobDigest] = []
        let subject: BlobDigest?
        let tagged: Bool
        /// Protected by tag history (MetaStore+History invariant 3) at `now`.
        var protected = false
        /// When it last became unkept (MetaStore+Keep invariant 4).
        var unkeptAt: UInt64 = 0
    }

    /// `now`: when given, `protected` is evaluated at that time.
    func manifestSummaries(repository: String, now: UInt64? = nil) throws -> [ManifestSummary] {
        let repo = try MetaKey.name(repository, "repository")
        let protection = now.flatMap { historyProtection(now: $0) }
        return try env.read { txn in
            var out: [ManifestSummary] = []
            try txn.scanPrefix(db.manifests, MetaKey.repoPrefix(repo)) { suffix, value in
                guard let d = BlobDigest(key: suffix) else { throw StoreError(.corrupt, "bad manifest key in \(repository)") }
                let entry = try ManifestEntry.decode(value)
                var tagged = false
                try txn.scanPrefix(db.manifestTags, MetaKey.repoDigest(repo, d)) { _, _ in
                    tagged = true
                    return false
                }
                out.append(ManifestSummary(digest: d, references: entry.references, absent: entry.absent, subject: entry.subject,
                                           tagged: tagged,
                                           protected: try !tagged && isProtected(txn, repo, d, entry, protection),
                                           unkeptAt: entry.unkeptAt))
                return true
            }
            return out
        }
    }

    /// Every repository name (no pagination), for whole-store passes.
    func allRepositories() throws -> [String] {
        var out: [String] = []
        var after: String? = nil
        while true {
            let page = try repositories(after: after, limit: 1000)
            out += page
            guard page.count == 1000, let last = page.last else { return out }
            after = last
        }
    }
}

extension MetaStore {
    /// Queues manifests for untagged review (GC, after deleting the index or
    /// subject that kept them), due immediately when `at` is old enough.
    /// Whether an online pass with the untagged policy off dropped untagged
    /// reviews since the policy was last on.
    func untaggedReviewsDropped() throws -> Bool { try metaFlag(MetaKey.untaggedReviewsDropped) }

    func setUntaggedReviewsDropped(_ on: Bool) throws { try setMetaFlag(MetaKey.untaggedReviewsDropped, on) }

    /// When the last collector pass finished (unix seconds); nil: never.
    func lastCollection() throws -> UInt64? {
        try env.read { txn in
            guard let v = try txn.get(db.meta, MetaKey.lastCollection) else { return nil }
            var r = ByteReader(v, what: "last_collection")
            return try r.u64()
        }
    }

    func setLastCollection(_ at: UInt64) throws {
        var w = ByteWriter(capacity: 8)
        w.u64(at)
        let bytes = w.bytes
        try env.write { txn in try txn.put(db.meta, MetaKey.lastCollection, bytes) }
    }

    func enqueueUntaggedReviews(repository: String, _ digests: [BlobDigest], at: UInt64) throws {
        guard !digests.isEmpty else { return }
        _ = try MetaKey.name(repository, "repository")
        try env.write { txn in
            for d in digests { try enqueue(txn, .manifestUntagged(repository: repository, digest: d, at: at)) }
        }
    }
}

extension MetaStore {
    /// fsck --repair: sets a blob's refcount to the value recomputed from the
    /// manifests' edges (zeroedAt follows the usual rule).
    func repairRefcount(_ digest: BlobDigest, to count: UInt64, now: UInt64) throws {
        try env.write { txn in
            guard var rec = try getBlob(txn, digest), rec.refcount != count else { return }
            let wasPositive = rec.refcount > 0
            rec.refcount = count
            if count == 0 {
                if wasPositive { rec.zeroedAt = now }
                try enqueue(txn, .blobZeroed(digest, at: rec.zeroedAt))
            } else {
                rec.zeroedAt = 0
            }
            try putBlob(txn, digest, rec)
        }
    }
}
