// The store's use of the recovery journal: reconciling it with the index on
// open, checkpoints, and the replay `fsck --reindex` runs.
//
// Thread safety: `checkpointJournal*` may run beside any other call (the
// journal serialises them with writers); `replayJournal` is for an offline
// store (fsck).
// Invariants:
//   1. A checkpoint never runs while the journal holds changes the index has
//      not replayed (`journal_needs_replay`): the snapshot would be of the
//      index, and the segments it replaces are what replay needs.
//   2. On open, a journal that ends before the index's `journal_end` (its
//      tail lost in a power cut after the index committed; no client was
//      answered for it) is checkpointed at once, so it again describes the
//      whole index.

public enum JournalState: Sendable, Equatable {
    case consistent
    /// The journal was missing or behind the index; a new snapshot was taken.
    case resnapshotted
    /// The journal holds changes the index lacks (meta/ lost or restored
    /// from an older copy): run `regctl fsck --scan-packs --repair --reindex`.
    case needsReplay
}

extension Store {
    static func reconcile(_ journal: RecoveryJournal, _ meta: MetaStore, now: UInt64) throws -> JournalState {
        if try meta.journalNeedsReplay() { return .needsReplay }
        let indexEnd = try meta.journalEnd()
        if !journal.existed || (indexEnd.map { journal.position < $0 } ?? false) {
            try checkpoint(journal, meta, now: now)
            return .resnapshotted
        }
        if indexEnd == nil || journal.position > indexEnd! {
            // A journal the index has not seen: keep it until replayed.
            if indexEnd == nil, try meta.isEmptyIndex(), try RecoveryJournal.records(journal.layout).records.isEmpty {
                try checkpoint(journal, meta, now: now)
                return .resnapshotted
            }
            try meta.setJournalNeedsReplay(true)
            return .needsReplay
        }
        return .consistent
    }

    /// Invariant 1 of RecoveryJournal's protocol: the index records the new
    /// segment before it exists (a crash in between only re-snapshots).
    static func checkpoint(_ journal: RecoveryJournal, _ meta: MetaStore, now: UInt64) throws {
        try journal.checkpoint(beforeRotate: { next in try meta.setJournalEnd(JournalPosition(segment: next, offset: 0)) },
                               dump: { emit in try meta.dumpState(at: now, emit) })
    }

    /// Snapshots every manifest and tag into the journal and drops the
    /// segments before it (invariant 1: not while a replay is pending).
    public func checkpointJournal() throws {
        try checkOpen()
        try checkWritable()
        guard let journal, try !meta.journalNeedsReplay() else { return }
        try Self.checkpoint(journal, meta, now: now)
    }

    /// `checkpointJournal` once the active segment reached
    /// `journalCheckpointBytes` (the collector calls it every pass).
    @discardableResult
    public func checkpointJournalIfNeeded() throws -> Bool {
        guard let journal, journal.activeSegmentBytes >= options.journalCheckpointBytes else { return false }
        try checkpointJournal()
        return true
    }

    /// Whether open found a journal the index has not replayed.
    public func journalNeedsReplay() throws -> Bool {
        try checkOpen()
        return try meta.journalNeedsReplay()
    }

    /// Re-applies the whole journal to the index (fsck --reindex, after the
    /// blob records are back), then checkpoints it.
    func replayJournal() throws -> (JournalReplayReport, problems: [String]) {
        let (records, problems) = try RecoveryJournal.records(layout)
        let report = try meta.replay(records, now: now)
        if let journal { try Self.checkpoint(journal, meta, now: now) }
        return (report, problems)
    }
}
