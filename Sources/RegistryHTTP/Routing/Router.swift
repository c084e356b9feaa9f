// Parses a request target into a `Route` and its query.
//
// Repository names contain slashes and may contain components literally named
// `blobs`, `manifests`, `tags`, `uploads` or `referrers`, so the endpoint
// suffix is matched from the right and everything before it is the name.
//
// Thread safety: stateless, Sendable.
// Invariants:
//   1. The path is never percent-decoded: a `%` anywhere in the path (which
//      covers `%2e`/`%2f` smuggling) is NAME_INVALID, as are `.`/`..` and
//      empty segments inside the name.
//   2. A path that is not an API endpoint yields `RouterError.notFound`.

import OCIModel

public enum RouterError: Error, Equatable, Sendable {
    case notFound
}

public struct RouteMatch: Equatable, Sendable {
    public var route: Route
    public var query: QueryParameters
}

public enum Router {
    /// - Throws: `RouterError.notFound`, or `RegistryError(.nameInvalid)`.
    public static func match(_ target: String) throws -> RouteMatch {
        let (path, query) = split(target)
        let query_ = QueryParameters(query)
        guard path == "/v2" || path.hasPrefix("/v2/") else { throw RouterError.notFound }
        if path == "/v2" || path == "/v2/" { return RouteMatch(route: .base, query: query_) }
        if path.utf8.contains(UInt8(ascii: "%")) {
            throw RegistryError(.nameInvalid, "invalid repository name", detail: "percent-encoded characters are not allowed in the path")
        }
        let rest = path.dropFirst(4)
        if rest == "_catalog" || rest == "_catalog/" { return RouteMatch(route: .catalog, query: query_) }
        if rest == "_berth/usage" { return RouteMatch(route: .registryUsage, query: query_) }

        let seg = rest.split(separator: "/", omittingEmptySubsequences: false)
        let n = seg.count
        guard n >= 2 else { throw RouterError.notFound }

        let nameEnd: Int
        let route: (String) -> Route
        if n >= 4, seg[n - 3] == "blobs", seg[n - 2] == "uploads" {
            nameEnd = n - 3
            let id = String(seg[n - 1])
            route = { id.isEmpty ? .uploads(name: $0) : .upload(name: $0, id: id) }
        } else if n >= 3, seg[n - 2] == "blobs", seg[n - 1] == "uploads" {
            nameEnd = n - 2
            route = { .uploads(name: $0) }
        } else if n >= 4, seg[n - 3] == "_berth", seg[n - 2] == "tags", seg[n - 1] == "promote" {
            // A name component cannot start with `_`: no repository ends so.
            nameEnd = n - 3
            route = { .tagPromote(name: $0) }
        } else if n >= 5, seg[n - 4] == "_berth", seg[n - 3] == "tags", seg[n - 1] == "history" || seg[n - 1] == "rollback" {
            nameEnd = n - 4
            let tag = String(seg[n - 2])
            guard Tag.isValid(tag) else { throw RegistryError(.tagInvalid, "invalid tag", detail: tag) }
            route = seg[n - 1] == "history" ? { .tagHistory(name: $0, tag: tag) } : { .tagRollback(name: $0, tag: tag) }
        } else if n >= 3, seg[n - 2] == "_berth", seg[n - 1] == "usage" {
            nameEnd = n - 2
            route = { .repositoryUsage(name: $0) }
        } else if n >= 3, seg[n - 2] == "tags", seg[n - 1] == "list" {
            nameEnd = n - 2
            route = { .tags(name: $0) }
        } else if n >= 3, seg[n - 1].isEmpty == false,
                  let kind = ["manifests", "blobs", "referrers"].first(where: { seg[n - 2] == $0 }) {
            nameEnd = n - 2
            let last = String(seg[n - 1])
            switch kind {
            case "manifests": route = { .manifest(name: $0, reference: last) }
            case "blobs": route = { .blob(name: $0, digest: last) }
            default: route = { .referrers(name: $0, digest: last) }
            }
        } else {
            throw RouterError.notFound
        }

        let nameSegments = seg[0..<nameEnd]
        for s in nameSegments where s == "." || s == ".." || s.isEmpty {
            throw RegistryError(.nameInvalid, "invalid repository name", detail: "empty, '.' or '..' path segment")
        }
        let name = nameSegments.joined(separator: "/")
        try RepositoryName.validate(name)
        return RouteMatch(route: route(name), query: query_)
    }

    static func split(_ target: String) -> (Substring, Substring?) {
        if let q = target.firstIndex(of: "?") {
            return (target[..<q], target[target.index(after: q)...])
        }
        return (target[...], nil)
    }
}
