// auth.htpasswd over a real server: challenge, bcrypt variants, rejected
// formats, reload, startup errors, throttling, and logs free of secrets.

import Foundation
import Logging
import NIOHTTP1
import Synchronization
import Testing
@testable import RegistryConfig
@testable import RegistryHTTP

@Suite("Auth: htpasswd")
struct AuthHtpasswdTests {
    static let realm = "Berth Registry"

    /// alice ($2y$ from htpasswd -B), bob ($2b$), carol ($2a$), sha ({SHA}),
    /// plain (plain text), md5 ($apr1$).
    static func makeFile(_ dir: String) throws -> String {
        let file = dir + "/htpasswd"
        try AuthTools.htpasswd(file, "alice", "alice-secret", create: true)
        try AuthTools.htpasswd(file, "bob", "bob-secret")
        try AuthTools.htpasswd(file, "carol", "carol-secret")
        try AuthTools.run("htpasswd", ["-s", "-b", file, "sha", "sha-secret"], package: "apache2-utils")
        try AuthTools.run("htpasswd", ["-p", "-b", file, "plain", "plain-secret"], package: "apache2-utils")
        try AuthTools.run("htpasswd", ["-m", "-b", file, "md5", "md5-secret"], package: "apache2-utils")
        var text = try String(contentsOfFile: file, encoding: .utf8)
        text = text.replacingOccurrences(of: "bob:$2y$", with: "bob:$2b$")
            .replacingOccurrences(of: "carol:$2y$", with: "carol:$2a$")
        text = "# users\n\n" + text
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    static func authorizer(_ file: String, logger: Logger, maxFailures: Int = 10,
                           window: Duration = .seconds(60), access: RegistryConfiguration.Auth.Access? = nil,
                           clock: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) throws -> HtpasswdAuthorizer {
        try HtpasswdAuthorizer(realm: realm, path: file, access: access, maxFailures: maxFailures,
                               failureWindow: window, reloadInterval: .milliseconds(200),
                               failureClock: clock, logger: logger)
    }

    @Test func fileParsingAcceptsOnlyBcrypt() throws {
        let dir = try AuthTools.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = HtpasswdFile(parsing: try String(contentsOfFile: try Self.makeFile(dir), encoding: .utf8))
        #expect(Set(file.entries.keys) == ["alice", "bob", "carol"])
        #expect(file.entries.values.allSatisfy { $0.hasPrefix("$2b$") })
        let rejected = Dictionary(uniqueKeysWithValues: file.rejected.map { ($0.user, $0.format) })
        #expect(rejected["sha"] == "{SHA} (SHA-1)")
        #expect(rejected["md5"] == "$apr1$ (Apache MD5)")
        #expect(rejected["plain"] == "plain text or unknown")
    }

    @Test func challengeLoginAndRejectedFormats() async throws {
        let dir = try AuthTools.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let capture = LogCapture()
        let auth = try Self.authorizer(try Self.makeFile(dir), logger: capture.logger)
        let warnings = capture.all
        #expect(warnings.contains("user=sha") && warnings.contains("{SHA}"))
        #expect(warnings.contains("user=plain"))
        #expect(warnings.contains("user=md5") && warnings.contains("$apr1$"))

        try await TestRegistry.with(authorizer: auth) { registry in
            let anonymous = try await registry.send(.GET, "/v2/")
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous["WWW-Authenticate"] == "Basic realm=\"Berth Registry\"")
            #expect(anonymous.errorCode == "UNAUTHORIZED")
            #expect(anonymous["Content-Type"]?.hasPrefix("application/json") == true)

            for (user, password) in [("alice", "alice-secret"), ("bob", "bob-secret"), ("carol", "carol-secret")] {
                let ok = try await registry.send(.GET, "/v2/", headers: [AuthTools.basic(user, password)])
                #expect(ok.status == .ok, "\(user)")
                // Second time is served from the verification cache.
                let again = try await registry.send(.GET, "/v2/", headers: [AuthTools.basic(user, password)])
                #expect(again.status == .ok, "\(user) cached")
            }
            for (user, password) in [("alice", "wrong"), ("nobody", "alice-secret"), ("sha", "sha-secret"),
                                     ("plain", "plain-secret"), ("md5", "md5-secret"),
                                     ("alice", "")] {
                let r = try await registry.send(.GET, "/v2/", headers: [AuthTools.basic(user, password)])
                #expect(r.status == .unauthorized, "\(user)")
                #expect(r["WWW-Authenticate"] == "Basic realm=\"Berth Registry\"")
                #expect(r.errorCode == "UNAUTHORIZED")
            }
            let garbage = try await registry.send(.GET, "/v2/", headers: [("Authorization", "Basic !!!")])
            #expect(garbage.status == .unauthorized)
            // Without rules, an authenticated user can push and list.
            let push = try await registry.send(.POST, "/v2/any/repo/blobs/uploads/", headers: [AuthTools.basic("alice", "alice-secret")])
            #expect(push.status == .accepted)
            let catalog = try await registry.send(.GET, "/v2/_catalog", headers: [AuthTools.basic("bob", "bob-secret")])
            #expect(catalog.status == .ok)
            let anonymousPull = try await registry.send(.GET, "/v2/any/repo/tags/list")
            #expect(anonymousPull.status == .unauthorized)
        }
    }

    @Test func reloadsWhenTheFileChanges() async throws {
        let dir = try AuthTools.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/htpasswd"
        try AuthTools.htpasswd(file, "alice", "alice-secret", create: true)
        let auth = try Self.authorizer(file, logger: Logger(label: "test"))
        try await TestRegistry.with(authorizer: auth) { registry in
            #expect(try await registry.send(.GET, "/v2/", headers: [AuthTools.basic("alice", "alice-secret")]).status == .ok)
            #expect(try await registry.send(.GET, "/v2/", headers: [AuthTools.basic("dave", "dave-secret")]).status == .unauthorized)

            // Replace the file atomically: dave added, alice removed.
            let next = dir + "/htpasswd.new"
            try AuthTools.htpasswd(next, "dave", "dave-secret", create: true)
            #expect(rename(next, file) == 0)
            try await Task.sleep(for: .milliseconds(300))
            var dave = HTTPResponseStatus.unauthorized
            for _ in 0..<20 where dave != .ok {
                dave = try await registry.send(.GET, "/v2/", headers: [AuthTools.basic("dave", "dave-secret")]).status
                if dave != .ok { try await Task.sleep(for: .milliseconds(250)) }
            }
            #expect(dave == .ok)
            // alice was cached before; the reload drops the cache.
            #expect(try await registry.send(.GET, "/v2/", headers: [AuthTools.basic("alice", "alice-secret")]).status == .unauthorized)

            // In-place rewrite (same inode) is picked up as well.
            try AuthTools.htpasswd(file, "erin", "erin-secret")
            try await Task.sleep(for: .milliseconds(300))
            var erin = HTTPResponseStatus.unauthorized
            for _ in 0..<20 where erin != .ok {
                erin = try await registry.send(.GET, "/v2/", headers: [AuthTools.basic("erin", "erin-secret")]).status
                if erin != .ok { try await Task.sleep(for: .milliseconds(250)) }
            }
            #expect(erin == .ok)
        }
    }

    @Test func missingFileIsAStartupError() async throws {
        let config = RegistryConfiguration.Auth.htpasswd(.init(realm: "r", path: "/nonexistent/berth/htpasswd"))
        await #expect(throws: AuthorizerFactory.SetupError.self) {
            _ = try await AuthorizerFactory.make(config, logger: Logger(label: "test"))
        }
        do {
            _ = try await AuthorizerFactory.make(config, logger: Logger(label: "test"))
        } catch {
            #expect("\(error)".contains("/nonexistent/berth/htpasswd"))
        }
        let dir = try AuthTools.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A directory is unreadable as a file.
        await #expect(throws: AuthorizerFactory.SetupError.self) {
            _ = try await AuthorizerFactory.make(.htpasswd(.init(realm: "r", path: dir)), logger: Logger(label: "test"))
        }
    }

    @Test func failedLoginsAreThrottledAndRecover() async throws {
        let dir = try AuthTools.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/htpasswd"
        try AuthTools.htpasswd(file, "alice", "alice-secret", create: true)
        // The throttle's clock moves only when the test moves it, so slow
        // bcrypt checks on a loaded machine cannot expire a failure early.
        let clock = ManualClock()
        let auth = try Self.authorizer(file, logger: Logger(label: "test"), maxFailures: 3,
                                       window: .seconds(60), clock: { clock.now })
        try await TestRegistry.with(authorizer: auth) { registry in
            // Successes never count.
            for _ in 0..<5 {
                #expect(try await registry.send(.GET, "/v2/", headers: [AuthTools.basic("alice", "alice-secret")]).status == .ok)
            }
            for step in 0..<3 {
                #expect(try await registry.send(.GET, "/v2/", headers: [AuthTools.basic("alice", "bad")]).status == .unauthorized)
                if step == 0 { clock.advance(.seconds(20)) }
            }
            let throttled = try await registry.send(.GET, "/v2/", headers: [AuthTools.basic("alice", "alice-secret")])
            #expect(throttled.status == .tooManyRequests)
            #expect(throttled.errorCode == "TOO_MANY_REQUESTS")
            // The first failure was 20 s ago: it leaves the window in 40 s.
            #expect(throttled["Retry-After"] == "40")
            clock.advance(.seconds(39))
            #expect(try await registry.send(.GET, "/v2/", headers: [AuthTools.basic("alice", "alice-secret")]).status == .tooManyRequests)
            clock.advance(.seconds(1))
            #expect(try await registry.send(.GET, "/v2/", headers: [AuthTools.basic("alice", "alice-secret")]).status == .ok)
        }
    }

    @Test func credentialsNeverReachTheLogs() async throws {
        let dir = try AuthTools.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/htpasswd"
        try AuthTools.htpasswd(file, "alice", "Sup3r-S3cret-Pw", create: true)
        let capture = LogCapture()
        let auth = try Self.authorizer(file, logger: capture.logger)
        let good = AuthTools.basic("alice", "Sup3r-S3cret-Pw")
        let bad = AuthTools.basic("alice", "Wr0ng-S3cret-Pw")
        try await TestRegistry.withLogger(capture.logger, authorizer: auth) { (registry: TestRegistry) async throws in
            let ok = try await registry.send(.GET, "/v2/", headers: [good])
            let failed = try await registry.send(.GET, "/v2/", headers: [bad])
            let missing = try await registry.send(.GET, "/v2/x/manifests/latest", headers: [good])
            #expect(ok.status == .ok)
            #expect(failed.status == .unauthorized)
            #expect(missing.status == .notFound)
        }
        let logs = capture.all
        #expect(logs.contains("GET /v2/"), "access log was captured")
        #expect(logs.contains("authentication failed"))
        for secret in ["Sup3r-S3cret-Pw", "Wr0ng-S3cret-Pw", good.1, bad.1, String(good.1.dropFirst(6)), String(bad.1.dropFirst(6))] {
            #expect(!logs.contains(secret))
        }
    }

    @Test func basicHeaderParsing() {
        #expect(HtpasswdAuthorizer.basicCredentials("Basic " + Data("a:b:c".utf8).base64EncodedString())! == ("a", "b:c"))
        #expect(HtpasswdAuthorizer.basicCredentials("basic " + Data("a:".utf8).base64EncodedString())! == ("a", ""))
        #expect(HtpasswdAuthorizer.basicCredentials("Bearer abc") == nil)
        #expect(HtpasswdAuthorizer.basicCredentials("Basic " + Data("nocolon".utf8).base64EncodedString()) == nil)
        #expect(HtpasswdAuthorizer.basicCredentials("Basic " + Data("a:b\u{0}c".utf8).base64EncodedString()) == nil)
        #expect(LoginRateLimiter.clientAddress("127.0.0.1:5000") == "127.0.0.1")
        #expect(LoginRateLimiter.clientAddress("::1:5000") == "::1")
    }
}

/// A clock that moves only when told to.
final class ManualClock: Sendable {
    private let instant = Mutex(ContinuousClock.now)
    var now: ContinuousClock.Instant { instant.withLock { $0 } }
    func advance(_ by: Duration) { instant.withLock { $0 += by } }
}
