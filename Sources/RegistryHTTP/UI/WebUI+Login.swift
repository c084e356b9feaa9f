// Logging in to the web page: the browser's Basic prompt (`/ui/login?basic=1`
// answers 401 with the realm's challenge until the browser sends valid
// credentials) or the form, which posts the credentials once and gets an
// HttpOnly, SameSite=Strict session cookie signed with the per-process key
// (WebUISecrets). Both verify with the htpasswd authorizer, its cache and its
// failed-login throttle.
//
// Thread safety: as RegistryHandler.

import NIOHTTP1

extension RegistryHandler {
    func uiLoginPage(_ r: WebUIRequest, error: String? = nil, status: HTTPResponseStatus = .ok) async throws -> HTTPResponse {
        guard case .htpasswd(let h) = r.viewer.access else { return uiRedirect("\(uiBase)/") }
        if r.query["basic"] == "1" {
            // The Basic header, when present, was verified by `identify`.
            if r.viewer.user != nil && !r.viewer.session { return uiRedirect("\(uiBase)/") }
            if r.head.headers.first(name: "Authorization") == nil {
                return uiErrorPage(.unauthorized, "Log in with the browser's prompt, or use the form.",
                                   headers: [("WWW-Authenticate", basicChallenge(h))])
            }
        }
        var body = "<h1>Log in</h1>"
        if let error { body += "<p class=\"error\" id=\"login-error\">\(HTML.text(error))</p>" }
        if let user = r.viewer.user { body += "<p>You are signed in as <b>\(HTML.text(user))</b>.</p>" }
        body += """
            <form method="post" action="\(uiBase)/login" id="login">\(uiCSRFField(r.csrf))\
            <p><label>User <input type="text" name="user" autocomplete="username" required></label></p>\
            <p><label>Password <input type="password" name="password" autocomplete="current-password" required></label></p>\
            <p><button type="submit">Log in</button> <span class="muted">or use the browser's \
            <a href="\(uiBase)/login?basic=1">login prompt</a></span></p></form>
            """
        return uiHTML(uiLayout(title: "Log in", viewer: r.viewer, csrf: r.csrf, body: body), status: status)
    }

    func uiLogin(_ r: WebUIRequest) async throws -> HTTPResponse {
        guard case .htpasswd(let h) = r.viewer.access else { return uiRedirect("\(uiBase)/") }
        let user = r.form["user"] ?? "", password = r.form["password"] ?? ""
        switch await uiVerify(h, user: user, password: password, peer: r.peer) {
        case .ok(let user):
            return uiRedirect("\(uiBase)/", headers: [
                ("Set-Cookie", cookie(Self.uiSessionCookie, ui.session(user: user, now: Self.uiNow()),
                                      maxAge: Int(WebUISecrets.sessionLifetime))),
            ])
        case .failed:
            return try await uiLoginPage(r, error: "Wrong user name or password.", status: .unauthorized)
        case .throttled(let retry):
            throw WebUIError(.tooManyRequests, "Too many failed logins: try again in \(retry) s.", headers: [("Retry-After", String(retry))])
        }
    }

    func uiLogout(_ r: WebUIRequest) -> HTTPResponse {
        uiRedirect("\(uiBase)/", headers: [("Set-Cookie", cookie(Self.uiSessionCookie, "", maxAge: 0))])
    }
}
