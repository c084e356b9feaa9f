// Usage that understands deduplication, kept incrementally.
//
// A repository's referenced set R(repo) is every digest that is one of its
// manifests or that one of its manifests references (`manifests` ∪
// `repo_refs`). `blob_repos` (`dkey ‖ repo`, empty value) holds exactly the
// pairs d ∈ R(repo); `repo_usage` (`repo` → referenced u64 ‖ unique u64 ‖
// blobs u64, LE) sums over R(repo) the blobs' raw sizes — all of them, those
// in no other repository's set (what deleting the repository would free),
// and how many; `meta` `usage_bytes` / `usage_blobs` sum the union of all
// sets (the bytes manifests keep, each blob once).
//
// Thread safety: as MetaStore (maintained inside the write transactions that
// change `manifests` or `repo_refs`; read in one read transaction).
// Invariants:
//   1. After every write transaction, `blob_repos` and `repo_usage` equal
//      what `computedUsage` derives from `manifests`, `repo_refs` and the
//      blob sizes (fsck compares, `--repair` rebuilds). Membership changes
//      only where those two tables change (`addManifestInTransaction`,
//      `deleteManifestInTransaction`, `adjustRepoRef`), each calling
//      `usageMembership(_:_:_:wasMember:)` with the state before.
//   2. A membership change costs O(1) reads of `blob_repos`: only whether
//      the blob now has one, two or more repositories matters (who holds it
//      uniquely moves between them).
//   3. An environment of schema < 3 is upgraded by one rebuild in the first
//      writable open; a read-only open of one has no accounting (`usage`
//      throws `.unsupportedFormat`).

import CLMDB

/// Deduplication-aware usage of one repository.
public struct RepositoryUsage: Sendable, Equatable {
    /// Raw bytes of every blob the repository's manifests are or reference.
    public var referencedBytes: UInt64 = 0
    /// Of those, the bytes no other repository references: deleting the
    /// repository (and collecting) frees them.
    public var uniqueBytes: UInt64 = 0
    /// Distinct blobs referenced.
    public var blobs: UInt64 = 0
    /// Referenced bytes other repositories reference too.
    public var sharedBytes: UInt64 { referencedBytes - min(referencedBytes, uniqueBytes) }

    public init(referencedBytes: UInt64 = 0, uniqueBytes: UInt64 = 0, blobs: UInt64 = 0) {
        self.referencedBytes = referencedBytes
        self.uniqueBytes = uniqueBytes
        self.blobs = blobs
    }
}

extension MetaStore {
    static let usageBytesKey = Array("usage_bytes".utf8)
    static let usageBlobsKey = Array("usage_blobs".utf8)

    func isUsageMember(_ txn: LMDBTransaction, _ repo: [UInt8], _ d: BlobDigest) throws -> Bool {
        let key = MetaKey.repoDigest(repo, d)
        return try txn.contains(db.manifests, key) || txn.contains(db.repoRefs, key)
    }

    /// Invariant 1: call after changing `manifests` or `repo_refs` for (repo, d).
    func usageMembership(_ txn: LMDBTransaction, _ repo: [UInt8], _ d: BlobDigest, wasMember: Bool) throws {
        guard let blobRepos = db.blobRepos else { throw StoreError(.readOnly, "usage accounting needs a writable store") }
        let isMember = try isUsageMember(txn, repo, d)
        guard isMember != wasMember else { return }
        let size = try getBlob(txn, d)?.location.rawLength ?? 0
        let pair = d.key + repo
        if isMember { try txn.put(blobRepos, pair, []) } else { try txn.delete(blobRepos, pair) }
        // Up to three holders after the change (invariant 2).
        var holders: [[UInt8]] = []
        try txn.scanPrefix(blobRepos, d.key) { suffix, _ in holders.append(suffix); return holders.count < 3 }
        var mine = try repositoryUsage(txn, repo)
        if isMember {
            mine.referencedBytes += size
            mine.blobs += 1
            if holders.count == 1 {
                mine.uniqueBytes += size
                try adjustUsageTotals(txn, bytes: Int64(size), blobs: 1)
            } else if holders.count == 2, let other = holders.first(where: { $0 != repo }) {
                var theirs = try repositoryUsage(txn, other)
                theirs.uniqueBytes -= min(theirs.uniqueBytes, size)
                try putRepositoryUsage(txn, other, theirs)
            }
        } else {
            mine.referencedBytes -= min(mine.referencedBytes, size)
            mine.blobs -= min(mine.blobs, 1)
            if holders.isEmpty {
                mine.uniqueBytes -= min(mine.uniqueBytes, size)
                try adjustUsageTotals(txn, bytes: -Int64(size), blobs: -1)
            } else if holders.count == 1 {
                var theirs = try repositoryUsage(txn, holders[0])
                theirs.uniqueBytes += size
                try putRepositoryUsage(txn, holders[0], theirs)
            }
        }
        try putRepositoryUsage(txn, repo, mine)
    }

    func repositoryUsage(_ txn: LMDBTransaction, _ repo: [UInt8]) throws -> RepositoryUsage {
        guard let dbi = db.repoUsage, let v = try txn.get(dbi, repo) else { return RepositoryUsage() }
        var r = ByteReader(v, what: "repo_usage")
        return RepositoryUsage(referencedBytes: try r.u64(), uniqueBytes: try r.u64(), blobs: try r.u64())
    }

    private func putRepositoryUsage(_ txn: LMDBTransaction, _ repo: [UInt8], _ u: RepositoryUsage) throws {
        guard let dbi = db.repoUsage else { throw StoreError(.readOnly, "usage accounting needs a writable store") }
        if u == RepositoryUsage() { try txn.delete(dbi, repo); return }
        var w = ByteWriter(capacity: 24)
        w.u64(u.referencedBytes)
        w.u64(u.uniqueBytes)
        w.u64(u.blobs)
        try txn.put(dbi, repo, w.bytes)
    }

    private func usageTotals(_ txn: LMDBTransaction) throws -> (bytes: UInt64, blobs: UInt64) {
        func read(_ key: [UInt8]) throws -> UInt64 {
            guard let v = try txn.get(db.meta, key) else { return 0 }
            var r = ByteReader(v, what: "usage total")
            return try r.u64()
        }
        return (try read(Self.usageBytesKey), try read(Self.usageBlobsKey))
    }

    private func adjustUsageTotals(_ txn: LMDBTransaction, bytes: Int64, blobs: Int64) throws {
        let t = try usageTotals(txn)
        for (key, value, delta) in [(Self.usageBytesKey, t.bytes, bytes), (Self.usageBlobsKey, t.blobs, blobs)] {
            var w = ByteWriter(capacity: 8)
            w.u64(delta >= 0 ? value + UInt64(delta) : value - min(value, UInt64(-delta)))
            try txn.put(db.meta, key, w.bytes)
        }
    }

    // MARK: Reads

    /// One repository's usage; nil when it references nothing.
    func usage(repository: String) throws -> RepositoryUsage? {
        let repo = try MetaKey.name(repository, "repository")
        return try env.read { txn in
            try requireUsage()
            let u = try repositoryUsage(txn, repo)
            return u == RepositoryUsage() ? nil : u
        }
    }

    /// The union's bytes and blobs only (O(1); the web page's totals).
    func usageTotals() throws -> (bytes: UInt64, blobs: UInt64) {
        try env.read { txn in
            try requireUsage()
            return try usageTotals(txn)
        }
    }

    /// Every repository's usage and the union's bytes and blobs, from one
    /// read transaction (O(repositories)).
    func usage() throws -> (repositories: [String: RepositoryUsage], bytes: UInt64, blobs: UInt64) {
        try env.read { txn in
            try requireUsage()
            var out: [String: RepositoryUsage] = [:]
            try txn.scan(db.repoUsage!, from: nil) { key, _ in
                out[String(decoding: key, as: UTF8.self)] = try repositoryUsage(txn, key)
                return true
            }
            let t = try usageTotals(txn)
            return (out, t.bytes, t.blobs)
        }
    }

    private func requireUsage() throws {
        guard db.blobRepos != nil, db.repoUsage != nil else {
            throw StoreError(.unsupportedFormat, "this store predates usage accounting; one writable open (serve, fsck --repair) adds it")
        }
    }

    // MARK: Rebuild and check (invariant 1)

    /// Usage derived from `manifests`, `repo_refs` and blob sizes: per
    /// repository, the pairs of `blob_repos`, and the union's totals.
    func computedUsage(_ txn: LMDBTransaction) throws
        -> (repositories: [[UInt8]: RepositoryUsage], pairs: Set<[UInt8]>, bytes: UInt64, blobs: UInt64) {
        var holders: [BlobDigest: [[UInt8]]] = [:]
        var seen = Set<[UInt8]>()
        for dbi in [db.manifests, db.repoRefs] {
            try txn.scan(dbi, from: nil) { key, _ in
                guard let (repo, d, rest) = Self.repoDigestKey(key), rest.isEmpty else { throw StoreError(.corrupt, "bad repo/digest key") }
                if seen.insert(d.key + repo).inserted { holders[d, default: []].append(repo) }
                return true
            }
        }
        var repos: [[UInt8]: RepositoryUsage] = [:]
        var bytes: UInt64 = 0
        for (d, rs) in holders {
            let size = try getBlob(txn, d)?.location.rawLength ?? 0
            bytes += size
            for r in rs {
                repos[r, default: RepositoryUsage()].referencedBytes += size
                repos[r, default: RepositoryUsage()].blobs += 1
                if rs.count == 1 { repos[r, default: RepositoryUsage()].uniqueBytes += size }
            }
        }
        return (repos, seen, bytes, UInt64(holders.count))
    }

    func rebuildUsage(_ txn: LMDBTransaction) throws {
        guard let blobRepos = db.blobRepos, let repoUsage = db.repoUsage else {
            throw StoreError(.readOnly, "usage accounting needs a writable store")
        }
        let computed = try computedUsage(txn)
        try txn.removeAll(blobRepos)
        try txn.removeAll(repoUsage)
        for pair in computed.pairs { try txn.put(blobRepos, pair, []) }
        for (repo, u) in computed.repositories { try putRepositoryUsage(txn, repo, u) }
        for (key, value) in [(Self.usageBytesKey, computed.bytes), (Self.usageBlobsKey, computed.blobs)] {
            var w = ByteWriter(capacity: 8)
            w.u64(value)
            try txn.put(db.meta, key, w.bytes)
        }
    }

    /// Differences between the stored accounting and `computedUsage`, as
    /// fsck findings' details (empty when they agree).
    func usageDifferences(_ txn: LMDBTransaction) throws -> [String] {
        guard let blobRepos = db.blobRepos, let repoUsage = db.repoUsage else { return [] }
        let computed = try computedUsage(txn)
        var out: [String] = []
        var storedPairs = Set<[UInt8]>()
        try txn.scan(blobRepos, from: nil) { key, _ in storedPairs.insert(key); return true }
        if storedPairs != computed.pairs {
            out.append("blob_repos: \(storedPairs.subtracting(computed.pairs).count) stale and \(computed.pairs.subtracting(storedPairs).count) missing pairs")
        }
        var stored: [[UInt8]: RepositoryUsage] = [:]
        try txn.scan(repoUsage, from: nil) { key, _ in stored[key] = try repositoryUsage(txn, key); return true }
        for repo in Set(stored.keys).union(computed.repositories.keys).sorted(by: { $0.lexicographicallyPrecedes($1) })
        where stored[repo] != computed.repositories[repo] {
            let s = stored[repo] ?? RepositoryUsage(), c = computed.repositories[repo] ?? RepositoryUsage()
            out.append("repo_usage \(String(decoding: repo, as: UTF8.self)): referenced/unique/blobs \(s.referencedBytes)/\(s.uniqueBytes)/\(s.blobs), should be \(c.referencedBytes)/\(c.uniqueBytes)/\(c.blobs)")
        }
        let totals = try usageTotals(txn)
        if totals.bytes != computed.bytes || totals.blobs != computed.blobs {
            out.append("usage totals \(totals.bytes) bytes/\(totals.blobs) blobs, should be \(computed.bytes)/\(computed.blobs)")
        }
        return out
    }
}
