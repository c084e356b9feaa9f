// The endpoints of the OCI Distribution API (spec.md "Endpoints").
//
// Thread safety: value type, Sendable.
// Invariants:
//   1. Every `name` in a route has passed `RepositoryName.validate`.
//   2. References, digests and upload ids are raw path segments: the handler
//      parses them (OCIModel), so their errors carry the right OCI code.

public enum Route: Equatable, Sendable {
    /// `/v2/`
    case base
    /// `/v2/_catalog`
    case catalog
    /// `/v2/<name>/tags/list`
    case tags(name: String)
    /// `/v2/<name>/manifests/<reference>`
    case manifest(name: String, reference: String)
    /// `/v2/<name>/blobs/<digest>`
    case blob(name: String, digest: String)
    /// `/v2/<name>/blobs/uploads/`
    case uploads(name: String)
    /// `/v2/<name>/blobs/uploads/<id>`
    case upload(name: String, id: String)
    /// `/v2/<name>/referrers/<digest>`
    case referrers(name: String, digest: String)
    /// `/v2/<name>/_berth/tags/promote` (Berth's tag extension, docs/EXTENSIONS.md)
    case tagPromote(name: String)
    /// `/v2/<name>/_berth/tags/<tag>/history`
    case tagHistory(name: String, tag: String)
    /// `/v2/<name>/_berth/tags/<tag>/rollback`
    case tagRollback(name: String, tag: String)
    /// `/v2/_berth/usage` (catalog rights)
    case registryUsage
    /// `/v2/<name>/_berth/usage`
    case repositoryUsage(name: String)

    /// Low-cardinality label for metrics and logs.
    public var label: String {
        switch self {
        case .base: return "base"
        case .catalog: return "catalog"
        case .tags: return "tags"
        case .manifest: return "manifest"
        case .blob: return "blob"
        case .uploads: return "uploads"
        case .upload: return "upload"
        case .referrers: return "referrers"
        case .tagPromote: return "berth_tags_promote"
        case .tagHistory: return "berth_tags_history"
        case .tagRollback: return "berth_tags_rollback"
        case .registryUsage: return "berth_usage"
        case .repositoryUsage: return "berth_repository_usage"
        }
    }

    /// The repository the request addresses, if any (auth scopes, logs).
    public var repository: String? {
        switch self {
        case .base, .catalog, .registryUsage: return nil
        case .tags(let n), .manifest(let n, _), .blob(let n, _), .uploads(let n),
             .upload(let n, _), .referrers(let n, _), .tagPromote(let n),
             .tagHistory(let n, _), .tagRollback(let n, _), .repositoryUsage(let n):
            return n
        }
    }
}
