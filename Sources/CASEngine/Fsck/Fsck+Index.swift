// fsck's checks of the metadata against itself: every table that mirrors
// another (reverse indexes, counters, live-byte sums) recomputed from its
// source in one read transaction, and the recovery journal's state compared
// with the index it must be able to rebuild.
//
// Thread safety: one LMDB read transaction (a consistent snapshot); the
// journal comparison reads journal files no writer changes while fsck runs
// offline (beside a live writer it may report a change in flight).
// Invariants:
//   1. Checks only; `repairIndex` rebuilds exactly the derived tables that
//      can be recomputed from their sources (repository counters,
//      manifest_parents, pack_live, usage accounting) and nothing else.
//   2. Every finding names the table, the key and what was expected.

extension MetaStore {
    /// Findings of the derived tables; empty when consistent.
    func checkIndex() throws -> [IndexFinding] {
        try env.read { txn in
            var findings: [IndexFinding] = []
            func bad(_ table: String, _ what: String) { findings.append(IndexFinding(table: table, problem: what)) }
            func name(_ r: [UInt8]) -> String { String(decoding: r, as: UTF8.self) }

            // manifests → expected parents, referrers, counters
            var counts: [[UInt8]: [UInt64]] = [:]
            var parents = Set<[UInt8]>(), referrers = Set<[UInt8]>()
            var manifests = Set<[UInt8]>()
            try txn.scan(db.manifests, from: nil) { key, value in
                guard let (repo, m, _) = Self.repoDigestKey(key) else { bad("manifests", "undecodable key"); return true }
                manifests.insert(key)
                counts[repo, default: [0, 0, 0]][0] += 1
                let entry = try ManifestEntry.decode(value)
                for r in entry.parentEdges { parents.insert(Self.parentKey(repo, child: r, parent: m)) }
                if let s = entry.subject { referrers.insert(MetaKey.referrer(repo, subject: s, m)) }
                return true
            }
            // tags ↔ manifest_tags, tags name manifests of their repository
            var tagPairs = Set<[UInt8]>()
            try txn.scan(db.tags, from: nil) { key, value in
                guard let (repo, tag) = Self.splitRepo(key), let d = Self.digestValue(value) else { bad("tags", "undecodable entry"); return true }
                counts[repo, default: [0, 0, 0]][1] += 1
                if !manifests.contains(MetaKey.repoDigest(repo, d)) {
                    bad("tags", "\(name(repo)):\(name(Array(tag))) names \(d), not a manifest of the repository")
                }
                tagPairs.insert(MetaKey.manifestTag(repo, d, Array(tag)))
                return true
            }
            var reverseTags = Set<[UInt8]>()
            try txn.scan(db.manifestTags, from: nil) { key, _ in reverseTags.insert(key); return true }
            for k in reverseTags.subtracting(tagPairs) { bad("manifest_tags", "entry without its tag (\(k.count) bytes)") }
            for k in tagPairs.subtracting(reverseTags) { bad("manifest_tags", "tag without its reverse entry (\(k.count) bytes)") }
            // links ↔ blob_links, links name indexed blobs
            var linkPairs = Set<[UInt8]>()
            try txn.scan(db.links, from: nil) { key, _ in
                guard let (repo, d, _) = Self.repoDigestKey(key) else { bad("links", "undecodable key"); return true }
                counts[repo, default: [0, 0, 0]][2] += 1
                if try txn.get(db.blobs, d.key) == nil { bad("links", "\(name(repo)) links \(d), which the index lacks") }
                linkPairs.insert(MetaKey.blobLink(d, repo))
                return true
            }
            var blobLinks = Set<[UInt8]>()
            try txn.scan(db.blobLinks, from: nil) { key, _ in blobLinks.insert(key); return true }
            if blobLinks != linkPairs {
                bad("blob_links", "\(blobLinks.subtracting(linkPairs).count) entries without a link, \(linkPairs.subtracting(blobLinks).count) links without an entry")
            }
            // referrers ↔ manifests' subjects
            var stored = Set<[UInt8]>()
            try txn.scan(db.referrers, from: nil) { key, _ in stored.insert(key); return true }
            if stored != referrers {
                bad("referrers", "\(stored.subtracting(referrers).count) entries no manifest's subject names, \(referrers.subtracting(stored).count) subjects without an entry")
            }
            // manifest_parents ↔ references
            var storedParents = Set<[UInt8]>()
            try txn.scan(db.manifestParents, from: nil) { key, _ in storedParents.insert(key); return true }
            if storedParents != parents {
                bad("manifest_parents", "\(storedParents.subtracting(parents).count) stale entries, \(parents.subtracting(storedParents).count) missing")
            }
            // repository counters
            var storedCounts: [[UInt8]: [UInt64]] = [:]
            try txn.scan(db.repos, from: nil) { key, value in
                storedCounts[key] = try Self.decodeRepoCounts(value)
                return true
            }
            for repo in Set(storedCounts.keys).union(counts.keys).sorted(by: { $0.lexicographicallyPrecedes($1) })
            where storedCounts[repo] != counts[repo] {
                bad("repos", "\(name(repo)): counters (manifests, tags, links) \(storedCounts[repo] ?? []) should be \(counts[repo] ?? [])")
            }
            // pack_live
            let live = try computedPackLive(txn), storedLive = try storedPackLive(txn)
            for id in Set(live.keys).union(storedLive.keys).sorted() where live[id] != storedLive[id] {
                bad("pack_live", "pack \(id): \(storedLive[id] ?? 0) live bytes recorded, \(live[id] ?? 0) indexed")
            }
            // usage accounting (MetaStore+Usage invariant 1)
            for problem in try usageDifferences(txn) { bad("usage", problem) }
            return findings
        }
    }

    /// Rebuilds repository counters, manifest_parents, pack_live and usage
    /// accounting from their sources (invariant 1), in one write transaction.
    func repairIndex() throws {
        try env.write { txn in
            try txn.removeAll(db.manifestParents)
            try buildParentsIndex(txn)
            try rebuildPackLive(txn)
            try rebuildUsage(txn)
            var counts: [[UInt8]: [UInt64]] = [:]
            for (dbi, slot) in [(db.manifests, 0), (db.tags, 1), (db.links, 2)] {
                try txn.scan(dbi, from: nil) { key, _ in
                    if let split = Self.splitRepo(key) { counts[split.0, default: [0, 0, 0]][slot] += 1 }
                    return true
                }
            }
            try txn.removeAll(db.repos)
            for (repo, c) in counts { try txn.put(db.repos, repo, Self.encodeRepoCounts(c)) }
        }
    }

    /// The manifests and tags the journal would rebuild, against the index:
    /// what replay would add or remove (empty when they agree).
    func compareWithJournal(_ records: [JournalRecord]) throws -> [IndexFinding] {
        var manifests = Set<String>(), tags: [String: BlobDigest] = [:]
        for record in records {
            switch record {
            case let .manifestPut(repo, d, _, _): manifests.insert("\(repo)@\(d)")
            case let .manifestDeleted(repo, d, _, _):
                manifests.remove("\(repo)@\(d)")
                tags = tags.filter { !($0.key.hasPrefix(repo + ":") && $0.value == d) }
            case let .tagSet(repo, tag, d, _, _): tags["\(repo):\(tag)"] = d
            case let .tagDeleted(repo, tag, _, _): tags["\(repo):\(tag)"] = nil
            case .snapshotEnd: break
            }
        }
        var indexManifests = Set<String>(), indexTags: [String: BlobDigest] = [:]
        try env.read { txn in
            try txn.scan(db.manifests, from: nil) { key, _ in
                if let (repo, d, _) = Self.repoDigestKey(key) {
                    indexManifests.insert("\(String(decoding: repo, as: UTF8.self))@\(d)")
                }
                return true
            }
            try txn.scan(db.tags, from: nil) { key, value in
                if let (repo, tag) = Self.splitRepo(key), let d = Self.digestValue(value) {
                    indexTags["\(String(decoding: repo, as: UTF8.self)):\(String(decoding: tag, as: UTF8.self))"] = d
                }
                return true
            }
        }
        var findings: [IndexFinding] = []
        for m in indexManifests.subtracting(manifests).sorted() { findings.append(.init(table: "journal", problem: "manifest \(m) is not in the journal")) }
        for m in manifests.subtracting(indexManifests).sorted() { findings.append(.init(table: "journal", problem: "manifest \(m) is in the journal only")) }
        for t in Set(indexTags.keys).union(tags.keys).sorted() where indexTags[t] != tags[t] {
            findings.append(.init(table: "journal", problem: "tag \(t): index \(indexTags[t].map { "\($0)" } ?? "none"), journal \(tags[t].map { "\($0)" } ?? "none")"))
        }
        return findings
    }
}

/// One inconsistency of the metadata found by fsck.
public struct IndexFinding: Sendable, Equatable, CustomStringConvertible {
    public var table: String
    public var problem: String
    public var description: String { "\(table): \(problem)" }
}
