/// A problem with the configuration file or a `REGISTRY_*` override.
///
/// `keyPath` is the dotted path of the offending key (`storage.s3`,
/// `http.addr`), or empty when the problem is not tied to one key (a YAML
/// syntax error). `message` is a complete sentence that names the key and,
/// when the value came from the environment, the variable that set it.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible, Equatable {
    public let keyPath: String
    public let message: String

    public init(keyPath: String, message: String) {
        self.keyPath = keyPath
        self.message = message
    }

    public var description: String { message }
}

extension ConfigurationError {
    /// Suffix naming the environment variable a value came from, if any.
    static func originSuffix(_ origin: String?) -> String {
        guard let origin else { return "" }
        return " (set by environment variable \(origin))"
    }

    static func unsupported(_ keyPath: String, origin: String?, reason: String? = nil) -> ConfigurationError {
        var message = "config key \(keyPath) is not supported by Berth"
        if let reason { message += ": \(reason)" }
        message += originSuffix(origin)
        return ConfigurationError(keyPath: keyPath, message: message)
    }

    static func wrongType(_ keyPath: String, expected: String, origin: String?) -> ConfigurationError {
        ConfigurationError(keyPath: keyPath, message: "\(keyPath) must be \(expected)\(originSuffix(origin))")
    }

    static func invalid(_ keyPath: String, _ detail: String, origin: String? = nil) -> ConfigurationError {
        ConfigurationError(keyPath: keyPath, message: "\(keyPath): \(detail)\(originSuffix(origin))")
    }
}
