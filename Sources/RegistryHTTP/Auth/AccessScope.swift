// The access a request needs, in the token spec's scope vocabulary
// (spec-auth-scope.md): `repository:<name>:<actions>` or `registry:catalog:*`.
//
// Thread safety: value type, Sendable.
// Invariants:
//   1. Methods map as distribution's app.go does: GET/HEAD -> pull;
//      POST/PUT/PATCH -> pull,push; DELETE -> delete.
//   2. A cross-repository mount (`POST …/uploads/?mount=…&from=<repo>`) also
//      needs pull on `from`.
//   3. `/v2/` needs no scope: only authentication.

import NIOHTTP1

public struct AccessScope: Sendable, Equatable, CustomStringConvertible {
    /// `repository` or `registry`.
    public var type: String
    /// Repository name, or `catalog`.
    public var name: String
    /// Sorted as the request needs them (`pull` before `push`).
    public var actions: [String]

    public init(type: String, name: String, actions: [String]) {
        self.type = type
        self.name = name
        self.actions = actions
    }

    public static let catalog = AccessScope(type: "registry", name: "catalog", actions: ["*"])

    /// `repository:library/alpine:pull,push`.
    public var description: String { "\(type):\(name):\(actions.joined(separator: ","))" }

    /// What `request` needs; empty for `/v2/` (authentication only).
    public static func required(by request: AuthorizationRequest) -> [AccessScope] {
        switch request.route {
        case .base:
            return []
        case .catalog, .registryUsage:
            return [.catalog]
        default:
            guard let name = request.route.repository else { return [] }
            let actions: [String]
            switch request.method {
            case .GET, .HEAD: actions = ["pull"]
            case .DELETE: actions = ["delete"]
            default: actions = ["pull", "push"]
            }
            var scopes = [AccessScope(type: "repository", name: name, actions: actions)]
            if case .uploads = request.route, request.method == .POST, request.query.contains("mount"),
               let from = request.query["from"], !from.isEmpty, from != name {
                scopes.append(AccessScope(type: "repository", name: from, actions: ["pull"]))
            }
            return scopes
        }
    }
}
