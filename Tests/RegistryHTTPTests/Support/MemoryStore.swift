// An in-memory model of the engine's contract (Store.swift), used when
// BERTH_HTTP_MEMORY_STORE=1 so the HTTP layer can be exercised without the
// engine. Digest checks: sha256 verified, sha512 trusted.
//
// Thread safety: every stored property is guarded by `lock` (@unchecked Sendable).

@testable import CASEngine
import Foundation
@testable import RegistryHTTP
#if canImport(Glibc)
import Glibc
#endif

final class MemoryStore: RegistryStore, @unchecked Sendable {
    private let lock = NSLock()
    private var blobs: [BlobDigest: [UInt8]] = [:]
    private var links: [String: Set<BlobDigest>] = [:]
    private var uploads: [String: (repo: String, bytes: [UInt8])] = [:]
    private var manifests: [String: [BlobDigest: (StoredManifest, ManifestEdges)]] = [:]
    private var tagMap: [String: [String: BlobDigest]] = [:]
    var closed = false

    func close() { lock.withLock { closed = true } }

    private func check() throws { if closed { throw StoreError(.closed, "closed") } }

    private func verify(_ bytes: [UInt8], _ digest: BlobDigest) -> Bool {
        digest.algorithm != .sha256 || SHA256.hash(bytes) == digest.bytes
    }

    func stat(_ digest: BlobDigest, in repository: String) throws -> BlobInfo? {
        try lock.withLock {
            try check()
            guard links[repository]?.contains(digest) == true, let b = blobs[digest] else { return nil }
            return BlobInfo(digest: digest, size: UInt64(b.count), refcount: 0)
        }
    }

    func openBlobContent(_ digest: BlobDigest, in repository: String?) throws -> any BlobContent {
        try lock.withLock {
            try check()
            guard let b = blobs[digest], repository.map({ links[$0]?.contains(digest) == true }) ?? true else {
                throw StoreError(.blobUnknown, "\(digest)")
            }
            return MemoryBlob(digest: digest, bytes: b)
        }
    }

    func mountBlob(_ digest: BlobDigest, into repository: String, from: String?) throws -> BlobInfo? {
        try lock.withLock {
            try check()
            guard let b = blobs[digest] else { return nil }
            if let from, links[from]?.contains(digest) != true { return nil }
            links[repository, default: []].insert(digest)
            return BlobInfo(digest: digest, size: UInt64(b.count), refcount: 0)
        }
    }

    func deleteBlob(_ digest: BlobDigest, in repository: String) throws {
        try lock.withLock {
            try check()
            guard links[repository]?.remove(digest) != nil else { throw StoreError(.blobUnknown, "\(digest)") }
        }
    }

    func startUpload(repository: String) throws -> UploadStatus {
        try lock.withLock {
            try check()
            let id = UUID().uuidString.lowercased()
            uploads[id] = (repository, [])
            return UploadStatus(id: id, repository: repository, offset: 0, startedAt: 0)
        }
    }

    private func session(_ id: String, _ repo: String) throws -> [UInt8] {
        guard let s = uploads[id], s.repo == repo else { throw StoreError(.uploadUnknown, id) }
        return s.bytes
    }

    func uploadStatus(id: String, repository: String) throws -> UploadStatus {
        try lock.withLock {
            try check()
            let b = try session(id, repository)
            return UploadStatus(id: id, repository: repository, offset: UInt64(b.count), startedAt: 0)
        }
    }

    func appendUpload(id: String, repository: String, offset: UInt64?, _ bytes: UnsafeRawBufferPointer) throws -> UploadStatus {
        try lock.withLock {
            try check()
            var b = try session(id, repository)
            if let offset, offset != UInt64(b.count) { throw StoreError(.outOfOrder, "at \(b.count)") }
            b.append(contentsOf: bytes)
            uploads[id] = (repository, b)
            return UploadStatus(id: id, repository: repository, offset: UInt64(b.count), startedAt: 0)
        }
    }

    func commitUpload(id: String, repository: String, digest: BlobDigest, expectedSize: UInt64?) throws -> BlobInfo {
        try lock.withLock {
            try check()
            let b = try session(id, repository)
            uploads[id] = nil
            if let expectedSize, expectedSize != UInt64(b.count) { throw StoreError(.sizeMismatch, "size") }
            guard verify(b, digest) else { throw StoreError(.digestMismatch, "digest") }
            blobs[digest] = b
            links[repository, default: []].insert(digest)
            return BlobInfo(digest: digest, size: UInt64(b.count), refcount: 0)
        }
    }

    func cancelUpload(id: String, repository: String) throws {
        try lock.withLock {
            try check()
            _ = try session(id, repository)
            uploads[id] = nil
        }
    }

    func putManifest(repository: String, digest: BlobDigest, bytes: [UInt8], edges: ManifestEdges, tags: [String]) throws {
        try lock.withLock {
            try check()
            guard verify(bytes, digest) else { throw StoreError(.digestMismatch, "digest") }
            for r in edges.references where links[repository]?.contains(r) != true && manifests[repository]?[r] == nil {
                throw StoreError(.referenceUnknown, "\(r)")
            }
            blobs[digest] = bytes
            links[repository, default: []].insert(digest)
            manifests[repository, default: [:]][digest] = (StoredManifest(digest: digest, mediaType: edges.mediaType, bytes: bytes), edges)
            for t in tags { tagMap[repository, default: [:]][t] = digest }
        }
    }

    func manifest(repository: String, digest: BlobDigest) throws -> StoredManifest? {
        try lock.withLock { try check(); return manifests[repository]?[digest]?.0 }
    }

    func manifest(repository: String, tag: String) throws -> StoredManifest? {
        try lock.withLock {
            try check()
            guard let d = tagMap[repository]?[tag] else { return nil }
            return manifests[repository]?[d]?.0
        }
    }

    func deleteManifest(repository: String, digest: BlobDigest) throws {
        try lock.withLock {
            try check()
            guard manifests[repository]?.removeValue(forKey: digest) != nil else { throw StoreError(.manifestUnknown, "\(digest)") }
            tagMap[repository] = tagMap[repository]?.filter { $0.value != digest }
        }
    }

    func deleteTag(repository: String, tag: String) throws {
        try lock.withLock {
            try check()
            guard tagMap[repository]?.removeValue(forKey: tag) != nil else { throw StoreError(.tagUnknown, tag) }
        }
    }

    func tags(repository: String, after: String?, limit: Int?) throws -> [String]? {
        try lock.withLock {
            try check()
            guard manifests[repository] != nil || tagMap[repository] != nil else { return nil }
            let all = (tagMap[repository] ?? [:]).keys.sorted().filter { after == nil || $0 > after! }
            return limit.map { Array(all.prefix($0)) } ?? all
        }
    }

    func repositories(after: String?, limit: Int?) throws -> [String] {
        try lock.withLock {
            try check()
            let all = Set(links.keys).union(manifests.keys).sorted().filter { after == nil || $0 > after! }
            return limit.map { Array(all.prefix($0)) } ?? all
        }
    }

    func referrers(repository: String, subject: BlobDigest, artifactType: String?) throws -> [Referrer] {
        try lock.withLock {
            try check()
            return (manifests[repository] ?? [:]).values
                .filter { $0.1.subject == subject && (artifactType == nil || $0.1.artifactType == artifactType) }
                .sorted { $0.0.digest < $1.0.digest }
                .map { Referrer(digest: $0.0.digest, mediaType: $0.0.mediaType, size: UInt64($0.0.bytes.count),
                                artifactType: $0.1.artifactType, annotations: $0.1.annotations) }
        }
    }
}

struct MemoryBlob: BlobContent {
    let digest: BlobDigest
    let bytes: [UInt8]
    var size: UInt64 { UInt64(bytes.count) }

    /// Exercises the sendfile path: an unlinked temp file holding the bytes after a 7-byte header.
    func makeDescriptor() throws -> (fd: Int32, offset: UInt64)? {
        let path = NSTemporaryDirectory() + "berth-blob-\(UUID().uuidString)"
        let data = Data(Array("HEADER!".utf8) + bytes)
        _ = FileManager.default.createFile(atPath: path, contents: data)
        let fd = open(path, O_RDONLY)
        unlink(path)
        guard fd >= 0 else { return nil }
        return (fd, 7)
    }

    func read(offset: UInt64, length: Int) throws -> [UInt8] {
        let start = Int(min(offset, size))
        return Array(bytes[start..<min(start + length, bytes.count)])
    }
}
