// Maps the parsed config.yml (RegistryConfig) onto the engine's StoreOptions
// and the HTTP server's own Configuration. The one place that knows both shapes.

import ArgumentParser
import CASEngine
import RegistryConfig
import RegistryHTTP

enum ServerSettings {
    static func store(from c: RegistryConfiguration) -> StoreOptions {
        var o = StoreOptions()
        o.smallBlobThreshold = c.berth.smallBlobThreshold
        o.metadataMapSize = c.berth.metadata.mapSize
        o.metadataMaxMapSize = c.berth.metadata.maxMapSize
        o.compression = c.berth.compression
        o.readOnly = c.storage.maintenance.readOnly.enabled
        o.maxUploadSessions = c.berth.limits.maxUploadSessions
        o.maxUploadSize = c.berth.limits.maxUploadSize.map(UInt64.init)
        let history = c.berth.tags.history
        o.tagHistory = TagHistoryPolicy(maxEntries: history.maxEntries, maxAge: history.maxAge.map { UInt64($0) },
                                        protect: UInt64(history.protect))
        return o
    }

    static func http(from c: RegistryConfiguration) throws -> RegistryServer.Configuration {
        guard c.http.net == .tcp else {
            throw RegctlError("configuration: http.net \(c.http.net.rawValue) is not supported by Berth (use tcp)")
        }
        if case .token(let t)? = c.auth, t.autoRedirect {
            throw RegctlError("configuration: auth.token.autoredirect is not supported by Berth; set realm to the full token URL")
        }
        var s = RegistryServer.Configuration()
        (s.host, s.port) = try address(c.http.addr, key: "http.addr")
        s.prefix = c.http.prefix.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 } ?? ""
        s.deleteEnabled = c.storage.delete.enabled
        s.readOnly = c.storage.maintenance.readOnly.enabled
        s.manifestMaxSize = c.berth.limits.manifestMaxSize
        s.immutableTags = c.berth.tags.immutable
        s.notifications = c.notifications
        s.manifestURLs = try manifestURLs(c.validation)
        s.indexChildren = IndexChildPolicy(c.validation)
        if c.health.storageDriver.enabled {
            s.storageHealth = .init(interval: c.health.storageDriver.interval, threshold: c.health.storageDriver.threshold)
        }
        s.catalogMaxEntries = c.catalog.maxEntries
        s.extraHeaders = c.http.headers.sorted { $0.key < $1.key }.flatMap { name, values in values.map { (name: name, value: $0) } }
        s.accessLog = !c.log.accessLog.disabled
        s.relativeURLs = c.http.relativeURLs
        s.externalURL = c.http.host
        s.smallMonolithicLimit = c.berth.smallBlobThreshold
        s.tagsMaxEntries = c.tags.maxTags
        s.drainTimeout = c.http.drainTimeout ?? 0
        s.uiEnabled = c.berth.ui.enabled
        s.collectorPolicy = GCPolicy(deleteUntagged: c.berth.gc.deleteUntagged, gracePeriod: UInt64(c.berth.gc.gracePeriod),
                                     untaggedDelay: UInt64(c.berth.gc.untaggedDelay))
        s.retention = retention(from: c)
        try TLSSetup.apply(c, to: &s)
        if let debug = c.http.debug {
            let (host, port) = try address(debug.addr, key: "http.debug.addr")
            s.debug = .init(host: host, port: port, metricsPath: debug.prometheus.path,
                            metricsEnabled: debug.prometheus.enabled)
        }
        return s
    }

    /// `berth.retention.policies` as the engine's policies (globs matched
    /// as in access rules).
    static func retention(from c: RegistryConfiguration) -> [RetentionPolicy] {
        c.berth.retention.policies.enumerated().map { i, p in
            let repositories = p.repositories
            let rules = p.keepTags.enumerated().map { j, k in
                let patterns = k.patterns
                return RetentionKeepRule(
                    name: "keeptags[\(j)]", matches: { tag in patterns.isEmpty || patterns.contains { Glob.matches($0, tag) } },
                    mostRecentlyPushedCount: k.mostRecentlyPushedCount, mostRecentlyPulledCount: k.mostRecentlyPulledCount,
                    pushedWithin: k.pushedWithin.map { UInt64($0) }, pulledWithin: k.pulledWithin.map { UInt64($0) })
            }
            return RetentionPolicy(name: "berth.retention.policies[\(i)]",
                                   matches: { repo in repositories.contains { Glob.matches($0, repo) } },
                                   keepTags: rules, deleteUntagged: p.deleteUntagged, untaggedDelay: UInt64(p.untaggedDelay))
        }
    }

    /// `validation.disabled` turns the allow/deny lists off (distribution).
    static func manifestURLs(_ v: RegistryConfiguration.Validation) throws -> ManifestURLPolicy {
        if v.disabled { return .disabled }
        do {
            return try ManifestURLPolicy(allow: v.manifests.urls.allow, deny: v.manifests.urls.deny)
        } catch {
            throw RegctlError("configuration: \(error)")
        }
    }

    /// Go-style listen address: ":5000", "0.0.0.0:5000", "localhost:5000", "[::1]:5000".
    static func address(_ addr: String, key: String) throws -> (host: String, port: Int) {
        guard let colon = addr.lastIndex(of: ":"), let port = Int(addr[addr.index(after: colon)...]),
              (0...65535).contains(port)
        else {
            throw RegctlError("configuration: \(key) must be host:port, got \"\(addr)\"")
        }
        var host = String(addr[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.isEmpty { host = "0.0.0.0" }
        return (host, port)
    }
}
