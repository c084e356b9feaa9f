import Foundation

extension RegistryConfiguration {
    /// `health:` — only the storage driver check.
    public struct Health: Sendable, Equatable {
        public var storageDriver = StorageDriver()

        public struct StorageDriver: Sendable, Equatable {
            public var enabled = false
            /// Seconds between checks (distribution default 10s).
            public var interval: TimeInterval = 10
            /// Failures before unhealthy (distribution: unset means 1).
            public var threshold = 1
            public init() {}
        }

        public init() {}
    }
}

extension RegistryConfiguration.Health {
    init(_ reader: SectionReader) throws {
        self.init()
        let driver = try reader.section("storagedriver")
        storageDriver.enabled = try driver.bool("enabled") ?? false
        storageDriver.interval = try driver.duration("interval") ?? 10
        if let threshold = try driver.int("threshold"), threshold > 0 { storageDriver.threshold = threshold }
        try driver.finish()
        try reader.finish()
    }
}
