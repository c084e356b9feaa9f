extension RegistryConfiguration {
    /// `catalog:` — limits on `/v2/_catalog`.
    public struct Catalog: Sendable, Equatable {
        public var maxEntries = 1000
        public init() {}
    }

    /// `tags:` — limits on `/v2/<name>/tags/list`.
    public struct Tags: Sendable, Equatable {
        public var maxTags = 1000
        public init() {}
    }
}

extension RegistryConfiguration.Catalog {
    init(_ reader: SectionReader) throws {
        self.init()
        if let value = try reader.int("maxentries") {
            guard value > 0 else { throw ConfigurationError.invalid(reader.keyPath("maxentries"), "must be positive") }
            maxEntries = value
        }
        try reader.finish()
    }
}

extension RegistryConfiguration.Tags {
    init(_ reader: SectionReader) throws {
        self.init()
        if let value = try reader.int("maxtags") {
            guard value > 0 else { throw ConfigurationError.invalid(reader.keyPath("maxtags"), "must be positive") }
            maxTags = value
        }
        try reader.finish()
    }
}
