// The metadata layer: one LMDB environment at `<root>/meta/` holding the blob
// index and all registry metadata (SCHEMA.md documents every byte).
//
// Thread safety: every method may be called from any thread concurrently,
// except `close()`, which the caller runs once no other call is in flight.
// Readers take no Swift lock: each read method is one LMDB read transaction
// (a consistent snapshot that never waits on writers). Each write method is one
// LMDB write transaction; LMDB serialises writers.
// Invariants:
//   1. blobs[d].refcount == number of (repository, manifest) entries whose
//      digest is d, plus the number of (repository, manifest m, distinct
//      reference d of m) triples. It changes only in the transaction that
//      adds or removes those manifests.
//   2. blobs[d].zeroedAt == 0 iff refcount > 0; every transition to 0 (and
//      every refresh of zeroedAt) enqueues `.blobZeroed(d, at: zeroedAt)`,
//      so a zero-ref blob always has its review queued (MetaStore+Queues
//      invariant 3 keeps a same-second repeat from being lost).
//   3. repos[r] exists iff r has at least one manifest, tag or link; its three
//      counters equal those numbers.
//   4. Every reverse index (blob_links, manifest_tags, repo_refs, review_index)
//      changes in the same transaction as its forward table.
//   5. A manifest of a repository, and every reference of it, has a blob record.
//   6. The schema version in `meta` is checked on open; unknown versions are
//      rejected before any other access.

import CLMDB
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `@unchecked Sendable`: all state is immutable after `init` (`env` is itself
/// thread-safe, see LMDBEnvironment; `db` is a value of DBI handles, which LMDB
/// allows any transaction on any thread to use once the opening transaction
/// committed).
final class MetaStore: @unchecked Sendable {
    /// 2: adds `manifest_parents` and `pack_live` (built from the manifests
    /// and the blob index at the first writable open of a version-1
    /// environment).
    static let schemaVersion: UInt32 = 3

    /// DBI handles of the named databases.
    struct Databases {
        let meta, blobs, repos, links, blobLinks, manifests, repoRefs, tags, manifestTags,
            tagHistory, referrers, review, reviewIndex, uploads, manifestParents, packLive: MDB_dbi
        /// Usage accounting (schema 3; nil in a read-only open of an older one).
        let blobRepos, repoUsage: MDB_dbi?
        /// Last pull per tag (nil in a read-only open of a store without it).
        let tagPulls: MDB_dbi?
        /// Notification outbox (nil in a read-only open of a store without it).
        let outbox: MDB_dbi?
    }

    static let databaseNames = [
        "meta", "blobs", "repos", "links", "blob_links", "manifests", "repo_refs", "tags",
        "manifest_tags", "tag_history", "referrers", "review", "review_index", "uploads",
        "manifest_parents", "pack_live", "blob_repos", "repo_usage", "tag_pulls", "outbox",
    ]

    let env: LMDBEnvironment
    let db: Databases
    /// Where journaled writes record their changes (nil: metadata tests, and
    /// stores opened read-only without a journal).
    let journal: RecoveryJournal?
    /// `berth.tags.history` (MetaStore+History); replaced on reload.
    let historyPolicy = Mutex(TagHistoryPolicy())
    /// Pulls not yet written (`repo ‖ 0x00 ‖ tag` → unix s), MetaStore+Pulls.
    let pendingPulls = Mutex<[[UInt8]: UInt64]>([:])

    /// Opens (creating unless `readOnly`) the environment in `directory`.
    /// `.unsupportedFormat` if the stored schema version is unknown.
    init(directory: String, mapSize: Int, maxMapSize: Int? = nil, readOnly: Bool, journal: RecoveryJournal? = nil) throws {
        self.journal = journal
        if !readOnly, mkdir(directory, 0o755) != 0, errno != EEXIST {
            throw StoreError.posix("mkdir", path: directory, errno: errno)
        }
        let env = try LMDBEnvironment(path: directory, mapSize: mapSize, maxMapSize: maxMapSize,
                                      maxDatabases: Self.databaseNames.count + 2, readOnly: readOnly)
        do {
            let h = try env.openDatabases(Self.databaseNames, optional: ["blob_repos", "repo_usage", "tag_pulls", "outbox"])
            db = Databases(
                meta: h["meta"]!, blobs: h["blobs"]!, repos: h["repos"]!, links: h["links"]!,
                blobLinks: h["blob_links"]!, manifests: h["manifests"]!, repoRefs: h["repo_refs"]!,
                tags: h["tags"]!, manifestTags: h["manifest_tags"]!, tagHistory: h["tag_history"]!,
                referrers: h["referrers"]!, review: h["review"]!, reviewIndex: h["review_index"]!,
                uploads: h["uploads"]!, manifestParents: h["manifest_parents"]!,
                packLive: h["pack_live"]!, blobRepos: h["blob_repos"], repoUsage: h["repo_usage"], tagPulls: h["tag_pulls"],
                outbox: h["outbox"])
            self.env = env
            try checkSchema()
        } catch {
            env.close()
            throw error
        }
    }

    /// Closes the environment. Must not overlap any other call; afterwards
    /// every call throws `.closed`.
    func close() { env.close() }

    private func checkSchema() throws {
        let stored = try env.read { txn in try txn.get(db.meta, MetaKey.schemaVersion) }
        if let stored {
            var r = ByteReader(stored, what: "schema version")
            let version = try r.u32()
            if version < Self.schemaVersion && version >= 1 && !env.readOnly {
                try env.write { txn in
                    if version == 1 {
                        try buildParentsIndex(txn)
                        try rebuildPackLive(txn)
                    }
                    try rebuildUsage(txn)
                    try putSchemaVersion(txn)
                }
                return
            }
            // A read-only open of an older version reads everything but what
            // it lacks: the parents index (version 1, used only by the
            // writable collector) and usage accounting (versions 1-2).
            guard version == Self.schemaVersion || (version >= 1 && version < Self.schemaVersion && env.readOnly) else {
                throw StoreError(.unsupportedFormat, "metadata schema version \(version) (this build reads \(Self.schemaVersion))")
            }
            return
        }
        guard !env.readOnly else {
            throw StoreError(.unsupportedFormat, "metadata has no schema version (never initialised)")
        }
        try env.write { txn in try putSchemaVersion(txn) }
    }

    private func putSchemaVersion(_ txn: LMDBTransaction) throws {
        var w = ByteWriter()
        w.u32(Self.schemaVersion)
        try txn.put(db.meta, MetaKey.schemaVersion, w.bytes)
    }

    // MARK: Shared transaction helpers

    // Key parsing (the inverse of MetaKey), for scans over whole tables.

    /// Parses `count` digest keys at the start of `bytes`; returns them and the rest.
    static func digests(_ bytes: ArraySlice<UInt8>, count: Int) -> ([BlobDigest], ArraySlice<UInt8>)? {
        var rest = bytes
        var out: [BlobDigest] = []
        for _ in 0..<count {
            guard let first = rest.first, let alg = DigestAlgorithm(rawValue: first),
                  rest.count >= 1 + alg.byteCount, let d = BlobDigest(key: rest.prefix(1 + alg.byteCount)) else { return nil }
            out.append(d)
            rest = rest.dropFirst(1 + alg.byteCount)
        }
        return (out, rest)
    }

    /// `repo ‖ 0x00 ‖ rest` → (repo, rest).
    static func splitRepo(_ key: [UInt8]) -> ([UInt8], ArraySlice<UInt8>)? {
        guard let zero = key.firstIndex(of: 0) else { return nil }
        return (Array(key[..<zero]), key[(zero + 1)...])
    }

    /// `repo ‖ 0x00 ‖ digest key ‖ …` → (repo, digest, rest).
    static func repoDigestKey(_ key: [UInt8]) -> (repo: [UInt8], digest: BlobDigest, rest: ArraySlice<UInt8>)? {
        guard let split = splitRepo(key), let parsed = digests(split.1, count: 1) else { return nil }
        return (split.0, parsed.0[0], parsed.1)
    }

    /// A value that is exactly one digest key.
    static func digestValue(_ value: [UInt8]) -> BlobDigest? {
        guard let parsed = digests(value[...], count: 1), parsed.1.isEmpty else { return nil }
        return parsed.0[0]
    }

    func getBlob(_ txn: LMDBTransaction, _ d: BlobDigest) throws -> BlobRecord? {
        try txn.get(db.blobs, d.key).map(BlobRecord.decode)
    }

    func putBlob(_ txn: LMDBTransaction, _ d: BlobDigest, _ rec: BlobRecord) throws {
        try txn.put(db.blobs, d.key, rec.encode())
    }

    /// Next value of the store-wide sequence (tag history and review queue order).
    func nextSequence(_ txn: LMDBTransaction) throws -> UInt64 {
        let seq = try peekSequence(txn)
        var w = ByteWriter()
        w.u64(seq + 1)
        try txn.put(db.meta, MetaKey.nextSequence, w.bytes)
        return seq
    }

    /// The value `nextSequence` would issue next, taking nothing.
    func peekSequence(_ txn: LMDBTransaction) throws -> UInt64 {
        guard let stored = try txn.get(db.meta, MetaKey.nextSequence) else { return 1 }
        var r = ByteReader(stored, what: "sequence")
        return try r.u64()
    }

    enum RepoCounter: Int { case manifests = 0, tags = 1, links = 2 }

    /// Adjusts one of the repository's counters, creating the repository on
    /// the way up and deleting it when all three reach 0 (invariant 3).
    func adjustRepository(_ txn: LMDBTransaction, _ repo: [UInt8], _ counter: RepoCounter, by delta: Int64) throws {
        var counts = try txn.get(db.repos, repo).map(Self.decodeRepoCounts) ?? [0, 0, 0]
        let current = counts[counter.rawValue]
        guard delta >= 0 || current >= UInt64(-delta) else {
            throw StoreError(.corrupt, "repository counter underflow for '\(String(decoding: repo, as: UTF8.self))'")
        }
        counts[counter.rawValue] = delta >= 0 ? current + UInt64(delta) : current - UInt64(-delta)
        if counts == [0, 0, 0] {
            try txn.delete(db.repos, repo)
        } else {
            try txn.put(db.repos, repo, Self.encodeRepoCounts(counts))
        }
    }

    /// A `repos` value: the manifests, tags and links counters (u64 LE each).
    static func decodeRepoCounts(_ value: [UInt8]) throws -> [UInt64] {
        var r = ByteReader(value, what: "repository")
        return [try r.u64(), try r.u64(), try r.u64()]
    }

    static func encodeRepoCounts(_ counts: [UInt64]) -> [UInt8] {
        var w = ByteWriter(capacity: 24)
        counts.forEach { w.u64($0) }
        return w.bytes
    }

    /// Whether a presence flag of `meta` (e.g. `journal_needs_replay`) is set.
    func metaFlag(_ key: [UInt8]) throws -> Bool {
        try env.read { txn in try txn.get(db.meta, key) != nil }
    }

    func setMetaFlag(_ key: [UInt8], _ on: Bool) throws {
        try env.write { txn in
            if on { try txn.put(db.meta, key, [1]) } else { _ = try txn.delete(db.meta, key) }
        }
    }

    /// refcount += 1, leaving 0 resets zeroedAt.
    func retain(_ txn: LMDBTransaction, _ d: BlobDigest) throws {
        guard var rec = try getBlob(txn, d) else {
            throw StoreError(.corrupt, "reference to \(d) has no blob record")
        }
        rec.refcount += 1
        rec.zeroedAt = 0
        try putBlob(txn, d, rec)
    }

    /// refcount -= 1; reaching 0 records zeroedAt = now and enqueues a review.
    func release(_ txn: LMDBTransaction, _ d: BlobDigest, now: UInt64) throws {
        guard var rec = try getBlob(txn, d), rec.refcount > 0 else {
            throw StoreError(.corrupt, "refcount of \(d) would go below zero")
        }
        rec.refcount -= 1
        if rec.refcount == 0 {
            rec.zeroedAt = now
            try enqueue(txn, .blobZeroed(d, at: now))
        }
        try putBlob(txn, d, rec)
    }

    /// Appends to the review queue. An identical item already queued moves
    /// to the tail (MetaStore+Queues invariant 3): a collector that read it
    /// before this request removes it only at the sequence it read, so the
    /// request is never lost to that removal.
    func enqueue(_ txn: LMDBTransaction, _ item: ReviewItem) throws {
        let encoded = item.encode()
        if let old = try txn.get(db.reviewIndex, encoded) { try txn.delete(db.review, old) }
        let seq = MetaKey.sequence(try nextSequence(txn))
        try txn.put(db.review, seq, encoded)
        try txn.put(db.reviewIndex, encoded, seq)
    }
}
