// RegistryHTTP's own settings. regctl maps config.yml (RegistryConfig) onto
// this struct, so RegistryHTTP does not depend on the YAML shape.

import NIOHTTP1

extension RegistryServer {
    public struct Configuration: Sendable {
        /// `http.addr` host part ("0.0.0.0", "::", "127.0.0.1").
        public var host: String = "0.0.0.0"
        /// `http.addr` port; 0 picks a free port (see `RegistryServer.boundPort()`).
        public var port: Int = 5000
        /// `http.prefix`: the API lives under `<prefix>/v2/` (e.g. "/registry"). Empty: none.
        public var prefix: String = ""
        /// `storage.delete.enabled`.
        public var deleteEnabled: Bool = false
        /// `storage.maintenance.readonly.enabled`: every write is 405 UNSUPPORTED.
        public var readOnly: Bool = false
        /// Largest manifest body accepted (413 MANIFEST_INVALID beyond).
        public var manifestMaxSize: Int = 4 << 20
        /// `catalog.maxentries`: `n` above it is 400 PAGINATION_NUMBER_INVALID;
        /// without `n` a page holds min(100, this) entries (distribution's rules).
        public var catalogMaxEntries: Int = 1000
        /// `tags.maxtags`: a tags list `n` above it is served as this many, with a Link.
        public var tagsMaxEntries: Int = 1000
        /// `http.headers`: added to every response.
        public var extraHeaders: [(name: String, value: String)] = []
        /// `log.accesslog.disabled` inverted.
        public var accessLog: Bool = true
        /// `http.relativeurls`: Location headers are paths, not absolute URLs.
        public var relativeURLs: Bool = false
        /// `http.debug`: metrics and health on a separate listener; nil disables it.
        public var debug: Debug? = nil
        /// Seconds in-flight requests get to finish after graceful shutdown starts
        /// (`http.draintimeout`); then their connections are closed.
        public var drainTimeout: Double = 0
        /// Advertised as `OCI-Chunk-Min-Length` on upload creation when set.
        public var chunkMinLength: Int? = nil
        /// Send whole uncompressed blobs with sendfile (plaintext HTTP/1.1 only).
        public var useFileRegion: Bool = true

        public struct Debug: Sendable {
            public var host: String = "127.0.0.1"
            public var port: Int = 5001
            public var metricsPath: String = "/metrics"
            /// Serve `metricsPath` (needs a registry passed to RegistryServer).
            public var metricsEnabled: Bool = true
            public init(host: String = "127.0.0.1", port: Int = 5001, metricsPath: String = "/metrics",
                        metricsEnabled: Bool = true) {
                self.host = host
                self.port = port
                self.metricsPath = metricsPath
                self.metricsEnabled = metricsEnabled
            }
        }

        public init() {}
    }
}
