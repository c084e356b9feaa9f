// Read-only counters of a store's activity since open (tests and benchmarks).
//
// Thread safety: each counter is read under the lock of the part that owns it.

extension Store {
    /// Small-blob group commits since open: `batches` fdatasync+LMDB commits
    /// carried `entries` blobs (entries > batches means writers shared commits).
    var groupCommitStatistics: (batches: Int, entries: Int) { committer.statistics }
}
