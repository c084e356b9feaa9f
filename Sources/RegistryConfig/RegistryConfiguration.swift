import Foundation

/// distribution's `config.yml` plus `REGISTRY_*` overrides, typed and validated.
///
/// Pipeline: YAML text -> `ConfigNode` tree -> environment overlay
/// (`EnvironmentOverrides`) -> typed sections (`Sections/`), each of which
/// rejects keys it does not read. Every key Berth does not know is an error
/// that names its full path; nothing is silently ignored.
public struct RegistryConfiguration: Sendable, Equatable {
    public static let supportedVersion = "0.1"

    public var version = RegistryConfiguration.supportedVersion
    public var log = Log()
    public var storage = Storage()
    public var http = HTTP()
    /// nil: no authentication.
    public var auth: Auth?
    public var validation = Validation()
    public var catalog = Catalog()
    public var tags = Tags()
    public var health = Health()
    public var notifications = Notifications()
    public var berth = Berth()
    /// GitLab registry's `database:` (PostgreSQL metadata; not yet servable).
    public var database = Database()

    public init() {}

    /// No config at all: listen on :5000, filesystem storage in ./data.
    public static var defaults: RegistryConfiguration { RegistryConfiguration() }

    /// Reads the file at `path` (nil: defaults plus environment only) and
    /// applies `environment`'s `REGISTRY_*` overrides.
    /// `REGISTRY_CONFIGURATION_PATH` is not consulted here; callers resolve it.
    ///
    /// `acceptObjectStorage`: parse `storage.s3` into `storage.s3` instead of
    /// refusing it. Servers and operator commands leave it false: the engine
    /// cannot yet serve from S3, so such a configuration is refused by name.
    public static func load(path: String?, environment: [String: String],
                            acceptObjectStorage: Bool = false) throws -> RegistryConfiguration {
        guard let path else {
            let root = ConfigNode.mapping([ConfigEntry(key: "version", value: .scalar(.init(raw: supportedVersion, kind: .string)))])
            return try decode(EnvironmentOverrides.apply(environment, to: root), environment: environment,
                              acceptObjectStorage: acceptObjectStorage)
        }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(keyPath: "", message: "cannot read configuration file \(path): \(error.localizedDescription)")
        }
        return try parse(yaml: text, environment: environment, acceptObjectStorage: acceptObjectStorage)
    }

    /// Parses config.yml text and applies `environment`'s `REGISTRY_*` overrides
    /// (and, for `storage.s3`, the AWS_* credential and region variables).
    public static func parse(yaml: String, environment: [String: String],
                             acceptObjectStorage: Bool = false) throws -> RegistryConfiguration {
        let root = try ConfigNode.parse(yaml: yaml)
        return try decode(EnvironmentOverrides.apply(environment, to: root), environment: environment,
                          acceptObjectStorage: acceptObjectStorage)
    }

    static func decode(_ root: ConfigNode, environment: [String: String] = [:],
                       acceptObjectStorage: Bool = false) throws -> RegistryConfiguration {
        let reader = try SectionReader(path: "", node: root, origin: nil)
        var config = RegistryConfiguration()

        guard let version = try reader.string("version") else {
            throw ConfigurationError(keyPath: "version", message: "version is required; set version: \"\(supportedVersion)\"")
        }
        guard version == supportedVersion else {
            throw ConfigurationError(keyPath: "version",
                message: "version \"\(version)\" is not supported; the only configuration version is \"\(supportedVersion)\"")
        }
        config.version = version

        let deprecatedLevel = try reader.string("loglevel")
        config.log = try Log(reader.section("log"), deprecatedLevel: deprecatedLevel)
        if reader.contains("storage") {
            config.storage = try Storage(stringOrMapSection(reader, "storage"), environment: environment,
                                         acceptObjectStorage: acceptObjectStorage)
        }
        config.http = try HTTP(reader.section("http"))
        config.auth = try Auth.decode(stringOrMapSection(reader, "auth"))
        config.validation = try Validation(reader.section("validation"))
        config.catalog = try Catalog(reader.section("catalog"))
        config.tags = try Tags(reader.section("tags"))
        config.health = try Health(reader.section("health"))
        config.notifications = try Notifications(reader.section("notifications"))
        config.berth = try Berth(reader.section("berth"))
        config.database = try Database(reader.section("database"))
        try reader.finish()
        return config
    }

    /// `storage: filesystem` / `auth: htpasswd` read as `{filesystem: {}}`.
    private static func stringOrMapSection(_ reader: SectionReader, _ key: String) throws -> SectionReader {
        guard let entry = reader.entry(key) else {
            return try SectionReader(path: key, node: .null, origin: nil)
        }
        var node = entry.value
        if case .scalar(let scalar) = node {
            guard case .string = scalar.kind else {
                throw ConfigurationError.wrongType(key, expected: "a map or the name of one \(key) type", origin: entry.origin)
            }
            node = .mapping([ConfigEntry(key: scalar.raw, value: .null, origin: entry.origin)])
        }
        return try SectionReader(path: key, node: node, origin: entry.origin)
    }
}
