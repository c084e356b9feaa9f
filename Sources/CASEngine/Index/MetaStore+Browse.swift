// Read-side views for the web page (RegistryHTTP/UI): one repository's tags
// with their push/pull times, its untagged manifests with what still keeps
// them, and a repository's tag count and newest manifest.
//
// Thread safety: as MetaStore (one read transaction per call).
// Invariants:
//   1. Each call is one snapshot: tags, history and manifests agree.
//   2. Nothing here writes; the figures are what retention and the collector
//      would read (MetaStore+Pulls `retentionSnapshot`, MetaStore+Keep).

extension MetaStore {
    /// `repository`'s tags (name order) and every manifest no tag, index or
    /// subject keeps (history protection is reported, not counted as a keeper).
    func browse(repository: String, now: UInt64) throws -> (tags: [TagSummary], untagged: [UntaggedManifest])? {
        let repo = try MetaKey.name(repository, "repository")
        let protection = historyProtection(now: now)
        return try env.read { txn in
            guard try txn.get(db.repos, repo) != nil else { return nil }
            var raw: [([UInt8], BlobDigest)] = []
            try txn.scanPrefix(db.tags, MetaKey.repoPrefix(repo)) { tag, value in
                guard let d = Self.digestValue(value) else { throw StoreError(.corrupt, "bad tags entry") }
                raw.append((tag, d))
                return true
            }
            var tags: [TagSummary] = []
            for (tag, d) in raw {
                let history = try historyEntries(txn, MetaKey.tagHistoryPrefix(repo, tag))
                var pushed = history.last(where: { $0.action != .delete })?.at
                if pushed == nil, let v = try txn.get(db.manifests, MetaKey.repoDigest(repo, d)) {
                    pushed = try ManifestEntry.decode(v).createdAt
                }
                tags.append(TagSummary(tag: String(decoding: tag, as: UTF8.self), digest: d, pushed: pushed ?? 0,
                                       pulled: try pulledAt(txn, repo, tag)))
            }
            var candidates: [(BlobDigest, ManifestEntry)] = []
            try txn.scanPrefix(db.manifests, MetaKey.repoPrefix(repo)) { suffix, value in
                guard let d = BlobDigest(key: suffix) else { throw StoreError(.corrupt, "bad manifest key in \(repository)") }
                candidates.append((d, try ManifestEntry.decode(value)))
                return true
            }
            var untagged: [UntaggedManifest] = []
            for (d, entry) in candidates where try !isKept(txn, repo, d, nil) {
                let protected = try protection != nil && isKept(txn, repo, d, protection)
                untagged.append(UntaggedManifest(
                    digest: d, mediaType: entry.mediaType, createdAt: entry.createdAt, unkeptAt: entry.unkeptAt,
                    protectedUntil: protected ? entry.unkeptAt + (protection?.policy.protect ?? 0) : nil))
            }
            return (tags, untagged)
        }
    }

    /// Tag count and the newest manifest's push time; nil: no such repository.
    func repositorySummary(repository: String) throws -> RepositorySummary? {
        let repo = try MetaKey.name(repository, "repository")
        return try env.read { txn in
            guard try txn.get(db.repos, repo) != nil else { return nil }
            var s = RepositorySummary()
            try txn.scanPrefix(db.tags, MetaKey.repoPrefix(repo)) { _, _ in s.tags += 1; return true }
            try txn.scanPrefix(db.manifests, MetaKey.repoPrefix(repo)) { _, value in
                s.manifests += 1
                let at = try ManifestEntry.decode(value).createdAt
                s.lastPush = max(s.lastPush ?? 0, at)
                return true
            }
            return s
        }
    }
}
