// The seam where authentication and authorization plug in (htpasswd, token,
// per-repository rules land here later). It runs after routing and before any
// handler touches the store.
//
// Thread safety: implementations must be Sendable; they run on the
// connection's task, and must not block (offload like handlers do).

import NIOHTTP1

public struct AuthorizationRequest: Sendable {
    public var method: HTTPMethod
    public var route: Route
    public var query: QueryParameters
    /// Includes `Authorization`; implementations must never log it.
    public var headers: HTTPHeaders
    /// Remote address as "ip:port", when known.
    public var peer: String?
}

public enum AuthorizationDecision: Sendable, Equatable {
    /// Allowed; `user` is the authenticated name (nil: anonymous), recorded
    /// in tag history.
    case allow(user: String?)
    /// 401 UNAUTHORIZED with these headers (e.g. `WWW-Authenticate`).
    case challenge(headers: [String: String])
    /// 403 DENIED.
    case deny(message: String?)
    /// 429 TOO_MANY_REQUESTS (rate limits belong to the same per-client layer).
    case throttle(retryAfterSeconds: Int?)
}

public protocol RequestAuthorizer: Sendable {
    func authorize(_ request: AuthorizationRequest) async -> AuthorizationDecision
}

/// Default: no authentication (distribution's behaviour without `auth:`).
public struct AllowAllAuthorizer: RequestAuthorizer {
    public init() {}
    public func authorize(_ request: AuthorizationRequest) async -> AuthorizationDecision { .allow(user: nil) }
}
