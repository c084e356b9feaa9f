/// Why Berth rejects keys that distribution defines. Any key not listed here
/// and not read by a section decoder is rejected with a generic message.
enum RejectedKeys {
    static let reasons: [String: String] = [
        "redis": "Berth keeps its metadata in its own store and has no Redis integration",
        "proxy": "pull-through cache mode is not implemented",
        "middleware": "registry, repository and storage middleware are not implemented",
        "log.hooks": "log hooks (mail) are not implemented",
        "http.tls.letsencrypt": "Let's Encrypt is not implemented; provide certificate and key",
        "storage.s3": RegistryConfiguration.Storage.s3NotServable,
        "storage.azure": "only the filesystem storage driver is supported",
        "storage.gcs": "only the filesystem storage driver is supported",
        "storage.inmemory": "only the filesystem storage driver is supported",
        "auth.silly": "silly auth is for development only; use htpasswd or token",
        "database.primary": "database load balancing (primary, loadbalancing) is not implemented; set host to the primary",
        "database.loadbalancing": "database load balancing (primary, loadbalancing) is not implemented; set host to the primary",
        "database.backgroundmigrations": "background migrations are not implemented; `regctl db migrate up` applies every migration",
        "health.file": "only the storagedriver health check is implemented",
        "health.http": "only the storagedriver health check is implemented",
        "health.tcp": "only the storagedriver health check is implemented",
        "validation.manifests.indexes.platformlist":
            "it is only read with platforms: list (distribution ignores it otherwise); set platforms: list or remove it",
    ]

    static func reason(for keyPath: String) -> String? { reasons[keyPath] }
}
