import Foundation

extension RegistryConfiguration.Auth {
    /// `auth.htpasswd.access` — Berth extension: per-repository rules for
    /// htpasswd users and anonymous clients. Absent: every authenticated user
    /// may do everything and anonymous clients nothing (distribution's
    /// behaviour). See README.md "Access rules".
    public struct Access: Sendable, Equatable {
        /// Who may list `/v2/_catalog`. nil: nobody when `rules` is non-empty.
        public var catalog: Principals?
        /// Evaluated in order; the first rule that applies decides.
        public var rules: [Rule]

        public init(catalog: Principals? = nil, rules: [Rule] = []) {
            self.catalog = catalog
            self.rules = rules
        }
    }

    public enum Principals: Sendable, Equatable {
        /// `"*"`: every authenticated user.
        case anyAuthenticated
        case users([String])

        public func contains(_ user: String) -> Bool {
            switch self {
            case .anyAuthenticated: return true
            case .users(let names): return names.contains(user)
            }
        }
    }

    public enum Action: String, Sendable, Equatable, CaseIterable {
        case pull, push, delete
    }

    public struct Rule: Sendable, Equatable {
        /// Glob over repository names: `*` within one path component, `**`
        /// across components, `?` one character.
        public var repository: String
        public var users: Principals
        public var actions: Set<Action>
        /// Actions granted to clients without credentials.
        public var anonymous: Set<Action>

        public init(repository: String, users: Principals = .users([]), actions: Set<Action> = [],
                    anonymous: Set<Action> = []) {
            self.repository = repository
            self.users = users
            self.actions = actions
            self.anonymous = anonymous
        }
    }
}

extension RegistryConfiguration.Auth.Access {
    typealias Auth = RegistryConfiguration.Auth

    static func decode(_ reader: SectionReader) throws -> Self {
        var access = Self()
        if let entry = reader.entry("catalog") {
            access.catalog = try Auth.decodePrincipals(entry.value, path: reader.keyPath("catalog"), origin: entry.origin)
        }
        if let entry = reader.entry("rules") {
            guard case .sequence(let items) = entry.value else {
                throw ConfigurationError.wrongType(reader.keyPath("rules"), expected: "a list of rules", origin: entry.origin)
            }
            for (index, item) in items.enumerated() {
                let rule = try SectionReader(path: reader.keyPath("rules") + "[\(index)]", node: item, origin: entry.origin)
                access.rules.append(try Auth.Rule.decode(rule))
            }
        }
        try reader.finish()
        return access
    }
}

extension RegistryConfiguration.Auth.Rule {
    static func decode(_ reader: SectionReader) throws -> Self {
        guard let repository = try reader.string("repository"), !repository.isEmpty else {
            throw ConfigurationError.invalid(reader.keyPath("repository"), "is required in every access rule", origin: reader.origin)
        }
        var rule = Self(repository: repository)
        if let entry = reader.entry("users") {
            rule.users = try RegistryConfiguration.Auth.decodePrincipals(entry.value, path: reader.keyPath("users"), origin: entry.origin)
        }
        rule.actions = try Self.actions(reader, "actions")
        rule.anonymous = try Self.actions(reader, "anonymous")
        try reader.finish()
        return rule
    }

    private static func actions(_ reader: SectionReader, _ key: String) throws -> Set<RegistryConfiguration.Auth.Action> {
        var result: Set<RegistryConfiguration.Auth.Action> = []
        for name in try reader.stringList(key) ?? [] {
            if name == "*" {
                result.formUnion(RegistryConfiguration.Auth.Action.allCases)
            } else if let action = RegistryConfiguration.Auth.Action(rawValue: name) {
                result.insert(action)
            } else {
                throw ConfigurationError.invalid(reader.keyPath(key),
                    "unknown action \"\(name)\" (use pull, push, delete or *)", origin: reader.origin(of: key))
            }
        }
        return result
    }
}

extension RegistryConfiguration.Auth {
    /// `"*"` or a list of user names.
    static func decodePrincipals(_ node: ConfigNode, path: String, origin: String?) throws -> Principals {
        switch node {
        case .scalar(let scalar) where scalar.raw == "*":
            return .anyAuthenticated
        case .sequence(let items):
            var names: [String] = []
            for item in items {
                guard case .scalar(let scalar) = item, !scalar.raw.isEmpty else {
                    throw ConfigurationError.wrongType(path, expected: "\"*\" or a list of user names", origin: origin)
                }
                if scalar.raw == "*" { return .anyAuthenticated }
                names.append(scalar.raw)
            }
            return .users(names)
        default:
            throw ConfigurationError.wrongType(path, expected: "\"*\" or a list of user names", origin: origin)
        }
    }
}
