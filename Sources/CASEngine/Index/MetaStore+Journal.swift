// The index's side of the recovery journal (Journal/RecoveryJournal.swift):
// journaled write transactions, the snapshot dump and the replay that
// rebuilds manifests and tags after `meta/` was lost.
//
// Thread safety: as MetaStore. `journaledWrite` holds the journal's writer
// lock across its LMDB write transaction (lock order: journal writer lock,
// then LMDB's writer lock; no LMDB writer ever waits for the journal lock).
// Invariants:
//   1. Every write transaction that adds or removes a manifest of a
//      repository or sets or deletes a tag runs through `journaledWrite` and
//      reports each such change as one JournalRecord, in the order it made
//      them; the same transaction stores `journal_end` (where the journal
//      will end once they are appended), so a journal shorter than the index
//      is detected on open (the tail lost to a power cut before any client
//      was answered) and re-snapshotted.
//   2. `replay` applied to an index that already holds the journal's state
//      changes nothing (each record is a set or a delete, last one wins).
//   3. Replay never re-creates a blob record: a manifest whose own bytes or
//      any of whose references are missing from the packs is skipped and
//      reported, and so is every tag on it.

extension MetaStore {
    /// A write transaction whose manifest and tag changes go to the journal
    /// (invariant 1). `sync`: wait until they are durable there too (every
    /// answer to a client; the collector's deletes need not wait).
    func journaledWrite<T>(sync: Bool = true, _ body: (LMDBTransaction, inout [JournalRecord]) throws -> T) throws -> T {
        guard let journal else {
            return try env.write { txn in
                var ignored: [JournalRecord] = []
                return try body(txn, &ignored)
            }
        }
        let (result, clock) = try journal.transact { start, encoded in
            try env.write { txn in
                var records: [JournalRecord] = []
                let result = try body(txn, &records)
                encoded = records.map { $0.encode() }
                if !encoded.isEmpty {
                    let end = JournalPosition(segment: start.segment, offset: start.offset + RecoveryJournal.framedSize(encoded))
                    try putJournalEnd(txn, end)
                }
                return result
            }
        }
        if sync && clock > 0 { try journal.sync(through: clock) }
        return result
    }

    func putJournalEnd(_ txn: LMDBTransaction, _ p: JournalPosition) throws {
        var w = ByteWriter(capacity: 12)
        w.u32(p.segment)
        w.u64(p.offset)
        try txn.put(db.meta, MetaKey.journalEnd, w.bytes)
    }

    /// Where the index says the journal ends; nil before the first journaled write.
    func journalEnd() throws -> JournalPosition? {
        try env.read { txn in
            guard let v = try txn.get(db.meta, MetaKey.journalEnd) else { return nil }
            var r = ByteReader(v, what: "journal_end")
            return JournalPosition(segment: try r.u32(), offset: try r.u64())
        }
    }

    func setJournalEnd(_ p: JournalPosition) throws {
        try env.write { txn in try putJournalEnd(txn, p) }
    }

    /// Set when open finds a journal the index has never seen (meta/ lost or
    /// restored from an older copy); cleared by `replay`. While set, the
    /// journal is never checkpointed (that would drop what replay needs).
    func journalNeedsReplay() throws -> Bool { try metaFlag(MetaKey.journalNeedsReplay) }

    func setJournalNeedsReplay(_ on: Bool) throws { try setMetaFlag(MetaKey.journalNeedsReplay, on) }

    /// True when no repository holds anything (a fresh index).
    func isEmptyIndex() throws -> Bool {
        try env.read { txn in
            var empty = true
            try txn.scan(db.repos, from: nil) { _, _ in empty = false; return false }
            return empty
        }
    }

    /// Every manifest of every repository, then every tag, from one read
    /// transaction, as journal records (a snapshot's content).
    func dumpState(at now: UInt64, _ emit: ([UInt8]) throws -> Void) throws {
        try env.read { txn in
            try txn.scan(db.manifests, from: nil) { key, value in
                guard let (repo, digest, _) = Self.repoDigestKey(key) else { throw StoreError(.corrupt, "bad manifests key") }
                let entry = try ManifestEntry.decode(value)
                var edges = ManifestEdges(mediaType: entry.mediaType, references: entry.references, subject: entry.subject,
                                          sparseChildren: entry.absent)
                if let subject = entry.subject,
                   let v = try txn.get(db.referrers, MetaKey.referrer(repo, subject: subject, digest)) {
                    let referrer = try ReferrerValue.decode(digest: digest, v)
                    edges.artifactType = referrer.artifactType
                    edges.annotations = referrer.annotations
                }
                try emit(JournalRecord.manifestPut(repository: String(decoding: repo, as: UTF8.self), digest: digest,
                                                   at: entry.createdAt, edges: edges).encode())
                return true
            }
            try txn.scan(db.tags, from: nil) { key, value in
                guard let (repo, tag) = Self.splitRepo(key), let d = Self.digestValue(value) else { throw StoreError(.corrupt, "bad tags entry") }
                try emit(JournalRecord.tagSet(repository: String(decoding: repo, as: UTF8.self),
                                              tag: String(decoding: tag, as: UTF8.self), digest: d, at: now,
                                              change: TagChange(.push)).encode())
                return true
            }
        }
    }

    /// Re-applies journal records (invariants 2 and 3), a page of records per
    /// write transaction; the manifests it records are queued for untagged
    /// review (the collector re-checks what keeps them). Not journaled: the
    /// journal already holds these changes.
    func replay(_ records: [JournalRecord], now: UInt64) throws -> JournalReplayReport {
        var report = JournalReplayReport()
        var start = 0
        while start < records.count {
            let page = records[start..<min(start + 1000, records.count)]
            try env.write { txn in
                var ignored: [JournalRecord] = []
                for record in page { try apply(txn, record, now: now, &report, &ignored) }
            }
            start += page.count
        }
        try setJournalNeedsReplay(false)
        return report
    }

    private func apply(_ txn: LMDBTransaction, _ record: JournalRecord, now: UInt64,
                       _ report: inout JournalReplayReport, _ ignored: inout [JournalRecord]) throws {
        switch record {
        case let .manifestPut(repository, digest, at, edges):
            let repo = try MetaKey.name(repository, "repository")
            let mkey = MetaKey.repoDigest(repo, digest)
            guard try !txn.contains(db.manifests, mkey) else { return }
            let references = Array(Set(edges.references)).sorted()
            if let missing = try ([digest] + references).first(where: { try getBlob(txn, $0) == nil }) {
                report.skipped.append("\(repository)@\(digest): \(missing == digest ? "its bytes are" : "\(missing) is") not in the packs")
                return
            }
            try addManifestInTransaction(txn, repo, digest, edges, references: references,
                                         size: try getBlob(txn, digest)!.location.rawLength, createdAt: at, &ignored)
            // Layers and configs pull from the repository again (the links
            // of blobs no manifest names are not journaled).
            for r in references where try !txn.contains(db.manifests, MetaKey.repoDigest(repo, r)) {
                try linkInTransaction(txn, repo, r, now: now)
            }
            try enqueue(txn, .manifestUntagged(repository: repository, digest: digest, at: now))
            report.manifests += 1
        case let .manifestDeleted(repository, digest, at, by):
            let repo = try MetaKey.name(repository, "repository")
            guard let v = try txn.get(db.manifests, MetaKey.repoDigest(repo, digest)) else { return }
            try deleteManifestInTransaction(txn, repo, digest, try ManifestEntry.decode(v), now: at, requeueAt: now, by: by, &ignored)
            report.manifests -= 1
        case let .tagSet(repository, tag, digest, at, change):
            let repo = try MetaKey.name(repository, "repository")
            guard try txn.contains(db.manifests, MetaKey.repoDigest(repo, digest)) else {
                report.skipped.append("tag \(repository):\(tag) -> \(digest): the manifest was not restored")
                return
            }
            try setTagInTransaction(txn, repo, try MetaKey.name(tag, "tag"), digest, now: at, change: change, &ignored)
        case let .tagDeleted(repository, tag, at, by):
            let repo = try MetaKey.name(repository, "repository")
            let t = try MetaKey.name(tag, "tag")
            if try txn.contains(db.tags, MetaKey.repoTag(repo, t)) { try deleteTagInTransaction(txn, repo, t, now: at, by: by, &ignored) }
        case .snapshotEnd:
            return
        }
    }
}

/// What `replay` did.
public struct JournalReplayReport: Sendable {
    /// Manifests recorded minus manifests removed.
    public var manifests = 0
    /// Records that could not be applied, and why.
    public var skipped: [String] = []
}
