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
//      zero-ref blob restarts its grace period".

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
            return true
        }
    }

    /// GC: removes the record only if refcount == 0 and zeroedAt <= ifZeroSince,
    /// and with it every repository link to the blob.
    func removeBlob(_ digest: BlobDigest, ifZeroSince: UInt64) throws -> Bool {
        try env.write { txn in
            guard let rec = try getBlob(txn, digest), rec.refcount == 0, rec.zeroedAt <= ifZeroSince else { return false }
            try txn.delete(db.blobs, digest.key)
            var repos: [[UInt8]] = []
            try txn.scanPrefix(db.blobLinks, digest.key) { repo, _ in repos.append(repo); return true }
            for repo in repos {
                try txn.delete(db.blobLinks, MetaKey.blobLink(digest, repo))
                try txn.delete(db.links, MetaKey.repoDigest(repo, digest))
                try adjustRepository(txn, repo, .links, by: -1)
            }
            return true
        }
    }

    // MARK: Links

    /// Creates or refreshes the link; false if the blob is unknown.
    func link(repository: String, digest: BlobDigest, now: UInt64) throws -> Bool {
        let repo = try MetaKey.name(repository, "repository")
        return try env.write { txn in
            guard var rec = try getBlob(txn, digest) else { return false }
            if rec.refcount == 0, rec.zeroedAt != now {
                rec.zeroedAt = now
                try putBlob(txn, digest, rec)
                try enqueue(txn, .blobZeroed(digest, at: now))
            }
            try linkInTransaction(txn, repo, digest, now: now)
            return true
        }
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

    func isAvailable(_ txn: LMDBTransaction, _ repo: [UInt8], _ digest: BlobDigest) throws -> Bool {
        let key = MetaKey.repoDigest(repo, digest)
        return try txn.contains(db.links, key) || txn.contains(db.manifests, key) || txn.contains(db.repoRefs, key)
    }
}
