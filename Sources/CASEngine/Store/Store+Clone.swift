// Reflink import (`regctl import --link`): a large blob already on disk in a
// file on the same file system becomes a dedicated pack whose payload shares
// the file's extents (PackStore+Clone.swift) — no second copy of the bytes —
// verified and indexed exactly as an upload commit (RECOVERY.md "Large blob
// by reflink").
//
// Thread safety: may be called from any thread; concurrent calls for the same
// digest both clone, the index keeps one and the loser's pack is removed
// (as in commitUpload).
// Invariants:
//   1. Order: clone → hash the cloned bytes → header → fsync(file) → rename
//      into packs/ → fsync(packs/, uploads/) → one LMDB transaction indexing
//      and linking. Nothing is indexed before its pack is durable.
//   2. `.unsupported` and every thrown error leave nothing behind (no file in
//      uploads/ or packs/, nothing indexed); a crash leaves at most an orphan
//      upload file (removed at open) or an unindexed dedicated pack (reclaimed
//      like an upload's crash between rename and index).
//   3. Small blobs (≤ smallBlobThreshold) are `.unsupported`: they belong in
//      shared packs, and a 4 KiB-aligned pack for them would only waste space.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum CloneOutcome: Sendable, Equatable {
    /// Stored as a reflink clone of the source file.
    case cloned(BlobInfo)
    /// The store already held the blob; it is now linked into the repository.
    case present(BlobInfo)
    /// No reflink possible (why); nothing was stored — copy instead.
    case unsupported(reason: String)
}

extension Store {
    /// Brings the blob in `sourcePath` into `repository` by reflink. Throws
    /// `.digestMismatch` (nothing stored) when the bytes hash otherwise.
    public func commitClone(sourcePath: String, digest: BlobDigest, repository: String) throws -> CloneOutcome {
        try checkWritable()
        try Store.checkName(repository, "repository")
        if let existing = try meta.linkExisting(repository: repository, digest: digest, now: now) {
            return .present(BlobInfo(digest: digest, size: existing.location.rawLength, refcount: existing.refcount))
        }
        let source = try PosixIO.openFile(sourcePath, O_RDONLY)
        defer { PosixIO.closeFile(source) }
        let (device, size) = try PackStore.deviceAndSize(fd: source, path: sourcePath)
        guard device == (try PackStore.device(path: layout.uploadsDirectory)) else {
            return .unsupported(reason: "\(sourcePath) is on another file system than the storage root")
        }
        guard size > UInt64(options.smallBlobThreshold) else {
            return .unsupported(reason: "\(size) bytes is a small blob (threshold \(options.smallBlobThreshold)): stored in a shared pack")
        }
        if let max = options.maxUploadSize, size > max {
            throw StoreError(.limitExceeded, "blob of \(size) bytes exceeds the maximum blob size of \(max) bytes")
        }
        let location: BlobLocation
        switch try packs.commitClone(source: source, sourcePath: sourcePath, length: size, digest: digest,
                                     temporaryID: Store.newUploadID()) {
        case .unsupported(let reason):
            return .unsupported(reason: reason)
        case .cloned(let l):
            location = l
        }
        let record = try indexDedicated(location, digest: digest, repository: repository)
        return .cloned(BlobInfo(digest: digest, size: record.location.rawLength, refcount: record.refcount))
    }
}
