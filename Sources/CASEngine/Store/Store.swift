// The engine's public face: one object per storage root.
//
// Thread safety: every method may be called from any thread concurrently.
// Every method may block on disk I/O: callers on an event loop must offload
// (RegistryHTTP uses NIOThreadPool).
//
// CONTRACT (bodies land with the pack and metadata layers):
//   - Repository names and tags are validated by the caller (OCIModel); the
//     engine only rejects empty strings and NUL bytes with `.invalidArgument`.
//   - Writes acknowledge only after the durability order of RECOVERY.md.

public final class Store: Sendable {
    /// Opens (creating if needed) the store at `root`; takes the root's flock.
    /// Throws `.locked` if another process serves the root.
    public static func open(at root: String, options: StoreOptions = StoreOptions()) throws -> Store { fatalError("pending") }

    /// Releases the lock and file descriptors. Further calls throw `.closed`.
    public func close() {}

    // MARK: Blobs

    /// Global lookup (any repository).
    public func stat(_ digest: BlobDigest) throws -> BlobInfo? { fatalError("pending") }
    /// Lookup scoped to a repository: the blob is linked there (uploaded or
    /// mounted) or referenced by one of its manifests.
    public func stat(_ digest: BlobDigest, in repository: String) throws -> BlobInfo? { fatalError("pending") }
    /// Opens the blob for reading; `repository` nil means global.
    /// Throws `.blobUnknown` when absent (or not in the repository).
    public func openBlob(_ digest: BlobDigest, in repository: String?) throws -> BlobReader { fatalError("pending") }
    /// Links an existing blob into `repository`. `from` nil: anonymous mount
    /// (any repository's blob). Returns nil when the blob is not available.
    public func mountBlob(_ digest: BlobDigest, into repository: String, from: String?) throws -> BlobInfo? { fatalError("pending") }
    /// Removes the repository's link to the blob. Throws `.blobUnknown`.
    public func deleteBlob(_ digest: BlobDigest, in repository: String) throws { fatalError("pending") }
    /// Stores small content in one call and links it (tests, monolithic small PUT).
    @discardableResult
    public func putBlob(_ bytes: [UInt8], digest: BlobDigest, repository: String) throws -> BlobInfo { fatalError("pending") }

    // MARK: Uploads

    public func startUpload(repository: String) throws -> UploadStatus { fatalError("pending") }
    /// Throws `.uploadUnknown` if the id is unknown or belongs to another repository.
    public func uploadStatus(id: String, repository: String) throws -> UploadStatus { fatalError("pending") }
    /// Appends at `offset` (nil: at the current end). `.outOfOrder` if `offset`
    /// is not the current end. Returns the new status.
    public func appendUpload(id: String, repository: String, offset: UInt64?, _ bytes: UnsafeRawBufferPointer) throws -> UploadStatus { fatalError("pending") }
    /// Verifies size/digest, makes the blob durable and visible, links it into
    /// the repository, removes the session. On `.digestMismatch` or
    /// `.sizeMismatch` the session is removed and nothing is stored.
    public func commitUpload(id: String, repository: String, digest: BlobDigest, expectedSize: UInt64? = nil) throws -> BlobInfo { fatalError("pending") }
    public func cancelUpload(id: String, repository: String) throws { fatalError("pending") }
    /// Removes sessions started more than `olderThan` seconds ago; returns them.
    public func purgeUploads(olderThan: UInt64, dryRun: Bool) throws -> [UploadStatus] { fatalError("pending") }

    // MARK: Manifests and tags

    /// Stores the manifest bytes (hashing them with `digest.algorithm`;
    /// `.digestMismatch` if they differ), records its edges, links it into the
    /// repository and points each of `tags` at it, all in one transaction.
    /// `.referenceUnknown` (message names the digest) when a reference is
    /// neither a blob nor a manifest of the repository.
    public func putManifest(repository: String, digest: BlobDigest, bytes: [UInt8], edges: ManifestEdges, tags: [String]) throws { fatalError("pending") }
    public func manifest(repository: String, digest: BlobDigest) throws -> StoredManifest? { fatalError("pending") }
    public func manifest(repository: String, tag: String) throws -> StoredManifest? { fatalError("pending") }
    /// Digest and media type without reading bytes (HEAD).
    public func resolve(repository: String, tag: String) throws -> BlobDigest? { fatalError("pending") }
    /// Deletes the manifest from the repository, and every tag pointing at it.
    /// Throws `.manifestUnknown`.
    public func deleteManifest(repository: String, digest: BlobDigest) throws { fatalError("pending") }
    /// Throws `.tagUnknown`.
    public func deleteTag(repository: String, tag: String) throws { fatalError("pending") }
    /// Tags in lexical (byte) order after `after`, at most `limit`; nil if the
    /// repository is unknown.
    public func tags(repository: String, after: String?, limit: Int?) throws -> [String]? { fatalError("pending") }
    /// Repository names in lexical order after `after`, at most `limit`.
    public func repositories(after: String?, limit: Int?) throws -> [String] { fatalError("pending") }
    /// Manifests of `repository` whose subject is `subject`, optionally only those
    /// of one artifact type.
    public func referrers(repository: String, subject: BlobDigest, artifactType: String?) throws -> [Referrer] { fatalError("pending") }
    public func tagHistory(repository: String, tag: String) throws -> [TagHistoryEntry] { fatalError("pending") }
}

/// A readable blob. Owns no descriptor until `makeDescriptor` hands one out.
public final class BlobReader: Sendable {
    public let digest: BlobDigest
    /// Original (uncompressed) size.
    public let size: UInt64

    init(digest: BlobDigest, size: UInt64) { self.digest = digest; self.size = size }

    /// For zero-copy sends: a new file descriptor the caller owns (must close)
    /// and the file offset where the original bytes start; nil when the blob is
    /// stored compressed (use `read`).
    public func makeDescriptor() throws -> (fd: Int32, offset: UInt64)? { fatalError("pending") }
    /// Original bytes `offset ..< offset+length` (clamped to the end).
    public func read(offset: UInt64, length: Int) throws -> [UInt8] { fatalError("pending") }
}
