// /v2/<name>/blobs/uploads/[<id>]: POST (session, monolithic, mount), PATCH,
// PUT, GET (status), DELETE (cancel).
//
// Bodies stream into the engine: chunks are coalesced up to `appendBatch`
// bytes and appended on the thread pool before more is read from the socket,
// so an upload holds at most one batch in memory.

import CASEngine
import NIOCore
import NIOHTTP1
import OCIModel

extension RegistryHandler {
    static let appendBatch = 1 << 20

    func startUpload(_ request: Request, name: String) async throws -> HTTPResponse {
        let store = self.store
        if let mount = request.query["mount"] {
            let digest = try blobDigest(mount)
            if let mounted = try await mountBlob(request, digest: digest, into: name) {
                let (info, source) = mounted
                try await appendEvents([event("mount", request, repository: name, digest: info.digest.description,
                                              mediaType: Self.blobMediaType, size: info.size, from: source,
                                              path: "/v2/\(name)/blobs/\(info.digest)")])
                return blobCreated(request, name: name, digest: info.digest)
            }
        }
        if let digestParam = request.query["digest"] {
            let digest = try blobDigest(digestParam)
            // A small monolithic blob (config, small layer) skips the upload
            // session: one verified group commit, no session record, no file.
            if let declared = contentLength(request), declared <= UInt64(configuration.smallMonolithicLimit) {
                guard let bytes = try await request.body.collect(upTo: Int(declared)), bytes.count == Int(declared) else {
                    throw RegistryError(.sizeInvalid, "body does not match Content-Length \(declared)")
                }
                let info = try await io(.putContent) { try store.putBlob(bytes, digest: digest, repository: name) }
                try await appendEvents([blobPushEvent(request, repository: name, info: info)])
                return blobCreated(request, name: name, digest: info.digest)
            }
            let session = try await newSession(name)
            do {
                _ = try await appendBody(request, name: name, id: session.id, offset: 0)
                let expected = contentLength(request)
                let info = try await io(.move) {
                    try store.commitUpload(id: session.id, repository: name, digest: digest, expectedSize: expected)
                }
                try await appendEvents([blobPushEvent(request, repository: name, info: info)])
                return blobCreated(request, name: name, digest: info.digest)
            } catch {
                try? await io(.delete) { try store.cancelUpload(id: session.id, repository: name) }
                throw error
            }
        }
        let session = try await newSession(name)
        var response = uploadResponse(request, name: name, status: session, code: .accepted)
        if let min = configuration.chunkMinLength {
            response.headers.add(name: "OCI-Chunk-Min-Length", value: String(min))
        }
        return response
    }

    /// Candidates an anonymous mount (`mount` without `from`) checks for pull access.
    static let anonymousMountCandidates = 64

    /// A mount with `from` (the authorizer checked pull on `from`), or an
    /// anonymous one, which takes the blob only from a repository the
    /// requester may pull: each candidate is put to the authorizer as a
    /// `HEAD /v2/<candidate>/blobs/<digest>` with the request's credentials.
    /// nil: not mounted, the caller starts a normal upload session (202).
    /// Returns the mounted blob and the repository it came from.
    func mountBlob(_ request: Request, digest: BlobDigest, into name: String) async throws -> (BlobInfo, String)? {
        let store = self.store
        if let from = request.query["from"] {
            // An invalid `from` cannot hold the blob: fall back to a new session.
            guard RepositoryName.isValid(from) else { return nil }
            return try await io(.move) { try store.mountBlob(digest, into: name, from: from) }.map { ($0, from) }
        }
        let candidates = try await ioRead(.list) { try store.repositoriesLinking(digest, limit: Self.anonymousMountCandidates) }
        for source in candidates where await mayPull(request, repository: source, digest: digest) {
            if let info = try await io(.move, { try store.mountBlob(digest, into: name, from: source) }) { return (info, source) }
        }
        return nil
    }

    private func mayPull(_ request: Request, repository: String, digest: BlobDigest) async -> Bool {
        let probe = AuthorizationRequest(method: .HEAD, route: .blob(name: repository, digest: digest.description),
                                         query: QueryParameters(nil), headers: request.headers, peer: request.peer)
        if case .allow = await authorizer.authorize(probe) { return true }
        return false
    }

    func uploadStatus(_ request: Request, name: String, id: String) async throws -> HTTPResponse {
        try checkUploadID(id)
        let store = self.store
        let status = try await io(.stat) { try store.uploadStatus(id: id, repository: name) }
        return uploadResponse(request, name: name, status: status, code: .noContent)
    }

    func patchUpload(_ request: Request, name: String, id: String) async throws -> HTTPResponse {
        try checkUploadID(id)
        let store = self.store
        var offset: UInt64? = nil
        if let header = request.headers.first(name: "Content-Range") {
            let range = try ContentRange.parse(header)
            let current = try await io(.stat) { try store.uploadStatus(id: id, repository: name) }
            guard range.start == current.offset else {
                throw rangeError(request, name: name, status: current)
            }
            if let length = contentLength(request), length != range.length {
                throw rangeError(request, name: name, status: current)
            }
            offset = range.start
        }
        let status: UploadStatus
        do {
            _ = try await appendBody(request, name: name, id: id, offset: offset)
            // 202 tells the client its bytes are stored: make them durable first.
            status = try await io(.writer) { try store.syncUpload(id: id, repository: name) }
        } catch let e as StoreError where e.code == .outOfOrder {
            let current = try await io(.stat) { try store.uploadStatus(id: id, repository: name) }
            throw rangeError(request, name: name, status: current)
        }
        return uploadResponse(request, name: name, status: status, code: .accepted)
    }

    func putUpload(_ request: Request, name: String, id: String) async throws -> HTTPResponse {
        try checkUploadID(id)
        guard let digestParam = request.query["digest"] else {
            throw RegistryError(.digestInvalid, "digest parameter missing")
        }
        let digest = try blobDigest(digestParam)
        let store = self.store
        var range: ContentRange? = nil
        if let header = request.headers.first(name: "Content-Range") {
            range = try ContentRange.parse(header)
        }
        let before = try await io(.stat) { try store.uploadStatus(id: id, repository: name) }
        if let range, range.start != before.offset {
            throw rangeError(request, name: name, status: before)
        }
        let after: UploadStatus
        do {
            after = try await appendBody(request, name: name, id: id, offset: range?.start) ?? before
        } catch let e as StoreError where e.code == .outOfOrder {
            let current = try await io(.stat) { try store.uploadStatus(id: id, repository: name) }
            throw rangeError(request, name: name, status: current)
        }
        let received = after.offset - before.offset
        if let range, range.length != received {
            try? await io(.delete) { try store.cancelUpload(id: id, repository: name) }
            throw RegistryError(.sizeInvalid, detail: "Content-Range covers \(range.length) bytes, body has \(received)")
        }
        if let declared = contentLength(request), declared != received {
            try? await io(.delete) { try store.cancelUpload(id: id, repository: name) }
            throw RegistryError(.sizeInvalid, detail: "Content-Length \(declared), body has \(received)")
        }
        let info = try await io(.move) { try store.commitUpload(id: id, repository: name, digest: digest, expectedSize: nil) }
        try await appendEvents([blobPushEvent(request, repository: name, info: info)])
        return blobCreated(request, name: name, digest: info.digest)
    }

    func cancelUpload(_ request: Request, name: String, id: String) async throws -> HTTPResponse {
        try checkUploadID(id)
        let store = self.store
        try await io(.delete) { try store.cancelUpload(id: id, repository: name) }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Length", value: "0")
        return HTTPResponse(status: .noContent, headers: headers)
    }

    // MARK: Helpers

    /// Ids the engine issues are short ASCII tokens (UUID form). Anything else
    /// is unknown without asking the store: an over-long id would otherwise
    /// hit the metadata layer's key limit and come back as a 500.
    static func isPlausibleUploadID(_ id: String) -> Bool {
        let bytes = id.utf8
        return (1...128).contains(bytes.count) && bytes.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
        }
    }

    func checkUploadID(_ id: String) throws {
        guard Self.isPlausibleUploadID(id) else {
            throw RegistryError(.blobUploadUnknown, detail: "upload \"\(id.prefix(64))\" is not in progress")
        }
    }

    /// Streams the request body into the session; nil when the body was empty.
    /// `offset` applies to the first append (checked by the engine).
    func appendBody(_ request: Request, name: String, id: String, offset: UInt64?) async throws -> UploadStatus? {
        var nextOffset = offset
        var last: UploadStatus? = nil
        var batch: ByteBuffer? = nil
        while let chunk = try await request.body.nextChunk() {
            if var b = batch {
                b.writeImmutableBuffer(chunk)
                batch = b
            } else {
                batch = chunk
            }
            if let b = batch, b.readableBytes >= Self.appendBatch {
                batch = nil
                last = try await append(b, name: name, id: id, offset: nextOffset)
                nextOffset = nil
            }
        }
        if let b = batch, b.readableBytes > 0 {
            last = try await append(b, name: name, id: id, offset: nextOffset)
        }
        return last
    }

    private func append(_ buffer: ByteBuffer, name: String, id: String, offset: UInt64?) async throws -> UploadStatus {
        let store = self.store
        do {
            return try await io(.writer) {
                try buffer.withUnsafeReadableBytes { try store.appendUpload(id: id, repository: name, offset: offset, $0) }
            }
        } catch let e as StoreError where e.code == .limitExceeded {
            throw RegistryError.from(e, during: .writeUpload)
        }
    }

    func newSession(_ name: String) async throws -> UploadStatus {
        let store = self.store
        do {
            return try await io(.writer) { try store.startUpload(repository: name) }
        } catch let e as StoreError {
            throw RegistryError.from(e, during: .startUpload)
        }
    }

    static func rangeValue(_ offset: UInt64) -> String {
        "0-\(offset > 0 ? offset - 1 : 0)"
    }

    func uploadResponse(_ request: Request, name: String, status: UploadStatus, code: HTTPResponseStatus) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Location", value: location("/v2/\(name)/blobs/uploads/\(status.id)", request))
        headers.add(name: "Range", value: Self.rangeValue(status.offset))
        headers.add(name: "Docker-Upload-UUID", value: status.id)
        headers.add(name: "Content-Length", value: "0")
        return HTTPResponse(status: code, headers: headers)
    }

    func rangeError(_ request: Request, name: String, status: UploadStatus) -> RegistryError {
        RegistryError(.rangeInvalid, "Range not satisfiable",
                      detail: "upload is at offset \(status.offset)",
                      headers: [("Location", location("/v2/\(name)/blobs/uploads/\(status.id)", request)),
                                ("Range", Self.rangeValue(status.offset)),
                                ("Docker-Upload-UUID", status.id)])
    }

    func blobCreated(_ request: Request, name: String, digest: BlobDigest) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Location", value: location("/v2/\(name)/blobs/\(digest)", request))
        headers.add(name: "Docker-Content-Digest", value: digest.description)
        headers.add(name: "Content-Length", value: "0")
        return HTTPResponse(status: .created, headers: headers)
    }
}
