// The slice of the engine API RegistryHTTP uses. `CASEngine.Store` conforms;
// the seam a future
// object-storage/PostgreSQL backend plugs into (DESIGN.md). Every method may block: handlers
// call them through `RegistryHandler.io` (thread pool), except `manifestHead`,
// an index lookup in memory-mapped pages that handlers make where they run.
//
// Thread safety: implementations must be safe to call from any thread.

import CASEngine

/// A readable blob (CASEngine.BlobReader).
public protocol BlobContent: Sendable {
    var digest: BlobDigest { get }
    var size: UInt64 { get }
    /// A descriptor the caller owns and the offset of the original bytes; nil
    /// when the bytes are not stored verbatim (compressed).
    func makeDescriptor() throws -> (fd: Int32, offset: UInt64)?
    func read(offset: UInt64, length: Int) throws -> [UInt8]
}

public protocol RegistryStore: Sendable {
    func stat(_ digest: BlobDigest, in repository: String) throws -> BlobInfo?
    /// `stat` without its grace restart of a zero-ref blob: a read only,
    /// made where the handler runs (Store.peek).
    func peek(_ digest: BlobDigest, in repository: String) throws -> BlobInfo?
    func openBlobContent(_ digest: BlobDigest, in repository: String?) throws -> any BlobContent
    func mountBlob(_ digest: BlobDigest, into repository: String, from: String?) throws -> BlobInfo?
    /// Repositories the blob is linked into, at most `limit` (anonymous mount candidates).
    func repositoriesLinking(_ digest: BlobDigest, limit: Int) throws -> [String]
    func deleteBlob(_ digest: BlobDigest, in repository: String) throws

    /// Verifies and stores a whole small blob in one call, linked into the repository.
    func putBlob(_ bytes: [UInt8], digest: BlobDigest, repository: String) throws -> BlobInfo
    func startUpload(repository: String) throws -> UploadStatus
    func uploadStatus(id: String, repository: String) throws -> UploadStatus
    func appendUpload(id: String, repository: String, offset: UInt64?, _ bytes: UnsafeRawBufferPointer) throws -> UploadStatus
    /// Makes the session's bytes durable; called before a PATCH is answered.
    func syncUpload(id: String, repository: String) throws -> UploadStatus
    func commitUpload(id: String, repository: String, digest: BlobDigest, expectedSize: UInt64?) throws -> BlobInfo
    func cancelUpload(id: String, repository: String) throws

    /// `by`: the authenticated user, recorded in tag history (as for every
    /// tag-changing call below).
    /// `notes`: outbox payloads stored in the change's own transaction (as
    /// for deleteManifest and deleteTag).
    func putManifest(repository: String, digest: BlobDigest, bytes: [UInt8], edges: ManifestEdges, tags: [String],
                     freeze: TagFreeze?, by: String?, notes: [[UInt8]]) throws
    func manifest(repository: String, digest: BlobDigest) throws -> StoredManifest?
    func manifest(repository: String, tag: String) throws -> StoredManifest?
    /// Digest, media type and size, from the index alone (one read
    /// transaction, never the manifest's bytes): what HEAD and a cached GET need.
    func manifestHead(repository: String, tag: String) throws -> ManifestHead?
    func manifestHead(repository: String, digest: BlobDigest) throws -> ManifestHead?
    func deleteManifest(repository: String, digest: BlobDigest, by: String?, notes: [[UInt8]]) throws
    func deleteTag(repository: String, tag: String, by: String?, notes: [[UInt8]]) throws
    func promoteTags(repository: String, chain: [String], expect: [String: BlobDigest], freeze: TagFreeze?, by: String?) throws
        -> [String: BlobDigest]
    /// Kept history, newest first, below sequence `before`; nil: no history.
    func tagHistory(repository: String, tag: String, before: UInt64?, limit: Int?) throws -> [TagHistoryEntry]?
    func rollbackTag(repository: String, tag: String, steps: Int?, to: BlobDigest?, freeze: TagFreeze?, by: String?) throws
        -> (digest: BlobDigest, previous: BlobDigest?)
    func tags(repository: String, after: String?, limit: Int?) throws -> [String]?
    func repositories(after: String?, limit: Int?) throws -> [String]
    func referrers(repository: String, subject: BlobDigest, artifactType: String?) throws -> [Referrer]
    /// Notes a pull by tag (batched; never a write on the request path).
    func recordPull(repository: String, tag: String)
    func lastPulled(repository: String, tag: String) throws -> UInt64?
    /// Deduplication-aware usage (kept incrementally by the engine).
    func usage() throws -> RegistryUsage
    func usage(repository: String) throws -> RepositoryUsage?
    /// The web page's views (CASEngine Store+Browse).
    func browse(repository: String) throws -> (tags: [TagSummary], untagged: [UntaggedManifest])?
    func repositorySummary(repository: String) throws -> RepositorySummary?
    func usageTotals() throws -> RegistryUsage
    /// The notification outbox (CASEngine Store+Outbox).
    func appendOutbox(_ payloads: [[UInt8]]) throws
    func outboxEntries(after: UInt64, limit: Int) throws -> [OutboxEntry]
    func outboxCursor(_ endpoint: String) throws -> UInt64
    func acknowledgeOutbox(endpoint: String, through sequence: UInt64, keep: Set<String>) throws
    /// A cheap read that throws when the store cannot serve (health checks).
    func healthProbe() throws
}

extension BlobReader: BlobContent {}

extension Store: RegistryStore {
    public func openBlobContent(_ digest: BlobDigest, in repository: String?) throws -> any BlobContent {
        try openBlob(digest, in: repository)
    }
}
