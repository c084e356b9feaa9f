// When each tag was last pulled, for retention (`mostrecentlypulledcount`,
// `pulledwithin`) and listings — without making a pull a write.
//
// `tag_pulls`: key `repo ‖ 0x00 ‖ tag`, value u64 LE unix seconds of the
// last pull by tag (GET or HEAD of the manifest by tag).
//
// Thread safety: `notePull` only updates `pendingPulls` under its Mutex;
// `flushPulls` swaps the map out and writes it in one write transaction.
// Invariants:
//   1. A pull costs no LMDB write: it is noted in memory and written by the
//      next flush (the online collector's pass, retention, close). A crash
//      loses at most the pulls since the last flush; pull times are advisory
//      (they only ever keep tags longer, never delete one earlier than the
//      recorded times say).
//   2. A flush writes only tags that exist in its transaction; deleting a
//      tag deletes its entry in the deleting transaction, so a tag created
//      again starts without the old one's pull time.

import CLMDB

extension MetaStore {
    func notePull(repository: String, tag: String, at: UInt64) {
        guard db.tagPulls != nil, let repo = try? MetaKey.name(repository, "repository"), let t = try? MetaKey.name(tag, "tag") else {
            return
        }
        let key = MetaKey.repoTag(repo, t)
        pendingPulls.withLock { $0[key] = max($0[key] ?? 0, at) }
    }

    /// Writes the noted pulls (invariant 2); returns how many tags it updated.
    @discardableResult
    func flushPulls() throws -> Int {
        guard let dbi = db.tagPulls else { return 0 }
        let pending = pendingPulls.withLock { p -> [[UInt8]: UInt64] in defer { p = [:] }; return p }
        guard !pending.isEmpty else { return 0 }
        return try env.write { txn in
            var written = 0
            for (key, at) in pending where try txn.contains(db.tags, key) {
                if let v = try txn.get(dbi, key) {
                    var r = ByteReader(v, what: "tag_pulls")
                    if try r.u64() >= at { continue }
                }
                var w = ByteWriter(capacity: 8)
                w.u64(at)
                try txn.put(dbi, key, w.bytes)
                written += 1
            }
            return written
        }
    }

    /// The last recorded pull of the tag, in `txn` (pending pulls not included).
    func pulledAt(_ txn: LMDBTransaction, _ repo: [UInt8], _ tag: [UInt8]) throws -> UInt64? {
        guard let dbi = db.tagPulls, let v = try txn.get(dbi, MetaKey.repoTag(repo, tag)) else { return nil }
        var r = ByteReader(v, what: "tag_pulls")
        return try r.u64()
    }

    /// Invariant 2, for the transactions that delete tags.
    func forgetPull(_ txn: LMDBTransaction, _ repo: [UInt8], _ tag: [UInt8]) throws {
        guard let dbi = db.tagPulls else { return }
        try txn.delete(dbi, MetaKey.repoTag(repo, tag))
    }
}

extension MetaStore {
    /// A tag as retention sees it.
    struct RetentionTag: Sendable {
        let tag: String
        let digest: BlobDigest
        /// When the tag last moved to its manifest (its newest history entry;
        /// the manifest's creation when history has none, e.g. imported).
        let pushed: UInt64
        let pulled: UInt64?
    }

    /// One repository's tags and its unkept manifests (not tagged, not kept
    /// by an index, subject or history protection), from one read transaction.
    func retentionSnapshot(repository: String, now: UInt64) throws
        -> (tags: [RetentionTag], unkept: [(digest: BlobDigest, unkeptAt: UInt64)]) {
        let repo = try MetaKey.name(repository, "repository")
        let protection = historyProtection(now: now)
        return try env.read { txn in
            var tags: [RetentionTag] = []
            var raw: [([UInt8], BlobDigest)] = []
            try txn.scanPrefix(db.tags, MetaKey.repoPrefix(repo)) { tag, value in
                guard let d = Self.digestValue(value) else { throw StoreError(.corrupt, "bad tags entry") }
                raw.append((tag, d))
                return true
            }
            for (tag, d) in raw {
                let history = try historyEntries(txn, MetaKey.tagHistoryPrefix(repo, tag))
                var pushed = history.last(where: { $0.action != .delete })?.at
                if pushed == nil, let v = try txn.get(db.manifests, MetaKey.repoDigest(repo, d)) {
                    pushed = try ManifestEntry.decode(v).createdAt
                }
                tags.append(RetentionTag(tag: String(decoding: tag, as: UTF8.self), digest: d, pushed: pushed ?? 0,
                                         pulled: try pulledAt(txn, repo, tag)))
            }
            var unkept: [(digest: BlobDigest, unkeptAt: UInt64)] = []
            try txn.scanPrefix(db.manifests, MetaKey.repoPrefix(repo)) { suffix, value in
                guard let d = BlobDigest(key: suffix) else { throw StoreError(.corrupt, "bad manifest key in \(repository)") }
                if try !isKept(txn, repo, d, protection) { unkept.append((d, try ManifestEntry.decode(value).unkeptAt)) }
                return true
            }
            return (tags, unkept)
        }
    }

    /// Deletes the tag only if it still names `digest` (retention's
    /// re-check); whether it did.
    func deleteTag(repository: String, tag: String, ifAt digest: BlobDigest, now: UInt64) throws -> Bool {
        let repo = try MetaKey.name(repository, "repository")
        let t = try MetaKey.name(tag, "tag")
        return try journaledWrite { txn, journal in
            guard let v = try txn.get(db.tags, MetaKey.repoTag(repo, t)), Self.digestValue(v) == digest else { return false }
            try deleteTagInTransaction(txn, repo, t, now: now, by: nil, &journal)
            return true
        }
    }
}
