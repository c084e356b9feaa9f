// /v2/<name>/blobs/<digest>: GET (whole or one Range), HEAD, DELETE.

import CASEngine
import NIOCore
import NIOHTTP1
import OCIModel

extension RegistryHandler {
    func getBlob(_ request: Request, name: String, digest raw: String) async throws -> HTTPResponse {
        let digest = try blobDigest(raw)
        let store = self.store
        var headers = HTTPHeaders()
        headers.add(name: "Docker-Content-Digest", value: digest.description)
        headers.add(name: "Content-Type", value: "application/octet-stream")
        headers.add(name: "Accept-Ranges", value: "bytes")
        headers.add(name: "ETag", value: "\"\(digest)\"")
        // Content-addressed: never changes (distribution sends the same).
        headers.add(name: "Cache-Control", value: "max-age=31536000")

        let rangeHeader = request.headers.first(name: "Range")
        if request.method == .HEAD && rangeHeader == nil {
            // Index lookup only: no file is opened for HEAD. A referenced
            // blob is answered where the handler runs; a zero-ref one takes
            // the pool, where `stat` restarts its grace period (a write).
            guard var info = try lookup(.stat, { try store.peek(digest, in: name) }) else {
                throw RegistryError(.blobUnknown, detail: digest.description)
            }
            if info.refcount == 0 {
                guard let refreshed = try await ioRead(.stat, { try store.stat(digest, in: name) }) else {
                    throw RegistryError(.blobUnknown, detail: digest.description)
                }
                info = refreshed
            }
            headers.add(name: "Content-Length", value: String(info.size))
            return HTTPResponse(status: .ok, headers: headers)
        }

        let reader = try await ioRead(.reader) { try store.openBlobContent(digest, in: name) }
        let size = reader.size
        var range: ClosedRange<UInt64>? = nil
        var status = HTTPResponseStatus.ok
        if let rangeHeader {
            guard let r = try ByteRange.parse(rangeHeader, size: size) else {
                throw RegistryError(.rangeInvalid, "Range not satisfiable",
                                    headers: [("Content-Range", "bytes */\(size)")])
            }
            range = r
            status = .partialContent
            headers.add(name: "Content-Range", value: "bytes \(r.lowerBound)-\(r.upperBound)/\(size)")
        }
        let length = range.map { $0.upperBound - $0.lowerBound + 1 } ?? size
        headers.add(name: "Content-Length", value: String(length))
        if request.method == .HEAD {
            return HTTPResponse(status: status, headers: headers)
        }
        if events.enabled {
            events.notePull(event("pull", request, repository: name, digest: digest.description, mediaType: Self.blobMediaType,
                                  size: size, path: "/v2/\(name)/blobs/\(digest)"))
        }
        return HTTPResponse(status: status, headers: headers, body: .blob(reader, range: range))
    }

    func deleteBlob(_ request: Request, name: String, digest raw: String) async throws -> HTTPResponse {
        let digest = try blobDigest(raw)
        let store = self.store
        try await io(.delete) { try store.deleteBlob(digest, in: name) }
        try await appendEvents([event("delete", request, repository: name, digest: digest.description)])
        var headers = HTTPHeaders()
        headers.add(name: "Content-Length", value: "0")
        headers.add(name: "Docker-Content-Digest", value: digest.description)
        return HTTPResponse(status: .accepted, headers: headers)
    }
}
