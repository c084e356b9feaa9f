// RegistryHTTP's own settings. regctl maps config.yml (RegistryConfig) onto
// this struct, so RegistryHTTP does not depend on the YAML shape.

import CASEngine
import NIOHTTP1
import RegistryConfig

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
        /// `validation.manifests.urls` / `validation.disabled`: which foreign-layer
        /// URLs a pushed manifest may carry (400 MANIFEST_INVALID otherwise).
        public var manifestURLs: ManifestURLPolicy = .refuseAll
        /// `validation.manifests.indexes` / `validation.disabled`: which children
        /// of a pushed index must already be in the repository.
        public var indexChildren: IndexChildPolicy = .all
        /// Verified manifest bytes kept in memory for GETs (ManifestCache); 0: none.
        public var manifestCacheBytes: Int = 16 << 20
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
        /// Monolithic `POST ?digest=` bodies up to this many bytes are stored
        /// in one call (group commit) instead of through an upload session.
        public var smallMonolithicLimit: Int = 1 << 20
        /// `http.host`: the externally reachable base URL (e.g.
        /// "https://registry.example.com"); generated Location URLs use it.
        public var externalURL: String? = nil
        /// `http.relativeurls`: Location headers are paths, not absolute URLs.
        public var relativeURLs: Bool = false
        /// `http.debug`: metrics and health on a separate listener; nil disables it.
        public var debug: Debug? = nil
        /// Seconds in-flight requests get to finish after graceful shutdown starts
        /// (`http.draintimeout`); then their connections are closed.
        public var drainTimeout: Double = 0
        /// `notifications`: webhook endpoints fed from the store's outbox.
        public var notifications = RegistryConfiguration.Notifications()
        /// `berth.tags.immutable`: tags no push or promotion may move.
        public var immutableTags: [ImmutableTagRule] = []
        /// Advertised as `OCI-Chunk-Min-Length` on upload creation when set.
        public var chunkMinLength: Int? = nil
        /// Send whole uncompressed blobs with sendfile (plaintext HTTP/1.1 only;
        /// over TLS and HTTP/2 blobs are streamed in chunks with backpressure).
        public var useFileRegion: Bool = true
        /// `http.tls`: serve HTTPS; nil serves plaintext HTTP/1.1.
        public var tls: TLS? = nil
        /// `http.http2.disabled` inverted: offer `h2` in ALPN (TLS only; no h2c).
        public var http2Enabled: Bool = true
        /// `health.storagedriver` when enabled: probe the store every `interval`
        /// seconds; after `threshold` consecutive failures every API request
        /// answers 503 UNAVAILABLE until a probe passes. nil: no periodic check
        /// (`/debug/health` then probes on demand).
        public var storageHealth: StorageHealth? = nil
        /// `berth.ui.enabled`: the web page under `<prefix>/ui/` (UI/).
        public var uiEnabled: Bool = true
        /// The online collector's policy (`berth.gc`), for the web page's
        /// "collected at" times; nil: no collector runs.
        public var collectorPolicy: GCPolicy? = nil
        /// `berth.retention.policies`, for the same times.
        public var retention: [RetentionPolicy] = []
        /// Connection limits and timeouts (slowloris, idle keep-alive, header size).
        public var limits: Limits = Limits()

        public struct TLS: Sendable, Equatable {
            /// Client certificate policy, distribution's `http.tls.clientauth`
            /// (the configuration's own enum: one list of modes).
            public typealias ClientAuth = RegistryConfiguration.HTTP.TLS.ClientAuth
            /// `http.tls.minimumtls`.
            public typealias Version = RegistryConfiguration.HTTP.TLS.Version

            /// PEM certificate chain (leaf first), reloaded when the file changes.
            public var certificatePath: String
            /// PEM private key, reloaded when the file changes.
            public var keyPath: String
            /// PEM files of CAs that sign client certificates. Empty: no client certificates asked for.
            public var clientCAPaths: [String] = []
            /// Only used when `clientCAPaths` is not empty.
            public var clientAuth: ClientAuth = .requireAndVerifyClientCert
            public var minimumVersion: Version = .tls12
            /// IANA/Go cipher suite names (`TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`); empty: NIOSSL's defaults.
            /// TLS 1.3 suites are accepted but not configurable (as in Go).
            public var cipherSuites: [String] = []
            /// Seconds between checks of the files' modification times; 0 disables reloading.
            public var reloadInterval: Double = 5

            public init(certificatePath: String, keyPath: String) {
                self.certificatePath = certificatePath
                self.keyPath = keyPath
            }
        }

        /// Defaults follow common reverse proxies: generous for registry
        /// clients (large bearer tokens, long-running blob transfers), short
        /// enough that idle or trickling sockets do not pile up.
        public struct Limits: Sendable, Equatable {
            /// Request line + all header lines, in bytes; beyond: 431. (NIO's
            /// HTTP/1 parser also refuses headers above 80 KiB with a 400.)
            public var maxHeaderBytes: Int = 64 * 1024
            /// Request target length in bytes; beyond: 414.
            public var maxRequestLineLength: Int = 8 * 1024
            /// Seconds a keep-alive connection (HTTP/1.1) or an HTTP/2 connection
            /// without open streams may sit idle before it is closed.
            public var idleTimeout: Double = 120
            /// Seconds from a request's first byte (or a connection's TLS
            /// handshake start) until its header is complete; then the connection is closed.
            public var requestHeaderTimeout: Double = 30
            /// Seconds a request body may stall while the server waits for it; then the connection is closed.
            public var bodyStallTimeout: Double = 60
            public init() {}
        }

        public struct StorageHealth: Sendable, Equatable {
            public var interval: Double
            public var threshold: Int
            public init(interval: Double = 10, threshold: Int = 1) {
                self.interval = interval
                self.threshold = threshold
            }
        }

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
