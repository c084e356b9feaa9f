import Foundation

extension RegistryConfiguration {
    /// `validation:` — what is checked on manifest push.
    public struct Validation: Sendable, Equatable {
        public var disabled = false
        public var manifests = Manifests()

        public struct Manifests: Sendable, Equatable {
            public var urls = URLs()
            public var indexes = Indexes()
            public init() {}
        }

        public struct URLs: Sendable, Equatable {
            /// Regular expressions; empty means foreign URLs are refused.
            public var allow: [String] = []
            public var deny: [String] = []
            public init() {}
        }

        public struct Indexes: Sendable, Equatable {
            public enum Platforms: String, Sendable, CaseIterable { case all, none, list }
            public var platforms: Platforms = .all
            public var platformList: [Platform] = []
            public init() {}
        }

        public struct Platform: Sendable, Equatable {
            public var architecture: String
            public var os: String
            public init(architecture: String, os: String) {
                self.architecture = architecture
                self.os = os
            }
        }

        public init() {}
    }
}

extension RegistryConfiguration.Validation {
    init(_ reader: SectionReader) throws {
        self.init()
        if let disabled = try reader.bool("disabled") {
            self.disabled = disabled
        } else if let enabled = try reader.bool("enabled") {
            // Deprecated spelling in distribution: enabled == !disabled.
            self.disabled = !enabled
        }
        let manifestsReader = try reader.section("manifests")
        let urls = try manifestsReader.section("urls")
        manifests.urls.allow = try Self.patterns(urls, "allow")
        manifests.urls.deny = try Self.patterns(urls, "deny")
        try urls.finish()
        let indexes = try manifestsReader.section("indexes")
        if let raw = try indexes.string("platforms") {
            manifests.indexes.platforms = try enumValue(raw, Indexes.Platforms.self, indexes.keyPath("platforms"))
        }
        manifests.indexes.platformList = try Self.platforms(indexes)
        // distribution reads platformlist only with platforms: list.
        if manifests.indexes.platforms != .list, !manifests.indexes.platformList.isEmpty {
            throw ConfigurationError.unsupported(indexes.keyPath("platformlist"), origin: indexes.origin(of: "platformlist"),
                reason: RejectedKeys.reason(for: indexes.keyPath("platformlist")))
        }
        try indexes.finish()
        try manifestsReader.finish()
        try reader.finish()
    }

    /// Regular expressions, each checked to compile (the server compiles
    /// them again, once, when it is configured).
    private static func patterns(_ reader: SectionReader, _ key: String) throws -> [String] {
        let list = try reader.stringList(key) ?? []
        for (index, pattern) in list.enumerated() {
            if (try? NSRegularExpression(pattern: pattern)) == nil {
                throw ConfigurationError.invalid("\(reader.keyPath(key)).\(index)",
                    "\"\(pattern)\" is not a valid regular expression", origin: reader.origin(of: key))
            }
        }
        return list
    }

    private static func platforms(_ reader: SectionReader) throws -> [Platform] {
        guard let entry = reader.entry("platformlist") else { return [] }
        let path = reader.keyPath("platformlist")
        guard case .sequence(let items) = entry.value else {
            throw ConfigurationError.wrongType(path, expected: "a list of {os, architecture} maps", origin: entry.origin)
        }
        return try items.enumerated().map { index, item in
            let platform = try SectionReader(path: "\(path).\(index)", node: item, origin: entry.origin)
            guard let os = try platform.string("os"), let architecture = try platform.string("architecture") else {
                throw ConfigurationError.invalid(platform.path, "needs both os and architecture", origin: entry.origin)
            }
            try platform.finish()
            return Platform(architecture: architecture, os: os)
        }
    }
}
