// Tag history: one entry per change of a tag (who, how, when, to what), the
// policy that bounds it (`TagHistoryPolicy`), listings, rollback, and the
// protection kept entries give their manifests against the untagged policy.
//
// Thread safety: as MetaStore; `historyPolicy` is read under its Mutex once
// per transaction.
// Invariants:
//   1. An entry is kept iff it is among the tag's newest `maxEntries` and
//      either it is the newest or the entry after it is at most `maxAge`
//      old. Appending prunes the tag's entries that are not kept, in the
//      same transaction; listings, rollback and protection apply the same
//      rule (`keptEntries`), so an entry that expired without a later
//      append is already invisible.
//   2. A rollback chooses its target and moves the tag in one write
//      transaction (through `setTagInTransaction`: immutability, untagged
//      reviews and the journal as for a push), so it cannot act on a
//      history another writer changed in between.
//   3. With `protect` > 0, a manifest a kept entry names is not deleted by
//      the untagged policy until `protect` after it last became unkept; the
//      deleting transaction re-checks this (MetaStore+Keep).

import CLMDB

extension MetaStore {
    /// Appends the entry for a change of `tag`, then prunes by policy (invariant 1).
    func appendHistory(_ txn: LMDBTransaction, _ repo: [UInt8], _ tag: [UInt8], _ change: TagChange,
                       _ digest: BlobDigest, now: UInt64) throws {
        let prefix = MetaKey.tagHistoryPrefix(repo, tag)
        try txn.put(db.tagHistory, prefix + MetaKey.sequence(try nextSequence(txn)),
                    Self.encodeHistory(at: now, change, digest))
        let policy = historyPolicy.withLock { $0 }
        guard policy.maxEntries != nil || policy.maxAge != nil else { return }
        let all = try historyEntries(txn, prefix)
        let kept = Set(Self.keptEntries(all, policy, now: now).map(\.sequence))
        for e in all where !kept.contains(e.sequence) {
            try txn.delete(db.tagHistory, prefix + MetaKey.sequence(e.sequence))
        }
    }

    static func encodeHistory(at: UInt64, _ change: TagChange, _ digest: BlobDigest) -> [UInt8] {
        var w = ByteWriter()
        w.u64(at)
        w.u8(change.action.rawValue)
        w.digest(digest)
        if let by = change.by { w.string16(by) }
        return w.bytes
    }

    static func decodeHistory(_ value: [UInt8], sequence: UInt64) throws -> TagHistoryEntry {
        var r = ByteReader(value, what: "tag history")
        let at = try r.u64()
        guard let action = TagAction(rawValue: try r.u8()) else { throw StoreError(.corrupt, "unknown tag history kind") }
        let digest = try r.digest()
        let by: String? = r.atEnd ? nil : try r.string16()
        guard r.atEnd else { throw StoreError(.corrupt, "trailing bytes in tag history entry") }
        return TagHistoryEntry(digest: digest, at: at, action: action, by: by, sequence: sequence)
    }

    /// Every stored entry of one tag (`prefix` = tagHistoryPrefix), oldest first.
    func historyEntries(_ txn: LMDBTransaction, _ prefix: [UInt8]) throws -> [TagHistoryEntry] {
        var out: [TagHistoryEntry] = []
        try txn.scanPrefix(db.tagHistory, prefix) { suffix, value in
            // The suffix is exactly the 8-byte sequence: a longer tag sharing
            // the prefix would need a NUL inside the tag.
            guard suffix.count == 8 else { return true }
            var r = ByteReader(Array(suffix), what: "tag history key")
            out.append(try Self.decodeHistory(value, sequence: try r.u64BE()))
            return true
        }
        return out
    }

    /// Invariant 1 over one tag's entries, oldest first.
    static func keptEntries(_ entries: [TagHistoryEntry], _ policy: TagHistoryPolicy, now: UInt64) -> [TagHistoryEntry] {
        var kept: [TagHistoryEntry] = []
        for (i, e) in entries.enumerated() {
            if let max = policy.maxEntries, entries.count - i > max, i != entries.count - 1 { continue }
            if let maxAge = policy.maxAge, i + 1 < entries.count, entries[i + 1].at + maxAge < now { continue }
            kept.append(e)
        }
        return kept
    }

    /// Set entries (no deletions), oldest first, as stored (no policy applied).
    func tagHistory(repository: String, tag: String) throws -> [TagHistoryEntry] {
        let prefix = MetaKey.tagHistoryPrefix(try MetaKey.name(repository, "repository"), try MetaKey.name(tag, "tag"))
        return try env.read { txn in try historyEntries(txn, prefix).filter { $0.action != .delete } }
    }

    /// The kept entries newest first, those with a sequence below `before`
    /// when given, at most `limit`; nil when the tag has no history at all.
    func tagHistoryPage(repository: String, tag: String, before: UInt64?, limit: Int?, now: UInt64) throws -> [TagHistoryEntry]? {
        let prefix = MetaKey.tagHistoryPrefix(try MetaKey.name(repository, "repository"), try MetaKey.name(tag, "tag"))
        let policy = historyPolicy.withLock { $0 }
        return try env.read { txn in
            let all = try historyEntries(txn, prefix)
            guard !all.isEmpty else { return nil }
            var page = Array(Self.keptEntries(all, policy, now: now).reversed().filter { e in before.map { e.sequence < $0 } ?? true })
            if let limit, page.count > limit { page.removeLast(page.count - max(0, limit)) }
            return page
        }
    }

    /// How a rollback names its target: `steps` positions back, or the digest.
    enum RollbackTarget { case steps(Int), digest(BlobDigest) }

    /// Re-points the tag to an earlier kept entry (invariant 2) and returns
    /// (new digest, digest before). `steps` counts set entries back from the
    /// current one; for a deleted tag, step 1 is the digest it had.
    func rollbackTag(repository: String, tag: String, to target: RollbackTarget, freeze: TagFreeze?, by: String?,
                     now: UInt64) throws -> (digest: BlobDigest, previous: BlobDigest?) {
        let repo = try MetaKey.name(repository, "repository")
        let t = try MetaKey.name(tag, "tag")
        let policy = historyPolicy.withLock { $0 }
        return try journaledWrite { txn, journal in
            let current = try txn.get(db.tags, MetaKey.repoTag(repo, t)).flatMap(Self.digestValue)
            let history = Self.keptEntries(try historyEntries(txn, MetaKey.tagHistoryPrefix(repo, t)), policy, now: now)
            guard !history.isEmpty else { throw StoreError(.tagUnknown, "tag \(tag) has no history in repository \(repository)") }
            let sets = history.reversed().filter { $0.action != .delete }
            let chosen: BlobDigest
            switch target {
            case .steps(let n):
                guard n >= 1 else { throw StoreError(.invalidArgument, "steps must be at least 1") }
                let index = current == nil ? n - 1 : n
                guard index < sets.count else {
                    throw StoreError(.invalidArgument, "the history of \(tag) holds \(max(0, sets.count - (current == nil ? 0 : 1))) earlier entries, not \(n)")
                }
                chosen = sets[index].digest
            case .digest(let d):
                guard sets.contains(where: { $0.digest == d }) else {
                    throw StoreError(.invalidArgument, "\(d) is not in the kept history of \(tag)")
                }
                chosen = d
            }
            try setTagInTransaction(txn, repo, t, chosen, now: now, freeze: freeze, change: TagChange(.rollback, by: by), &journal)
            return (chosen, current)
        }
    }

    /// Invariant 3 for one transaction: which manifests kept history
    /// entries name, per repository, computed on first need.
    final class HistoryProtection {
        let policy: TagHistoryPolicy
        let now: UInt64
        var named: [[UInt8]: Set<BlobDigest>] = [:]
        init(_ policy: TagHistoryPolicy, now: UInt64) {
            self.policy = policy
            self.now = now
        }
    }

    func historyProtection(now: UInt64) -> HistoryProtection? {
        let policy = historyPolicy.withLock { $0 }
        return policy.protect > 0 ? HistoryProtection(policy, now: now) : nil
    }

    /// Whether the manifest (its entry decoded) is protected: it became
    /// unkept less than `protect` ago and a kept entry names it.
    func isProtected(_ txn: LMDBTransaction, _ repo: [UInt8], _ m: BlobDigest, _ entry: ManifestEntry,
                     _ p: HistoryProtection?) throws -> Bool {
        guard let p, entry.unkeptAt + p.policy.protect > p.now else { return false }
        if p.named[repo] == nil { p.named[repo] = try namedByHistory(txn, repo, p.policy, now: p.now) }
        return p.named[repo]!.contains(m)
    }

    /// Every manifest a kept, non-delete history entry of any tag of the
    /// repository names: one scan of the repository's history.
    private func namedByHistory(_ txn: LMDBTransaction, _ repo: [UInt8], _ policy: TagHistoryPolicy,
                                now: UInt64) throws -> Set<BlobDigest> {
        var named = Set<BlobDigest>()
        var currentTag: ArraySlice<UInt8>? = nil
        var group: [TagHistoryEntry] = []
        func flush() {
            for e in Self.keptEntries(group, policy, now: now) where e.action != .delete { named.insert(e.digest) }
            group.removeAll(keepingCapacity: true)
        }
        try txn.scanPrefix(db.tagHistory, MetaKey.repoPrefix(repo)) { suffix, value in
            // suffix = tag ‖ 0x00 ‖ seq (8 bytes)
            guard suffix.count > 9, suffix[suffix.count - 9] == 0 else { return true }
            let tag = suffix[0..<(suffix.count - 9)]
            if let t = currentTag, t.elementsEqual(tag) {} else { flush(); currentTag = tag }
            var r = ByteReader(Array(suffix.suffix(8)), what: "tag history key")
            group.append(try Self.decodeHistory(value, sequence: try r.u64BE()))
            return true
        }
        flush()
        return named
    }
}
