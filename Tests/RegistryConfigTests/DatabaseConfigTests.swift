import Testing
@testable import RegistryConfig

/// GitLab registry's `database:` section (issue 10): every key read, the
/// ones Berth cannot honour refused by name, REGISTRY_DATABASE_* overrides.
@Suite struct DatabaseConfigTests {
    static let full = """
        version: 0.1
        database:
          enabled: true
          host: db.internal
          port: 5433
          user: registry
          password: s3cret
          dbname: registry_prod
          sslmode: verify-full
          sslcert: /etc/ssl/client.crt
          sslkey: /etc/ssl/client.key
          sslrootcert: /etc/ssl/root.crt
          connecttimeout: 5s
          draintimeout: 2m
          preparedstatements: false
          pool:
            maxidle: 5
            maxopen: 25
            maxlifetime: 0
            maxidletime: 5m
        """

    @Test func everyKeyIsRead() throws {
        let db = try RegistryConfiguration.parse(yaml: Self.full, environment: [:]).database
        #expect(db.enabled)
        #expect(db.host == "db.internal")
        #expect(db.port == 5433)
        #expect(db.user == "registry")
        #expect(db.password == "s3cret")
        #expect(db.dbname == "registry_prod")
        #expect(db.sslMode == .verifyFull)
        #expect(db.sslCert == "/etc/ssl/client.crt")
        #expect(db.sslKey == "/etc/ssl/client.key")
        #expect(db.sslRootCert == "/etc/ssl/root.crt")
        #expect(db.connectTimeout == 5)
        #expect(db.drainTimeout == 120)
        #expect(db.preparedStatements == false)
        #expect(db.pool.maxIdle == 5)
        #expect(db.pool.maxOpen == 25)
        #expect(db.pool.maxLifetime == 0)
        #expect(db.pool.maxIdleTime == 300)
    }

    @Test func absentSectionIsDisabled() throws {
        let db = try RegistryConfiguration.parse(yaml: minimal, environment: [:]).database
        #expect(db == RegistryConfiguration.Database())
        #expect(!db.enabled)
    }

    @Test func environmentOverridesKeys() throws {
        let db = try RegistryConfiguration.parse(yaml: Self.full, environment: [
            "REGISTRY_DATABASE_HOST": "127.0.0.1",
            "REGISTRY_DATABASE_PASSWORD": "from-env",
            "REGISTRY_DATABASE_POOL_MAXOPEN": "7",
            "REGISTRY_DATABASE_SSLMODE": "disable",
        ]).database
        #expect(db.host == "127.0.0.1")
        #expect(db.password == "from-env")
        #expect(db.pool.maxOpen == 7)
        #expect(db.sslMode == .disable)
        #expect(db.dbname == "registry_prod")
    }

    @Test func environmentCreatesTheSection() throws {
        let db = try RegistryConfiguration.parse(yaml: minimal, environment: [
            "REGISTRY_DATABASE_ENABLED": "true", "REGISTRY_DATABASE_HOST": "localhost",
            "REGISTRY_DATABASE_USER": "postgres", "REGISTRY_DATABASE_DBNAME": "registry",
        ]).database
        #expect(db.enabled && db.host == "localhost" && db.port == 5432)
    }

    @Test func unimplementedKeysAreRefusedByName() throws {
        for key in ["primary: db-primary", "loadbalancing: {enabled: true}", "backgroundmigrations: {enabled: true}", "replicas: 2"] {
            let error = try #require(expectFailure(yaml: "version: 0.1\ndatabase:\n  \(key)\n"))
            let name = String(key.prefix { $0 != ":" })
            #expect(error.keyPath == "database.\(name)")
            #expect(error.message.contains("database.\(name)"))
        }
        let fromEnv = try #require(expectFailure(yaml: minimal, environment: ["REGISTRY_DATABASE_PRIMARY": "x"]))
        #expect(fromEnv.message.contains("REGISTRY_DATABASE_PRIMARY"))
        let poolKey = try #require(expectFailure(yaml: "version: 0.1\ndatabase:\n  pool:\n    maxconns: 3\n"))
        #expect(poolKey.keyPath == "database.pool.maxconns")
    }

    @Test func valuesThePoolCannotHonourAreRefused() throws {
        let lifetime = try #require(expectFailure(yaml: "version: 0.1\ndatabase:\n  pool:\n    maxlifetime: 5m\n"))
        #expect(lifetime.keyPath == "database.pool.maxlifetime")
        let prepared = try #require(expectFailure(yaml: "version: 0.1\ndatabase:\n  preparedstatements: true\n"))
        #expect(prepared.keyPath == "database.preparedstatements")
        let allow = try #require(expectFailure(yaml: "version: 0.1\ndatabase:\n  sslmode: allow\n"))
        #expect(allow.keyPath == "database.sslmode" && allow.message.contains("allow"))
        let bogus = try #require(expectFailure(yaml: "version: 0.1\ndatabase:\n  sslmode: sometimes\n"))
        #expect(bogus.keyPath == "database.sslmode")
        let idle = try #require(expectFailure(yaml: "version: 0.1\ndatabase:\n  pool: {maxidle: 9, maxopen: 3}\n"))
        #expect(idle.keyPath == "database.pool.maxidle")
    }

    @Test func enabledRequiresConnectionKeys() throws {
        let error = try #require(expectFailure(yaml: "version: 0.1\ndatabase:\n  enabled: true\n  host: h\n  user: u\n"))
        #expect(error.keyPath == "database.dbname")
    }
}
