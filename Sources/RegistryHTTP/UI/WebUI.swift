// The web page under `<prefix>/ui/` (`berth.ui.enabled`, on by default):
// routing, who the viewer is, the security headers every answer carries and
// the cross-site checks every form passes. Pages live in WebUI+*.swift.
//
//   GET  /ui/                                  registry (?q= search, ?after= page)
//   GET  /ui/repo/<name>                       repository (?q=, ?after=)
//   GET  /ui/repo/<name>/-/manifest/<digest>   manifest
//   GET  /ui/repo/<name>/-/history/<tag>       tag history
//   POST /ui/repo/<name>/-/promote|rollback/<tag>|delete/<digest>   (confirm, then act)
//   GET|POST /ui/login, POST /ui/logout; GET /ui/static/berth.css|berth.js
//
// Thread safety: as RegistryHandler (store calls on its pools).
// Invariants:
//   1. Access is the registry's (Auth/): no auth configured, everything; with
//      htpasswd the viewer is the session cookie's user, else the Basic
//      header's (verified by the same authorizer, cache and login throttle),
//      else anonymous, and every repository shown or acted on passes
//      AccessPolicy for that user (pull to see; pull+push to move tags;
//      delete to delete). A repository the viewer may not pull answers the
//      same 404 as one that does not exist. Token auth: the page is refused
//      (browsers cannot present the bearer tokens).
//   2. Every POST needs the `csrf` field the page rendered for this viewer and
//      browser (WebUISecrets invariant 3) and a same-origin `Origin` or
//      `Sec-Fetch-Site`; otherwise 403 and nothing changes.
//   3. Every answer carries a CSP without inline script or style, nosniff,
//      frame-ancestors 'none', no-store and a same-origin referrer policy.
//   4. Read-only mode, `storage.delete.enabled` and the access rules decide
//      which buttons render, and are checked again when a form is posted.

import CASEngine
import Foundation
import NIOHTTP1
import OCIModel

extension RegistryHandler {
    static let uiSessionCookie = "berth_session"
    static let uiNonceCookie = "berth_csrf"
    static let uiCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; "
        + "frame-ancestors 'none'; base-uri 'none'"

    var uiBase: String { configuration.prefix.trimmingSuffix("/") + "/ui" }

    /// The path below `<prefix>/ui` (with its query) when `uri` is the web page's and it is on.
    func uiPath(_ uri: String) -> String? {
        guard configuration.uiEnabled else { return nil }
        let base = uiBase
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
        if path == base { return "/" + uri.dropFirst(base.count) }
        guard path.hasPrefix(base + "/") else { return nil }
        return String(uri.dropFirst(base.count))
    }

    static func uiNow() -> UInt64 { UInt64(max(0, Date().timeIntervalSince1970)) }

    func webUI(head: HTTPRequestHead, path target: String, body: RequestBody, peer: String?) async -> HTTPResponse {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = String(parts[0])
        let query = QueryParameters(parts.count > 1 ? parts[1] : nil)
        if path == "/static/berth.css" { return uiStatic(WebUIAssets.stylesheet, "text/css; charset=utf-8") }
        if path == "/static/berth.js" { return uiStatic(WebUIAssets.script, "text/javascript; charset=utf-8") }

        let cookies = Self.cookies(head.headers)
        let existing = cookies[Self.uiNonceCookie].flatMap { $0.count == 32 && $0.allSatisfy(\.isHexDigit) ? $0 : nil }
        let nonce = existing ?? WebUISecrets.newNonce()
        var response: HTTPResponse
        do {
            let access: WebUIViewer.Access
            if let h = authorizer as? HtpasswdAuthorizer { access = .htpasswd(h) }
            else if authorizer is AllowAllAuthorizer { access = .open }
            else {
                throw WebUIError(.notImplemented, "The web page needs auth.htpasswd or no auth: a browser cannot present this registry's bearer tokens.")
            }
            var request = WebUIRequest(head: head, body: body, path: path, query: query, peer: peer,
                                       viewer: WebUIViewer(user: nil, access: access), nonce: nonce, newNonce: existing == nil)
            if let early = try await identify(&request, cookies: cookies) {
                response = early
            } else {
                request.csrf = ui.csrfToken(user: request.viewer.user, nonce: nonce)
                if head.method == .POST {
                    try checkCrossSite(request)
                    guard let bytes = try await body.collect(upTo: 64 << 10) else {
                        throw WebUIError(.payloadTooLarge, "Form larger than 64 KiB.")
                    }
                    request.form = QueryParameters(Substring(String(decoding: bytes, as: UTF8.self)))
                    guard let token = request.form["csrf"], WebUISecrets.constantTimeEqual(token, request.csrf) else {
                        throw WebUIError(.forbidden, "This form is stale or came from another site: reload the page and try again.")
                    }
                } else if head.method != .GET && head.method != .HEAD {
                    throw WebUIError(.methodNotAllowed, "Method not allowed.")
                }
                response = try await uiRoute(request)
            }
        } catch let e as WebUIError {
            response = uiErrorPage(e.status, e.message, headers: e.headers)
        } catch let e as RegistryError {
            response = uiErrorPage(e.status, "\(e.message)\(e.detail.map { ": \($0)" } ?? "")")
        } catch {
            let mapped = RegistryError.from(error)
            if mapped.code == .internalError {
                logger.error("web page request failed", metadata: ["path": "\(target)", "error": "\(String(reflecting: error))"])
            }
            response = uiErrorPage(mapped.status, "\(mapped.message)\(mapped.detail.map { ": \($0)" } ?? "")")
        }
        Self.securityHeaders(&response.headers)
        if existing == nil {
            response.headers.add(name: "Set-Cookie", value: cookie(Self.uiNonceCookie, nonce, maxAge: nil))
        }
        if head.method == .HEAD { response.body = .none }
        return response
    }

    private func uiRoute(_ r: WebUIRequest) async throws -> HTTPResponse {
        let method: HTTPMethod = r.head.method == .HEAD ? .GET : r.head.method
        switch (method, r.path) {
        case (.GET, "/"): return try await uiRegistryPage(r)
        case (.GET, "/login"): return try await uiLoginPage(r)
        case (.POST, "/login"): return try await uiLogin(r)
        case (.POST, "/logout"): return uiLogout(r)
        default: break
        }
        guard r.path.hasPrefix("/repo/") else { throw WebUIError(.notFound, "No such page.") }
        if r.path.contains("%") { throw WebUIError(.notFound, "No such page.") }
        let rest = r.path.dropFirst("/repo/".count)
        let split = rest.range(of: "/-/")
        let name = String(split.map { rest[..<$0.lowerBound] } ?? rest)
        let action = split.map { String(rest[$0.upperBound...]) }
        do { try RepositoryName.validate(name) } catch { throw WebUIError(.notFound, "No such repository.") }
        // Not allowed to pull answers like absent: the name is not disclosed.
        guard r.viewer.may(["pull"], name) else { throw WebUIError(.notFound, "No such repository (or you may not see it).") }
        let segments = action?.split(separator: "/", maxSplits: 1).map(String.init) ?? []
        switch (method, segments.first ?? "", segments.count) {
        case (.GET, "", _): return try await uiRepositoryPage(r, name: name)
        case (.GET, "manifest", 2): return try await uiManifestPage(r, name: name, digest: segments[1])
        case (.GET, "history", 2): return try await uiHistoryPage(r, name: name, tag: segments[1])
        case (.POST, "promote", 1): return try await uiPromote(r, name: name)
        case (.POST, "rollback", 2): return try await uiRollback(r, name: name, tag: segments[1])
        case (.POST, "delete", 2): return try await uiDelete(r, name: name, digest: segments[1])
        default: throw WebUIError(.notFound, "No such page.")
        }
    }

    // MARK: Who is looking

    /// Sets the viewer; returns an answer instead when the request must stop
    /// here (a failed or throttled Basic login).
    private func identify(_ r: inout WebUIRequest, cookies: [String: String]) async throws -> HTTPResponse? {
        guard case .htpasswd(let h) = r.viewer.access else { return nil }
        if let value = cookies[Self.uiSessionCookie], let user = ui.verifySession(value, now: Self.uiNow()), h.hasUser(user) {
            r.viewer.user = user
            r.viewer.session = true
            return nil
        }
        guard let header = r.head.headers.first(name: "Authorization") else { return nil }
        switch await uiVerify(h, header: header, peer: r.peer) {
        case .ok(let user): r.viewer.user = user; return nil
        case .throttled(let retry): throw WebUIError(.tooManyRequests, "Too many failed logins: try again in \(retry) s.",
                                                     headers: [("Retry-After", String(retry))])
        case .failed: throw WebUIError(.unauthorized, "Wrong user name or password.", headers: [("WWW-Authenticate", basicChallenge(h))])
        }
    }

    enum UILogin { case ok(String), failed, throttled(Int) }

    /// The authorizer's own check: throttle, bcrypt (cached), failures counted.
    func uiVerify(_ h: HtpasswdAuthorizer, header: String, peer: String?) async -> UILogin {
        guard let (user, password) = HtpasswdAuthorizer.basicCredentials(header) else { return await uiVerify(h, user: "", password: "", peer: peer) }
        return await uiVerify(h, user: user, password: password, peer: peer)
    }

    func uiVerify(_ h: HtpasswdAuthorizer, user: String, password: String, peer: String?) async -> UILogin {
        let client = LoginRateLimiter.clientAddress(peer)
        if let retry = h.limiter.retryAfter(client) { return .throttled(retry) }
        let valid = !user.isEmpty && !password.utf8.contains(0) && password.utf8.count <= 1024
        guard valid, await h.verify(user: user, password: password) else {
            h.limiter.recordFailure(client)
            logger.notice("web page login failed", metadata: ["remote": "\(client)"])
            return .failed
        }
        return .ok(user)
    }

    func basicChallenge(_ h: HtpasswdAuthorizer) -> String { "Basic realm=\(HtpasswdAuthorizer.quoted(h.realm))" }

    // MARK: Cross-site checks

    /// Invariant 2's origin half: the browser says the form came from this origin.
    private func checkCrossSite(_ r: WebUIRequest) throws {
        let headers = r.head.headers
        let site = headers.first(name: "Sec-Fetch-Site")
        let origin = headers.first(name: "Origin")
        guard site != nil || origin != nil else {
            throw WebUIError(.forbidden, "Forms must come from this site's pages (no Origin or Sec-Fetch-Site header).")
        }
        if let site, site != "same-origin" {
            throw WebUIError(.forbidden, "Cross-site form submission refused (Sec-Fetch-Site: \(site)).")
        }
        if let origin {
            var allowed: [String] = []
            if let host = headers.first(name: "Host") { allowed += ["http://\(host)", "https://\(host)"] }
            if let external = configuration.externalURL, let u = URL(string: external), let scheme = u.scheme, let host = u.host {
                allowed.append("\(scheme)://\(host)\(u.port.map { ":\($0)" } ?? "")")
            }
            guard allowed.contains(origin) else { throw WebUIError(.forbidden, "Cross-site form submission refused (Origin: \(origin)).") }
        }
    }

    // MARK: Answers

    static func securityHeaders(_ h: inout HTTPHeaders) {
        h.replaceOrAdd(name: "Content-Security-Policy", value: uiCSP)
        h.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        h.replaceOrAdd(name: "X-Frame-Options", value: "DENY")
        // Not no-referrer: with it chromium sends `Origin: null` on the page's own form posts.
        h.replaceOrAdd(name: "Referrer-Policy", value: "same-origin")
        if !h.contains(name: "Cache-Control") { h.add(name: "Cache-Control", value: "no-store") }
    }

    func cookie(_ name: String, _ value: String, maxAge: Int?) -> String {
        var c = "\(name)=\(value); Path=\(uiBase)/; HttpOnly; SameSite=Strict"
        if let maxAge { c += "; Max-Age=\(maxAge)" }
        if configuration.tls != nil || (configuration.externalURL?.hasPrefix("https://") ?? false) { c += "; Secure" }
        return c
    }

    static func cookies(_ headers: HTTPHeaders) -> [String: String] {
        var out: [String: String] = [:]
        for line in headers[canonicalForm: "Cookie"] {
            for pair in line.split(separator: ";") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                guard kv.count == 2 else { continue }
                let k = String(kv[0]).trimmingSpaces, v = String(kv[1]).trimmingSpaces
                if out[k] == nil { out[k] = v }
            }
        }
        return out
    }

    func uiStatic(_ text: String, _ type: String) -> HTTPResponse {
        var h = HTTPHeaders()
        h.add(name: "Content-Type", value: type)
        h.add(name: "Cache-Control", value: "max-age=300")
        var r = HTTPResponse(status: .ok, headers: h, body: .bytes(Array(text.utf8)))
        Self.securityHeaders(&r.headers)
        return r
    }

    func uiHTML(_ html: String, status: HTTPResponseStatus = .ok, headers: [(String, String)] = []) -> HTTPResponse {
        var h = HTTPHeaders()
        h.add(name: "Content-Type", value: "text/html; charset=utf-8")
        for (k, v) in headers { h.add(name: k, value: v) }
        return HTTPResponse(status: status, headers: h, body: .bytes(Array(html.utf8)))
    }

    func uiRedirect(_ location: String, headers: [(String, String)] = []) -> HTTPResponse {
        var h = HTTPHeaders()
        h.add(name: "Location", value: location)
        h.add(name: "Content-Length", value: "0")
        for (k, v) in headers { h.add(name: k, value: v) }
        return HTTPResponse(status: .seeOther, headers: h)
    }

    func uiErrorPage(_ status: HTTPResponseStatus, _ message: String, headers: [(String, String)] = []) -> HTTPResponse {
        let body = "<h1>\(status.code) \(HTML.text(status.reasonPhrase))</h1><p class=\"error\">\(HTML.text(message))</p>"
            + "<p><a href=\"\(uiBase)/\">Registry</a> · <a href=\"\(uiBase)/login\">Log in</a></p>"
        return uiHTML(uiLayout(title: "\(status.code)", viewer: nil, csrf: "", body: body), status: status, headers: headers)
    }

    /// The frame of every page: header (who, log in/out), read-only banner, content.
    func uiLayout(title: String, viewer: WebUIViewer?, csrf: String, crumbs: String = "", body: String) -> String {
        var who = ""
        if let viewer {
            if let user = viewer.user {
                who = "<span class=\"who\">signed in as <b>\(HTML.text(user))</b></span>"
                if viewer.session {
                    who += "<form class=\"inline\" method=\"post\" action=\"\(uiBase)/logout\">\(uiCSRFField(csrf))"
                        + "<button type=\"submit\">Log out</button></form>"
                }
            } else if viewer.canLogIn {
                who = "<span class=\"who\">anonymous · <a href=\"\(uiBase)/login\">Log in</a></span>"
            }
        }
        let banner = modes.readOnly
            ? "<div class=\"banner\" id=\"readonly\">This registry is in read-only mode (maintenance): nothing can be pushed, moved or deleted.</div>"
            : ""
        return """
            <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">\
            <title>\(HTML.text(title)) · Berth</title><link rel="stylesheet" href="\(uiBase)/static/berth.css"></head><body>\
            <header><a class="brand" href="\(uiBase)/">Berth registry</a>\(who)</header><main>\(banner)\
            \(crumbs.isEmpty ? "" : "<div class=\"crumbs\">\(crumbs)</div>")\(body)</main>\
            <script src="\(uiBase)/static/berth.js"></script></body></html>
            """
    }

    func uiCSRFField(_ token: String) -> String { "<input type=\"hidden\" name=\"csrf\" value=\"\(HTML.attr(token))\">" }

    func uiRepoURL(_ name: String) -> String { "\(uiBase)/repo/\(HTML.component(name, keepSlash: true))" }

    func uiCrumbs(_ name: String, _ more: String = "") -> String {
        "<a href=\"\(uiBase)/\">registry</a> / <a href=\"\(uiRepoURL(name))\">\(HTML.text(name))</a>\(more.isEmpty ? "" : " / " + more)"
    }

    /// Host part of pull commands: `http.host` when set, else the request's Host.
    func uiRegistryHost(_ r: WebUIRequest) -> String {
        if let external = configuration.externalURL, let u = URL(string: external), let host = u.host {
            return host + (u.port.map { ":\($0)" } ?? "") + configuration.prefix.trimmingSuffix("/")
        }
        return r.head.headers.first(name: "Host") ?? "localhost"
    }
}
