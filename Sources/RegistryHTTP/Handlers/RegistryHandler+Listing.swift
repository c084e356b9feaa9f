// Listings: /v2/<name>/tags/list, /v2/_catalog, /v2/<name>/referrers/<digest>.
//
// Pagination as distribution: `n` bounds the page, `last` is exclusive, and a
// `Link: <…?n=N&last=L>; rel="next"` header is sent only when more entries
// exist (one extra entry is fetched to know).

import CASEngine
import Foundation
import NIOCore
import NIOHTTP1
import OCIModel

extension RegistryHandler {
    func pageSize(_ request: Request) throws -> Int? {
        guard let raw = request.query["n"], !raw.isEmpty else { return nil }
        guard let n = Int(raw), n >= 0 else {
            throw RegistryError(.paginationNumberInvalid, detail: "n=\(raw)")
        }
        return n
    }

    func tags(_ request: Request, name: String) async throws -> HTTPResponse {
        // distribution's `tags.maxtags`: a larger n is served as maxtags, with a Link.
        let n = try pageSize(request).map { min($0, configuration.tagsMaxEntries) }
        let last = request.query["last"].flatMap { $0.isEmpty ? nil : $0 }
        let store = self.store
        // n=0: an empty page, but an unknown repository is still NAME_UNKNOWN.
        let fetch = n.map { $0 + 1 }
        guard var tags = try await ioRead(.list, { try store.tags(repository: name, after: last, limit: fetch) }) else {
            throw RegistryError(.nameUnknown, detail: name)
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        if let n, tags.count > n {
            tags = Array(tags.prefix(n))
            if let lastTag = tags.last {
                headers.add(name: "Link", value: nextLink("/v2/\(name)/tags/list", n: n, last: lastTag))
            }
        }
        let body = "{\"name\":\(JSONText.string(name)),\"tags\":\(JSONText.stringArray(tags))}"
        return HTTPResponse(status: .ok, headers: headers, body: .bytes(Array(body.utf8)))
    }

    func catalog(_ request: Request) async throws -> HTTPResponse {
        // distribution: 100 entries by default, n above `catalog.maxentries` is a 400.
        let max = configuration.catalogMaxEntries
        let n = try pageSize(request) ?? min(100, max)
        if n > max {
            throw RegistryError(.paginationNumberInvalid, detail: "n=\(n) exceeds the maximum of \(max)")
        }
        let last = request.query["last"].flatMap { $0.isEmpty ? nil : $0 }
        let store = self.store
        var repos = n == 0 ? [] : try await ioRead(.list) { try store.repositories(after: last, limit: n + 1) }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        if repos.count > n {
            repos = Array(repos.prefix(n))
            if let lastRepo = repos.last {
                headers.add(name: "Link", value: nextLink("/v2/_catalog", n: n, last: lastRepo))
            }
        }
        let body = "{\"repositories\":\(JSONText.stringArray(repos))}"
        return HTTPResponse(status: .ok, headers: headers, body: .bytes(Array(body.utf8)))
    }

    func nextLink(_ path: String, n: Int, last: String) -> String {
        let prefix = configuration.prefix.trimmingSuffix("/")
        return "<\(prefix)\(path)?n=\(n)&last=\(QueryParameters.encode(last))>; rel=\"next\""
    }

    func referrers(_ request: Request, name: String, digest raw: String) async throws -> HTTPResponse {
        let subject = try blobDigest(raw)
        let filter = request.query["artifactType"].flatMap { $0.isEmpty ? nil : $0 }
        let store = self.store
        let found = try await ioRead(.list) { try store.referrers(repository: name, subject: subject, artifactType: filter) }
        var descriptors: [Descriptor] = []
        descriptors.reserveCapacity(found.count)
        for r in found {
            var annotations: [String: String]? = nil
            if let json = r.annotations, !json.isEmpty {
                annotations = try? JSONDecoder().decode([String: String].self, from: Data(json))
            }
            descriptors.append(Descriptor(mediaType: r.mediaType, digest: try Digest(parsing: r.digest.description),
                                          size: Int64(r.size), annotations: annotations, artifactType: r.artifactType))
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: MediaType.ociIndex)
        if filter != nil {
            headers.add(name: "OCI-Filters-Applied", value: "artifactType")
        }
        return HTTPResponse(status: .ok, headers: headers, body: .bytes(ImageIndex.referrersResponse(descriptors)))
    }
}
