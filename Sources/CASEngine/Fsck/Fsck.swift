// fsck: checks the store against itself and, with `repair`, fixes what can
// be fixed without guessing.
//
// Thread safety: may run beside live traffic (read snapshots plus one small
// transaction per repair), but findings about data changing under it can be
// stale; `regctl fsck` runs it offline.
// Invariants:
//   1. Checks never change anything; repairs only (a) set refcounts to the
//      value recomputed from stored edges, (b) unlink pack files no index entry
//      names that are older than `orphanAge` (never the active pack), and
//      (c) only when asked (`reindex`, disaster recovery after losing meta/),
//      re-index complete, valid pack records whose digest is missing from the
//      index (refcount 0: GC decides their fate after the grace period) —
//      instead of (b) for the packs holding them — and then replay the
//      recovery journal, which brings back every manifest and tag (and the
//      links of the blobs they reference) whose blobs the packs still hold. Without `reindex`, records
//      missing from the index are dead bytes (GC'd, or a crash before the
//      index commit) that compaction reclaims.
//   2. A corrupt record is reported, never "repaired" by dropping its index
//      entry: the operator decides (the bytes may exist elsewhere).
//   3. Every derived table is checked against its source (Fsck+Index.swift)
//      and the recovery journal against the index; `repair` rebuilds the
//      derived tables and, without `reindex`, re-snapshots the journal from
//      the index (the index is the authority unless the operator asks for
//      the journal's state with `reindex`).

import Foundation

public struct FsckReport: Sendable {
    public var blobsChecked = 0
    public var manifestsChecked = 0
    /// Index entries whose record is missing, damaged or names another digest.
    public var corrupt: [(digest: BlobDigest, problem: String)] = []
    /// (digest, stored refcount, recomputed refcount).
    public var refcountMismatches: [(digest: BlobDigest, stored: UInt64, expected: UInt64)] = []
    /// Manifest edges naming blobs the index does not have.
    public var danglingReferences: [(repository: String, manifest: BlobDigest, missing: BlobDigest)] = []
    /// Pack files no index entry names.
    public var orphanPacks: [UInt32] = []
    /// Valid records whose digest the index lacks.
    public var unindexedRecords: [(digest: BlobDigest, location: BlobLocation)] = []
    public var repaired: [String] = []
    /// Derived tables that disagree with their sources (reverse indexes,
    /// repository counters, manifest_parents, pack_live, referrers, links).
    public var indexFindings: [IndexFinding] = []
    /// Where the recovery journal would rebuild something other than the index.
    public var journalFindings: [IndexFinding] = []
    /// The journal ends before the index says (a crash between an index
    /// commit and its journal append; re-snapshotted by the next writable
    /// open): not compared, not a problem.
    public var journalBehindIndex = false
    /// Journal records `reindex` could not apply (their blobs are gone), and
    /// damaged journal files.
    public var journalSkipped: [String] = []

    public var isClean: Bool {
        corrupt.isEmpty && refcountMismatches.isEmpty && danglingReferences.isEmpty
            && orphanPacks.isEmpty && unindexedRecords.isEmpty && indexFindings.isEmpty && journalFindings.isEmpty
    }
}

extension Store {
    /// - Parameters:
    ///   - verifyContent: re-hash every blob (reads everything) instead of
    ///     checking record headers only.
    ///   - scanPacks: read every pack record (finds unindexed records).
    ///   - repair: apply the repairs of invariant 1.
    ///   - reindex: with `scanPacks` and `repair`, re-index unindexed records.
    ///   - orphanAge: seconds a pack must be old before it counts as orphaned.
    public func fsck(verifyContent: Bool, scanPacks: Bool, repair: Bool, reindex: Bool = false,
                     orphanAge: UInt64 = 3600) throws -> FsckReport {
        try checkOpen()
        if repair { try checkWritable() }
        var report = FsckReport()
        var indexed: [BlobDigest: BlobRecord] = [:]
        var packsNamed = Set<UInt32>()
        try meta.forEachBlob { d, rec in
            indexed[d] = rec
            packsNamed.insert(rec.location.packID)
            return true
        }
        for (d, rec) in indexed.sorted(by: { $0.key < $1.key }) {
            report.blobsChecked += 1
            do {
                if verifyContent {
                    try packs.verify(rec.location, digest: d)
                } else {
                    try checkHeader(rec.location, digest: d)
                }
            } catch let error as StoreError {
                report.corrupt.append((d, error.message))
            }
        }
        // Refcounts recomputed from the edges of every manifest.
        var expected: [BlobDigest: UInt64] = [:]
        for repository in try meta.allRepositories() {
            for m in try meta.manifestSummaries(repository: repository) {
                report.manifestsChecked += 1
                expected[m.digest, default: 0] += 1
                for r in m.references {
                    expected[r, default: 0] += 1
                    if indexed[r] == nil { report.danglingReferences.append((repository, m.digest, r)) }
                }
            }
        }
        for (d, rec) in indexed.sorted(by: { $0.key < $1.key }) where rec.refcount != (expected[d] ?? 0) {
            report.refcountMismatches.append((d, rec.refcount, expected[d] ?? 0))
        }
        // Pack files nobody names.
        let active = packs.activePackID
        let cutoff = Date().timeIntervalSince1970 - Double(orphanAge)
        for id in try packs.packIDs() where id != active && !packsNamed.contains(id) {
            let path = layout.packPath(id)
            let modified = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            if modified < cutoff { report.orphanPacks.append(id) }
        }
        report.indexFindings = try meta.checkIndex()
        if !reindex {
            // A journal ending before the index's journal_end lost its tail
            // in a crash after the index committed (no client was answered):
            // the next writable open re-snapshots it, so that is no finding.
            if let indexEnd = try meta.journalEnd(), let end = try RecoveryJournal.end(layout), end < indexEnd {
                report.journalBehindIndex = true
            } else {
                report.journalFindings = try meta.compareWithJournal(RecoveryJournal.records(layout).records)
            }
        }
        if scanPacks {
            for id in try packs.packIDs() {
                try packs.scan(packID: id) { header, location in
                    if indexed[header.digest] == nil { report.unindexedRecords.append((header.digest, location)) }
                }
            }
        }
        guard repair else { return report }
        if !report.indexFindings.isEmpty {
            try meta.repairIndex()
            report.repaired.append("rebuilt repository counters, manifest_parents and pack_live")
            report.indexFindings = try meta.checkIndex()
        }
        for m in report.refcountMismatches {
            try meta.repairRefcount(m.digest, to: m.expected, now: now)
            report.repaired.append("refcount of \(m.digest): \(m.stored) -> \(m.expected)")
        }
        var reindexedPacks = Set<UInt32>()
        if reindex && !report.unindexedRecords.isEmpty {
            // One record per digest (a digest may sit in two packs after a
            // lost commit race); the first found wins.
            var seen = Set<BlobDigest>()
            let records = report.unindexedRecords.filter { seen.insert($0.digest).inserted }
            _ = try meta.commitBlobs(records.map { (digest: $0.digest, location: $0.location, linkTo: nil) }, now: now)
            for r in records { report.repaired.append("re-indexed \(r.digest) from pack \(r.location.packID)") }
            reindexedPacks = Set(records.map(\.location.packID))
        }
        if reindex {
            let (replayed, problems) = try replayJournal()
            report.repaired.append("replayed the recovery journal: \(replayed.manifests) manifests")
            report.journalSkipped = replayed.skipped + problems
            report.indexFindings = try meta.checkIndex()
        }
        let replayPending = try meta.journalNeedsReplay()
        if !reindex && !report.journalFindings.isEmpty && !replayPending {
            // The index is the authority without --reindex: the journal is
            // re-snapshotted from it.
            try checkpointJournal()
            report.repaired.append("re-snapshotted the recovery journal from the index")
            report.journalFindings = try meta.compareWithJournal(RecoveryJournal.records(layout).records)
        }
        for id in report.orphanPacks where !reindexedPacks.contains(id) {
            try packs.removePack(id)
            report.repaired.append("removed orphan pack \(id)")
        }
        return report
    }
}
