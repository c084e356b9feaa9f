import Foundation

extension RegistryConfiguration {
    /// `notifications:` — distribution's webhook endpoints. Every key is read:
    /// Berth delivers through a durable outbox (RegistryHTTP/Notifications).
    public struct Notifications: Sendable, Equatable {
        public var endpoints: [Endpoint] = []
        /// `events.includereferences`: manifest events carry the manifest's references.
        public var includeReferences = false

        public struct Endpoint: Sendable, Equatable {
            public var name: String
            public var disabled = false
            public var url: URL
            public var headers: [String: [String]] = [:]
            /// Per-request timeout (distribution requires it; default 1 s when absent).
            public var timeout: TimeInterval = 1
            /// Consecutive failures before the endpoint backs off.
            public var threshold = 10
            /// How long it waits after `threshold` failures.
            public var backoff: TimeInterval = 1
            /// Target media types and actions not sent (`ignoredmediatypes`
            /// and `ignore.mediatypes` are merged).
            public var ignoredMediaTypes: Set<String> = []
            public var ignoredActions: Set<String> = []

            public init(name: String, url: URL) {
                self.name = name
                self.url = url
            }
        }

        public init() {}

        /// The endpoints events go to.
        public var enabledEndpoints: [Endpoint] { endpoints.filter { !$0.disabled } }
    }
}

extension RegistryConfiguration.Notifications {
    static let actions: Set<String> = ["push", "pull", "delete", "mount"]

    init(_ reader: SectionReader) throws {
        self.init()
        let events = try reader.section("events")
        includeReferences = try events.bool("includereferences") ?? false
        try events.finish()
        var names: Set<String> = []
        for e in try reader.sectionList("endpoints", "a list of {name, url, headers, timeout, threshold, backoff, …}") {
            guard let name = try e.string("name"), !name.isEmpty else {
                throw ConfigurationError.invalid(e.keyPath("name"), "every endpoint needs a name")
            }
            guard names.insert(name).inserted else {
                throw ConfigurationError.invalid(e.keyPath("name"), "endpoint name \"\(name)\" is used twice (it keys the endpoint's delivery position)")
            }
            guard let raw = try e.string("url"), let url = URL(string: raw),
                  let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", url.host != nil
            else {
                throw ConfigurationError.invalid(e.keyPath("url"), "must be an http:// or https:// URL")
            }
            var endpoint = Endpoint(name: name, url: url)
            endpoint.disabled = try e.bool("disabled") ?? false
            endpoint.headers = try e.headerMap("headers")
            if let t = try e.duration("timeout") {
                guard t > 0 else { throw ConfigurationError.invalid(e.keyPath("timeout"), "must be positive") }
                endpoint.timeout = t
            }
            if let t = try e.int("threshold") {
                guard t > 0 else { throw ConfigurationError.invalid(e.keyPath("threshold"), "must be positive") }
                endpoint.threshold = t
            }
            if let b = try e.duration("backoff") {
                guard b >= 0 else { throw ConfigurationError.invalid(e.keyPath("backoff"), "must not be negative") }
                endpoint.backoff = b
            }
            endpoint.ignoredMediaTypes = Set(try e.stringList("ignoredmediatypes") ?? [])
            let ignore = try e.section("ignore")
            endpoint.ignoredMediaTypes.formUnion(try ignore.stringList("mediatypes") ?? [])
            let actions = Set(try ignore.stringList("actions") ?? [])
            if let unknown = actions.subtracting(Self.actions).sorted().first {
                throw ConfigurationError.invalid(ignore.keyPath("actions"), "unknown action \"\(unknown)\" (push, pull, delete, mount)")
            }
            endpoint.ignoredActions = actions
            try ignore.finish()
            try e.finish()
            endpoints.append(endpoint)
        }
        try reader.finish()
    }
}
