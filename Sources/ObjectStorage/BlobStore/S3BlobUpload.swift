// One blob upload mapped onto an S3 multipart upload: bytes are SHA-256
// hashed as they arrive and buffered until a part of `chunkSize` is full;
// commit sends the remainder as the last part and completes the upload.
//
// Thread safety: an actor; appends are applied in the order they are awaited.
// Invariants:
//   1. Every part but the last is exactly `chunkSize` bytes (>= 5 MiB).
//   2. The multipart upload is created only when a first full part exists:
//      a blob smaller than one part is one PutObject with its hash signed.
//   3. Complete happens only after the computed digest equals the expected
//      one; on mismatch, error or cancel the multipart upload is aborted.
//   4. After a failed append, commit or cancel the upload is finished: every
//      later call throws uploadFinished (a retry starts a new upload).

import NIOCore

public actor S3BlobUpload {
    let store: S3BlobStore
    let expected: String?
    public nonisolated let id: String
    private let hasher = SHA256Stream()
    private var buffer = ByteBuffer()
    private var uploadID: String?
    private var parts: [S3Part] = []
    private(set) public var size: Int64 = 0
    private var finished = false

    init(store: S3BlobStore, expected: String?, id: String) {
        self.store = store
        self.expected = expected
        self.id = id
    }

    /// Where the parts go: the blob key itself when the digest is known.
    private var targetKey: String {
        expected.map { store.blobKey(sha256Hex: $0) } ?? store.stagingKey(id)
    }

    public func append(_ bytes: ByteBuffer) async throws {
        guard !finished else { throw S3BlobStoreError.uploadFinished }
        bytes.withUnsafeReadableBytes { hasher.update($0) }
        size += Int64(bytes.readableBytes)
        var incoming = bytes
        buffer.writeBuffer(&incoming)
        do {
            while buffer.readableBytes >= store.chunkSize {
                let part = buffer.readSlice(length: store.chunkSize)!
                try await uploadPart(part)
            }
            buffer.discardReadBytes()
        } catch {
            // The failed part's bytes are gone from the buffer: the upload
            // cannot be completed any more.
            finished = true
            await abort()
            throw error
        }
    }

    private func uploadPart(_ part: ByteBuffer) async throws {
        if uploadID == nil { uploadID = try await store.client.createMultipartUpload(targetKey) }
        let uploaded = try await store.client.uploadPart(targetKey, uploadID: uploadID!, number: parts.count + 1, body: .bytes(part))
        parts.append(uploaded)
    }

    /// Finishes the upload; returns the blob's digest (hex). Throws
    /// digestMismatch, leaving nothing at the blob key, when the bytes do
    /// not hash to `expected` (or to `digest`, when given here).
    @discardableResult
    public func commit(sha256Hex digest: String? = nil) async throws -> String {
        guard !finished else { throw S3BlobStoreError.uploadFinished }
        finished = true
        let actual = hasher.finalizeHex()
        let wanted = expected ?? digest
        do {
            if let wanted, wanted != actual {
                throw S3BlobStoreError.digestMismatch(expected: wanted, actual: actual)
            }
            let blobKey = store.blobKey(sha256Hex: actual)
            if uploadID == nil {
                // Smaller than one part: one PutObject, straight to the blob key.
                try await store.client.putObject(blobKey, body: .bytes(buffer))
                return actual
            }
            try await uploadPart(buffer)
            try await store.client.completeMultipartUpload(targetKey, uploadID: uploadID!, parts: parts)
            uploadID = nil
            if expected == nil {
                try await store.client.copyObjectMultipart(
                    from: targetKey, to: blobKey, size: size,
                    threshold: store.client.configuration.multipartCopyThresholdSize,
                    chunkSize: store.client.configuration.multipartCopyChunkSize,
                    concurrency: store.client.configuration.multipartCopyMaxConcurrency)
                try await store.client.deleteObject(targetKey)
            }
            return actual
        } catch {
            await abort()
            throw error
        }
    }

    /// Abandons the upload: the multipart upload is aborted, the staging key removed.
    public func cancel() async {
        finished = true
        await abort()
    }

    private func abort() async {
        if let uploadID {
            try? await store.client.abortMultipartUpload(targetKey, uploadID: uploadID)
            self.uploadID = nil
        }
        if expected == nil { try? await store.client.deleteObject(targetKey) }
    }
}
