import Foundation
import Testing
@testable import RegistryConfig

@Suite struct EnvironmentOverrideTests {
    /// The compose environment from the seed notes, over a mounted config.
    static let seedEnvironment = [
        "REGISTRY_HTTP_TLS_CERTIFICATE": "/certs/domain.crt",
        "REGISTRY_HTTP_TLS_KEY": "/certs/domain.key",
        "REGISTRY_AUTH": "htpasswd",
        "REGISTRY_AUTH_HTPASSWD_PATH": "/auth/htpasswd",
        "REGISTRY_AUTH_HTPASSWD_REALM": "Registry Realm",
        "REGISTRY_STORAGE_DELETE_ENABLED": "true",
        "REGISTRY_STORAGE_MAINTENANCE_READONLY": #"{"enabled": true}"#,
        "PATH": "/usr/bin",
        "HOME": "/root",
    ]

    @Test func seedComposeEnvironmentOverridesFile() throws {
        let config = try RegistryConfiguration.parse(yaml: fixture("seed-compose.yml"), environment: Self.seedEnvironment)
        #expect(config.http.tls?.certificate == "/certs/domain.crt")
        #expect(config.http.tls?.key == "/certs/domain.key")
        #expect(config.auth == .htpasswd(.init(realm: "Registry Realm", path: "/auth/htpasswd")))
        #expect(config.storage.delete.enabled)
        #expect(config.storage.maintenance.readOnly.enabled)
        // Untouched file values survive.
        #expect(config.storage.filesystem.rootDirectory == "/var/lib/registry")
        #expect(config.storage.cache.blobDescriptor == "inmemory")
        #expect(config.http.addr == ":5000")
        #expect(config.log.fields == ["service": "registry"])
        #expect(config.health.storageDriver.threshold == 3)
    }

    @Test func seedComposeEnvironmentWithoutFile() throws {
        let config = try RegistryConfiguration.load(path: nil, environment: Self.seedEnvironment)
        #expect(config.http.addr == ":5000")
        #expect(config.storage.filesystem.rootDirectory == "./data")
        #expect(config.http.tls?.certificate == "/certs/domain.crt")
        #expect(config.auth == .htpasswd(.init(realm: "Registry Realm", path: "/auth/htpasswd")))
        #expect(config.storage.maintenance.readOnly.enabled)
    }

    @Test func readonlyLeafVariable() throws {
        let config = try RegistryConfiguration.parse(
            yaml: minimal, environment: ["REGISTRY_STORAGE_MAINTENANCE_READONLY_ENABLED": "true"])
        #expect(config.storage.maintenance.readOnly.enabled)
    }

    @Test func sectionVariableThenLeafVariableInLexicalOrder() throws {
        // REGISTRY_STORAGE_MAINTENANCE_READONLY sorts before ..._ENABLED, so the leaf wins.
        let config = try RegistryConfiguration.parse(yaml: minimal, environment: [
            "REGISTRY_STORAGE_MAINTENANCE_READONLY_ENABLED": "false",
            "REGISTRY_STORAGE_MAINTENANCE_READONLY": #"{"enabled": true}"#,
        ])
        #expect(config.storage.maintenance.readOnly.enabled == false)
    }

    @Test func authStringThenPathInLexicalOrder() throws {
        // File says token auth; REGISTRY_AUTH replaces the whole section first,
        // then the longer names fill it in.
        let yaml = """
            version: 0.1
            auth:
              token:
                realm: r
                service: s
                issuer: i
                jwks: /j
            """
        let config = try RegistryConfiguration.parse(yaml: yaml, environment: [
            "REGISTRY_AUTH_HTPASSWD_REALM": "basic",
            "REGISTRY_AUTH_HTPASSWD_PATH": "/auth/htpasswd",
            "REGISTRY_AUTH": "htpasswd",
        ])
        #expect(config.auth == .htpasswd(.init(realm: "basic", path: "/auth/htpasswd")))
    }

    @Test func authStringInFileExtendedByEnvironment() throws {
        let config = try RegistryConfiguration.parse(yaml: "version: 0.1\nauth: htpasswd\n", environment: [
            "REGISTRY_AUTH_HTPASSWD_PATH": "/p", "REGISTRY_AUTH_HTPASSWD_REALM": "r",
        ])
        #expect(config.auth == .htpasswd(.init(realm: "r", path: "/p")))
    }

    @Test func storageStringFromEnvironmentReplacesSection() throws {
        let config = try RegistryConfiguration.parse(yaml: fixture("seed-compose.yml"), environment: [
            "REGISTRY_STORAGE": "filesystem",
            "REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY": "/somewhere",
        ])
        #expect(config.storage.filesystem.rootDirectory == "/somewhere")
        #expect(config.storage.cache.blobDescriptor == nil)
    }

    @Test func storageMapFromEnvironment() throws {
        let config = try RegistryConfiguration.parse(yaml: minimal, environment: [
            "REGISTRY_STORAGE": "{filesystem: {rootdirectory: /x}, delete: {enabled: true}}",
        ])
        #expect(config.storage.filesystem.rootDirectory == "/x")
        #expect(config.storage.delete.enabled)
    }

    @Test func headerNamesAreLowercasedAndReplaceFileSpelling() throws {
        let config = try RegistryConfiguration.parse(yaml: fixture("config-example.yml"), environment: [
            "REGISTRY_HTTP_HEADERS_X-CONTENT-TYPE-OPTIONS": "[nosniff]",
            "REGISTRY_HTTP_HEADERS_X-FRAME-OPTIONS": "[DENY]",
        ])
        #expect(config.http.headers == ["x-content-type-options": ["nosniff"], "x-frame-options": ["DENY"]])
    }

    @Test func logFieldKeysAreLowercased() throws {
        let config = try RegistryConfiguration.parse(yaml: minimal, environment: ["REGISTRY_LOG_FIELDS_ENVIRONMENT": "Staging"])
        #expect(config.log.fields == ["environment": "Staging"])
    }

    @Test func valuesAreYAML() throws {
        let config = try RegistryConfiguration.parse(yaml: minimal, environment: [
            "REGISTRY_HTTP_ADDR": ":6000",
            "REGISTRY_CATALOG_MAXENTRIES": "5000",
            "REGISTRY_HTTP_RELATIVEURLS": "true",
            "REGISTRY_HTTP_TLS_CERTIFICATE": "/c",
            "REGISTRY_HTTP_TLS_KEY": "/k",
            "REGISTRY_HTTP_TLS_CLIENTCAS": "[/a.pem, /b.pem]",
            "REGISTRY_HTTP_DRAINTIMEOUT": "1m30s",
        ])
        #expect(config.http.addr == ":6000")
        #expect(config.catalog.maxEntries == 5000)
        #expect(config.http.relativeURLs)
        #expect(config.http.tls?.clientCAs == ["/a.pem", "/b.pem"])
        #expect(config.http.drainTimeout == 90)
    }

    @Test func listIndexOverrides() throws {
        let yaml = """
            version: 0.1
            http:
              tls:
                certificate: /c
                key: /k
                clientcas: [/a.pem]
            """
        let config = try RegistryConfiguration.parse(yaml: yaml, environment: [
            "REGISTRY_HTTP_TLS_CLIENTCAS_0": "/z.pem",
            "REGISTRY_HTTP_TLS_CLIENTCAS_1": "/y.pem",
        ])
        #expect(config.http.tls?.clientCAs == ["/z.pem", "/y.pem"])
        #expect(expectFailure(yaml: yaml, environment: ["REGISTRY_HTTP_TLS_CLIENTCAS_5": "/q"])?.keyPath == "http.tls.clientcas")
    }

    @Test func namePartsMatchCaseInsensitively() throws {
        let yaml = "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /a\n"
        let config = try RegistryConfiguration.parse(yaml: yaml, environment: ["REGISTRY_storage_Filesystem_ROOTDIRECTORY": "/b"])
        #expect(config.storage.filesystem.rootDirectory == "/b")
    }

    @Test func onlyRegistryPrefixCountsAndConfigurationPathIsSkipped() throws {
        let config = try RegistryConfiguration.parse(yaml: minimal, environment: [
            "REGISTRY_CONFIGURATION_PATH": "/etc/distribution/config.yml",
            "registry_http_addr": ":1",
            "XREGISTRY_HTTP_ADDR": ":2",
            "REGISTRYHTTP_ADDR": ":3",
        ])
        #expect(config == .defaults)
    }

    @Test func versionCanBeOverriddenButMustStayValid() {
        let error = expectFailure(yaml: minimal, environment: ["REGISTRY_VERSION": "0.2"])
        #expect(error?.keyPath == "version")
    }

    @Test func badYAMLValueNamesVariable() {
        let error = expectFailure(yaml: minimal, environment: ["REGISTRY_HTTP_HEADERS_X": "[unclosed"])
        #expect(error?.message.contains("REGISTRY_HTTP_HEADERS_X") == true)
    }

    @Test func descendingIntoScalarFails() {
        let error = expectFailure(yaml: minimal, environment: ["REGISTRY_HTTP_ADDR": ":1", "REGISTRY_HTTP_ADDR_PORT": "2"])
        #expect(error?.keyPath == "http.addr")
        #expect(error?.message.contains("REGISTRY_HTTP_ADDR_PORT") == true)
    }
}
