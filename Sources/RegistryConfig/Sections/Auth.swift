extension RegistryConfiguration {
    /// `auth:` — exactly one scheme. `nil` in the configuration means no auth.
    public enum Auth: Sendable, Equatable {
        case htpasswd(Htpasswd)
        case token(Token)

        public struct Htpasswd: Sendable, Equatable {
            public var realm: String
            public var path: String
            /// Berth extension `auth.htpasswd.access`; nil: no rules.
            public var access: Access?
            public init(realm: String, path: String, access: Access? = nil) {
                self.realm = realm
                self.path = path
                self.access = access
            }
        }

        public struct Token: Sendable, Equatable {
            public var realm: String
            public var service: String
            public var issuer: String
            public var rootCertBundle: String?
            public var jwks: String?
            public var autoRedirect = false
            public var autoRedirectPath: String?
            public var signingAlgorithms: [String] = []
            public init(realm: String, service: String, issuer: String) {
                self.realm = realm
                self.service = service
                self.issuer = issuer
            }
        }
    }
}

extension RegistryConfiguration.Auth {
    /// Decodes the `auth` section; nil when it is empty or `none`.
    static func decode(_ reader: SectionReader) throws -> Self? {
        let schemes = reader.keys
        if schemes.isEmpty { return nil }
        if schemes.count > 1 {
            throw ConfigurationError.invalid("auth",
                "exactly one auth scheme must be configured, found \(schemes.joined(separator: ", "))", origin: reader.origin)
        }
        switch schemes[0] {
        case "none":
            reader.ignore("none")
            try reader.finish()
            return nil
        case "htpasswd":
            let section = try reader.section("htpasswd")
            let realm = try section.string("realm") ?? ""
            let path = try section.string("path") ?? ""
            let access = section.contains("access") ? try Access.decode(section.section("access")) : nil
            try section.finish()
            guard !path.isEmpty else {
                throw ConfigurationError.invalid(section.keyPath("path"), "is required for htpasswd auth", origin: section.origin)
            }
            guard !realm.isEmpty else {
                throw ConfigurationError.invalid(section.keyPath("realm"), "is required for htpasswd auth", origin: section.origin)
            }
            try reader.finish()
            return .htpasswd(Htpasswd(realm: realm, path: path, access: access))
        case "token":
            let section = try reader.section("token")
            var missing: [String] = []
            func required(_ key: String) throws -> String {
                let value = try section.string(key) ?? ""
                if value.isEmpty { missing.append(key) }
                return value
            }
            var token = Token(realm: try required("realm"), service: try required("service"), issuer: try required("issuer"))
            token.rootCertBundle = try section.string("rootcertbundle")
            token.jwks = try section.string("jwks")
            token.autoRedirect = try section.bool("autoredirect") ?? false
            token.autoRedirectPath = try section.string("autoredirectpath")
            token.signingAlgorithms = try section.stringList("signingalgorithms") ?? []
            try section.finish()
            if let key = missing.first {
                throw ConfigurationError.invalid(section.keyPath(key), "is required for token auth", origin: section.origin)
            }
            if token.rootCertBundle == nil && token.jwks == nil {
                throw ConfigurationError.invalid(section.keyPath("rootcertbundle"),
                    "token auth needs rootcertbundle or jwks", origin: section.origin)
            }
            try reader.finish()
            return .token(token)
        default:
            try reader.finish()
            return nil
        }
    }
}
