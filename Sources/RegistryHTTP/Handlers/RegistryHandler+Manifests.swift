// /v2/<name>/manifests/<reference>: GET, HEAD, PUT, DELETE.
//
// Content negotiation (content-negotiation.md): the stored media type is
// always served, even when a non-empty Accept list without */* does not name
// it. distribution behaves the same except that it would down-convert schema2
// to schema1 for old clients; Berth stores no schema1 and converts nothing, so
// answering 404/406 would only break clients that send narrow Accept lists.

import CASEngine
import NIOCore
import NIOHTTP1
import OCIModel

extension RegistryHandler {
    /// The index answers first, where the handler runs (one read
    /// transaction: tag, entry, size); HEAD and 304 never touch the bytes,
    /// and a GET takes them from the manifest cache, or once from the packs.
    func getManifest(_ request: Request, name: String, reference: String) async throws -> HTTPResponse {
        let ref = try Reference(parsing: reference)
        let store = self.store
        let found: ManifestHead?
        switch ref {
        case .tag(let tag):
            found = try lookup(.stat) { try store.manifestHead(repository: name, tag: tag) }
        case .digest(let digest):
            let d = try blobDigest(digest.description)
            found = try lookup(.stat) { try store.manifestHead(repository: name, digest: d) }
        }
        guard let head = found else {
            throw RegistryError(.manifestUnknown, detail: "\(name):\(reference)")
        }
        // A HEAD by tag counts: containerd resolves a tag with HEAD, then pulls by digest.
        if case .tag(let tag) = ref { store.recordPull(repository: name, tag: tag) }

        var headers = HTTPHeaders()
        let digest = head.digest.description
        headers.add(name: "Docker-Content-Digest", value: digest)
        headers.add(name: "ETag", value: "\"\(digest)\"")
        if let inm = request.headers.first(name: "If-None-Match"), Self.etagMatches(inm, digest: digest) {
            return HTTPResponse(status: .notModified, headers: headers)
        }
        headers.add(name: "Content-Type", value: head.mediaType)
        headers.add(name: "Content-Length", value: String(head.size))
        if request.method == .HEAD {
            return HTTPResponse(status: .ok, headers: headers)
        }
        let bytes: [UInt8]
        if let cached = manifestCache.get(head.digest) {
            bytes = cached
        } else {
            // Deleted since the lookup: 404, as if the lookup had come after.
            guard let stored = try await ioRead(.getContent, { try store.manifest(repository: name, digest: head.digest) }) else {
                throw RegistryError(.manifestUnknown, detail: "\(name):\(reference)")
            }
            bytes = stored.bytes
            manifestCache.put(head.digest, bytes)
        }
        if events.enabled {
            let tag: String? = if case .tag(let t) = ref { t } else { nil }
            events.notePull(event("pull", request, repository: name, digest: digest, mediaType: head.mediaType,
                                  size: UInt64(bytes.count), tag: tag, path: "/v2/\(name)/manifests/\(digest)"))
        }
        return HTTPResponse(status: .ok, headers: headers, body: .bytes(bytes))
    }

    static func etagMatches(_ header: String, digest: String) -> Bool {
        for item in header.split(separator: ",") {
            var tag = item.trimmingCharacters(in: " \t")
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag = String(tag.dropFirst(2)) }
            if tag.hasPrefix("\""), tag.hasSuffix("\""), tag.count >= 2 { tag = String(tag.dropFirst().dropLast()) }
            if tag == digest { return true }
        }
        return false
    }

    func putManifest(_ request: Request, name: String, reference: String) async throws -> HTTPResponse {
        let ref = try Reference(parsing: reference)
        let limit = configuration.manifestMaxSize
        if let declared = contentLength(request), declared > UInt64(limit) {
            throw RegistryError.manifestTooLarge
        }
        guard let bytes = try await request.body.collect(upTo: limit) else {
            throw RegistryError.manifestTooLarge
        }
        let parsed = try ParsedManifest.parse(bytes, contentType: request.headers.first(name: "Content-Type"))
        try configuration.manifestURLs.check(parsed)

        // The digest the manifest is stored under: the URL's digest (any
        // supported algorithm; the engine verifies it), else sha256 of the body.
        let digest: BlobDigest
        var tags: [String] = []
        switch ref {
        case .digest(let d):
            // Verified once, by the engine, before anything is stored
            // (`.digestMismatch` below).
            digest = try blobDigest(d.description)
        case .tag(let tag):
            digest = BlobDigest.compute(bytes, .sha256)
            tags.append(tag)
        }
        for tag in request.query.all("tag") {
            try Tag.validate(tag)
            if !tags.contains(tag) { tags.append(tag) }
        }

        let edges = try ManifestEdges(parsed, indexChildren: configuration.indexChildren)
        let store = self.store
        let finalTags = tags
        let freeze = configuration.tagFreeze, user = request.user
        let notes = manifestPushEvents(request, repository: name, digest: digest, parsed: parsed, size: bytes.count, tags: finalTags)
        do {
            try await io(.putContent) { try store.putManifest(repository: name, digest: digest, bytes: bytes, edges: edges, tags: finalTags,
                                                  freeze: freeze, by: user, notes: notes) }
        } catch let e as StoreError where e.code == .digestMismatch {
            throw RegistryError(.digestInvalid, "manifest digest did not match", detail: e.message)
        }

        var headers = HTTPHeaders()
        headers.add(name: "Location", value: location("/v2/\(name)/manifests/\(digest)", request))
        headers.add(name: "Docker-Content-Digest", value: digest.description)
        if let s = parsed.subject {
            headers.add(name: "OCI-Subject", value: s.digest.description)
        }
        // spec.md "Pushing Manifests with tags": one OCI-Tag per accepted `?tag=`.
        if request.query.contains("tag") {
            for tag in finalTags { headers.add(name: "OCI-Tag", value: tag) }
        }
        headers.add(name: "Content-Length", value: "0")
        return HTTPResponse(status: .created, headers: headers)
    }

    func deleteManifest(_ request: Request, name: String, reference: String) async throws -> HTTPResponse {
        let ref = try Reference(parsing: reference)
        let store = self.store, user = request.user
        switch ref {
        case .tag(let tag):
            let notes = [event("delete", request, repository: name, tag: tag)].compactMap { $0 }
            try await io(.delete) { try store.deleteTag(repository: name, tag: tag, by: user, notes: notes) }
        case .digest(let d):
            try await deleteManifest(request, name: name, digest: try blobDigest(d.description))
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Length", value: "0")
        return HTTPResponse(status: .accepted, headers: headers)
    }

    /// A manifest delete by digest and its event; the web page's form uses it too.
    func deleteManifest(_ request: Request, name: String, digest: BlobDigest) async throws {
        let store = self.store, user = request.user
        let notes = [event("delete", request, repository: name, digest: digest.description)].compactMap { $0 }
        try await io(.delete) { try store.deleteManifest(repository: name, digest: digest, by: user, notes: notes) }
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        var s = self
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
