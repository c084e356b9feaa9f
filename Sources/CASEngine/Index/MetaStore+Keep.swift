// What keeps a manifest, decided inside the transaction that acts on it.
//
// `manifest_parents` is the reverse of the manifests' reference lists:
// `repo ‖ 0x00 ‖ child dkey ‖ parent dkey` for every reference of every
// manifest of the repository. With it, "is this manifest kept?" walks up from
// the manifest (tags, parents, subject) instead of scanning the repository,
// so the collector's cost per item is the manifest's ancestry, not O(repo).
//
// Thread safety: as MetaStore (one write transaction per write method).
// Invariants:
//   1. manifest_parents[repo, r, m] exists iff m is a manifest of repo and r
//      is one of m's references (written and removed with the manifest).
//   2. A manifest is kept iff it is tagged or protected by tag history
//      (MetaStore+History invariant 3), or a parent (an index of the same
//      repository naming it) is kept, or its subject is a kept manifest of
//      the same repository (GarbageCollector invariant 2, evaluated upward).
//      Protection counts as a tag so that an index a rollback may restore
//      keeps its children and referrers with it.
//   3. `deleteUntaggedManifest` re-evaluates 2 and deletes in the SAME write
//      transaction: a tag PUT, a new index adopting the manifest or a new
//      referrer's subject committed before it is seen; one committed after
//      it finds the manifest gone and fails with MANIFEST_BLOB_UNKNOWN /
//      MANIFEST_UNKNOWN, never silently undone.
//   4. The untagged delay counts from the manifest's `unkeptAt` (pushed,
//      last tag removed, or its keeper deleted), checked in the deleting
//      transaction: a review queued by an earlier untagging (the manifest was
//      tagged again and untagged since) cannot take it before the delay
//      since the latest one (`requeueAt` = now − delay).

extension MetaStore {
    /// `repo ‖ 0x00 ‖ child ‖ parent`
    static func parentKey(_ repo: [UInt8], child: BlobDigest, parent: BlobDigest) -> [UInt8] {
        MetaKey.repoDigest(repo, child) + parent.key
    }

    func isKept(_ txn: LMDBTransaction, _ repo: [UInt8], _ m: BlobDigest, _ protection: HistoryProtection?) throws -> Bool {
        var seen = Set<BlobDigest>()
        return try isKept(txn, repo, m, protection, &seen)
    }

    private func isKept(_ txn: LMDBTransaction, _ repo: [UInt8], _ m: BlobDigest, _ protection: HistoryProtection?,
                        _ seen: inout Set<BlobDigest>) throws -> Bool {
        // A node seen before either is on the current path or returned false.
        guard seen.insert(m).inserted else { return false }
        let mkey = MetaKey.repoDigest(repo, m)
        guard let value = try txn.get(db.manifests, mkey) else { return false }
        var tagged = false
        try txn.scanPrefix(db.manifestTags, mkey) { _, _ in tagged = true; return false }
        if tagged { return true }
        let entry = try ManifestEntry.decode(value)
        if try isProtected(txn, repo, m, entry, protection) { return true }
        var parents: [BlobDigest] = []
        try txn.scanPrefix(db.manifestParents, mkey) { suffix, _ in
            guard let p = BlobDigest(key: suffix) else { throw StoreError(.corrupt, "bad manifest_parents key") }
            parents.append(p)
            return true
        }
        for p in parents where try isKept(txn, repo, p, protection, &seen) { return true }
        if let subject = entry.subject, try isKept(txn, repo, subject, protection, &seen) { return true }
        return false
    }

    /// The untagged policy's delete: in one write transaction, deletes the
    /// manifest only if it exists and is not kept (invariant 3); the
    /// manifests it may have kept are queued for review at `requeueAt`.
    /// Returns whether it deleted.
    func deleteUntaggedManifest(repository: String, digest: BlobDigest, now: UInt64, requeueAt: UInt64) throws -> Bool {
        try !deleteUntaggedManifests([(repository, digest)], now: now, requeueAt: requeueAt).isEmpty
    }

    /// The collector's batch of `deleteUntaggedManifest`, in one write
    /// transaction; each manifest is re-checked (in order) inside it. One
    /// that history protects (and nothing else keeps) is queued again for
    /// when its protection ends.
    func deleteUntaggedManifests(_ items: [(repository: String, digest: BlobDigest)], now: UInt64,
                                 requeueAt: UInt64) throws -> [(repository: String, digest: BlobDigest)] {
        guard !items.isEmpty else { return [] }
        let keys = try items.map { try MetaKey.name($0.repository, "repository") }
        return try journaledWrite(sync: false) { txn, journal in
            let protection = historyProtection(now: now)
            var deleted: [(repository: String, digest: BlobDigest)] = []
            for (item, repo) in zip(items, keys) {
                guard let value = try txn.get(db.manifests, MetaKey.repoDigest(repo, item.digest)),
                      try !isKept(txn, repo, item.digest, nil) else { continue }
                let entry = try ManifestEntry.decode(value)
                guard entry.unkeptAt <= requeueAt else { continue }
                if let protection, try isKept(txn, repo, item.digest, protection) {
                    // Due again when the protection of this manifest ends
                    // (the review's time plus the untagged delay, now − requeueAt).
                    if try isProtected(txn, repo, item.digest, entry, protection) {
                        let due = entry.unkeptAt + protection.policy.protect
                        try enqueue(txn, .manifestUntagged(repository: item.repository, digest: item.digest,
                                                           at: due - min(due, now - requeueAt)))
                    }
                    continue
                }
                try deleteManifestInTransaction(txn, repo, item.digest, entry, now: now, requeueAt: requeueAt, &journal)
                deleted.append(item)
            }
            return deleted
        }
    }

    /// Schema 1 → 2: builds manifest_parents from every manifest's edges.
    func buildParentsIndex(_ txn: LMDBTransaction) throws {
        var rows: [[UInt8]] = []
        try txn.scan(db.manifests, from: nil) { key, value in
            guard let zero = key.firstIndex(of: 0), let m = BlobDigest(key: Array(key[(zero + 1)...])) else {
                throw StoreError(.corrupt, "bad manifests key")
            }
            let repo = Array(key[..<zero])
            for r in try ManifestEntry.decode(value).parentEdges {
                rows.append(Self.parentKey(repo, child: r, parent: m))
            }
            return true
        }
        for k in rows { try txn.put(db.manifestParents, k, []) }
    }
}
