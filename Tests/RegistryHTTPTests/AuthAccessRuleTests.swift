// auth.htpasswd.access (Berth extension): per-repository rules by glob,
// anonymous pull, catalog right, first matching rule wins.

import Foundation
import Logging
import NIOHTTP1
import Testing
@testable import RegistryConfig
@testable import RegistryHTTP

@Suite("Auth: access rules")
struct AuthAccessRuleTests {
    typealias Auth = RegistryConfiguration.Auth

    static let access = Auth.Access(catalog: .users(["admin"]), rules: [
        Auth.Rule(repository: "team-a/**", users: .users(["alice", "admin"]), actions: [.pull, .push, .delete]),
        Auth.Rule(repository: "team-a/**", users: .anyAuthenticated, actions: [.pull]),
        Auth.Rule(repository: "public/*", users: .users(["admin"]), actions: [.pull, .push], anonymous: [.pull]),
        Auth.Rule(repository: "public/*", users: .anyAuthenticated, actions: [.pull]),
    ])

    @Test func globs() {
        #expect(Glob.matches("team-a/**", "team-a/x"))
        #expect(Glob.matches("team-a/**", "team-a/x/y"))
        #expect(!Glob.matches("team-a/**", "team-ab/x"))
        #expect(Glob.matches("public/*", "public/x"))
        #expect(!Glob.matches("public/*", "public/x/y"))
        #expect(Glob.matches("a/**/b", "a/b"))
        #expect(Glob.matches("a/**/b", "a/x/y/b"))
        #expect(Glob.matches("lib?", "lib1"))
        #expect(!Glob.matches("lib?", "lib/"))
        #expect(Glob.matches("**", "anything/at/all"))
        #expect(Glob.matches("*", "top"))
        #expect(!Glob.matches("*", "two/levels"))
    }

    @Test func policyFirstMatchWins() {
        let policy = AccessPolicy(access: Self.access)
        let scope = { (name: String, actions: [String]) in [AccessScope(type: "repository", name: name, actions: actions)] }
        #expect(policy.allows(user: "alice", scopes: scope("team-a/app", ["pull", "push"])))
        #expect(policy.allows(user: "bob", scopes: scope("team-a/app", ["pull"])))
        #expect(!policy.allows(user: "bob", scopes: scope("team-a/app", ["pull", "push"])))
        #expect(!policy.allows(user: "alice", scopes: scope("team-b/app", ["pull"])))
        #expect(policy.allows(user: nil, scopes: scope("public/x", ["pull"])))
        #expect(!policy.allows(user: nil, scopes: scope("public/x", ["pull", "push"])))
        #expect(!policy.allows(user: nil, scopes: scope("team-a/app", ["pull"])))
        #expect(!policy.allows(user: nil, scopes: []))
        #expect(policy.allows(user: "admin", scopes: [.catalog]))
        #expect(!policy.allows(user: "alice", scopes: [.catalog]))
        // No access block: authenticated users can do everything.
        let open = AccessPolicy(access: nil)
        #expect(open.allows(user: "x", scopes: [.catalog] + scope("a", ["delete"])))
        #expect(!open.allows(user: nil, scopes: scope("a", ["pull"])))
        // Rules but no catalog key: nobody lists the catalog.
        #expect(!AccessPolicy(access: .init(rules: Self.access.rules)).allows(user: "admin", scopes: [.catalog]))
        #expect(AccessPolicy(access: .init()).allows(user: "admin", scopes: [.catalog]))
    }

    @Test func rulesOverHTTP() async throws {
        let dir = try AuthTools.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/htpasswd"
        try AuthTools.htpasswd(file, "alice", "pw-alice", create: true)
        try AuthTools.htpasswd(file, "bob", "pw-bob")
        try AuthTools.htpasswd(file, "admin", "pw-admin")
        let auth = try HtpasswdAuthorizer(realm: "r", path: file, access: Self.access, logger: Logger(label: "test"))
        let alice = AuthTools.basic("alice", "pw-alice"), bob = AuthTools.basic("bob", "pw-bob")
        let admin = AuthTools.basic("admin", "pw-admin")
        try await TestRegistry.with(authorizer: auth) { registry in
            // alice pushes to team-a (push = pull,push).
            let blob = Fixtures.bytes("hello")
            let digest = Fixtures.sha256(blob)
            let push = try await registry.send(.POST, "/v2/team-a/app/blobs/uploads/?digest=\(digest)", headers: [alice], body: blob)
            #expect(push.status == .created)
            // bob may pull there but not push or delete.
            #expect(try await registry.send(.GET, "/v2/team-a/app/blobs/\(digest)", headers: [bob]).status == .ok)
            let bobPush = try await registry.send(.POST, "/v2/team-a/app/blobs/uploads/", headers: [bob])
            #expect(bobPush.status == .forbidden)
            #expect(bobPush.errorCode == "DENIED")
            #expect(try await registry.send(.DELETE, "/v2/team-a/app/blobs/\(digest)", headers: [bob]).status == .forbidden)
            // Repositories no rule covers are denied even to alice.
            #expect(try await registry.send(.GET, "/v2/team-b/app/tags/list", headers: [alice]).status == .forbidden)

            // Anonymous pull on public/*, push denied (challenge to log in).
            let pub = Fixtures.bytes("public bytes")
            let pubDigest = Fixtures.sha256(pub)
            #expect(try await registry.send(.POST, "/v2/public/img/blobs/uploads/?digest=\(pubDigest)", headers: [admin], body: pub).status == .created)
            #expect(try await registry.send(.GET, "/v2/public/img/blobs/\(pubDigest)").status == .ok)
            #expect(try await registry.send(.HEAD, "/v2/public/img/blobs/\(pubDigest)").status == .ok)
            let anonPush = try await registry.send(.POST, "/v2/public/img/blobs/uploads/")
            #expect(anonPush.status == .unauthorized)
            #expect(anonPush["WWW-Authenticate"] == "Basic realm=\"r\"")
            #expect(try await registry.send(.GET, "/v2/public/a/b/tags/list").status == .unauthorized, "* stays in one component")
            #expect(try await registry.send(.GET, "/v2/team-a/app/tags/list").status == .unauthorized)
            #expect(try await registry.send(.GET, "/v2/").status == .unauthorized, "/v2/ always needs a login")
            // bob: pull-only on public.
            #expect(try await registry.send(.POST, "/v2/public/img/blobs/uploads/", headers: [bob]).status == .forbidden)

            // Catalog only for admin.
            #expect(try await registry.send(.GET, "/v2/_catalog", headers: [admin]).status == .ok)
            #expect(try await registry.send(.GET, "/v2/_catalog", headers: [alice]).status == .forbidden)
            #expect(try await registry.send(.GET, "/v2/_catalog").status == .unauthorized)

            // Cross-repository mount needs pull on `from` as well.
            let mount = try await registry.send(.POST, "/v2/team-a/other/blobs/uploads/?mount=\(pubDigest)&from=team-b/x", headers: [alice])
            #expect(mount.status == .forbidden)
        }
    }
}

@Suite("Auth: login rate limiter")
struct AuthRateLimiterTests {
    @Test func blocksAfterMaxFailuresUntilTheWindowPasses() {
        let limiter = LoginRateLimiter(maxFailures: 3, window: .seconds(60))
        let t0 = ContinuousClock.now
        for i in 0..<3 {
            #expect(limiter.retryAfter("a", now: t0 + .seconds(i)) == nil)
            limiter.recordFailure("a", now: t0 + .seconds(i))
        }
        #expect(limiter.retryAfter("a", now: t0 + .seconds(3)) == 57)
        #expect(limiter.retryAfter("b", now: t0 + .seconds(3)) == nil, "per client")
        #expect(limiter.retryAfter("a", now: t0 + .seconds(59)) == 1)
        // The oldest failure leaves the window: 2 remain, below the limit.
        #expect(limiter.retryAfter("a", now: t0 + .seconds(60)) == nil)
        limiter.recordFailure("a", now: t0 + .seconds(61))
        #expect(limiter.retryAfter("a", now: t0 + .seconds(61)) == nil, "failures at 2 s and 61 s")
        limiter.recordFailure("a", now: t0 + .seconds(61))
        #expect(limiter.retryAfter("a", now: t0 + .seconds(61)) == 1, "until the 2 s failure expires")
    }
}
