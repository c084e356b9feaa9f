import Foundation

extension RegistryConfiguration {
    /// `http:` — listener, TLS, debug server, response headers.
    public struct HTTP: Sendable, Equatable {
        public enum Network: String, Sendable, CaseIterable { case tcp, unix }

        public var addr = ":5000"
        public var net: Network = .tcp
        public var host: String?
        public var prefix: String?
        public var secret: String?
        public var relativeURLs = false
        /// Seconds to wait for connections to drain on SIGTERM (nil: don't wait).
        public var drainTimeout: TimeInterval?
        /// Extra response headers, name -> values.
        public var headers: [String: [String]] = [:]
        /// nil when TLS is not configured.
        public var tls: TLS?
        /// nil when the debug server is not configured.
        public var debug: Debug?
        public var http2 = HTTP2()

        public init() {}

        public struct TLS: Sendable, Equatable {
            public enum ClientAuth: String, Sendable, CaseIterable {
                case requestClientCert = "request-client-cert"
                case requireAnyClientCert = "require-any-client-cert"
                case verifyClientCertIfGiven = "verify-client-cert-if-given"
                case requireAndVerifyClientCert = "require-and-verify-client-cert"
            }

            public enum Version: String, Sendable, CaseIterable {
                case tls10 = "tls1.0", tls11 = "tls1.1", tls12 = "tls1.2", tls13 = "tls1.3"
            }

            public var certificate: String
            public var key: String
            public var clientCAs: [String] = []
            /// Only meaningful when `clientCAs` is not empty.
            public var clientAuth: ClientAuth = .requireAndVerifyClientCert
            public var minimumTLS: Version = .tls12
            /// Go cipher suite names; empty means the defaults.
            public var cipherSuites: [String] = []

            public init(certificate: String, key: String) {
                self.certificate = certificate
                self.key = key
            }
        }

        public struct Debug: Sendable, Equatable {
            public var addr: String
            public var prometheus = Prometheus()
            public init(addr: String) { self.addr = addr }
        }

        public struct Prometheus: Sendable, Equatable {
            public var enabled = false
            public var path = "/metrics"
            public init() {}
        }

        public struct HTTP2: Sendable, Equatable {
            public var disabled = false
            public init() {}
        }
    }
}

extension RegistryConfiguration.HTTP {
    init(_ reader: SectionReader) throws {
        self.init()
        addr = try reader.string("addr") ?? ":5000"
        if let raw = try reader.string("net") { net = try enumValue(raw, Network.self, reader.keyPath("net")) }
        host = try reader.string("host")
        if let prefix = try reader.string("prefix"), !prefix.isEmpty {
            guard prefix.hasPrefix("/") else {
                throw ConfigurationError.invalid(reader.keyPath("prefix"), "must start with a slash, e.g. /path/")
            }
            self.prefix = prefix
        }
        secret = try reader.string("secret")
        relativeURLs = try reader.bool("relativeurls") ?? false
        drainTimeout = try reader.duration("draintimeout")
        headers = try reader.headerMap("headers")
        tls = try TLS.decode(reader.section("tls"))
        let debugReader = try reader.section("debug")
        debug = try Debug.decode(debugReader)
        let http2Reader = try reader.section("http2")
        http2.disabled = try http2Reader.bool("disabled") ?? false
        try http2Reader.finish()
        let h2c = try reader.section("h2c")
        if try h2c.bool("enabled") == true {
            throw ConfigurationError.unsupported(h2c.keyPath("enabled"), origin: h2c.origin,
                                                 reason: "HTTP/2 over cleartext (h2c) is not implemented")
        }
        try h2c.finish()
        try reader.finish()
    }
}

extension RegistryConfiguration.HTTP.TLS {
    static let cipherSuiteNames: Set<String> = [
        "TLS_RSA_WITH_RC4_128_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_RSA_WITH_AES_128_CBC_SHA",
        "TLS_RSA_WITH_AES_256_CBC_SHA", "TLS_RSA_WITH_AES_128_CBC_SHA256", "TLS_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "TLS_ECDHE_RSA_WITH_RC4_128_SHA", "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
    ]

    /// nil when neither certificate nor key is set (plain HTTP).
    static func decode(_ reader: SectionReader) throws -> Self? {
        let certificate = try reader.string("certificate") ?? ""
        let key = try reader.string("key") ?? ""
        let clientCAs = try reader.stringList("clientcas") ?? []
        let clientAuth = try reader.string("clientauth")
            .map { try enumValue($0, ClientAuth.self, reader.keyPath("clientauth")) }
        let minimum = try reader.string("minimumtls")
            .map { try enumValue($0, Version.self, reader.keyPath("minimumtls")) }
        let suites = try reader.stringList("ciphersuites") ?? []
        for suite in suites where !cipherSuiteNames.contains(suite) {
            throw ConfigurationError.invalid(reader.keyPath("ciphersuites"), "unknown cipher suite \(suite)", origin: reader.origin)
        }
        try reader.finish()
        if certificate.isEmpty && key.isEmpty { return nil }
        if key.isEmpty {
            throw ConfigurationError.invalid(reader.keyPath("key"), "is required when http.tls.certificate is set", origin: reader.origin)
        }
        if certificate.isEmpty {
            throw ConfigurationError.invalid(reader.keyPath("certificate"), "is required when http.tls.key is set", origin: reader.origin)
        }
        var tls = Self(certificate: certificate, key: key)
        tls.clientCAs = clientCAs
        tls.clientAuth = clientAuth ?? .requireAndVerifyClientCert
        tls.minimumTLS = minimum ?? .tls12
        tls.cipherSuites = suites
        return tls
    }
}

extension RegistryConfiguration.HTTP.Debug {
    /// nil when no debug address is set.
    static func decode(_ reader: SectionReader) throws -> Self? {
        let addr = try reader.string("addr") ?? ""
        let prometheusReader = try reader.section("prometheus")
        var prometheus = RegistryConfiguration.HTTP.Prometheus()
        prometheus.enabled = try prometheusReader.bool("enabled") ?? false
        prometheus.path = try prometheusReader.string("path") ?? "/metrics"
        try prometheusReader.finish()
        try reader.finish()
        guard !addr.isEmpty else { return nil }
        var debug = Self(addr: addr)
        debug.prometheus = prometheus
        return debug
    }
}
