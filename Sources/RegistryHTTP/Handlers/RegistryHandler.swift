// Dispatch: route -> auth -> mode checks -> endpoint handler; every error
// becomes a response through `RegistryError.from` (Errors/).
//
// Thread safety: Sendable; one value shared by all connections. Handlers run
// on the connection's task and call the (blocking) store only through `io`.

import CASEngine
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import OCIModel

struct Request {
    let head: HTTPRequestHead
    let match: RouteMatch
    let body: RequestBody
    let peer: String?
    /// The authenticated user (set once authorization allowed the request).
    var user: String? = nil

    var method: HTTPMethod { head.method }
    var headers: HTTPHeaders { head.headers }
    var query: QueryParameters { match.query }
}

struct RegistryHandler: Sendable {
    let store: any RegistryStore
    let threadPool: NIOThreadPool
    /// Reads (LMDB read transactions, header preads): a pool sized to the
    /// cores, so hot GET/HEAD traffic does not spread over the writers' many
    /// threads that mostly wait on fsync.
    let readPool: NIOThreadPool
    let configuration: RegistryServer.Configuration
    /// Live modes (config reload); `configuration.readOnly`/`deleteEnabled` are only the start values.
    let modes: ServerModes
    /// `health.storagedriver`: while unhealthy every request answers 503.
    let health: StorageHealthCheck?
    let authorizer: any RequestAuthorizer
    /// Notification events of requests (Notifications/).
    let events: EventRecorder
    /// `registry_storage_action_seconds` (Metrics/StorageMetrics).
    let storageMetrics: StorageMetrics
    /// `registry_http_in_flight_requests`.
    let inFlight: InFlightRequests
    /// Verified manifest bytes by digest (manifest GET).
    let manifestCache: ManifestCache
    let logger: Logger
    /// The web page's per-process secret (UI/WebUISecrets).
    let ui = WebUISecrets()

    /// Runs blocking store work on the thread pool, never on an event loop,
    /// timed as distribution's storage `action`.
    func io<T: Sendable>(_ action: StorageAction, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await threadPool.runIfActive(timed(action, work))
    }

    /// Runs a blocking read on the read pool.
    func ioRead<T: Sendable>(_ action: StorageAction, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await readPool.runIfActive(timed(action, work))
    }

    /// Runs an index lookup where the handler runs (no thread-pool hop):
    /// reads of the memory-mapped index that take no lock and wait for no
    /// writer (`RegistryStore.manifestHead`). Timed as `io`.
    func lookup<T>(_ action: StorageAction, _ work: () throws -> T) rethrows -> T {
        let start = ContinuousClock.now
        defer { storageMetrics.record(action, nanoseconds: Self.nanoseconds(ContinuousClock.now - start)) }
        return try work()
    }

    static func nanoseconds(_ d: Duration) -> Int64 {
        d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000
    }

    private func timed<T>(_ action: StorageAction, _ work: @escaping @Sendable () throws -> T) -> @Sendable () throws -> T {
        let metrics = storageMetrics
        return {
            let start = ContinuousClock.now
            defer {
                metrics.record(action, nanoseconds: Self.nanoseconds(ContinuousClock.now - start))
            }
            return try work()
        }
    }

    /// Never throws: errors are rendered. Returns the route label for metrics.
    func handle(head: HTTPRequestHead, body: RequestBody, peer: String?) async -> (HTTPResponse, String) {
        var label = "unknown"
        if let health, !health.isHealthy {
            // Distribution's health.Handler wraps the whole API, `/` and unknown paths included.
            label = (try? route(head.uri))?.route.label ?? label
            return (.error(RegistryError(.unavailable, detail: "health check failed: please see /debug/health")), label)
        }
        if let path = uiPath(head.uri) {
            // The web page (UI/): its own auth checks, HTML errors.
            inFlight.enter("ui")
            defer { inFlight.leave("ui") }
            return (await webUI(head: head, path: path, body: body, peer: peer), "ui")
        }
        do {
            let match = try route(head.uri)
            label = match.route.label
            let request = Request(head: head, match: match, body: body, peer: peer)
            inFlight.enter(label)
            defer { inFlight.leave(label) }
            return (try await dispatch(request), label)
        } catch RouterError.notFound {
            return (.error(RegistryError(.nameUnknown, "404 page not found", status: .notFound)), label)
        } catch {
            let mapped = RegistryError.from(error)
            if mapped.code == .internalError {
                logger.error("request failed", metadata: [
                    "method": "\(head.method.rawValue)", "path": "\(head.uri)", "error": "\(String(reflecting: error))",
                ])
            }
            return (.error(mapped), label)
        }
    }

    private func route(_ uri: String) throws -> RouteMatch {
        var target = uri
        let prefix = configuration.prefix.hasSuffix("/") ? String(configuration.prefix.dropLast()) : configuration.prefix
        if !prefix.isEmpty {
            guard target.hasPrefix(prefix + "/") else { throw RouterError.notFound }
            target = String(target.dropFirst(prefix.count))
        }
        return try Router.match(target)
    }

    private func dispatch(_ incoming: Request) async throws -> HTTPResponse {
        var request = incoming
        let decision = await authorizer.authorize(AuthorizationRequest(
            method: request.method, route: request.match.route, query: request.query,
            headers: request.headers, peer: request.peer))
        switch decision {
        case .allow(let user): request.user = user
        case .challenge(let headers):
            throw RegistryError(.unauthorized, headers: headers.map { ($0.key, $0.value) })
        case .deny(let message):
            throw RegistryError(.denied, message)
        case .throttle(let retryAfter):
            throw RegistryError(.tooManyRequests, headers: retryAfter.map { [("Retry-After", String($0))] } ?? [])
        }

        let method = request.method
        let isWrite = method == .POST || method == .PUT || method == .PATCH || method == .DELETE
        if isWrite && modes.readOnly { throw RegistryError.readOnlyMode }
        if method == .DELETE && !modes.deleteEnabled {
            if case .upload = request.match.route {} else { throw RegistryError.deleteDisabled }
        }

        switch (request.match.route, method) {
        case (.base, .GET), (.base, .HEAD):
            return .json("{}")
        case (.catalog, .GET):
            return try await catalog(request)
        case (.tags(let name), .GET):
            return try await tags(request, name: name)
        case (.manifest(let name, let ref), .GET), (.manifest(let name, let ref), .HEAD):
            return try await getManifest(request, name: name, reference: ref)
        case (.manifest(let name, let ref), .PUT):
            return try await putManifest(request, name: name, reference: ref)
        case (.manifest(let name, let ref), .DELETE):
            return try await deleteManifest(request, name: name, reference: ref)
        case (.blob(let name, let digest), .GET), (.blob(let name, let digest), .HEAD):
            return try await getBlob(request, name: name, digest: digest)
        case (.blob(let name, let digest), .DELETE):
            return try await deleteBlob(request, name: name, digest: digest)
        case (.uploads(let name), .POST):
            return try await startUpload(request, name: name)
        case (.upload(let name, let id), .GET):
            return try await uploadStatus(request, name: name, id: id)
        case (.upload(let name, let id), .PATCH):
            return try await patchUpload(request, name: name, id: id)
        case (.upload(let name, let id), .PUT):
            return try await putUpload(request, name: name, id: id)
        case (.upload(let name, let id), .DELETE):
            return try await cancelUpload(request, name: name, id: id)
        case (.referrers(let name, let digest), .GET):
            return try await referrers(request, name: name, digest: digest)
        case (.tagPromote(let name), .POST):
            return try await promoteTags(request, name: name)
        case (.tagHistory(let name, let tag), .GET):
            return try await tagHistory(request, name: name, tag: tag)
        case (.tagRollback(let name, let tag), .POST):
            return try await rollbackTag(request, name: name, tag: tag)
        case (.registryUsage, .GET):
            return try await registryUsage(request)
        case (.repositoryUsage(let name), .GET):
            return try await repositoryUsage(request, name: name)
        default:
            throw RegistryError(.unsupported, "method \(method.rawValue) not allowed on this endpoint")
        }
    }

    // MARK: Shared helpers

    /// Parses a digest from a URL or query; unsupported algorithms are DIGEST_INVALID.
    func blobDigest(_ string: String) throws -> BlobDigest {
        let parsed = try Digest(parsing: string)
        guard let d = BlobDigest(parsed.description) else {
            throw RegistryError(.digestInvalid, "unsupported digest algorithm", detail: parsed.algorithm)
        }
        return d
    }

    /// Location header value, as distribution builds it: under `http.host`
    /// when configured, else a path when `relativeURLs`, else absolute from
    /// Host / X-Forwarded-* (https when this server terminates TLS).
    func location(_ path: String, _ request: Request) -> String {
        let full = configuration.prefix.trimmingSuffix("/") + path
        if let external = configuration.externalURL, !external.isEmpty {
            return external.trimmingSuffix("/") + full
        }
        if configuration.relativeURLs { return full }
        let headers = request.headers
        guard let host = headers.first(name: "X-Forwarded-Host") ?? headers.first(name: "Host"), !host.isEmpty else {
            return full
        }
        let scheme = configuration.tls == nil ? "http" : "https"
        let proto = headers.first(name: "X-Forwarded-Proto").flatMap { $0.split(separator: ",").first.map(String.init) } ?? scheme
        return "\(proto.trimmingSpaces)://\(host)\(full)"
    }

    /// Declared Content-Length, if any (nil when absent or malformed).
    func contentLength(_ request: Request) -> UInt64? {
        request.headers.first(name: "Content-Length").flatMap { UInt64($0.trimmingSpaces) }
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return String(s)
    }

    func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
