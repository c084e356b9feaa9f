import Foundation

extension RegistryConfiguration {
    /// `database:` — GitLab container registry's metadata database section
    /// (PostgreSQL). Parsed and used by `regctl db migrate`; `regctl serve`
    /// refuses `enabled: true` until the engine runs on PostgreSQL (issue 10).
    ///
    /// Every key GitLab defines is either read here or refused by name:
    /// `primary`, `loadbalancing` and `backgroundmigrations` are refused
    /// (RejectedKeys), and values the postgres-nio pool cannot honour
    /// (`sslmode: allow`, `preparedstatements: true`, a non-zero
    /// `pool.maxlifetime`) are refused with the reason.
    public struct Database: Sendable, Equatable {
        public enum SSLMode: String, Sendable, Equatable, CaseIterable {
            case disable, prefer, require
            case verifyCA = "verify-ca"
            case verifyFull = "verify-full"
        }

        public var enabled = false
        public var host = ""
        public var port = 5432
        public var user = ""
        public var password = ""
        public var dbname = ""
        public var sslMode: SSLMode = .disable
        public var sslCert: String?
        public var sslKey: String?
        public var sslRootCert: String?
        /// Seconds to wait for a connection (0: wait indefinitely, as GitLab).
        public var connectTimeout: TimeInterval = 0
        /// Seconds shutdown waits for in-flight queries (0: indefinitely).
        public var drainTimeout: TimeInterval = 0
        /// Always false: statements go as unnamed extended-protocol queries.
        public var preparedStatements = false
        public var pool = Pool()

        public struct Pool: Sendable, Equatable {
            /// Connections kept open while idle (postgres-nio's minimum).
            public var maxIdle = 0
            /// Most connections open at once (0: postgres-nio's default, 20).
            public var maxOpen = 0
            /// Always 0: connections are not closed by age.
            public var maxLifetime: TimeInterval = 0
            /// Seconds an idle connection above `maxIdle` stays open (0: forever).
            public var maxIdleTime: TimeInterval = 0
            public init() {}
        }

        public init() {}
    }
}

extension RegistryConfiguration.Database {
    init(_ reader: SectionReader) throws {
        self.init()
        enabled = try reader.bool("enabled") ?? false
        host = try reader.string("host") ?? ""
        if let value = try reader.int("port") {
            guard (1...65535).contains(value) else { throw ConfigurationError.invalid(reader.keyPath("port"), "must be 1-65535") }
            port = value
        }
        user = try reader.string("user") ?? ""
        password = try reader.string("password") ?? ""
        dbname = try reader.string("dbname") ?? ""
        if let mode = try reader.string("sslmode") {
            if mode == "allow" {
                throw ConfigurationError.invalid(reader.keyPath("sslmode"),
                    "allow is not supported (postgres-nio cannot fall back from plain to TLS); use disable, prefer, require, verify-ca or verify-full")
            }
            guard let parsed = SSLMode(rawValue: mode) else {
                throw ConfigurationError.invalid(reader.keyPath("sslmode"),
                    "\"\(mode)\" is not one of disable, prefer, require, verify-ca, verify-full")
            }
            sslMode = parsed
        }
        sslCert = try reader.string("sslcert")
        sslKey = try reader.string("sslkey")
        sslRootCert = try reader.string("sslrootcert")
        if (sslCert == nil) != (sslKey == nil) {
            throw ConfigurationError.invalid(reader.keyPath("sslcert"), "sslcert and sslkey must be set together")
        }
        connectTimeout = try nonNegative(reader, "connecttimeout") ?? 0
        drainTimeout = try nonNegative(reader, "draintimeout") ?? 0
        if try reader.bool("preparedstatements") == true {
            throw ConfigurationError.unsupported(reader.keyPath("preparedstatements"), origin: reader.origin,
                reason: "named prepared statements are not implemented; Berth sends unnamed statements (preparedstatements: false)")
        }
        let poolReader = try reader.section("pool")
        if let value = try poolReader.int("maxidle") {
            guard value >= 0 else { throw ConfigurationError.invalid(poolReader.keyPath("maxidle"), "must not be negative") }
            pool.maxIdle = value
        }
        if let value = try poolReader.int("maxopen") {
            guard value >= 0 else { throw ConfigurationError.invalid(poolReader.keyPath("maxopen"), "must not be negative") }
            pool.maxOpen = value
        }
        if pool.maxOpen > 0 && pool.maxIdle > pool.maxOpen {
            throw ConfigurationError.invalid(poolReader.keyPath("maxidle"), "must not exceed pool.maxopen (\(pool.maxOpen))")
        }
        if let lifetime = try nonNegative(poolReader, "maxlifetime"), lifetime > 0 {
            throw ConfigurationError.unsupported(poolReader.keyPath("maxlifetime"), origin: poolReader.origin,
                reason: "postgres-nio's pool does not close connections by age; leave it unset or 0")
        }
        pool.maxIdleTime = try nonNegative(poolReader, "maxidletime") ?? 0
        try poolReader.finish()
        try reader.finish()
        if enabled {
            for (key, value) in [("host", host), ("user", user), ("dbname", dbname)] where value.isEmpty {
                throw ConfigurationError.invalid(reader.keyPath(key), "is required when database.enabled is true")
            }
        }
    }

    private func nonNegative(_ reader: SectionReader, _ key: String) throws -> TimeInterval? {
        guard let value = try reader.duration(key) else { return nil }
        guard value >= 0 else { throw ConfigurationError.invalid(reader.keyPath(key), "must not be negative") }
        return value
    }
}
