import Foundation

extension RegistryConfiguration {
    /// `berth:` — Berth's own settings; distribution has no such key.
    public struct Berth: Sendable, Equatable {
        /// Blobs up to this many bytes go into shared packs.
        public var smallBlobThreshold = 1_048_576
        public var compression = true
        public var gc = GC()
        public var limits = Limits()
        public var metadata = Metadata()
        public var tags = Tags()
        public var retention = Retention()
        public var ui = UI()

        /// `berth.ui`: the web page `regctl serve` serves under `<prefix>/ui/`.
        public struct UI: Sendable, Equatable {
            /// On by default; `false` answers 404 under `/ui/`.
            public var enabled = true
            public init() {}
        }

        /// `berth.retention`, modelled on zot's: per repository the first
        /// policy whose `repositories` globs match applies.
        public struct Retention: Sendable, Equatable {
            /// Log what the online collector would delete; delete nothing.
            public var dryRun = false
            public var policies: [Policy] = []
            public init() {}

            public struct Policy: Sendable, Equatable {
                public var repositories: [String]
                public var deleteUntagged = false
                /// Seconds a manifest stays untagged before the policy deletes it (24h).
                public var untaggedDelay: TimeInterval = 86_400
                /// Empty: every tag is kept.
                public var keepTags: [KeepTags] = []
                public init(repositories: [String]) { self.repositories = repositories }
            }

            public struct KeepTags: Sendable, Equatable {
                /// Tag globs (`*`, `?`); empty matches every tag.
                public var patterns: [String] = []
                public var mostRecentlyPushedCount: Int?
                public var mostRecentlyPulledCount: Int?
                public var pushedWithin: TimeInterval?
                public var pulledWithin: TimeInterval?
                public init() {}
            }
        }

        /// `berth.tags`: tags as a release tool.
        public struct Tags: Sendable, Equatable {
            /// `berth.tags.immutable`: once such a tag exists, a push (or a
            /// promotion) that would point it at another manifest is refused
            /// with 409 TAG_IMMUTABLE; the same manifest again is accepted.
            public var immutable: [ImmutableRule] = []
            public var history = History()
            public init() {}
        }

        /// `berth.tags.history`: how much of each tag's history is kept, and
        /// how long it keeps the manifests it names from the untagged policy.
        public struct History: Sendable, Equatable {
            /// Entries kept per tag (nil: all).
            public var maxEntries: Int?
            /// Seconds an entry is kept after the tag moved on (nil: forever).
            public var maxAge: TimeInterval?
            /// Seconds a manifest a kept entry names survives untagged (0: off).
            public var protect: TimeInterval = 0
            public init() {}
        }

        public struct ImmutableRule: Sendable, Equatable {
            /// Glob over repository names (as in access rules: `*` within a
            /// path component, `**` across, `?` one character).
            public var repository: String
            /// Globs over tag names.
            public var tags: [String]
            public init(repository: String, tags: [String]) {
                self.repository = repository
                self.tags = tags
            }
        }

        /// `berth.metadata`: the LMDB map (initial size, growth ceiling), bytes.
        public struct Metadata: Sendable, Equatable {
            public var mapSize = 1 << 30
            public var maxMapSize = 4 << 40
            public init() {}
        }

        public struct GC: Sendable, Equatable {
            /// Seconds a zero-ref blob is kept before collection (24h).
            public var gracePeriod: TimeInterval = 24 * 3600
            public var deleteUntagged = false
            /// Seconds a manifest must stay untagged before deletion (1h).
            public var untaggedDelay: TimeInterval = 3600
            /// Seconds between online GC passes (1m).
            public var interval: TimeInterval = 60
            public init() {}
        }

        public struct Limits: Sendable, Equatable {
            public var manifestMaxSize = 4_194_304
            public var maxUploadSessions = 10_000
            /// nil: no limit.
            public var maxUploadSize: Int?
            /// Request line + headers, bytes (431 beyond).
            public var maxHeaderBytes = 65_536
            /// Request target, bytes (414 beyond).
            public var maxRequestLine = 8_192
            /// Seconds an idle keep-alive (or stream-less HTTP/2) connection stays open.
            public var idleTimeout: TimeInterval = 120
            /// Seconds from a request's first byte (or the TLS handshake) to a complete header.
            public var headerTimeout: TimeInterval = 30
            /// Seconds a request body may stall.
            public var bodyStallTimeout: TimeInterval = 60
            /// Seconds between checks of the TLS certificate/key files (0: only on SIGHUP).
            public var tlsReloadInterval: TimeInterval = 5
            public init() {}
        }

        public init() {}
    }
}

extension RegistryConfiguration.Berth {
    init(_ reader: SectionReader) throws {
        self.init()
        smallBlobThreshold = try Self.nonNegative(reader, "smallblobthreshold") ?? smallBlobThreshold
        compression = try reader.bool("compression") ?? true
        let gcReader = try reader.section("gc")
        gc.gracePeriod = try Self.duration(gcReader, "graceperiod") ?? gc.gracePeriod
        gc.deleteUntagged = try gcReader.bool("deleteuntagged") ?? false
        gc.untaggedDelay = try Self.duration(gcReader, "untaggeddelay") ?? gc.untaggedDelay
        gc.interval = try Self.duration(gcReader, "interval") ?? gc.interval
        try gcReader.finish()
        let limitsReader = try reader.section("limits")
        limits.manifestMaxSize = try Self.positive(limitsReader, "manifestmaxsize") ?? limits.manifestMaxSize
        limits.maxUploadSessions = try Self.positive(limitsReader, "maxuploadsessions") ?? limits.maxUploadSessions
        limits.maxUploadSize = try Self.positive(limitsReader, "maxuploadsize")
        limits.maxHeaderBytes = try Self.positive(limitsReader, "maxheaderbytes") ?? limits.maxHeaderBytes
        limits.maxRequestLine = try Self.positive(limitsReader, "maxrequestline") ?? limits.maxRequestLine
        limits.idleTimeout = try Self.duration(limitsReader, "idletimeout") ?? limits.idleTimeout
        limits.headerTimeout = try Self.duration(limitsReader, "headertimeout") ?? limits.headerTimeout
        limits.bodyStallTimeout = try Self.duration(limitsReader, "bodystalltimeout") ?? limits.bodyStallTimeout
        limits.tlsReloadInterval = try Self.duration(limitsReader, "tlsreloadinterval") ?? limits.tlsReloadInterval
        try limitsReader.finish()
        let metaReader = try reader.section("metadata")
        metadata.mapSize = try Self.positive(metaReader, "mapsize") ?? metadata.mapSize
        metadata.maxMapSize = try Self.positive(metaReader, "maxmapsize") ?? max(metadata.maxMapSize, metadata.mapSize)
        guard metadata.maxMapSize >= metadata.mapSize else {
            throw ConfigurationError.invalid(metaReader.keyPath("maxmapsize"), "must be at least berth.metadata.mapsize")
        }
        try metaReader.finish()
        let tagsReader = try reader.section("tags")
        for rule in try tagsReader.sectionList("immutable", "a list of {repository, tags}") {
            guard let repository = try rule.string("repository"), !repository.isEmpty else {
                throw ConfigurationError.invalid(rule.keyPath("repository"), "is required in every immutable-tag rule",
                                                 origin: rule.origin)
            }
            let patterns = try rule.stringList("tags") ?? []
            guard !patterns.isEmpty, !patterns.contains("") else {
                throw ConfigurationError.invalid(rule.keyPath("tags"), "names at least one tag pattern", origin: rule.origin)
            }
            try rule.finish()
            tags.immutable.append(ImmutableRule(repository: repository, tags: patterns))
        }
        let historyReader = try tagsReader.section("history")
        tags.history.maxEntries = try Self.positive(historyReader, "maxentries")
        tags.history.maxAge = try Self.duration(historyReader, "maxage")
        tags.history.protect = try Self.duration(historyReader, "protect") ?? 0
        try historyReader.finish()
        try tagsReader.finish()
        retention = try Self.retention(try reader.section("retention"))
        let uiReader = try reader.section("ui")
        ui.enabled = try uiReader.bool("enabled") ?? true
        try uiReader.finish()
        try reader.finish()
    }

    private static func retention(_ reader: SectionReader) throws -> Retention {
        var r = Retention()
        r.dryRun = try reader.bool("dryrun") ?? false
        for p in try reader.sectionList("policies", "a list of {repositories, deleteuntagged, untaggeddelay, keeptags}") {
            guard let repositories = try p.stringList("repositories"), !repositories.isEmpty, !repositories.contains("") else {
                throw ConfigurationError.invalid(p.keyPath("repositories"), "names at least one repository glob", origin: p.origin)
            }
            var policy = Retention.Policy(repositories: repositories)
            policy.deleteUntagged = try p.bool("deleteuntagged") ?? false
            policy.untaggedDelay = try Self.duration(p, "untaggeddelay") ?? policy.untaggedDelay
            for k in try p.sectionList("keeptags", "a list of {patterns, mostrecentlypushedcount, …}") {
                var keep = Retention.KeepTags()
                keep.patterns = try k.stringList("patterns") ?? []
                keep.mostRecentlyPushedCount = try Self.nonNegative(k, "mostrecentlypushedcount")
                keep.mostRecentlyPulledCount = try Self.nonNegative(k, "mostrecentlypulledcount")
                keep.pushedWithin = try Self.duration(k, "pushedwithin")
                keep.pulledWithin = try Self.duration(k, "pulledwithin")
                try k.finish()
                policy.keepTags.append(keep)
            }
            try p.finish()
            r.policies.append(policy)
        }
        try reader.finish()
        return r
    }

    private static func duration(_ reader: SectionReader, _ key: String) throws -> TimeInterval? {
        guard let value = try reader.duration(key) else { return nil }
        guard value >= 0 else { throw ConfigurationError.invalid(reader.keyPath(key), "must not be negative") }
        return value
    }

    private static func nonNegative(_ reader: SectionReader, _ key: String) throws -> Int? {
        guard let value = try reader.int(key) else { return nil }
        guard value >= 0 else { throw ConfigurationError.invalid(reader.keyPath(key), "must not be negative") }
        return value
    }

    private static func positive(_ reader: SectionReader, _ key: String) throws -> Int? {
        guard let value = try reader.int(key) else { return nil }
        guard value > 0 else { throw ConfigurationError.invalid(reader.keyPath(key), "must be positive") }
        return value
    }
}
