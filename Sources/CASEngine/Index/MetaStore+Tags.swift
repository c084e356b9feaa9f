// Tags and repository listings (tag history: MetaStore+History).
//
// Thread safety: as MetaStore (reads: one read txn; writes: one write txn).
// Invariants:
//   1. tags[repo, t] == m iff manifest_tags[repo, m, t] exists, and m is a
//      manifest of repo.
//   2. Every change of a tag (set to a different manifest, delete) appends one
//      tag_history entry recording its `TagChange`; setting a tag to the
//      manifest it already names changes nothing.
//   3. When a tag leaves manifest m and no other tag of the repository names m,
//      `.manifestUntagged(repo, m, now)` is enqueued in the same transaction.

import CLMDB

extension MetaStore {
    func resolveTag(repository: String, tag: String) throws -> BlobDigest? {
        let key = MetaKey.repoTag(try MetaKey.name(repository, "repository"), try MetaKey.name(tag, "tag"))
        return try env.read { txn in
            guard let v = try txn.get(db.tags, key) else { return nil }
            var r = ByteReader(v, what: "tag")
            return try r.digest()
        }
    }

    func setTag(repository: String, tag: String, digest: BlobDigest, now: UInt64, change: TagChange = TagChange(.push)) throws {
        let repo = try MetaKey.name(repository, "repository")
        let t = try MetaKey.name(tag, "tag")
        try journaledWrite { txn, journal in try setTagInTransaction(txn, repo, t, digest, now: now, change: change, &journal) }
    }

    /// Points the tag at the manifest (journaled when it changes). A tag that
    /// exists, points elsewhere and is frozen by `freeze` is `.immutable`:
    /// checked here, in the writing transaction, so no concurrent push can
    /// move it between a check and the write.
    func setTagInTransaction(_ txn: LMDBTransaction, _ repo: [UInt8], _ tag: [UInt8], _ digest: BlobDigest, now: UInt64,
                             freeze: TagFreeze? = nil, change: TagChange, _ journal: inout [JournalRecord]) throws {
        guard try txn.contains(db.manifests, MetaKey.repoDigest(repo, digest)) else {
            throw StoreError(.manifestUnknown, "manifest \(digest) unknown in repository \(String(decoding: repo, as: UTF8.self))")
        }
        let key = MetaKey.repoTag(repo, tag)
        var old: BlobDigest?
        if let v = try txn.get(db.tags, key) {
            var r = ByteReader(v, what: "tag")
            old = try r.digest()
        }
        if old == digest { return }
        if let old, let freeze {
            let (repository, name) = (String(decoding: repo, as: UTF8.self), String(decoding: tag, as: UTF8.self))
            if let rule = freeze(repository, name) {
                throw StoreError(.immutable, "tag \(name) of \(repository) is immutable (\(rule)); it points at \(old)")
            }
        }
        try txn.put(db.tags, key, digest.key)
        try txn.put(db.manifestTags, MetaKey.manifestTag(repo, digest, tag), [])
        if let old {
            try untag(txn, repo, tag, old, now: now)
        } else {
            try adjustRepository(txn, repo, .tags, by: 1)
        }
        try appendHistory(txn, repo, tag, change, digest, now: now)
        journal.append(.tagSet(repository: String(decoding: repo, as: UTF8.self), tag: String(decoding: tag, as: UTF8.self),
                               digest: digest, at: now, change: change))
    }

    func deleteTag(repository: String, tag: String, now: UInt64, by: String? = nil, notes: [[UInt8]] = []) throws {
        let repo = try MetaKey.name(repository, "repository")
        let t = try MetaKey.name(tag, "tag")
        try journaledWrite { txn, journal in
            guard try txn.contains(db.tags, MetaKey.repoTag(repo, t)) else {
                throw StoreError(.tagUnknown, "tag \(tag) unknown in repository \(repository)")
            }
            try deleteTagInTransaction(txn, repo, t, now: now, by: by, &journal)
            try appendOutbox(txn, notes)
        }
    }

    /// Deletes an existing tag (journaled).
    func deleteTagInTransaction(_ txn: LMDBTransaction, _ repo: [UInt8], _ t: [UInt8], now: UInt64, by: String?,
                                _ journal: inout [JournalRecord]) throws {
        let key = MetaKey.repoTag(repo, t)
        guard let v = try txn.get(db.tags, key) else { return }
        var r = ByteReader(v, what: "tag")
        let old = try r.digest()
        try txn.delete(db.tags, key)
        try forgetPull(txn, repo, t)
        try adjustRepository(txn, repo, .tags, by: -1)
        try untag(txn, repo, t, old, now: now)
        try appendHistory(txn, repo, t, TagChange(.delete, by: by), old, now: now)
        journal.append(.tagDeleted(repository: String(decoding: repo, as: UTF8.self), tag: String(decoding: t, as: UTF8.self), at: now, by: by))
    }

    /// Drops the reverse entry (repo, old, tag) and enqueues the untagged review.
    private func untag(_ txn: LMDBTransaction, _ repo: [UInt8], _ tag: [UInt8], _ old: BlobDigest, now: UInt64) throws {
        try txn.delete(db.manifestTags, MetaKey.manifestTag(repo, old, tag))
        var stillTagged = false
        try txn.scanPrefix(db.manifestTags, MetaKey.repoDigest(repo, old)) { _, _ in stillTagged = true; return false }
        if !stillTagged {
            try enqueue(txn, .manifestUntagged(repository: String(decoding: repo, as: UTF8.self), digest: old, at: now))
            try markUnkept(txn, repo, old, at: now)
        }
    }

    /// Byte-lexical order, strictly after `after`; nil if the repository is unknown.
    func tags(repository: String, after: String?, limit: Int?) throws -> [String]? {
        let repo = try MetaKey.name(repository, "repository")
        let afterBytes = after.map { Array($0.utf8) }
        return try env.read { txn in
            guard try txn.contains(db.repos, repo) else { return nil }
            let prefix = MetaKey.repoPrefix(repo)
            return try Self.page(txn, db.tags, prefix: prefix, after: afterBytes, limit: limit)
        }
    }

    /// Repositories with at least one manifest, tag or link, byte-lexical order.
    func repositories(after: String?, limit: Int?) throws -> [String] {
        let afterBytes = after.map { Array($0.utf8) }
        return try env.read { txn in try Self.page(txn, db.repos, prefix: [], after: afterBytes, limit: limit) }
    }

    /// Names (key minus `prefix`) strictly after `after`, at most `limit`.
    private static func page(_ txn: LMDBTransaction, _ dbi: MDB_dbi, prefix: [UInt8], after: [UInt8]?, limit: Int?) throws -> [String] {
        if let limit, limit <= 0 { return [] }
        var out: [String] = []
        let start = prefix + (after ?? [])
        try txn.scan(dbi, from: start.isEmpty ? nil : start) { key, _ in
            guard key.count >= prefix.count, key[..<prefix.count].elementsEqual(prefix) else { return false }
            let name = Array(key[prefix.count...])
            if let after, name == after { return true }
            out.append(String(decoding: name, as: UTF8.self))
            return limit.map { out.count < $0 } ?? true
        }
        return out
    }
}

