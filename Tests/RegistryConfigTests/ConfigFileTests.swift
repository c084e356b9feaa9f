import Foundation
import Testing
@testable import RegistryConfig

@Suite struct ConfigFileTests {
    @Test func distributionConfigExampleParses() throws {
        let config = try RegistryConfiguration.parse(yaml: fixture("config-example.yml"), environment: [:])
        #expect(config.version == "0.1")
        #expect(config.log.fields == ["service": "registry"])
        #expect(config.log.level == .info)
        #expect(config.storage.cache.blobDescriptor == "inmemory")
        #expect(config.storage.filesystem.rootDirectory == "/var/lib/registry")
        #expect(config.storage.tag.concurrencyLimit == 8)
        // Accepted, so distribution's shipped config loads, but not in silence.
        #expect(config.keysWithoutEffect.map(\.keyPath) == ["storage.cache.blobdescriptor", "storage.tag.concurrencylimit"])
        #expect(config.keysWithoutEffect.last?.reason.contains("one index transaction") == true)
        #expect(config.storage.delete.enabled == false)
        #expect(config.storage.maintenance.uploadPurging == .init())
        #expect(config.http.addr == ":5000")
        #expect(config.http.net == .tcp)
        #expect(config.http.headers == ["X-Content-Type-Options": ["nosniff"]])
        #expect(config.http.tls == nil)
        #expect(config.auth == .htpasswd(.init(realm: "basic-realm", path: "/etc/registry")))
        #expect(config.health.storageDriver.enabled)
        #expect(config.health.storageDriver.interval == 10)
        #expect(config.health.storageDriver.threshold == 3)
        #expect(config.catalog.maxEntries == 1000)
        #expect(config.berth == .init())
    }

    @Test func defaultsHaveNoKeysWithoutEffect() throws {
        #expect(try RegistryConfiguration.parse(yaml: minimal, environment: [:]).keysWithoutEffect.isEmpty)
    }

    @Test func loadReadsFileFromPath() throws {
        let config = try RegistryConfiguration.load(path: fixturePath("config-example.yml"), environment: [:])
        #expect(config.storage.filesystem.rootDirectory == "/var/lib/registry")
    }

    @Test func loadMissingFileFails() {
        #expect(throws: ConfigurationError.self) {
            try RegistryConfiguration.load(path: "/nonexistent/config.yml", environment: [:])
        }
    }

    @Test func everySupportedKeyParses() throws {
        let config = try RegistryConfiguration.parse(yaml: fixture("full-supported.yml"), environment: [:])
        #expect(config.log.level == .debug)
        #expect(config.log.formatter == .json)
        #expect(config.log.accessLog.disabled)
        #expect(config.log.fields == ["service": "registry", "environment": "staging"])
        #expect(config.storage.filesystem.rootDirectory == "/srv/registry")
        #expect(config.storage.filesystem.maxThreads == 100)
        #expect(config.storage.delete.enabled)
        #expect(config.storage.redirect.disable)
        #expect(config.storage.cache.blobDescriptorSize == 10000)
        #expect(config.storage.maintenance.uploadPurging.age == 168 * 3600)
        #expect(config.storage.maintenance.uploadPurging.interval == 24 * 3600)
        #expect(config.storage.maintenance.uploadPurging.dryRun)
        #expect(config.storage.maintenance.readOnly.enabled == false)
        guard case .token(let token) = config.auth else {
            Issue.record("expected token auth, got \(String(describing: config.auth))")
            return
        }
        #expect(token.realm == "token-realm")
        #expect(token.service == "token-service")
        #expect(token.issuer == "registry-token-issuer")
        #expect(token.rootCertBundle == "/root/certs/bundle")
        #expect(token.jwks == "/path/to/jwks")
        #expect(token.autoRedirect)
        #expect(token.signingAlgorithms == ["EdDSA", "HS256"])
        #expect(config.catalog.maxEntries == 500)
        #expect(config.tags.maxTags == 200)
        #expect(config.http.addr == "localhost:5000")
        #expect(config.http.prefix == "/my/nested/registry/")
        #expect(config.http.host == "https://myregistryaddress.org:5000")
        #expect(config.http.secret == "asecretforlocaldevelopment")
        #expect(config.http.relativeURLs)
        #expect(config.http.drainTimeout == 60)
        let tls = try #require(config.http.tls)
        #expect(tls.certificate == "/path/to/x509/public")
        #expect(tls.key == "/path/to/x509/private")
        #expect(tls.clientCAs == ["/path/to/ca.pem", "/path/to/another/ca.pem"])
        #expect(tls.clientAuth == .verifyClientCertIfGiven)
        #expect(tls.minimumTLS == .tls13)
        #expect(tls.cipherSuites == ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"])
        #expect(config.http.debug?.addr == "localhost:5001")
        #expect(config.http.debug?.prometheus.enabled == true)
        #expect(config.http.debug?.prometheus.path == "/metrics")
        #expect(config.http.headers["Strict-Transport-Security"] == ["max-age=63072000"])
        #expect(config.http.http2.disabled)
        #expect(config.health.storageDriver.interval == 90)
        #expect(config.validation.disabled == false)
        #expect(config.validation.manifests.urls.allow == [#"^https?://([^/]+\.)*example\.com/"#])
        #expect(config.validation.manifests.urls.deny == [#"^https?://www\.example\.com/"#])
        #expect(config.validation.manifests.indexes.platforms == .all)
        #expect(config.validation.manifests.indexes.platformList.isEmpty)
    }

    @Test func noConfigGivesDefaults() throws {
        let config = try RegistryConfiguration.load(path: nil, environment: [:])
        #expect(config == RegistryConfiguration.defaults)
        #expect(config.http.addr == ":5000")
        #expect(config.storage.filesystem.rootDirectory == "./data")
        #expect(config.auth == nil)
        #expect(config.http.tls == nil)
        #expect(config.storage.delete.enabled == false)
        #expect(config.catalog.maxEntries == 1000)
    }

    @Test func minimalFileGivesDefaults() throws {
        #expect(try RegistryConfiguration.parse(yaml: minimal, environment: [:]) == .defaults)
    }

    @Test func filesystemWithoutRootUsesDistributionDefault() throws {
        let config = try RegistryConfiguration.parse(yaml: "version: 0.1\nstorage: filesystem\n", environment: [:])
        #expect(config.storage.filesystem.rootDirectory == "/var/lib/registry")
    }

    @Test func deprecatedLoglevelIsHonoured() throws {
        let config = try RegistryConfiguration.parse(yaml: "version: 0.1\nloglevel: debug\n", environment: [:])
        #expect(config.log.level == .debug)
    }

    @Test(arguments: ["storage: filesystem", "storage:\n  filesystem:\n", "storage:\n  filesystem: {}"])
    func storageStringOrMapInFile(_ storage: String) throws {
        let config = try RegistryConfiguration.parse(yaml: "version: 0.1\n\(storage)\n", environment: [:])
        #expect(config.storage.filesystem.rootDirectory == "/var/lib/registry")
    }

    @Test func authStringFormNeedsPath() {
        let error = expectFailure(yaml: "version: 0.1\nauth: htpasswd\n")
        #expect(error?.keyPath == "auth.htpasswd.path")
    }

    @Test func authNoneMeansNoAuth() throws {
        #expect(try RegistryConfiguration.parse(yaml: "version: 0.1\nauth: none\n", environment: [:]).auth == nil)
    }

    @Test func notificationsParseDistributionsEndpointKeys() throws {
        let yaml = """
        version: 0.1
        notifications:
          events:
            includereferences: true
          endpoints:
            - name: alistener
              disabled: false
              url: https://my.listener.com/event
              headers:
                Authorization: [Bearer secret]
              timeout: 1500ms
              threshold: 5
              backoff: 2s
              ignoredmediatypes:
                - application/octet-stream
              ignore:
                mediatypes: [application/vnd.oci.image.config.v1+json]
                actions: [pull]
            - name: off
              disabled: true
              url: http://127.0.0.1:9/
        """
        let c = try RegistryConfiguration.parse(yaml: yaml, environment: [:])
        #expect(c.notifications.includeReferences)
        let e = try #require(c.notifications.endpoints.first)
        #expect(e.name == "alistener" && e.url.absoluteString == "https://my.listener.com/event")
        #expect(e.headers == ["Authorization": ["Bearer secret"]])
        #expect(e.timeout == 1.5 && e.threshold == 5 && e.backoff == 2)
        #expect(e.ignoredMediaTypes == ["application/octet-stream", "application/vnd.oci.image.config.v1+json"])
        #expect(e.ignoredActions == ["pull"])
        #expect(c.notifications.enabledEndpoints.map(\.name) == ["alistener"])
        for (bad, key) in [("url: ftp://x/", "url"), ("url: http://h/\n      threshold: 0", "threshold"),
                           ("url: http://h/\n      ignore:\n        actions: [fetch]", "ignore.actions")] {
            let text = "version: 0.1\nnotifications:\n  endpoints:\n    - name: a\n      \(bad)\n"
            #expect(throws: ConfigurationError.self) { try RegistryConfiguration.parse(yaml: text, environment: [:]) }
            do { _ = try RegistryConfiguration.parse(yaml: text, environment: [:]) } catch let error as ConfigurationError {
                #expect(error.keyPath == "notifications.endpoints[0].\(key)")
            }
        }
    }
}
