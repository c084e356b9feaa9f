import Foundation
import NIOHTTP1
import Testing
@testable import RegistryHTTP

/// Test authorizer: decisions by path fragment.
struct ScriptedAuthorizer: RequestAuthorizer {
    /// Set once a request for "slow" is being authorized.
    let slowArrived = Flag()
    /// A "slow" request is held in the authorizer until the test sets this.
    let releaseSlow = Flag()

    final class Flag: @unchecked Sendable {  // `value` only under `lock`
        private let lock = NSLock()
        private var value = false
        func set() { lock.withLock { value = true } }
        var isSet: Bool { lock.withLock { value } }
    }

    func authorize(_ request: AuthorizationRequest) async -> AuthorizationDecision {
        switch request.route.repository {
        case "private": return .challenge(headers: ["WWW-Authenticate": "Basic realm=\"berth\""])
        case "forbidden": return .deny(message: nil)
        case "busy": return .throttle(retryAfterSeconds: 3)
        case "slow":
            slowArrived.set()
            while !releaseSlow.isSet {
                do { try await Task.sleep(for: .milliseconds(5)) } catch { return .allow(user: nil) }
            }
            return .allow(user: nil)
        default: return .allow(user: nil)
        }
    }
}

@Suite("Server behaviour: auth seam, modes, transport")
struct ServerBehaviourTests {
    @Test func authorizerDecisions() async throws {
        try await TestRegistry.with(authorizer: ScriptedAuthorizer()) { r in
            let unauthorized = try await r.send(.GET, "/v2/private/tags/list", headers: [("Authorization", "Basic eDp5")])
            #expect(unauthorized.status == .unauthorized)
            #expect(unauthorized.errorCode == "UNAUTHORIZED")
            #expect(unauthorized["WWW-Authenticate"] == "Basic realm=\"berth\"")
            let denied = try await r.send(.GET, "/v2/forbidden/tags/list")
            #expect(denied.status == .forbidden)
            #expect(denied.errorCode == "DENIED")
            let busy = try await r.send(.GET, "/v2/busy/tags/list")
            #expect(busy.status == .tooManyRequests)
            #expect(busy.errorCode == "TOO_MANY_REQUESTS")
            #expect(busy["Retry-After"] == "3")
        }
    }

    @Test func chunkedBlobStreamingWithoutSendfile() async throws {
        try await TestRegistry.with({ $0.useFileRegion = false }) { r in
            var blob = [UInt8](repeating: 0, count: (1 << 20) * 2 + 5)
            for i in blob.indices { blob[i] = UInt8(truncatingIfNeeded: i * 7) }
            let digest = try await r.pushBlob("plain", blob)
            let get = try await r.send(.GET, "/v2/plain/blobs/\(digest)")
            #expect(get.body == blob)
            let range = try await r.send(.GET, "/v2/plain/blobs/\(digest)", headers: [("Range", "bytes=1048575-1048577")])
            #expect(range.body == Array(blob[1048575...1048577]))
        }
    }

    @Test func expectContinue() async throws {
        try await TestRegistry.with { r in
            let blob = Array("expect".utf8)
            let put = try await r.send(.POST, "/v2/e/blobs/uploads/?digest=\(Fixtures.sha256(blob))",
                                       headers: [("Expect", "100-continue")], body: blob)
            #expect(put.status == .created)
        }
    }

    @Test func prefixAndAbsoluteLocations() async throws {
        try await TestRegistry.with({ $0.prefix = "/registry"; $0.relativeURLs = false }) { r in
            #expect(try await r.send(.GET, "/registry/v2/").status == .ok)
            #expect(try await r.send(.GET, "/v2/").status == .notFound)
            let post = try await r.send(.POST, "/registry/v2/p/blobs/uploads/")
            let id = try #require(post["Docker-Upload-UUID"])
            #expect(post["Location"] == "http://127.0.0.1:\(r.port)/registry/v2/p/blobs/uploads/\(id)")
            let fwd = try await r.send(.POST, "/registry/v2/p/blobs/uploads/",
                                       headers: [("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "reg.example")])
            #expect(fwd["Location"]?.hasPrefix("https://reg.example/registry/v2/p/blobs/uploads/") == true)
        }
    }

    @Test func extraHeadersOnEveryResponse() async throws {
        try await TestRegistry.with({ $0.extraHeaders = [("X-Content-Type-Options", "nosniff")] }) { r in
            let ok = try await r.send(.GET, "/v2/")
            let missing = try await r.send(.GET, "/v2/x/manifests/nope")
            #expect(ok["X-Content-Type-Options"] == "nosniff")
            #expect(missing["X-Content-Type-Options"] == "nosniff")
        }
    }

    @Test func inFlightRequestFinishesDuringGracefulShutdown() async throws {
        let authorizer = ScriptedAuthorizer()
        try await TestRegistry.with({ $0.drainTimeout = 5 }, authorizer: authorizer) { r in
            try await withThrowingTaskGroup(of: TestResponse.self) { group in
                group.addTask { try await r.send(.GET, "/v2/slow/tags/list") }
                while !authorizer.slowArrived.isSet { try await Task.sleep(for: .milliseconds(5)) }
                // Shutdown begins (synchronously) while the request is held in
                // flight, then the request may go on.
                r.server.shutdown()
                #expect(r.server.state.isShuttingDown)
                authorizer.releaseSlow.set()
                let resp = try #require(try await group.next())
                // The request completed (404: unknown repository) and the connection is closed after it.
                #expect(resp.errorCode == "NAME_UNKNOWN")
                #expect(resp["Connection"] == "close")
            }
            // New connections are refused once shutdown began.
            await #expect(throws: (any Error).self) { try await r.send(.GET, "/v2/") }
        }
    }
}
