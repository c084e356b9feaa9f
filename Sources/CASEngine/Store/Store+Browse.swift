// What the web page reads (RegistryHTTP/UI): a repository's tags with push
// and pull times, its untagged manifests with when the collector takes them,
// a repository's tag count and last push, and the registry's totals without
// the per-repository map (so a page of 100 repositories costs 100 lookups,
// not a walk of every repository).
//
// Thread safety: as Store; each call is one read transaction (MetaStore+Browse)
// plus, for totals, the O(packs) file sizes `usage()` also reads.
// Invariants:
//   1. `collectionDue` applies the same rules the collector and retention
//      apply when they act (IncrementalCollector invariant 2, Retention,
//      MetaStore+Keep invariant 4): the delay counts from `unkeptAt`, and
//      history protection postpones it to the protection's end.

public struct TagSummary: Sendable, Equatable {
    public let tag: String
    public let digest: BlobDigest
    /// Unix seconds the tag last moved to its manifest (creation if no history).
    public let pushed: UInt64
    /// Unix seconds of the last pull by tag written so far; nil: never.
    public let pulled: UInt64?
}

public struct UntaggedManifest: Sendable, Equatable {
    public let digest: BlobDigest
    public let mediaType: String
    public let createdAt: UInt64
    /// When it last became unkept: the untagged delay counts from here.
    public let unkeptAt: UInt64
    /// Kept by tag history protection until then (nil: not protected).
    public let protectedUntil: UInt64?

    /// When the online collector (`gc`, with its untagged policy on) or the
    /// first retention policy matching the repository (`retention`, with
    /// `deleteUntagged`) may delete it, whichever is earlier; nil: neither
    /// would. The collector acts at its first pass after this time.
    public func collectionDue(gc: GCPolicy?, retention: RetentionPolicy?) -> UInt64? {
        var due: [UInt64] = []
        if let gc, gc.deleteUntagged { due.append(unkeptAt + gc.untaggedDelay) }
        if let retention, retention.deleteUntagged { due.append(unkeptAt + retention.untaggedDelay) }
        guard let earliest = due.min() else { return nil }
        return max(earliest, protectedUntil ?? 0)
    }
}

public struct RepositorySummary: Sendable, Equatable {
    public var tags = 0
    public var manifests = 0
    /// Unix seconds of the newest manifest push; nil: no manifest.
    public var lastPush: UInt64? = nil
}

extension Store {
    /// nil: no such repository.
    public func browse(repository: String) throws -> (tags: [TagSummary], untagged: [UntaggedManifest])? {
        try checkOpen()
        return try meta.browse(repository: repository, now: now)
    }

    /// nil: no such repository.
    public func repositorySummary(repository: String) throws -> RepositorySummary? {
        try checkOpen()
        return try meta.repositorySummary(repository: repository)
    }

    /// `usage()` without `repositories` (empty): O(packs), not O(repositories).
    public func usageTotals() throws -> RegistryUsage {
        try checkOpen()
        let t = try meta.usageTotals()
        var u = RegistryUsage(referencedBytes: t.bytes, referencedBlobs: t.blobs)
        for id in try packs.packIDs() { u.storedBytes += (try? packs.fileSize(of: id)) ?? 0 }
        u.deadBytes = try deadBytes()
        u.gcBacklog = try meta.reviewQueueCount()
        u.lastCollection = try meta.lastCollection()
        return u
    }
}
