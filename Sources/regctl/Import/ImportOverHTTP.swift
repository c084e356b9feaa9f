// Import into a running Berth through the registry API, as a client pushing
// would: blob HEAD, then a mount (POST ?mount=, no source: Berth links a copy
// it already holds), else an upload session whose bytes are hashed here as
// they stream out of distribution's file. The session is committed
// (PUT ?digest=) only when that hash matches; otherwise it is deleted, so a
// corrupt blob never reaches the server (which would refuse it too).
// Manifests and tags are PUT with their media type.

import CASEngine
import Foundation
import NIOHTTP1

struct ImportOverHTTP: ImportTarget {
    let client: RegistryClient
    /// `http.prefix` of the server ("" or "/path").
    let prefix: String
    var mode: String { "http" }
    /// Never: a reflink is made on the storage root itself (Import refuses --link over HTTP).
    var link: Bool { false }

    static let manifestAccept = [
        "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ].joined(separator: ", ")

    func blob(_ digest: BlobDigest, path: String, repository: String) throws -> BlobOutcome {
        let head = try expect(client.send(.HEAD, "\(prefix)/v2/\(repository)/blobs/\(digest)"), [200, 404])
        if head.status == 200 { return .present }
        let start = try expect(client.send(.POST, "\(prefix)/v2/\(repository)/blobs/uploads/?mount=\(digest)"), [201, 202])
        if start.status == 201 { return .linked }
        var location = try self.location(start)
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? UInt64 ?? 0
        let hasher = StreamingHasher(digest.algorithm)
        if size > 0 {
            let patch = try expect(client.send(.PATCH, location, headers: [("Content-Type", "application/octet-stream")],
                                               body: .file(path: path, size: size, observe: { hasher.update($0) })), [202])
            location = try self.location(patch)
        }
        let actual = hasher.finalize()
        guard actual == digest else {
            _ = try? client.send(.DELETE, location)
            throw ImportFailure(reason: .digestMismatch, detail: "\(path) hashes to \(actual)")
        }
        let separator = location.contains("?") ? "&" : "?"
        _ = try expect(client.send(.PUT, "\(location)\(separator)digest=\(digest)"), [201])
        return .copied(bytes: size)
    }

    func hasManifest(_ digest: BlobDigest, repository: String) throws -> Bool {
        try expect(client.send(.HEAD, "\(prefix)/v2/\(repository)/manifests/\(digest)", headers: [("Accept", Self.manifestAccept)]),
                   [200, 404]).status == 200
    }

    func putManifest(_ m: ImportPlan.Manifest, repository: String, tag: String?) throws {
        let r = try client.send(.PUT, "\(prefix)/v2/\(repository)/manifests/\(tag ?? m.digest.description)",
                                headers: [("Content-Type", m.mediaType)], body: .bytes(m.bytes))
        switch r.status {
        case 201: return
        case 400 where r.text.contains("MANIFEST_BLOB_UNKNOWN"):
            throw ImportFailure(reason: .missingReference, detail: "the server answered \(r.status): \(r.text)")
        case 400, 404, 405, 413:
            throw ImportFailure(reason: .rejected, detail: "the server answered \(r.status): \(r.text)")
        default:
            _ = try expect(r, [201])
        }
    }

    func resolve(tag: String, repository: String) throws -> BlobDigest? {
        let r = try expect(client.send(.HEAD, "\(prefix)/v2/\(repository)/manifests/\(tag)", headers: [("Accept", Self.manifestAccept)]),
                           [200, 404])
        guard r.status == 200 else { return nil }
        return r.headers.first(name: "Docker-Content-Digest").flatMap(BlobDigest.init)
    }

    /// Any other status ends the run (credentials refused, read-only mode,
    /// a server error): nothing is half-imported, a re-run resumes.
    private func expect(_ r: RegistryClient.Response, _ statuses: Set<Int>) throws -> RegistryClient.Response {
        guard statuses.contains(r.status) else {
            let hint = r.status == 401 || r.status == 403 ? " (credentials: --username and BERTH_IMPORT_PASSWORD)" : ""
            throw RegctlError("the server answered \(r.status)\(hint): \(r.text.prefix(500))")
        }
        return r
    }

    /// The upload's Location as a request target (path and query).
    private func location(_ r: RegistryClient.Response) throws -> String {
        guard let value = r.headers.first(name: "Location") else {
            throw RegctlError("the server answered \(r.status) without a Location header")
        }
        if value.hasPrefix("/") { return value }
        guard let url = URL(string: value), let components = URLComponents(url: url, resolvingAgainstBaseURL: false) else {
            throw RegctlError("unusable Location \(value)")
        }
        return components.percentEncodedPath + (components.percentEncodedQuery.map { "?\($0)" } ?? "")
    }
}
