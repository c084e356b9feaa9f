// Manifests per repository: edges, refcounts, referrers.
//
// Thread safety: as MetaStore (reads: one read txn; writes: one write txn).
// Invariants:
//   1. Adding (repo, m) retains m once and each distinct reference of m once;
//      removing it releases exactly the same set (read back from the stored
//      edges, never from the caller).
//   2. repo_refs[repo, d] == number of manifests of repo whose distinct
//      references contain d (absent when 0).
//   3. A referrers entry exists iff its manifest exists and has that subject.
//   4. Re-pushing an existing (repo, m) changes no edge and no refcount.
//   5. A manifest is recorded only while its blob record exists, checked in
//      the recording transaction (never re-created from a caller's location,
//      which the collector or compaction may have freed).
//   6. A sparse index's children the repository lacks when it is recorded
//      (`ManifestEdges.sparseChildren`, decided in the recording transaction)
//      are parent edges without references: `manifest_parents` rows written
//      and removed with the index, nothing retained. A child pushed later is
//      then kept by the index as any child is (MetaStore+Keep), while its own
//      entry retains its bytes and layers.

extension MetaStore {
    /// Records the manifest, its edges and its tags in one write transaction.
    /// Returns false, changing nothing, when the manifest's blob record is
    /// missing (collected since the caller stored the bytes): the caller
    /// stores them again. `location` re-creates a missing record instead; only
    /// the metadata tests pass one (a caller's location may be stale: the
    /// collector or compaction may have freed it).
    @discardableResult
    func putManifest(repository: String, digest: BlobDigest, location: BlobLocation? = nil, edges: ManifestEdges,
                     tags: [String], freeze: TagFreeze? = nil, by: String? = nil, notes: [[UInt8]] = [],
                     now: UInt64) throws -> Bool {
        let repo = try MetaKey.name(repository, "repository")
        let tagKeys = try tags.map { try MetaKey.name($0, "tag") }
        return try journaledWrite { txn, journal in
            var rec = try getBlob(txn, digest)
            if rec == nil {
                guard let location else { return false }
                let fresh = BlobRecord(location: location, refcount: 0, zeroedAt: now, createdAt: now)
                try putBlob(txn, digest, fresh)
                try adjustPackLive(txn, location, added: true)
                rec = fresh
            }
            if try !txn.contains(db.manifests, MetaKey.repoDigest(repo, digest)) {
                var required = Set(edges.references)
                var absent: [BlobDigest] = []
                for c in Set(edges.sparseChildren) where !required.contains(c) {
                    if try c == digest || isAvailable(txn, repo, c) { required.insert(c) } else { absent.append(c) }
                }
                for r in required where r != digest {
                    guard try isAvailable(txn, repo, r) else {
                        throw StoreError(.referenceUnknown, "manifest \(digest) references \(r), unknown in repository \(repository)")
                    }
                }
                var recorded = edges
                recorded.sparseChildren = absent.sorted()
                try addManifestInTransaction(txn, repo, digest, recorded, references: required.sorted(),
                                             size: rec!.location.rawLength, createdAt: now, &journal)
                // Pushed by digest (an index child, a referrer, or an image
                // whose tag never came): the untagged policy reviews it; the
                // review keeps it if a tag or a kept index or subject does.
                if tagKeys.isEmpty {
                    try enqueue(txn, .manifestUntagged(repository: repository, digest: digest, at: now))
                }
            }
            for tag in tagKeys {
                try setTagInTransaction(txn, repo, tag, digest, now: now, freeze: freeze, change: TagChange(.push, by: by), &journal)
            }
            try appendOutbox(txn, notes)
            return true
        }
    }

    /// Records a manifest that is not yet one of the repository's, with its
    /// edges, retaining it and its distinct `references` once each
    /// (invariant 1), recording `edges.sparseChildren` as absent children
    /// (invariant 6), and journals it.
    func addManifestInTransaction(_ txn: LMDBTransaction, _ repo: [UInt8], _ digest: BlobDigest, _ edges: ManifestEdges,
                                  references: [BlobDigest], size: UInt64, createdAt: UInt64,
                                  _ journal: inout [JournalRecord]) throws {
        let entry = ManifestEntry(createdAt: createdAt, mediaType: edges.mediaType, subject: edges.subject, references: references,
                                  unkeptAt: createdAt, absent: edges.sparseChildren)
        let wasMember = try isUsageMember(txn, repo, digest)
        try txn.put(db.manifests, MetaKey.repoDigest(repo, digest), entry.encode())
        try usageMembership(txn, repo, digest, wasMember: wasMember)
        try adjustRepository(txn, repo, .manifests, by: 1)
        try retain(txn, digest)
        for r in references {
            try retain(txn, r)
            try adjustRepoRef(txn, repo, r, by: 1)
            try txn.put(db.manifestParents, Self.parentKey(repo, child: r, parent: digest), [])
        }
        for c in entry.absent { try txn.put(db.manifestParents, Self.parentKey(repo, child: c, parent: digest), []) }
        if let subject = edges.subject {
            try txn.put(db.referrers, MetaKey.referrer(repo, subject: subject, digest),
                        ReferrerValue.encode(mediaType: edges.mediaType, artifactType: edges.artifactType,
                                             size: size, annotations: edges.annotations))
        }
        var recorded = edges
        recorded.references = references
        journal.append(.manifestPut(repository: String(decoding: repo, as: UTF8.self), digest: digest, at: createdAt, edges: recorded))
    }

    func manifest(repository: String, digest: BlobDigest) throws -> ManifestRecord? {
        let repo = try MetaKey.name(repository, "repository")
        return try env.read { txn in try manifestRecord(txn, repo, digest) }
    }

    /// The manifest `tag` names: the tag resolved and its manifest looked up
    /// in one read transaction (a GET or HEAD by tag).
    func manifest(repository: String, tag: String) throws -> ManifestRecord? {
        let repo = try MetaKey.name(repository, "repository")
        let key = MetaKey.repoTag(repo, try MetaKey.name(tag, "tag"))
        return try env.read { txn in
            guard let v = try txn.get(db.tags, key) else { return nil }
            var r = ByteReader(v, what: "tag")
            return try manifestRecord(txn, repo, try r.digest())
        }
    }

    private func manifestRecord(_ txn: LMDBTransaction, _ repo: [UInt8], _ digest: BlobDigest) throws -> ManifestRecord? {
        guard let v = try txn.get(db.manifests, MetaKey.repoDigest(repo, digest)) else { return nil }
        let entry = try ManifestEntry.decode(v)
        guard let rec = try getBlob(txn, digest) else {
            throw StoreError(.corrupt, "manifest \(digest) of \(String(decoding: repo, as: UTF8.self)) has no blob record")
        }
        return ManifestRecord(digest: digest, mediaType: entry.mediaType, location: rec.location)
    }

    /// The stored edges of a manifest (fsck, GC, tests).
    func manifestEdges(repository: String, digest: BlobDigest) throws -> (references: [BlobDigest], subject: BlobDigest?)? {
        let repo = try MetaKey.name(repository, "repository")
        return try env.read { txn in
            guard let v = try txn.get(db.manifests, MetaKey.repoDigest(repo, digest)) else { return nil }
            let entry = try ManifestEntry.decode(v)
            return (entry.references, entry.subject)
        }
    }

    func deleteManifest(repository: String, digest: BlobDigest, now: UInt64, by: String? = nil, notes: [[UInt8]] = []) throws {
        let repo = try MetaKey.name(repository, "repository")
        try journaledWrite { txn, journal in
            guard let v = try txn.get(db.manifests, MetaKey.repoDigest(repo, digest)) else {
                throw StoreError(.manifestUnknown, "manifest \(digest) unknown in repository \(repository)")
            }
            try deleteManifestInTransaction(txn, repo, digest, try ManifestEntry.decode(v), now: now, requeueAt: now, by: by, &journal)
            try appendOutbox(txn, notes)
        }
    }

    /// Removes the manifest, every tag on it, its referrer entry and edges,
    /// releasing exactly what adding it retained (invariant 1). The manifests
    /// it may have kept — child manifests of this repository and its
    /// referrers — are queued for untagged review at `requeueAt`. Journals
    /// the removal (the tags on it go with it: replay deletes them the same way).
    func deleteManifestInTransaction(_ txn: LMDBTransaction, _ repo: [UInt8], _ digest: BlobDigest,
                                     _ entry: ManifestEntry, now: UInt64, requeueAt: UInt64, by: String? = nil,
                                     _ journal: inout [JournalRecord]) throws {
        journal.append(.manifestDeleted(repository: String(decoding: repo, as: UTF8.self), digest: digest, at: now, by: by))
        let mkey = MetaKey.repoDigest(repo, digest)
        var orphaned: [BlobDigest] = []
        for r in entry.parentEdges where r != digest {
            if try txn.contains(db.manifests, MetaKey.repoDigest(repo, r)) { orphaned.append(r) }
        }
        try txn.scanPrefix(db.referrers, MetaKey.repoPrefix(repo) + digest.key) { suffix, _ in
            guard let d = BlobDigest(key: suffix) else { throw StoreError(.corrupt, "bad referrer key") }
            orphaned.append(d)
            return true
        }
        let name = String(decoding: repo, as: UTF8.self)
        for d in orphaned {
            try enqueue(txn, .manifestUntagged(repository: name, digest: d, at: requeueAt))
            try markUnkept(txn, repo, d, at: requeueAt, lowering: true)
        }
        var tags: [[UInt8]] = []
        try txn.scanPrefix(db.manifestTags, mkey) { tag, _ in tags.append(tag); return true }
        for tag in tags {
            try txn.delete(db.tags, MetaKey.repoTag(repo, tag))
            try forgetPull(txn, repo, tag)
            try txn.delete(db.manifestTags, MetaKey.manifestTag(repo, digest, tag))
            try adjustRepository(txn, repo, .tags, by: -1)
            try appendHistory(txn, repo, tag, TagChange(.delete, by: by), digest, now: now)
        }
        if let subject = entry.subject {
            try txn.delete(db.referrers, MetaKey.referrer(repo, subject: subject, digest))
        }
        try txn.delete(db.manifests, mkey)
        try usageMembership(txn, repo, digest, wasMember: true)
        try adjustRepository(txn, repo, .manifests, by: -1)
        try release(txn, digest, now: now)
        for r in entry.references {
            try release(txn, r, now: now)
            try adjustRepoRef(txn, repo, r, by: -1)
            try txn.delete(db.manifestParents, Self.parentKey(repo, child: r, parent: digest))
        }
        for c in entry.absent { try txn.delete(db.manifestParents, Self.parentKey(repo, child: c, parent: digest)) }
    }

    func referrers(repository: String, subject: BlobDigest, artifactType: String?) throws -> [Referrer] {
        let repo = try MetaKey.name(repository, "repository")
        return try env.read { txn in
            var out: [Referrer] = []
            try txn.scanPrefix(db.referrers, MetaKey.repoPrefix(repo) + subject.key) { suffix, value in
                guard let d = BlobDigest(key: suffix) else { throw StoreError(.corrupt, "bad referrer key") }
                let r = try ReferrerValue.decode(digest: d, value)
                if artifactType == nil || r.artifactType == artifactType { out.append(r) }
                return true
            }
            return out
        }
    }

    /// Manifests of `repository` whose references contain `digest` (a scan of
    /// the repository's manifests: fsck/GC use, not the hot path).
    func manifestsReferencing(repository: String, digest: BlobDigest) throws -> [BlobDigest] {
        let repo = try MetaKey.name(repository, "repository")
        return try env.read { txn in
            var out: [BlobDigest] = []
            try txn.scanPrefix(db.manifests, MetaKey.repoPrefix(repo)) { suffix, value in
                guard let m = BlobDigest(key: suffix) else { throw StoreError(.corrupt, "bad manifest key") }
                if try ManifestEntry.decode(value).references.contains(digest) { out.append(m) }
                return true
            }
            return out
        }
    }

    /// Records that the manifest may have become unkept at `at` (the untagged
    /// delay counts from there). `lowering`: only move it earlier (the
    /// orphans of a delete are due at once, whenever they were untagged).
    func markUnkept(_ txn: LMDBTransaction, _ repo: [UInt8], _ m: BlobDigest, at: UInt64, lowering: Bool = false) throws {
        let key = MetaKey.repoDigest(repo, m)
        guard let v = try txn.get(db.manifests, key) else { return }
        var entry = try ManifestEntry.decode(v)
        let next = lowering ? min(entry.unkeptAt, at) : at
        guard next != entry.unkeptAt else { return }
        entry.unkeptAt = next
        try txn.put(db.manifests, key, entry.encode())
    }

    func adjustRepoRef(_ txn: LMDBTransaction, _ repo: [UInt8], _ d: BlobDigest, by delta: Int) throws {
        let key = MetaKey.repoDigest(repo, d)
        var count: UInt64 = 0
        if let v = try txn.get(db.repoRefs, key) {
            var r = ByteReader(v, what: "repo_refs")
            count = try r.u64()
        }
        if delta < 0 {
            guard count > 0 else { throw StoreError(.corrupt, "repo_refs underflow for \(d)") }
            count -= 1
        } else {
            count += 1
        }
        // Membership (MetaStore+Usage) can only change when the count
        // crosses zero; a layer shared by more manifests costs nothing more.
        let crossesZero = count == 0 || (delta > 0 && count == 1)
        let wasMember = crossesZero ? try isUsageMember(txn, repo, d) : true
        if count == 0 {
            try txn.delete(db.repoRefs, key)
        } else {
            var w = ByteWriter(capacity: 8)
            w.u64(count)
            try txn.put(db.repoRefs, key, w.bytes)
        }
        if crossesZero { try usageMembership(txn, repo, d, wasMember: wasMember) }
    }
}
