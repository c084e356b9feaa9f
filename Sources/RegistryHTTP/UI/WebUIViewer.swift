// Who is looking at the web page, and what the registry's access rules let
// them do (the same AccessPolicy the API's HtpasswdAuthorizer applies).
//
// Thread safety: value type, Sendable.

/// Who is looking, and what they may do.
struct WebUIViewer: Sendable {
    enum Access: Sendable {
        /// No `auth:`: everyone may do everything (the registry's behaviour).
        case open
        case htpasswd(HtpasswdAuthorizer)
    }

    var user: String?
    var access: Access
    /// Logged in through the form (a session cookie), so a logout button makes sense.
    var session = false

    func may(_ actions: [String], _ repository: String) -> Bool {
        switch access {
        case .open: return true
        case .htpasswd(let h):
            return h.policy.allows(user: user, scopes: [AccessScope(type: "repository", name: repository, actions: actions)])
        }
    }

    var mayCatalog: Bool {
        switch access {
        case .open: return true
        case .htpasswd(let h): return h.policy.allows(user: user, scopes: [.catalog])
        }
    }

    var canLogIn: Bool { if case .htpasswd = access { return true } else { return false } }
}
