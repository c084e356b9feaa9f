// Tag history and rollback (MetaStore+History), as the engine's public API.
//
// Thread safety: as Store; the policy may be replaced while requests run
// (each transaction reads it once).
// Invariants: MetaStore+History.

extension Store {
    /// `berth.tags.history`, applied from the next transaction on.
    public var tagHistoryPolicy: TagHistoryPolicy {
        get { meta.historyPolicy.withLock { $0 } }
        set { meta.historyPolicy.withLock { $0 = newValue } }
    }

    /// Set entries (pushes, promotions, rollbacks) of the tag, oldest first,
    /// as stored (the policy prunes on every change of the tag).
    public func tagHistory(repository: String, tag: String) throws -> [TagHistoryEntry] {
        try checkOpen()
        return try meta.tagHistory(repository: repository, tag: tag)
    }

    /// The tag's kept history, newest first, deletions included: entries with
    /// a sequence below `before` when given, at most `limit`. nil when the
    /// tag never had an entry.
    public func tagHistory(repository: String, tag: String, before: UInt64?, limit: Int?) throws -> [TagHistoryEntry]? {
        try checkOpen()
        try Self.checkName(repository, "repository")
        try Self.checkName(tag, "tag")
        return try meta.tagHistoryPage(repository: repository, tag: tag, before: before, limit: limit, now: now)
    }

    /// Re-points the tag `steps` set entries back (1: where it pointed before
    /// the current position; for a deleted tag, the digest it had), or to
    /// `to`, which its kept history must name. `.invalidArgument` when there
    /// is no such entry, `.manifestUnknown` when the manifest is gone,
    /// `.immutable` when `freeze` holds the tag. Returns the new digest and
    /// the one before (nil: the tag did not exist).
    public func rollbackTag(repository: String, tag: String, steps: Int? = nil, to: BlobDigest? = nil,
                            freeze: TagFreeze? = nil, by: String? = nil) throws -> (digest: BlobDigest, previous: BlobDigest?) {
        try checkWritable()
        try Self.checkName(repository, "repository")
        try Self.checkName(tag, "tag")
        let target: MetaStore.RollbackTarget
        switch (steps, to) {
        case (let n?, nil): target = .steps(n)
        case (nil, let d?): target = .digest(d)
        case (nil, nil): target = .steps(1)
        default: throw StoreError(.invalidArgument, "a rollback names steps or a digest, not both")
        }
        return try meta.rollbackTag(repository: repository, tag: tag, to: target, freeze: freeze, by: by, now: now)
    }
}
