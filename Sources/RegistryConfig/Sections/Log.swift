extension RegistryConfiguration {
    /// `log:` (plus the deprecated top-level `loglevel:`).
    public struct Log: Sendable, Equatable {
        public enum Level: String, Sendable, CaseIterable { case error, warn, info, debug }
        public enum Formatter: String, Sendable, CaseIterable { case text, json, logstash }

        public var level: Level = .info
        public var formatter: Formatter = .text
        public var fields: [String: String] = [:]
        public var accessLog = AccessLog()

        public struct AccessLog: Sendable, Equatable {
            public var disabled = false
            public init() {}
        }

        public init() {}
    }
}

extension RegistryConfiguration.Log {
    init(_ reader: SectionReader, deprecatedLevel: String?) throws {
        self.init()
        if let raw = try reader.string("level") ?? deprecatedLevel {
            level = try enumValue(raw, Level.self, reader.keyPath("level"))
        }
        if let raw = try reader.string("formatter") {
            formatter = try enumValue(raw, Formatter.self, reader.keyPath("formatter"))
        }
        fields = try reader.stringMap("fields") ?? [:]
        let access = try reader.section("accesslog")
        accessLog.disabled = try access.bool("disabled") ?? false
        try access.finish()
        try reader.finish()
    }
}

/// Decodes a closed set of string values, naming the allowed ones on failure.
func enumValue<T: RawRepresentable & CaseIterable>(_ raw: String, _: T.Type, _ keyPath: String) throws -> T
where T.RawValue == String {
    if let value = T(rawValue: raw.lowercased()) { return value }
    let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
    throw ConfigurationError.invalid(keyPath, "\"\(raw)\" is not one of: \(allowed)")
}
