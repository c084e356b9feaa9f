// Evaluates `auth.htpasswd.access` (Berth extension) for one request.
//
// Thread safety: value type, Sendable.
// Invariants:
//   1. No `access` block: every authenticated user may do everything, anonymous
//      clients nothing (distribution's htpasswd behaviour).
//   2. With rules, for each repository scope the FIRST rule that applies
//      decides: a rule applies when its glob matches the repository and it
//      names the user (`users`), or, for anonymous clients, when it has an
//      `anonymous` list. No applicable rule: denied.
//   3. The catalog needs `access.catalog` to name the user (or be "*");
//      when absent it defaults to "*" only if there are no rules.
//   4. `/v2/` (no scope) always requires authentication.

import RegistryConfig

struct AccessPolicy: Sendable {
    typealias Access = RegistryConfiguration.Auth.Access
    typealias Action = RegistryConfiguration.Auth.Action

    let access: Access?

    func allows(user: String?, scopes: [AccessScope]) -> Bool {
        guard let access else { return user != nil }
        if scopes.isEmpty { return user != nil }
        return scopes.allSatisfy { allows(user: user, scope: $0, access: access) }
    }

    private func allows(user: String?, scope: AccessScope, access: Access) -> Bool {
        if scope == .catalog {
            guard let user else { return false }
            if let catalog = access.catalog { return catalog.contains(user) }
            return access.rules.isEmpty
        }
        guard scope.type == "repository" else { return false }
        let needed = Set(scope.actions.compactMap(Action.init(rawValue:)))
        guard needed.count == scope.actions.count else { return false }
        for rule in access.rules where Glob.matches(rule.repository, scope.name) {
            if let user {
                guard rule.users.contains(user) else { continue }
                return needed.isSubset(of: rule.actions)
            } else {
                guard !rule.anonymous.isEmpty else { continue }
                return needed.isSubset(of: rule.anonymous)
            }
        }
        return false
    }
}

/// Repository-name globs: `*` matches within one path component, `**` across
/// components (including none), `?` one character other than `/`.
public enum Glob {
    public static func matches(_ pattern: String, _ name: String) -> Bool {
        match(Array(pattern.utf8)[...], Array(name.utf8)[...])
    }

    private static func match(_ p: ArraySlice<UInt8>, _ s: ArraySlice<UInt8>) -> Bool {
        guard let first = p.first else { return s.isEmpty }
        let slash = UInt8(ascii: "/")
        if first == UInt8(ascii: "*") {
            let doubleStar = p.dropFirst().first == UInt8(ascii: "*")
            var rest = p.dropFirst(doubleStar ? 2 : 1)
            // `a/**/b` also matches `a/b`.
            if doubleStar, rest.first == slash, match(rest.dropFirst(), s) { return true }
            if doubleStar { rest = p.dropFirst(2) }
            var i = s.startIndex
            while true {
                if match(rest, s[i...]) { return true }
                if i == s.endIndex { return false }
                if !doubleStar && s[i] == slash { return false }
                i = s.index(after: i)
            }
        }
        guard let c = s.first else { return false }
        if first == UInt8(ascii: "?") {
            return c != slash && match(p.dropFirst(), s.dropFirst())
        }
        return first == c && match(p.dropFirst(), s.dropFirst())
    }
}
