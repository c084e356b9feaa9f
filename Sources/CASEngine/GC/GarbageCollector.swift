// Garbage collection: which manifests and blobs are garbage, and removing
// them without losing anything a client was promised.
//
// Thread safety: runs on the caller's thread against a live Store; every
// removal is its own LMDB transaction that re-checks the condition it acts on
// (refcount still 0 and zeroed long enough), so concurrent pushes win races.
// Invariants:
//   1. A blob is removed only in a transaction that sees refcount == 0 and
//      zeroed-at older than the grace period (DESIGN.md "References and GC").
//   2. A manifest is kept while it is tagged or protected by tag history
//      (`berth.tags.history.protect`), a child (transitively) of a kept
//      index in its repository, or a referrer (transitively) of a kept
//      manifest; only with the untagged policy are the others deleted.
//   3. A pack file is unlinked only after the transaction that removed the
//      last index entry naming it committed (dedicated packs: one blob each).

import Foundation

/// What one collection did (or, with `dryRun`, would do).
public struct GCReport: Sendable, Equatable {
    public struct ManifestRef: Sendable, Hashable {
        public let repository: String
        public let digest: BlobDigest
    }
    /// Every repository looked at, in order (distribution prints each).
    public var repositories: [String] = []
    /// Manifests kept, in repository order (the "marking" lines).
    public var kept: [ManifestRef] = []
    /// What each kept manifest references (config, layers, child manifests),
    /// in the index's edge order: distribution's "marking blob" lines.
    public var references: [ManifestRef: [BlobDigest]] = [:]
    /// Blobs reachable from kept manifests.
    public var markedBlobs: Int = 0
    public var deletedManifests: [ManifestRef] = []
    public var deletedBlobs: [BlobDigest] = []
    /// Repositories each deleted blob was linked into, read before it went
    /// (distribution's "layer link eligible for deletion" lines).
    public var deletedLinks: [BlobDigest: [String]] = [:]
    /// Original bytes of the deleted blobs.
    public var freedBytes: UInt64 = 0
    /// Dedicated pack files unlinked.
    public var removedPacks: Int = 0
}

public struct GCPolicy: Sendable {
    /// Delete manifests no tag keeps (distribution's --delete-untagged).
    public var deleteUntagged: Bool
    /// Seconds a blob stays at refcount 0 before it may go.
    public var gracePeriod: UInt64
    /// Seconds a manifest stays untagged before the untagged policy deletes it.
    public var untaggedDelay: UInt64

    public init(deleteUntagged: Bool, gracePeriod: UInt64, untaggedDelay: UInt64) {
        self.deleteUntagged = deleteUntagged
        self.gracePeriod = gracePeriod
        self.untaggedDelay = untaggedDelay
    }
}

extension Store {
    /// Full mark and sweep (regctl garbage-collect): marks every manifest
    /// kept by invariant 2 — or unkept for less than `untaggedDelay` — deletes
    /// the rest when `deleteUntagged`, then deletes every blob at refcount 0
    /// zeroed before `now - gracePeriod`. Offline both are 0; a pass handed
    /// to a running server uses the server's, so that nothing a client is
    /// still building on (a fresh upload, an index child pushed by digest)
    /// goes, as with the online collector.
    public func garbageCollect(policy: GCPolicy, dryRun: Bool) throws -> GCReport {
        try checkOpen()
        if !dryRun { try checkWritable() }
        var report = GCReport()
        // Refcount decrements the manifest deletions will cause (for dry runs
        // and for the sweep's projection).
        var released: [BlobDigest: UInt64] = [:]
        let recentCutoff = now >= policy.untaggedDelay ? now - policy.untaggedDelay : 0
        var marked = Set<BlobDigest>()
        for repository in try meta.allRepositories() {
            report.repositories.append(repository)
            let summaries = try meta.manifestSummaries(repository: repository, now: now)
            // Untagged for less than the untagged delay counts as kept (0
            // offline; the server's delay for a pass handed to it).
            let keep = policy.deleteUntagged ? Self.keptManifests(summaries, unkeptSince: recentCutoff) : Set(summaries.map(\.digest))
            for s in summaries {
                let ref = GCReport.ManifestRef(repository: repository, digest: s.digest)
                if keep.contains(s.digest) {
                    report.kept.append(ref)
                    report.references[ref] = s.references
                    marked.insert(s.digest)
                    marked.formUnion(s.references)
                } else {
                    report.deletedManifests.append(ref)
                    released[s.digest, default: 0] += 1
                    for r in s.references { released[r, default: 0] += 1 }
                }
            }
        }
        report.markedBlobs = marked.count
        if !dryRun {
            // Each delete re-checks, in its transaction, that the manifest is
            // still not kept (MetaStore+Keep invariant 3).
            report.deletedManifests = try report.deletedManifests.filter { m in
                try meta.deleteUntaggedManifest(repository: m.repository, digest: m.digest, now: now, requeueAt: recentCutoff)
            }
        }
        let cutoff = now >= policy.gracePeriod ? now - policy.gracePeriod : 0
        var candidates: [(BlobDigest, BlobRecord)] = []
        try meta.forEachBlob { d, rec in
            let projected = dryRun ? rec.refcount - min(rec.refcount, released[d] ?? 0) : rec.refcount
            let zeroedAt = dryRun && rec.refcount > 0 ? now : rec.zeroedAt
            if projected == 0 && zeroedAt <= cutoff { candidates.append((d, rec)) }
            return true
        }
        for (d, rec) in candidates {
            let links = try meta.repositoriesLinking(d, limit: .max)
            let removed = try dryRun || meta.removeBlob(d, ifZeroSince: cutoff)
            if removed {
                report.deletedBlobs.append(d)
                if !links.isEmpty { report.deletedLinks[d] = links }
                report.freedBytes += rec.location.rawLength
                if !dryRun, rec.location.flags.contains(.dedicated) {
                    try packs.removePack(rec.location.packID)
                    report.removedPacks += 1
                }
            }
        }
        if !dryRun {
            try meta.setLastCollection(now)
            metrics.collected(report)
        }
        return report
    }

    /// Invariant 2 over one repository's manifests.
    static func keptManifests(_ summaries: [MetaStore.ManifestSummary], unkeptSince: UInt64 = .max) -> Set<BlobDigest> {
        let byDigest = Dictionary(summaries.map { ($0.digest, $0) }, uniquingKeysWith: { a, _ in a })
        var referrersOf: [BlobDigest: [BlobDigest]] = [:]
        for s in summaries { if let subject = s.subject { referrersOf[subject, default: []].append(s.digest) } }
        var keep = Set<BlobDigest>()
        var work = summaries.filter { $0.tagged || $0.protected || $0.unkeptAt > unkeptSince }.map(\.digest)
        while let m = work.popLast() {
            guard keep.insert(m).inserted else { continue }
            // Children of an index that are manifests of this repository,
            // those of a sparse index pushed after it included.
            let s = byDigest[m]
            for r in (s?.references ?? []) + (s?.absent ?? []) where byDigest[r] != nil { work.append(r) }
            // Signatures, SBOMs and other referrers live as long as their subject.
            work += referrersOf[m] ?? []
        }
        return keep
    }
}
