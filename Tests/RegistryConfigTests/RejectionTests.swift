import Foundation
import Testing
@testable import RegistryConfig

@Suite struct RejectionTests {
    @Test(arguments: [
        ("notifications:\n  endpoints:\n    - name: a\n      url: http://h/e\n      bogus: 1", "notifications.endpoints[0].bogus"),
        ("redis:\n  addrs: [localhost:6379]", "redis"),
        ("proxy:\n  remoteurl: https://registry-1.docker.io", "proxy"),
        ("middleware:\n  registry: []", "middleware"),
        ("bogus: 1", "bogus"),
        ("storage:\n  filesystem: {}\n  bogus: 1", "storage.bogus"),
        ("storage:\n  s3:\n    bucket: b", "storage.s3"),
        ("storage: inmemory", "storage.inmemory"),
        ("storage:\n  azure: {}", "storage.azure"),
        ("storage:\n  gcs: {}", "storage.gcs"),
        ("storage:\n  filesystem:\n    rootdirectory: /a\n    bogus: 1", "storage.filesystem.bogus"),
        ("storage:\n  maintenance:\n    uploadpurging:\n      bogus: 1", "storage.maintenance.uploadpurging.bogus"),
        ("http:\n  tls:\n    letsencrypt:\n      email: a@b.c", "http.tls.letsencrypt"),
        ("http:\n  debug:\n    prometheus:\n      bogus: 1", "http.debug.prometheus.bogus"),
        ("log:\n  hooks: []", "log.hooks"),
        ("auth:\n  silly:\n    realm: r", "auth.silly"),
        ("auth:\n  htpasswd:\n    realm: r\n    path: /p\n    bogus: 1", "auth.htpasswd.bogus"),
        ("health:\n  tcp: []", "health.tcp"),
        ("berth:\n  gc:\n    bogus: 1", "berth.gc.bogus"),
        ("compatibility:\n  schema1:\n    enabled: true", "compatibility"),
    ])
    func unknownKeysInFileFailWithPath(_ yaml: String, _ keyPath: String) {
        let error = expectFailure(yaml: "version: 0.1\n" + yaml + "\n")
        #expect(error?.keyPath == keyPath)
        #expect(error?.message.contains(keyPath) == true)
        #expect(error?.description.contains("not supported by Berth") == true)
    }

    @Test func platformlistWithoutPlatformsListIsRefusedByName() {
        for platforms in ["", "platforms: all\n      ", "platforms: none\n      "] {
            let error = expectFailure(yaml: "version: 0.1\nvalidation:\n  manifests:\n    indexes:\n      "
                                      + platforms + "platformlist: [{os: linux, architecture: amd64}]\n")
            #expect(error?.keyPath == "validation.manifests.indexes.platformlist", "\(platforms)")
            #expect(error?.message.contains("only read with platforms: list") == true)
        }
    }

    @Test(arguments: [("all", RegistryConfiguration.Validation.Indexes.Platforms.all), ("none", .none), ("List", .list)])
    func platformsAreAccepted(_ raw: String, _ expected: RegistryConfiguration.Validation.Indexes.Platforms) throws {
        let yaml = "version: 0.1\nvalidation:\n  manifests:\n    indexes:\n      platforms: \(raw)\n"
        #expect(try RegistryConfiguration.parse(yaml: yaml, environment: [:]).validation.manifests.indexes.platforms == expected)
    }

    @Test func platformsListReadsItsPlatforms() throws {
        let yaml = """
        version: 0.1
        validation:
          manifests:
            indexes:
              platforms: list
              platformlist:
              - architecture: amd64
                os: linux
              - {os: linux, architecture: arm64}
        """
        let indexes = try RegistryConfiguration.parse(yaml: yaml, environment: [:]).validation.manifests.indexes
        #expect(indexes.platforms == .list)
        #expect(indexes.platformList == [.init(architecture: "amd64", os: "linux"), .init(architecture: "arm64", os: "linux")])
        let env = try RegistryConfiguration.parse(yaml: "version: 0.1\n",
                                                  environment: ["REGISTRY_VALIDATION_MANIFESTS_INDEXES_PLATFORMS": "none"])
        #expect(env.validation.manifests.indexes.platforms == .none)
    }

    @Test func unknownStorageKeyMessage() {
        let error = expectFailure(yaml: "version: 0.1\nstorage:\n  bogus: 1\n")
        #expect(error?.description == "config key storage.bogus is not supported by Berth")
    }

    @Test func sillyAuthExplains() {
        let error = expectFailure(yaml: "version: 0.1\nauth: silly\n")
        #expect(error?.message.contains("silly auth is for development only") == true)
    }

    @Test func redisBlobDescriptorCacheFails() {
        let error = expectFailure(yaml: "version: 0.1\nstorage:\n  cache:\n    blobdescriptor: redis\n")
        #expect(error?.keyPath == "storage.cache.blobdescriptor")
        #expect(error?.message.contains("redis not supported") == true)
    }

    @Test(arguments: [
        ("REGISTRY_NOTIFICATIONS_BOGUS", "x", "notifications.bogus"),
        ("REGISTRY_STORAGE_BOGUS", "1", "storage.bogus"),
        ("REGISTRY_STORAGE_S3_BUCKET", "b", "storage.s3"),
        ("REGISTRY_HTTP_TLS_LETSENCRYPT_EMAIL", "a@b.c", "http.tls.letsencrypt"),
        ("REGISTRY_PROXY_REMOTEURL", "https://registry-1.docker.io", "proxy"),
        ("REGISTRY_REDIS_ADDRS", "[localhost:6379]", "redis"),
        ("REGISTRY_HTTP_BOGUS", "1", "http.bogus"),
        ("REGISTRY_STORAGE", "s3", "storage.s3"),
        ("REGISTRY_AUTH", "silly", "auth.silly"),
    ])
    func unknownKeysFromEnvironmentNameVariable(_ name: String, _ value: String, _ keyPath: String) {
        let error = expectFailure(yaml: minimal, environment: [name: value])
        #expect(error?.keyPath == keyPath)
        #expect(error?.message.contains(name) == true)
    }

    @Test func twoStorageDriversFail() {
        let error = expectFailure(yaml: "version: 0.1\nstorage:\n  filesystem: {}\n  s3: {}\n")
        #expect(error?.keyPath == "storage")
        #expect(error?.message.contains("exactly one storage driver") == true)
    }

    @Test func twoAuthSchemesFail() {
        let yaml = "version: 0.1\nauth:\n  htpasswd: {realm: r, path: /p}\n  token: {realm: r}\n"
        #expect(expectFailure(yaml: yaml)?.keyPath == "auth")
    }

    @Test(arguments: [
        ("http:\n  addr: {a: 1}", "http.addr", "must be a string"),
        ("http:\n  addr: [1, 2]", "http.addr", "must be a string"),
        ("http: 5", "http", "must be a map"),
        ("storage:\n  delete:\n    enabled: yesplease", "storage.delete.enabled", "must be a boolean"),
        ("catalog:\n  maxentries: lots", "catalog.maxentries", "must be an integer"),
        ("http:\n  tls:\n    clientcas: /a.pem", "http.tls.clientcas", "must be a list of strings"),
        ("log:\n  fields: [a]", "log.fields", "must be a map"),
        ("storage: 5", "storage", "must be a map"),
        ("berth:\n  compression: 1", "berth.compression", "must be a boolean"),
        ("berth:\n  limits:\n    maxuploadsize: 1GB", "berth.limits.maxuploadsize", "must be an integer"),
    ])
    func wrongTypesNameKeyAndType(_ yaml: String, _ keyPath: String, _ phrase: String) {
        let error = expectFailure(yaml: "version: 0.1\n" + yaml + "\n")
        #expect(error?.keyPath == keyPath)
        #expect(error?.message.contains(keyPath + " " + phrase) == true, "\(String(describing: error))")
    }

    @Test func wrongTypeFromEnvironmentNamesVariable() {
        let error = expectFailure(yaml: minimal, environment: ["REGISTRY_STORAGE_DELETE_ENABLED": "maybe"])
        #expect(error?.message == "storage.delete.enabled must be a boolean (true or false) (set by environment variable REGISTRY_STORAGE_DELETE_ENABLED)")
    }

    @Test(arguments: ["", "version: 0.2", "log:\n  level: info"])
    func versionMustBe01(_ yaml: String) {
        #expect(expectFailure(yaml: yaml + "\n")?.keyPath == "version")
    }

    @Test func htpasswdRequiresPath() {
        let error = expectFailure(yaml: "version: 0.1\nauth:\n  htpasswd:\n    realm: r\n")
        #expect(error?.keyPath == "auth.htpasswd.path")
    }

    @Test func tokenRequiresIssuerAndKeys() {
        #expect(expectFailure(yaml: "version: 0.1\nauth:\n  token: {realm: r, service: s}\n")?.keyPath == "auth.token.issuer")
        #expect(expectFailure(yaml: "version: 0.1\nauth:\n  token: {realm: r, service: s, issuer: i}\n")?.keyPath
            == "auth.token.rootcertbundle")
    }

    @Test func tlsCertificateWithoutKeyFails() {
        let error = expectFailure(yaml: minimal, environment: ["REGISTRY_HTTP_TLS_CERTIFICATE": "/certs/domain.crt"])
        #expect(error?.keyPath == "http.tls.key")
    }

    @Test func tlsKeyWithoutCertificateFails() {
        #expect(expectFailure(yaml: "version: 0.1\nhttp:\n  tls:\n    key: /k\n")?.keyPath == "http.tls.certificate")
    }

    @Test(arguments: [
        ("log:\n  level: loud", "log.level"),
        ("log:\n  formatter: xml", "log.formatter"),
        ("http:\n  net: udp", "http.net"),
        ("http:\n  tls: {certificate: /c, key: /k, minimumtls: tls9}", "http.tls.minimumtls"),
        ("http:\n  tls: {certificate: /c, key: /k, clientauth: maybe}", "http.tls.clientauth"),
        ("http:\n  tls: {certificate: /c, key: /k, ciphersuites: [TLS_FAKE]}", "http.tls.ciphersuites"),
        ("http:\n  prefix: nested/", "http.prefix"),
        ("http:\n  h2c:\n    enabled: true", "http.h2c.enabled"),
        ("storage:\n  maintenance:\n    uploadpurging:\n      age: forever", "storage.maintenance.uploadpurging.age"),
        ("validation:\n  manifests:\n    indexes:\n      platforms: some", "validation.manifests.indexes.platforms"),
        ("validation:\n  manifests:\n    urls:\n      allow: ['(unclosed']", "validation.manifests.urls.allow.0"),
        ("validation:\n  manifests:\n    urls:\n      deny: ['^ok$', '[z-a]']", "validation.manifests.urls.deny.1"),
        ("catalog:\n  maxentries: 0", "catalog.maxentries"),
    ])
    func invalidValuesNameKey(_ yaml: String, _ keyPath: String) {
        #expect(expectFailure(yaml: "version: 0.1\n" + yaml + "\n")?.keyPath == keyPath)
    }

    @Test func invalidYAMLFails() {
        #expect(expectFailure(yaml: "version: 0.1\nhttp: [unclosed\n") != nil)
    }
}
