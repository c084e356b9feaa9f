// Registry and repository usage (MetaStore+Usage), with the pack figures
// that complete it: bytes on disk, dead bytes compaction would reclaim, the
// collector's backlog.
//
// Thread safety: as Store. The accounting is one read transaction; the pack
// figures are O(packs) file sizes read beside it, so a write landing in
// between can make them disagree by that write.
// Invariants: MetaStore+Usage.

/// The whole registry's usage.
public struct RegistryUsage: Sendable, Equatable {
    public var repositories: [String: RepositoryUsage] = [:]
    /// Raw bytes of every blob a manifest is or references, each counted once.
    public var referencedBytes: UInt64 = 0
    public var referencedBlobs: UInt64 = 0
    /// Bytes of every pack file (shared and dedicated) on disk.
    public var storedBytes: UInt64 = 0
    /// Bytes in shared packs no index entry names: what compaction reclaims.
    public var deadBytes: UInt64 = 0
    /// Review items queued for the online collector (zero-ref blobs,
    /// untagged manifests) not yet decided.
    public var gcBacklog: Int = 0
    /// Unix seconds at which the last collector pass finished; nil: none yet.
    public var lastCollection: UInt64? = nil

    /// The sum over repositories of referenced bytes, minus the union: what
    /// deduplication saves.
    public var savedByDeduplication: UInt64 {
        let sum = repositories.values.reduce(UInt64(0)) { $0 + $1.referencedBytes }
        return sum - min(sum, referencedBytes)
    }
}

extension Store {
    /// One repository's usage; nil when it references nothing.
    /// `.unsupportedFormat` in a read-only open of a store older than the
    /// accounting.
    public func usage(repository: String) throws -> RepositoryUsage? {
        try checkOpen()
        return try meta.usage(repository: repository)
    }

    public func usage() throws -> RegistryUsage {
        try checkOpen()
        let accounted = try meta.usage()
        var u = RegistryUsage(repositories: accounted.repositories, referencedBytes: accounted.bytes,
                              referencedBlobs: accounted.blobs)
        // A dedicated pack the collector removes meanwhile counts as gone.
        for id in try packs.packIDs() { u.storedBytes += (try? packs.fileSize(of: id)) ?? 0 }
        u.deadBytes = try deadBytes()
        u.gcBacklog = try meta.reviewQueueCount()
        u.lastCollection = try meta.lastCollection()
        return u
    }
}
