// The engine's public face: one object per storage root.
//
// Thread safety: every method may be called from any thread concurrently.
// Every method may block on disk I/O: callers on an event loop must offload
// (RegistryHTTP uses NIOThreadPool). Reads are LMDB read transactions plus
// preads; they never wait for writers.
// Invariants:
//   1. A write is acknowledged (returns) only after the durability order of
//      RECOVERY.md: payload fsync'd, pack header/rename durable, LMDB commit.
//   2. Repository names and tags are validated by the caller (OCIModel); the
//      engine rejects only empty strings and NUL bytes (`.invalidArgument`).
//   3. A blob whose bytes do not hash to its declared digest is never indexed.
//   4. What GC never takes (RECOVERY.md): every decision that lets a client
//      rely on a stored blob — dedupe (storeSmall, commitUpload), mount,
//      HEAD/GET of a zero-ref blob, manifest PUT — is re-checked in the one
//      LMDB write transaction that acts on it, so it is ordered with the
//      collector's own transactional re-check: either the collector removed
//      the blob first (and the caller stores it again or answers 404) or it
//      sees the refreshed grace period / new reference and keeps it.
//   5. A reader opens its pack descriptor after looking the blob up and keeps
//      it for the reader's life; if compaction moved the record and unlinked
//      the old pack in between, the lookup is repeated (the index names the
//      new copy before the old pack is unlinked).

import Foundation
import Synchronization

public final class Store: Sendable {
    let layout: StorageLayout
    let options: StoreOptions
    let packs: PackStore
    let meta: MetaStore
    let committer: GroupCommitter
    let sessions = UploadSessions()
    let format: FormatFile
    /// The recovery journal (nil when opened read-only).
    let journal: RecoveryJournal?
    let metrics: EngineMetrics
    /// Facts about what open() found and repaired (torn tails, orphan uploads).
    public let recovery: RecoveryReport
    private let lock: Mutex<RootLockBox?>
    private let clock: @Sendable () -> UInt64

    /// Opens (creating if needed) the store at `root`; takes the root's flock.
    /// Throws `.locked` if another process serves the root.
    public static func open(at root: String, options: StoreOptions = StoreOptions()) throws -> Store {
        try Store(root: root, options: options, clock: { UInt64(Date().timeIntervalSince1970) })
    }

    init(root: String, options: StoreOptions, clock: @escaping @Sendable () -> UInt64) throws {
        let layout = StorageLayout(root: root)
        if options.readOnly {
            // Changes nothing on disk (fsck without --repair relies on it).
            guard access(layout.formatFile, F_OK) == 0 else {
                throw StoreError(.unsupportedFormat, "\(root) is not a Berth storage root (no FORMAT file)")
            }
            guard access(layout.metaDirectory, F_OK) == 0 else {
                throw StoreError(.corrupt, "meta/ is missing; `regctl fsck --scan-packs --repair --reindex` rebuilds it from the packs and the recovery journal")
            }
        } else {
            try layout.createDirectories()
        }
        let lockBox = RootLockBox(try RootLock(path: layout.lockFile))
        self.layout = layout
        self.options = options
        self.clock = clock
        self.metrics = EngineMetrics(factory: options.metricsFactory)
        self.format = try FormatFile.loadOrCreate(at: layout.formatFile, directory: layout.root, now: clock())
        let journal = options.readOnly ? nil : try RecoveryJournal(layout: layout, readOnly: false)
        self.journal = journal
        self.meta = try MetaStore(directory: layout.metaDirectory, mapSize: options.metadataMapSize,
                                    maxMapSize: options.metadataMaxMapSize, readOnly: options.readOnly, journal: journal)
        self.packs = try PackStore(layout: layout, maxSharedPackSize: options.maxSharedPackSize, compression: options.compression,
                                   metrics: metrics, readOnly: options.readOnly)
        meta.historyPolicy.withLock { $0 = options.tagHistory }
        self.committer = GroupCommitter(packs: packs, meta: meta, clock: clock, metrics: metrics)
        self.lock = Mutex(lockBox)
        var recovery = try Store.recoverUploads(packs: packs, meta: meta, readOnly: options.readOnly,
                                                packReport: packs.recoveryReport)
        if let journal { recovery.journal = try Store.reconcile(journal, meta, now: clock()) }
        self.recovery = recovery
    }

    /// Releases the lock and file descriptors. Further calls throw `.closed`.
    public func close() {
        let box = lock.withLock { l -> RootLockBox? in
            defer { l = nil }
            return l
        }
        guard box != nil else { return }
        // Pull times noted since the last flush (advisory: a failure loses only them).
        if !options.readOnly { _ = try? meta.flushPulls() }
        sessions.closeAll()
        journal?.close()
        meta.close()
        _ = box
    }

    var now: UInt64 { clock() }

    func checkOpen() throws {
        if lock.withLock({ $0 == nil }) { throw StoreError(.closed, "the store is closed") }
    }

    func checkWritable() throws {
        try checkOpen()
        if options.readOnly { throw StoreError(.readOnly, "the store is read-only") }
    }

    static func checkName(_ s: String, _ what: String) throws {
        if s.isEmpty || s.utf8.contains(0) {
            throw StoreError(.invalidArgument, "\(what) must be non-empty and contain no NUL byte")
        }
    }

    // MARK: Blobs

    /// Global lookup (any repository).
    public func stat(_ digest: BlobDigest) throws -> BlobInfo? {
        try checkOpen()
        return try meta.blob(digest).map { BlobInfo(digest: digest, size: $0.location.rawLength, refcount: $0.refcount) }
    }

    /// Lookup scoped to a repository: the blob is linked there (uploaded or
    /// mounted) or is a manifest of the repository.
    public func stat(_ digest: BlobDigest, in repository: String) throws -> BlobInfo? {
        try checkOpen()
        guard let record = try seen(digest, in: repository) else { return nil }
        return BlobInfo(digest: digest, size: record.location.rawLength, refcount: record.refcount)
    }

    /// The record of a blob available in `repository`, as a client is about
    /// to be told it exists (HEAD/GET). A client that saw a zero-ref blob may
    /// reference it in its next manifest instead of uploading it again, so
    /// its grace period restarts (DESIGN.md "References and GC") — in the
    /// write transaction that re-checks it is still there (invariant 4): the
    /// answer is given only after that commit. Only zero-ref blobs pay the
    /// write. A read-only store runs no collector and skips it.
    func seen(_ digest: BlobDigest, in repository: String) throws -> BlobRecord? {
        guard let record = try meta.availableBlob(repository: repository, digest: digest) else { return nil }
        guard record.refcount == 0, !options.readOnly else { return record }
        try failpoint(.statAfterCheck)
        return try meta.refreshIfAvailable(repository: repository, digest: digest, now: now)
    }

    /// The blob as HEAD would report it, from one read transaction and
    /// never a write: nil when the repository does not have it. A zero-ref
    /// blob comes back with refcount 0 and its grace period NOT restarted:
    /// a caller about to tell a client it exists must then call
    /// `stat(_:in:)` (which restarts it); a referenced blob needs nothing more.
    public func peek(_ digest: BlobDigest, in repository: String) throws -> BlobInfo? {
        try checkOpen()
        return try meta.availableBlob(repository: repository, digest: digest)
            .map { BlobInfo(digest: digest, size: $0.location.rawLength, refcount: $0.refcount) }
    }

    /// Whether HEAD/GET would find the blob in the repository (no grace restart).
    func isAvailable(_ digest: BlobDigest, in repository: String) throws -> Bool {
        try meta.availableBlob(repository: repository, digest: digest) != nil
    }

    /// Opens the blob for reading; `repository` nil means global.
    /// Throws `.blobUnknown` when absent (or not in the repository).
    public func openBlob(_ digest: BlobDigest, in repository: String?) throws -> BlobReader {
        try checkOpen()
        let opened = try openRecord(\.location) {
            if let repository { return try seen(digest, in: repository) }
            return try meta.blob(digest)
        }
        guard let (record, file) = opened else {
            if let repository { throw StoreError(.blobUnknown, "blob \(digest) is not in repository \(repository)") }
            throw StoreError(.blobUnknown, "blob \(digest) is not stored")
        }
        try checkHeader(record.location, file: file, digest: digest)
        return BlobReader(digest: digest, location: record.location, file: file, packs: packs)
    }

    /// Looks the blob up with `lookup` and opens its pack (invariant 5): when
    /// the pack is gone, compaction moved the record first, so look again.
    func openRecord<R>(_ location: (R) -> BlobLocation, _ lookup: () throws -> R?) throws -> (R, OwnedDescriptor)? {
        var attempts = 0
        while true {
            guard let record = try lookup() else { return nil }
            try failpoint(.readAfterLookup)
            do {
                return (record, try packs.descriptorFor(location(record).packID))
            } catch let e as StoreError where e.code == .blobUnknown && attempts < 16 {
                attempts += 1
            }
        }
    }

    /// Links an existing blob into `repository`. `from` nil: anonymous mount
    /// (any repository's blob: callers enforcing access rules pass the
    /// source they checked, see `repositoriesLinking`). Returns nil when the
    /// blob is not available. The check and the link are one transaction.
    public func mountBlob(_ digest: BlobDigest, into repository: String, from: String?) throws -> BlobInfo? {
        try checkWritable()
        try Store.checkName(repository, "repository")
        try failpoint(.mountAfterCheck)
        guard let record = try meta.linkExisting(repository: repository, digest: digest, from: from, now: now) else { return nil }
        return BlobInfo(digest: digest, size: record.location.rawLength, refcount: record.refcount)
    }

    /// Repositories the blob is linked into (uploaded or mounted), in byte
    /// order, at most `limit`: the candidates of an anonymous mount, which the
    /// HTTP layer filters by what the requester may pull.
    public func repositoriesLinking(_ digest: BlobDigest, limit: Int) throws -> [String] {
        try checkOpen()
        return try meta.repositoriesLinking(digest, limit: limit)
    }

    /// Removes the repository's link to the blob. Throws `.blobUnknown`.
    public func deleteBlob(_ digest: BlobDigest, in repository: String) throws {
        try checkWritable()
        guard try meta.unlink(repository: repository, digest: digest) else {
            throw StoreError(.blobUnknown, "blob \(digest) is not linked in repository \(repository)")
        }
    }

    /// Stores small content in one call and links it (tests, monolithic small PUT).
    @discardableResult
    public func putBlob(_ bytes: [UInt8], digest: BlobDigest, repository: String) throws -> BlobInfo {
        try checkWritable()
        try Store.checkName(repository, "repository")
        let actual = bytes.withUnsafeBytes { StreamingHasher.digest($0, digest.algorithm) }
        guard actual == digest else {
            throw StoreError(.digestMismatch, "content hashes to \(actual), not \(digest)")
        }
        let record = try storeSmall(bytes, digest: digest, linkTo: repository)
        return BlobInfo(digest: digest, size: record.location.rawLength, refcount: record.refcount)
    }

    /// Indexes verified small content, deduplicating against what is stored.
    /// Dedupe is the link transaction itself (invariant 4): linked there, the
    /// blob cannot have been collected in between; not indexed, the bytes are
    /// committed (the group commit dedupes again in its own transaction).
    /// Without a repository (manifest bytes) the caller's own transaction
    /// re-checks the record (MetaStore.putManifest returns false).
    func storeSmall(_ bytes: [UInt8], digest: BlobDigest, linkTo repository: String?) throws -> BlobRecord {
        try failpoint(.dedupeAfterCheck)
        if let repository {
            if let existing = try meta.linkExisting(repository: repository, digest: digest, now: now) { return existing }
        } else if let existing = try meta.blob(digest) {
            return existing
        }
        return try committer.commit([.init(digest: digest, bytes: bytes, linkTo: repository)])[0]
    }

    // MARK: Manifests and tags

    /// Stores the manifest bytes (hashing them with `digest.algorithm`;
    /// `.digestMismatch` if they differ), records its edges, links it into the
    /// repository and points each of `tags` at it, all in one transaction.
    /// `.referenceUnknown` (message names the digest) when a reference is
    /// neither a blob nor a manifest of the repository.
    /// `freeze` names the tags that must not move (`.immutable`, nothing stored
    /// changes but the manifest's bytes, which the collector may take back).
    public func putManifest(repository: String, digest: BlobDigest, bytes: [UInt8], edges: ManifestEdges, tags: [String],
                            freeze: TagFreeze? = nil, by: String? = nil, notes: [[UInt8]] = []) throws {
        try checkWritable()
        try Store.checkName(repository, "repository")
        for tag in tags { try Store.checkName(tag, "tag") }
        let actual = bytes.withUnsafeBytes { StreamingHasher.digest($0, digest.algorithm) }
        guard actual == digest else {
            throw StoreError(.digestMismatch, "manifest hashes to \(actual), not \(digest)")
        }
        // The metadata transaction re-checks that the bytes are still
        // indexed; if the collector took them in between (a zero-ref blob past
        // its grace period), store them again.
        for _ in 0..<8 {
            _ = try storeSmall(bytes, digest: digest, linkTo: nil)
            try failpoint(.manifestAfterBytes)
            if try meta.putManifest(repository: repository, digest: digest, edges: edges, tags: tags, freeze: freeze, by: by,
                                   notes: notes, now: now) {
                return
            }
        }
        throw StoreError(.io, "manifest \(digest): its bytes were collected repeatedly while being stored")
    }

    public func manifest(repository: String, digest: BlobDigest) throws -> StoredManifest? {
        try checkOpen()
        let opened = try openRecord(\.location) { try meta.manifest(repository: repository, digest: digest) }
        guard let (record, file) = opened else { return nil }
        // Manifests are small and served whole: re-hash them on every read so
        // a damaged record is an error, never content.
        let bytes = try packs.readAll(record.location, file: file)
        let actual = BlobDigest.compute(bytes, digest.algorithm)
        guard actual == digest else {
            throw StoreError(.corrupt, "manifest \(digest) in pack \(record.location.packID) @\(record.location.recordOffset) hashes to \(actual)")
        }
        return StoredManifest(digest: digest, mediaType: record.mediaType, bytes: bytes)
    }

    public func manifest(repository: String, tag: String) throws -> StoredManifest? {
        guard let digest = try resolve(repository: repository, tag: tag) else { return nil }
        return try manifest(repository: repository, digest: digest)
    }

    /// The digest a tag points at (HEAD by tag needs no bytes).
    public func resolve(repository: String, tag: String) throws -> BlobDigest? {
        try checkOpen()
        return try meta.resolveTag(repository: repository, tag: tag)
    }

    /// What a manifest GET or HEAD needs before any byte (digest, media
    /// type, size): one read transaction, no pack read. The bytes, when
    /// wanted, come from `manifest(repository:digest:)` (or a cache of them:
    /// a digest names the same bytes forever).
    public func manifestHead(repository: String, tag: String) throws -> ManifestHead? {
        try checkOpen()
        return try meta.manifest(repository: repository, tag: tag).map(ManifestHead.init)
    }

    public func manifestHead(repository: String, digest: BlobDigest) throws -> ManifestHead? {
        try checkOpen()
        return try meta.manifest(repository: repository, digest: digest).map(ManifestHead.init)
    }

    /// Media type and size of a manifest without reading its bytes.
    public func manifestInfo(repository: String, digest: BlobDigest) throws -> (mediaType: String, size: UInt64)? {
        try checkOpen()
        return try meta.manifest(repository: repository, digest: digest).map { ($0.mediaType, $0.location.rawLength) }
    }

    /// Deletes the manifest from the repository, and every tag pointing at it.
    /// Throws `.manifestUnknown`. `notes` go to the outbox in the same
    /// transaction (as for putManifest and deleteTag).
    public func deleteManifest(repository: String, digest: BlobDigest, by: String? = nil, notes: [[UInt8]] = []) throws {
        try checkWritable()
        try meta.deleteManifest(repository: repository, digest: digest, now: now, by: by, notes: notes)
    }

    /// Throws `.tagUnknown`.
    /// Shifts `chain` by one (`archive` := old `latest`, `latest` := `beta`)
    /// in one transaction after checking `expect` (compare-and-swap:
    /// `.conflict` and nothing moves when a named tag differs); the first tag
    /// must exist (`.tagUnknown`). Returns the chain's digests afterwards.
    public func promoteTags(repository: String, chain: [String], expect: [String: BlobDigest],
                            freeze: TagFreeze? = nil, by: String? = nil) throws -> [String: BlobDigest] {
        try checkWritable()
        try chain.forEach { try Self.checkName($0, "tag") }
        return try meta.promoteTags(repository: repository, chain: chain, expect: expect, freeze: freeze, by: by, now: now)
    }

    public func deleteTag(repository: String, tag: String, by: String? = nil, notes: [[UInt8]] = []) throws {
        try checkWritable()
        try meta.deleteTag(repository: repository, tag: tag, now: now, by: by, notes: notes)
    }

    /// Tags in lexical (byte) order after `after`, at most `limit`; nil if the
    /// repository is unknown.
    public func tags(repository: String, after: String?, limit: Int?) throws -> [String]? {
        try checkOpen()
        return try meta.tags(repository: repository, after: after, limit: limit)
    }

    /// Repository names in lexical order after `after`, at most `limit`.
    public func repositories(after: String?, limit: Int?) throws -> [String] {
        try checkOpen()
        return try meta.repositories(after: after, limit: limit)
    }

    /// Manifests of `repository` whose subject is `subject`, optionally only
    /// those of one artifact type.
    public func referrers(repository: String, subject: BlobDigest, artifactType: String?) throws -> [Referrer] {
        try checkOpen()
        return try meta.referrers(repository: repository, subject: subject, artifactType: artifactType)
    }

    /// The blob's refcount (nil when not stored): how many (repository,
    /// manifest) holders reference it.
    public func refcount(of digest: BlobDigest) throws -> UInt64? {
        try checkOpen()
        return try meta.blob(digest)?.refcount
    }

    /// The record header must pass its CRC, match the index and name `digest`
    /// before any of the record's bytes are served.
    func checkHeader(_ location: BlobLocation, digest: BlobDigest) throws {
        try checkHeader(location, file: try packs.descriptorFor(location.packID), digest: digest)
    }

    func checkHeader(_ location: BlobLocation, file: OwnedDescriptor, digest: BlobDigest) throws {
        let header = try packs.readHeader(location, file: file)
        guard header.digest == digest else {
            throw StoreError(.corrupt, "pack \(location.packID) @\(location.recordOffset) holds \(header.digest), index says \(digest)")
        }
    }

    /// Re-reads the blob's record and payload and checks header CRC, payload
    /// CRC and digest. Throws `.corrupt` or `.blobUnknown`.
    public func verify(_ digest: BlobDigest) throws {
        try checkOpen()
        guard let record = try meta.blob(digest) else {
            throw StoreError(.blobUnknown, "blob \(digest) is not stored")
        }
        try packs.verify(record.location, digest: digest)
    }
}

/// Holds the noncopyable root lock inside a Mutex.
final class RootLockBox: Sendable {
    // The lock is only ever released by deinit (closing the descriptor).
    let lock: RootLock
    init(_ lock: consuming RootLock) { self.lock = lock }
}

/// A readable blob.
///
/// Thread safety: immutable; reads are preads on the descriptor it holds,
/// safe from any thread.
public final class BlobReader: Sendable {
    public let digest: BlobDigest
    /// Original (uncompressed) size.
    public let size: UInt64
    let location: BlobLocation
    /// Held for the reader's life: reads keep working if the pack is
    /// unlinked meanwhile (compaction, GC of a blob that lost its last holder).
    let file: OwnedDescriptor
    let packs: PackStore

    init(digest: BlobDigest, location: BlobLocation, file: OwnedDescriptor, packs: PackStore) {
        self.digest = digest
        self.size = location.rawLength
        self.location = location
        self.file = file
        self.packs = packs
    }

    /// For zero-copy sends: a new file descriptor the caller owns (must close)
    /// and the file offset where the original bytes start; nil when the blob is
    /// stored compressed (use `read`).
    public func makeDescriptor() throws -> (fd: Int32, offset: UInt64)? {
        if location.flags.contains(.lz4) { return nil }
        return (try packs.duplicateDescriptor(file), location.payloadOffset)
    }

    /// Original bytes `offset ..< offset+length` (clamped to the end).
    public func read(offset: UInt64, length: Int) throws -> [UInt8] {
        try packs.read(location, file: file, offset: offset, length: length)
    }
}

extension Store {
    /// Benchmarks only: indexes synthetic entries (no pack bytes behind them)
    /// so digest lookups and GC passes can be measured over a large index
    /// quickly. `referenced`: the entries hold refcount 1 and queue nothing
    /// (live data); otherwise they are zero-ref garbage queued for review.
    /// Never call this on a store that serves data.
    @_spi(Benchmarks)
    public func _indexForBenchmark(_ digests: [BlobDigest], referenced: Bool = false) throws {
        let rows = digests.enumerated().map { i, d in
            (digest: d, location: BlobLocation(packID: UInt32.max, recordOffset: UInt64(i) * 4224,
                                              storedLength: 4096, rawLength: 4096, flags: []),
             linkTo: String?.none)
        }
        guard referenced else {
            _ = try meta.commitBlobs(rows, now: now)
            return
        }
        try meta.env.write { txn in
            for r in rows {
                try meta.putBlob(txn, r.digest, BlobRecord(location: r.location, refcount: 1, zeroedAt: 0, createdAt: now))
                try meta.adjustPackLive(txn, r.location, added: true)
            }
        }
    }
}
