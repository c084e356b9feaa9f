import Foundation

extension RegistryConfiguration {
    /// `storage:` — exactly one driver (`filesystem`; `s3` parsed but not yet
    /// servable, see StorageS3.swift), plus the driver-independent `delete`,
    /// `maintenance`, `cache`, `redirect`, `tag`.
    public struct Storage: Sendable, Equatable {
        public var filesystem = Filesystem()
        /// Set when the configuration names the s3 driver (only when the
        /// caller accepts object storage; see `RegistryConfiguration.load`).
        public var s3: S3?
        public var delete = Delete()
        public var maintenance = Maintenance()
        public var cache = Cache()
        public var redirect = Redirect()
        public var tag = Tag()

        public struct Filesystem: Sendable, Equatable {
            /// Default with no config at all is "./data"; a config that names
            /// the filesystem driver without a root gets distribution's
            /// driver default, "/var/lib/registry".
            public var rootDirectory = "./data"
            /// Accepted for compatibility; Berth sizes its own thread pool.
            public var maxThreads: Int?
            public init() {}
        }

        public struct Delete: Sendable, Equatable {
            public var enabled = false
            public init() {}
        }

        public struct Maintenance: Sendable, Equatable {
            public var uploadPurging = UploadPurging()
            public var readOnly = ReadOnly()
            public init() {}
        }

        public struct UploadPurging: Sendable, Equatable {
            public var enabled = true
            /// Seconds; uploads older than this are purged (default 168h).
            public var age: TimeInterval = 168 * 3600
            /// Seconds between purge runs (default 24h).
            public var interval: TimeInterval = 24 * 3600
            public var dryRun = false
            public init() {}
        }

        public struct ReadOnly: Sendable, Equatable {
            public var enabled = false
            public init() {}
        }

        public struct Cache: Sendable, Equatable {
            /// "inmemory" or nil. Accepted without effect: Berth's index is its cache.
            public var blobDescriptor: String?
            public var blobDescriptorSize: Int?
            public init() {}
        }

        public struct Redirect: Sendable, Equatable {
            /// Accepted without effect: the filesystem driver never redirects.
            public var disable = false
            public init() {}
        }

        public struct Tag: Sendable, Equatable {
            /// Parallelism for tag lookups when deleting a manifest (nil: default).
            public var concurrencyLimit: Int?
            public init() {}
        }

        public init() {}
    }
}

extension RegistryConfiguration.Storage {
    static let parameterKeys: Set<String> = ["delete", "maintenance", "cache", "redirect", "tag"]
    static let knownDrivers: Set<String> = ["filesystem", "inmemory", "s3", "azure", "gcs", "swift", "oss"]

    /// Why `storage.s3` is refused where a servable configuration is needed.
    public static let s3NotServable = "the s3 driver is parsed but not yet servable: Berth's engine stores blobs only "
        + "on the filesystem so far (S3-backed replicas are issue 10's later steps); use storage.filesystem"

    init(_ reader: SectionReader, environment: [String: String] = [:], acceptObjectStorage: Bool = false) throws {
        self.init()
        for key in reader.keys where !Self.parameterKeys.contains(key) && !Self.knownDrivers.contains(key) {
            throw ConfigurationError.unsupported(reader.keyPath(key), origin: reader.origin(of: key))
        }
        let drivers = reader.keys.filter { !Self.parameterKeys.contains($0) }
        if drivers.count > 1 {
            throw ConfigurationError.invalid("storage",
                "exactly one storage driver must be configured, found \(drivers.joined(separator: ", "))", origin: reader.origin)
        }
        if drivers.first == "s3" {
            guard acceptObjectStorage else {
                throw ConfigurationError.unsupported("storage.s3", origin: reader.origin(of: "s3"), reason: Self.s3NotServable)
            }
            s3 = try S3(reader.section("s3"), environment: environment)
        } else if let driver = drivers.first, driver != "filesystem" {
            let reason = Self.knownDrivers.contains(driver)
                ? "storage driver \(driver) is not supported; only filesystem is" : nil
            throw ConfigurationError.unsupported("storage.\(driver)", origin: reader.origin(of: driver), reason: reason)
        }
        if drivers.first == "filesystem" {
            let fs = try reader.section("filesystem")
            filesystem.rootDirectory = try fs.string("rootdirectory") ?? "/var/lib/registry"
            if filesystem.rootDirectory.isEmpty {
                throw ConfigurationError.invalid(fs.keyPath("rootdirectory"), "must not be empty")
            }
            if let threads = try fs.int("maxthreads") {
                guard threads >= 25 else {
                    throw ConfigurationError.invalid(fs.keyPath("maxthreads"), "must be at least 25 (distribution's minimum)")
                }
                filesystem.maxThreads = threads
            }
            try fs.finish()
        }

        let deleteReader = try reader.section("delete")
        delete.enabled = try deleteReader.bool("enabled") ?? false
        try deleteReader.finish()

        try readMaintenance(reader.section("maintenance"))

        let cacheReader = try reader.section("cache")
        if let kind = try cacheReader.string("blobdescriptor") {
            switch kind {
            case "inmemory": cache.blobDescriptor = kind
            case "redis":
                throw ConfigurationError.unsupported(cacheReader.keyPath("blobdescriptor"), origin: cacheReader.origin,
                                                     reason: "redis not supported; use inmemory or omit it")
            default:
                throw ConfigurationError.invalid(cacheReader.keyPath("blobdescriptor"), "\"\(kind)\" is not one of: inmemory")
            }
        }
        cache.blobDescriptorSize = try cacheReader.int("blobdescriptorsize")
        try cacheReader.finish()

        let redirectReader = try reader.section("redirect")
        redirect.disable = try redirectReader.bool("disable") ?? false
        try redirectReader.finish()

        let tagReader = try reader.section("tag")
        if let limit = try tagReader.int("concurrencylimit") {
            guard limit > 0 else { throw ConfigurationError.invalid(tagReader.keyPath("concurrencylimit"), "must be positive") }
            tag.concurrencyLimit = limit
        }
        try tagReader.finish()
        try reader.finish()
    }

    private mutating func readMaintenance(_ reader: SectionReader) throws {
        let purging = try reader.section("uploadpurging")
        maintenance.uploadPurging.enabled = try purging.bool("enabled") ?? true
        maintenance.uploadPurging.age = try purging.duration("age") ?? 168 * 3600
        maintenance.uploadPurging.interval = try purging.duration("interval") ?? 24 * 3600
        maintenance.uploadPurging.dryRun = try purging.bool("dryrun") ?? false
        try purging.finish()
        let readOnly = try reader.section("readonly")
        maintenance.readOnly.enabled = try readOnly.bool("enabled") ?? false
        try readOnly.finish()
        try reader.finish()
    }
}
