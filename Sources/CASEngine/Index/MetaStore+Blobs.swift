// Blob index and repository→blob links.
//
// Thread safety: as MetaStore (reads: one read txn; writes: one write txn).
// Invariants:
//   1. A blob record's location changes only through `relocateBlob`, and only
//      from the location the caller saw (compaction's compare-and-swap).
//   2. links[repo, d] exists iff blob_links[d, repo] exists, and only while
//      blobs[d] exists.
//   3. Committing or linking a blob whose refcount is 0 restarts its grace
//      period (zeroedAt = now, review enqueued): DESIGN.md "HEAD/GET/mount of a
//      zero-ref blob restarts its grace period". The check that the blob
//      exists (dedupe, mount source, HEAD) is made in the same write
//      transaction that links it or restarts its grace: GC's removeBlob, also
//      one transaction, either ran before (the caller sees nil and stores the
//      bytes or answers 404) or sees the fresh zeroedAt and keeps the blob.

extension MetaStore {
    func blob(_ digest: BlobDigest) throws -> BlobRecord? {
        try env.read { txn in try getBlob(txn, digest) }
    }

    /// Group commit: one write transaction for the whole batch. Returns the
    /// record per entry; an existing digest keeps its location (dedupe).
    func commitBlobs(_ entries: [(digest: BlobDigest, location: BlobLocation, linkTo: String?)], now: UInt64) throws -> [BlobRecord] {
        let repos = try entries.map { try $0.linkTo.map { try MetaKey.name($0, "repository") } }
        return try env.write { txn in
            var out: [BlobRecord] = []
            out.reserveCapacity(entries.count)
            for (i, e) in entries.enumerated() {
                var rec: BlobRecord
                if let existing = try getBlob(txn, e.digest) {
                    rec = existing
                    if rec.refcount == 0, rec.zeroedAt != now {
                        rec.zeroedAt = now
                        try putBlob(txn, e.digest, rec)
                        try enqueue(txn, .blobZeroed(e.digest, at: now))
                    }
                } else {
                    rec = BlobRecord(location: e.location, refcount: 0, zeroedAt: now, createdAt: now)
                    try putBlob(txn, e.digest, rec)
                    try adjustPackLive(txn, e.location, added: true)
                    try enqueue(txn, .blobZeroed(e.digest, at: now))
                }
                if let repo = repos[i] { try linkInTransaction(txn, repo, e.digest, now: now) }
                out.append(rec)
            }
            return out
        }
    }

    /// Ordered scan (digest key order); stops when `body` returns false.
    /// Runs in one read snapshot, so keep `body` short on a live store.
    func forEachBlob(_ body: (BlobDigest, BlobRecord) throws -> Bool) throws {
        try env.read { txn in
            try txn.scan(db.blobs, from: nil) { key, value in
                guard let d = BlobDigest(key: key) else { throw StoreError(.corrupt, "bad blob index key") }
                return try body(d, try BlobRecord.decode(value))
            }
        }
    }

    /// Compaction: moves the record only if it is still at `from`.
    func relocateBlob(_ digest: BlobDigest, from: BlobLocation, to: BlobLocation) throws -> Bool {
        try env.write { txn in
            guard var rec = try getBlob(txn, digest), rec.location == from else { return false }
            rec.location = to
            try putBlob(txn, digest, rec)
            try adjustPackLive(txn, from, added: false)
            try adjustPackLive(txn, to, added: true)
            return true
        }
    }

    /// GC: removes the record only if refcount == 0 and zeroedAt <= ifZeroSince,
    /// and with it every repository link to the blob.
    func removeBlob(_ digest: BlobDigest, ifZeroSince: UInt64) throws -> Bool {
        try env.write { txn in try removeBlobInTransaction(txn, digest, ifZeroSince: ifZeroSince) != nil }
    }

    /// The collector's batch: `removeBlob` for each digest, in ONE write
    /// transaction (one fsync per page of the queue, not per blob). Returns
    /// the records removed.
    func removeBlobs(_ digests: [BlobDigest], ifZeroSince: UInt64) throws -> [(BlobDigest, BlobRecord)] {
        guard !digests.isEmpty else { return [] }
        return try env.write { txn in
            try digests.compactMap { d in try removeBlobInTransaction(txn, d, ifZeroSince: ifZeroSince).map { (d, $0) } }
        }
    }

    private func removeBlobInTransaction(_ txn: LMDBTransaction, _ digest: BlobDigest, ifZeroSince: UInt64) throws -> BlobRecord? {
        guard let rec = try getBlob(txn, digest), rec.refcount == 0, rec.zeroedAt <= ifZeroSince else { return nil }
        try txn.delete(db.blobs, digest.key)
        try adjustPackLive(txn, rec.location, added: false)
        var repos: [[UInt8]] = []
        try txn.scanPrefix(db.blobLinks, digest.key) { repo, _ in repos.append(repo); return true }
        for repo in repos {
            try txn.delete(db.blobLinks, MetaKey.blobLink(digest, repo))
            try txn.delete(db.links, MetaKey.repoDigest(repo, digest))
            try adjustRepository(txn, repo, .links, by: -1)
        }
        return rec
    }

    // MARK: Links

    /// Creates or refreshes the link; false if the blob is unknown.
    func link(repository: String, digest: BlobDigest, now: UInt64) throws -> Bool {
        try linkExisting(repository: repository, digest: digest, now: now) != nil
    }

    /// Dedupe and mount in one transaction: if the blob is indexed, links it
    /// (restarting a zero-ref blob's grace period, invariant 3) and returns
    /// its record; nil when it is not indexed (the caller stores the bytes).
    /// `from`: the blob must also be available there (mount with `from`).
    func linkExisting(repository: String, digest: BlobDigest, from: String? = nil, now: UInt64) throws -> BlobRecord? {
        let repo = try MetaKey.name(repository, "repository")
        let source = try from.map { try MetaKey.name($0, "repository") }
        return try env.write { txn in
            if let source, try !isVisible(txn, source, digest) { return nil }
            guard let rec = try refreshGrace(txn, digest, now: now) else { return nil }
            try linkInTransaction(txn, repo, digest, now: now)
            return rec
        }
    }

    /// HEAD/GET of a zero-ref blob: re-checks in one write transaction that
    /// the blob is still indexed and available in the repository, and
    /// restarts its grace period there. nil when it is gone (the answer is 404).
    func refreshIfAvailable(repository: String, digest: BlobDigest, now: UInt64) throws -> BlobRecord? {
        let repo = try MetaKey.name(repository, "repository")
        return try env.write { txn in
            guard try isVisible(txn, repo, digest) else { return nil }
            return try refreshGrace(txn, digest, now: now)
        }
    }

    /// The record, when the blob is visible in the repository (one read
    /// snapshot for both checks).
    func availableBlob(repository: String, digest: BlobDigest) throws -> BlobRecord? {
        let repo = try MetaKey.name(repository, "repository")
        return try env.read { txn in
            guard try isVisible(txn, repo, digest) else { return nil }
            return try getBlob(txn, digest)
        }
    }

    /// Repositories that link the blob, in byte order, at most `limit`
    /// (anonymous mounts: the HTTP layer keeps those the requester may pull).
    func repositoriesLinking(_ digest: BlobDigest, limit: Int) throws -> [String] {
        try env.read { txn in
            var out: [String] = []
            try txn.scanPrefix(db.blobLinks, digest.key) { repo, _ in
                out.append(String(decoding: repo, as: UTF8.self))
                return out.count < limit
            }
            return out
        }
    }

    /// The blob's record with a zero-ref grace period restarted at `now`.
    private func refreshGrace(_ txn: LMDBTransaction, _ digest: BlobDigest, now: UInt64) throws -> BlobRecord? {
        guard var rec = try getBlob(txn, digest) else { return nil }
        if rec.refcount == 0, rec.zeroedAt != now {
            rec.zeroedAt = now
            try putBlob(txn, digest, rec)
            try enqueue(txn, .blobZeroed(digest, at: now))
        }
        return rec
    }

    func linkInTransaction(_ txn: LMDBTransaction, _ repo: [UInt8], _ digest: BlobDigest, now: UInt64) throws {
        let key = MetaKey.repoDigest(repo, digest)
        let isNew = try !txn.contains(db.links, key)
        var w = ByteWriter(capacity: 8)
        w.u64(now)
        try txn.put(db.links, key, w.bytes)
        if isNew {
            try txn.put(db.blobLinks, MetaKey.blobLink(digest, repo), [])
            try adjustRepository(txn, repo, .links, by: 1)
        }
    }

    func unlink(repository: String, digest: BlobDigest) throws -> Bool {
        let repo = try MetaKey.name(repository, "repository")
        return try env.write { txn in
            guard try txn.delete(db.links, MetaKey.repoDigest(repo, digest)) else { return false }
            try txn.delete(db.blobLinks, MetaKey.blobLink(digest, repo))
            try adjustRepository(txn, repo, .links, by: -1)
            return true
        }
    }

    func isLinked(repository: String, digest: BlobDigest) throws -> Bool {
        try linkedAt(repository: repository, digest: digest) != nil
    }

    func linkedAt(repository: String, digest: BlobDigest) throws -> UInt64? {
        let repo = try MetaKey.name(repository, "repository")
        return try env.read { txn in
            guard let v = try txn.get(db.links, MetaKey.repoDigest(repo, digest)) else { return nil }
            var r = ByteReader(v, what: "link")
            return try r.u64()
        }
    }

    /// True if the blob is available in the repository: linked, a manifest of
    /// it, or referenced by one of its manifests (Store.stat(_:in:)).
    func isAvailable(repository: String, digest: BlobDigest) throws -> Bool {
        let repo = try MetaKey.name(repository, "repository")
        return try env.read { txn in try isAvailable(txn, repo, digest) }
    }

    /// What blob HEAD/GET and a mount's `from` see: the blob is linked into
    /// the repository or is one of its manifests (a DELETE of the blob's link
    /// hides it even while a manifest still references it, as distribution).
    func isVisible(_ txn: LMDBTransaction, _ repo: [UInt8], _ digest: BlobDigest) throws -> Bool {
        try txn.contains(db.links, MetaKey.repoDigest(repo, digest)) || txn.contains(db.manifests, MetaKey.repoDigest(repo, digest))
    }

    func isAvailable(_ txn: LMDBTransaction, _ repo: [UInt8], _ digest: BlobDigest) throws -> Bool {
        let key = MetaKey.repoDigest(repo, digest)
        return try txn.contains(db.links, key) || txn.contains(db.manifests, key) || txn.contains(db.repoRefs, key)
    }
}
