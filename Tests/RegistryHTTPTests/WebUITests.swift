// The web page under /ui/ (UI/): pages render what the store holds, hostile
// values render as text, strict CSP, forms refused without the page's CSRF
// token or from a foreign origin, repositories the viewer may not pull never
// appear, the login form's session cookie, `berth.ui.enabled: false`, and
// read-only mode without write buttons.

import Foundation
import Logging
import NIOHTTP1
import Testing
@testable import RegistryConfig
@testable import RegistryHTTP

@Suite("Web page")
struct WebUITests {
    static let hostile = "<script>alert(1)</script>"

    /// The page's CSRF token and the nonce cookie it was made for.
    struct Browser {
        var cookies: [String: String] = [:]

        var cookieHeader: (String, String) { ("Cookie", cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ")) }

        mutating func absorb(_ r: TestResponse) {
            for line in r.headers[canonicalForm: "Set-Cookie"] {
                let first = line.split(separator: ";")[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                cookies[String(first[0])] = first.count > 1 ? String(first[1]) : ""
            }
        }

        mutating func get(_ r: TestRegistry, _ path: String, _ extra: [(String, String)] = []) async throws -> TestResponse {
            let resp = try await r.send(.GET, path, headers: [cookieHeader] + extra)
            absorb(resp)
            return resp
        }

        mutating func post(_ r: TestRegistry, _ path: String, _ form: [(String, String)], origin: String? = nil,
                           _ extra: [(String, String)] = []) async throws -> TestResponse {
            let body = form.map { "\($0.0)=\(Self.encode($0.1))" }.joined(separator: "&")
            var headers = [cookieHeader, ("Content-Type", "application/x-www-form-urlencoded")] + extra
            headers.append(("Origin", origin ?? "http://127.0.0.1:\(r.port)"))
            let resp = try await r.send(.POST, path, headers: headers, body: Array(body.utf8))
            absorb(resp)
            return resp
        }

        static func encode(_ s: String) -> String {
            s.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? s
        }
    }

    static func csrf(_ html: String) -> String? {
        guard let r = html.range(of: "name=\"csrf\" value=\"") else { return nil }
        return String(html[r.upperBound...].prefix { $0 != "\"" })
    }

    /// app:v1, app:v2 (v2's annotation is hostile), and an untagged manifest.
    static func populate(_ r: TestRegistry, auth: [(String, String)] = []) async throws -> (v1: String, v2: String, loose: String) {
        let m1 = try await Fixtures.image(r, repo: "app", seed: "one")
        #expect(try await r.putManifest("app", "v1", m1).status == .created)
        let m2 = try await Fixtures.image(r, repo: "app", seed: hostile)
        #expect(try await r.putManifest("app", "v2", m2).status == .created)
        let m3 = try await Fixtures.image(r, repo: "app", seed: "loose")
        let d3 = Fixtures.sha256(m3)
        #expect(try await r.putManifest("app", d3, m3).status == .created)
        return (Fixtures.sha256(m1), Fixtures.sha256(m2), d3)
    }

    @Test func pagesRenderTheStoreAndEscapeHostileValues() async throws {
        try await TestRegistry.with({ $0.collectorPolicy = .init(deleteUntagged: true, gracePeriod: 0, untaggedDelay: 3600) }) { r in
            let (v1, v2, loose) = try await Self.populate(r)
            var b = Browser()
            let home = try await b.get(r, "/ui/")
            #expect(home.status == .ok)
            #expect(home["Content-Type"] == "text/html; charset=utf-8")
            let csp = try #require(home["Content-Security-Policy"])
            #expect(csp.contains("default-src 'none'") && csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"))
            #expect(csp.contains("frame-ancestors 'none'") && csp.contains("form-action 'self'"))
            #expect(home["X-Content-Type-Options"] == "nosniff")
            #expect(home.text.contains("href=\"/ui/repo/app\">app</a>"))
            #expect(home.text.contains("id=\"stored-bytes\""), "no auth: the viewer has catalog rights")
            #expect(!home.text.contains("<script>") && !home.text.contains("style="), "no inline script or style")

            let repo = try await b.get(r, "/ui/repo/app")
            #expect(repo.status == .ok)
            #expect(repo.text.contains("docker pull 127.0.0.1:\(r.port)/app:v1"))
            #expect(repo.text.contains("podman pull 127.0.0.1:\(r.port)/app:v2"))
            #expect(repo.text.contains("/ui/repo/app/-/manifest/\(v1)"))
            #expect(repo.text.contains("data-digest=\"\(loose)\""), "the untagged manifest is listed")
            #expect(repo.text.contains("after <time"), "with the time the collector takes it")

            let manifest = try await b.get(r, "/ui/repo/app/-/manifest/\(v2)")
            #expect(manifest.status == .ok)
            #expect(manifest.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            #expect(!manifest.text.contains(Self.hostile), "the annotation is text, never markup")
            #expect(manifest.text.contains("id=\"raw\""))

            let history = try await b.get(r, "/ui/repo/app/-/history/v1")
            #expect(history.status == .ok && history.text.contains("id=\"promote\""))
            #expect(try await b.get(r, "/ui/repo/nothing").status == .notFound)
            #expect(try await b.get(r, "/ui/repo/app/-/manifest/sha256:\(String(repeating: "0", count: 64))").status == .notFound)
            let css = try await r.send(.GET, "/ui/static/berth.css")
            #expect(css.status == .ok && css["Content-Type"] == "text/css; charset=utf-8")
        }
    }

    @Test func formsNeedThePagesTokenAndThisOrigin() async throws {
        try await TestRegistry.with { r in
            let (v1, v2, _) = try await Self.populate(r)
            var b = Browser()
            let page = try await b.get(r, "/ui/repo/app/-/history/v2")
            let token = try #require(Self.csrf(page.text))
            let form = [("chain", "v2 v1"), ("expect", "v2=\(v2)"), ("confirm", "1")]
            let noToken = try await b.post(r, "/ui/repo/app/-/promote", form)
            #expect(noToken.status == .forbidden)
            let forged = try await b.post(r, "/ui/repo/app/-/promote", form + [("csrf", String(repeating: "0", count: 64))])
            #expect(forged.status == .forbidden)
            let foreign = try await b.post(r, "/ui/repo/app/-/promote", form + [("csrf", token)], origin: "http://evil.example")
            #expect(foreign.status == .forbidden)
            let crossSite = try await b.post(r, "/ui/repo/app/-/promote", form + [("csrf", token)], [("Sec-Fetch-Site", "cross-site")])
            #expect(crossSite.status == .forbidden)
            var other = Browser()
            _ = try await other.get(r, "/ui/")
            let otherBrowser = try await other.post(r, "/ui/repo/app/-/promote", form + [("csrf", token)])
            #expect(otherBrowser.status == .forbidden, "the token is bound to the browser's nonce cookie")
            #expect(try await TagPromoteTests.tag(r, "app", "v1") == v1, "nothing moved")

            // The confirmation step, then the promotion.
            let ask = try await b.post(r, "/ui/repo/app/-/promote", [("chain", "v2 v1"), ("expect", "v2=\(v2)"), ("csrf", token)])
            #expect(ask.status == .ok && ask.text.contains("id=\"confirm\""))
            #expect(try await TagPromoteTests.tag(r, "app", "v1") == v1, "asking moves nothing")
            let done = try await b.post(r, "/ui/repo/app/-/promote", form + [("csrf", token)])
            #expect(done.status == .seeOther, "\(done.text)")
            #expect(try await TagPromoteTests.tag(r, "app", "v1") == v2)
            let history = try await r.send(.GET, "/v2/app/_berth/tags/v1/history")
            #expect((history.json["history"] as? [[String: Any]])?.first?["action"] as? String == "promote")

            // Rollback through the page.
            let rb = try await b.post(r, "/ui/repo/app/-/rollback/v1", [("to", v1), ("confirm", "1"), ("csrf", token)])
            #expect(rb.status == .seeOther, "\(rb.text)")
            #expect(try await TagPromoteTests.tag(r, "app", "v1") == v1)
        }
    }

    static let access = RegistryConfiguration.Auth.Access(catalog: .users(["admin"]), rules: [
        .init(repository: "team-a/**", users: .users(["alice"]), actions: [.pull, .push]),
        .init(repository: "**", users: .users(["admin"]), actions: [.pull, .push, .delete]),
    ])

    static func withAuth(_ configure: (inout RegistryServer.Configuration) -> Void = { _ in },
                         _ body: (TestRegistry, (String, String)) async throws -> Void) async throws {
        let dir = try AuthTools.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try AuthTools.htpasswd(dir + "/htpasswd", "alice", "pw-alice", create: true)
        try AuthTools.htpasswd(dir + "/htpasswd", "admin", "pw-admin")
        let auth = try HtpasswdAuthorizer(realm: "berth", path: dir + "/htpasswd", access: access, logger: Logger(label: "test"))
        try await TestRegistry.with(configure, authorizer: auth) { r in
            let admin = AuthTools.basic("admin", "pw-admin")
            for repo in ["team-a/app", "team-b/secret"] {
                let config = Fixtures.bytes("{\"repo\":\"\(repo)\"}")
                let c = Fixtures.sha256(config)
                #expect(try await r.send(.POST, "/v2/\(repo)/blobs/uploads/?digest=\(c)", headers: [admin], body: config).status == .created)
                let m = Fixtures.bytes("{\"schemaVersion\":2,\"mediaType\":\"\(Fixtures.ociManifest)\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"\(c)\",\"size\":\(config.count)},\"layers\":[]}")
                #expect(try await r.send(.PUT, "/v2/\(repo)/manifests/latest", headers: [admin, ("Content-Type", Fixtures.ociManifest)], body: m).status == .created)
            }
            try await body(r, admin)
        }
    }

    @Test func forbiddenRepositoriesNeverAppearAndTheLoginFormSetsASession() async throws {
        try await Self.withAuth { r, admin in
            var b = Browser()
            let anonymous = try await b.get(r, "/ui/")
            #expect(anonymous.status == .ok && !anonymous.text.contains("team-"))
            #expect(anonymous.text.contains("/ui/login"))
            #expect(try await b.get(r, "/ui/repo/team-b/secret").status == .notFound)
            let prompt = try await b.get(r, "/ui/login?basic=1")
            #expect(prompt.status == .unauthorized && prompt["WWW-Authenticate"] == "Basic realm=\"berth\"")

            let form = try await b.get(r, "/ui/login")
            let token = try #require(Self.csrf(form.text))
            let wrong = try await b.post(r, "/ui/login", [("user", "alice"), ("password", "nope"), ("csrf", token)])
            #expect(wrong.status == .unauthorized && b.cookies["berth_session"] == nil)
            let login = try await b.post(r, "/ui/login", [("user", "alice"), ("password", "pw-alice"), ("csrf", token)])
            #expect(login.status == .seeOther)
            let setCookie = try #require(login.headers[canonicalForm: "Set-Cookie"].first { $0.hasPrefix("berth_session=") })
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict") && setCookie.contains("Max-Age="))

            let home = try await b.get(r, "/ui/")
            #expect(home.text.contains("signed in as <b>alice</b>"))
            #expect(home.text.contains("team-a/app") && !home.text.contains("team-b"), "only what alice may pull")
            #expect(!home.text.contains("id=\"stored-bytes\""), "totals need catalog rights")
            #expect(try await b.get(r, "/ui/repo/team-b/secret").status == .notFound, "same answer as a missing repository")
            #expect(try await b.get(r, "/ui/repo/team-b/secret/-/history/latest").status == .notFound)
            #expect(try await b.get(r, "/ui/repo/team-a/app").status == .ok)

            // A forged session is anonymous.
            var forged = b
            forged.cookies["berth_session"] = "YWRtaW4.99999999999.0000"
            #expect(try await forged.get(r, "/ui/").text.contains("team-") == false)

            // Basic credentials work too, and admin sees everything.
            let basic = try await r.send(.GET, "/ui/", headers: [admin])
            #expect(basic.text.contains("team-b/secret") && basic.text.contains("id=\"stored-bytes\""))
            let bad = try await r.send(.GET, "/ui/", headers: [AuthTools.basic("admin", "wrong")])
            #expect(bad.status == .unauthorized)

            // Logout clears the session.
            let page = try await b.get(r, "/ui/")
            let out = try await b.post(r, "/ui/logout", [("csrf", try #require(Self.csrf(page.text)))])
            #expect(out.status == .seeOther)
            #expect(try await b.get(r, "/ui/").text.contains("team-a") == false)
        }
    }

    @Test func readOnlyShowsABannerAndNoWriteButtons() async throws {
        try await TestRegistry.with { r in
            _ = try await Self.populate(r)
            var b = Browser()
            let writable = try await b.get(r, "/ui/repo/app/-/history/v1")
            let token = try #require(Self.csrf(writable.text))
            r.server.updateModes(readOnly: true)
            let history = try await b.get(r, "/ui/repo/app/-/history/v1")
            #expect(history.text.contains("id=\"readonly\""))
            #expect(!history.text.contains("id=\"promote\"") && !history.text.contains("roll back"))
            let repo = try await b.get(r, "/ui/repo/app")
            #expect(!repo.text.contains("delete…"))
            let post = try await b.post(r, "/ui/repo/app/-/promote", [("chain", "v2 v1"), ("confirm", "1"), ("csrf", token)])
            #expect(post.status == .methodNotAllowed)
            r.server.updateModes(readOnly: false, deleteEnabled: false)
            let noDelete = try await b.get(r, "/ui/repo/app")
            #expect(!noDelete.text.contains("delete…"), "storage.delete.enabled off: no delete button")
            r.server.updateModes(deleteEnabled: true)
            #expect(try await b.get(r, "/ui/repo/app").text.contains("delete…"))
        }
    }

    /// Any other authorizer (token auth): the page refuses rather than guessing.
    struct OtherAuthorizer: RequestAuthorizer {
        func authorize(_ request: AuthorizationRequest) async -> AuthorizationDecision { .allow(user: "someone") }
    }

    @Test func otherAuthIsRefusedAndFailedLoginsAreThrottled() async throws {
        try await TestRegistry.with(authorizer: OtherAuthorizer()) { (r: TestRegistry) async throws in
            let page = try await r.send(.GET, "/ui/")
            #expect(page.status == .notImplemented && page.text.contains("auth.htpasswd"))
        }
        let dir = try AuthTools.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try AuthTools.htpasswd(dir + "/htpasswd", "alice", "pw-alice", create: true)
        let auth = try HtpasswdAuthorizer(realm: "berth", path: dir + "/htpasswd", maxFailures: 2, failureWindow: .seconds(3600),
                                          logger: Logger(label: "test"))
        try await TestRegistry.with(authorizer: auth) { (r: TestRegistry) async throws in
            var b = Browser()
            let token = try #require(Self.csrf(try await b.get(r, "/ui/login").text))
            for _ in 0..<2 {
                #expect(try await b.post(r, "/ui/login", [("user", "alice"), ("password", "bad"), ("csrf", token)]).status == .unauthorized)
            }
            let throttled = try await b.post(r, "/ui/login", [("user", "alice"), ("password", "pw-alice"), ("csrf", token)])
            #expect(throttled.status == .tooManyRequests && throttled["Retry-After"] != nil, "the registry's login throttle")
            #expect(b.cookies["berth_session"] == nil)
            #expect(try await r.send(.GET, "/v2/", headers: [AuthTools.basic("alice", "pw-alice")]).status == .tooManyRequests,
                    "the same throttle as the API's")
        }
    }

    @Test func hostileLabelsRenderAsText() async throws {
        try await TestRegistry.with { (r: TestRegistry) async throws in
            let config = Fixtures.bytes(#"{"os":"linux","architecture":"arm64","config":{"Labels":{"x":"\#(Self.hostile)"}},"history":[{"created_by":"<b>bold</b>"}]}"#)
            let c = try await r.pushBlob("lab", config)
            let m = Fixtures.bytes("{\"schemaVersion\":2,\"mediaType\":\"\(Fixtures.ociManifest)\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"\(c)\",\"size\":\(config.count)},\"layers\":[]}")
            #expect(try await r.putManifest("lab", "v1", m).status == .created)
            let page = try await r.send(.GET, "/ui/repo/lab/-/manifest/\(Fixtures.sha256(m))")
            #expect(page.text.contains("id=\"labels\"") && page.text.contains("&lt;script&gt;"))
            #expect(!page.text.contains(Self.hostile) && !page.text.contains("<b>bold</b>"))
            #expect(try await r.send(.GET, "/ui/repo/lab").text.contains("linux/arm64"))
        }
    }

    @Test func theRegistryPageIsPaginatedAndSearchable() async throws {
        try await TestRegistry.with { (r: TestRegistry) async throws in
            for i in 0..<105 { try await r.pushBlob("team/r\(String(format: "%03d", i))", Fixtures.bytes("blob \(i)")) }
            try await r.pushBlob("other/x", Fixtures.bytes("other"))
            let first = try await r.send(.GET, "/ui/")
            #expect(first.text.components(separatedBy: "<tr><td><a href=\"/ui/repo/").count - 1 == 100)
            #expect(first.text.contains("id=\"next-page\" href=\"/ui/?q=&amp;after=team%2Fr098\""), "other/x sorts first")
            let second = try await r.send(.GET, "/ui/?q=&after=team%2Fr098")
            #expect(second.text.components(separatedBy: "<tr><td><a href=\"/ui/repo/").count - 1 == 6)
            #expect(!second.text.contains("next-page"))
            let search = try await r.send(.GET, "/ui/?q=R10")
            #expect(search.text.contains(">team/r100</a>") && search.text.contains(">team/r104</a>") && !search.text.contains(">team/r099</a>"))
        }
    }

    @Test func disabledAnswers404() async throws {
        try await TestRegistry.with({ $0.uiEnabled = false }) { (r: TestRegistry) async throws in
            #expect(try await r.send(.GET, "/ui/").status == .notFound)
            #expect(try await r.send(.GET, "/ui/static/berth.css").status == .notFound)
        }
        try await TestRegistry.with({ $0.prefix = "/reg" }) { (r: TestRegistry) async throws in
            #expect(try await r.send(.GET, "/reg/ui/").status == .ok)
            #expect(try await r.send(.GET, "/ui/").status == .notFound)
        }
    }
}
