// `database.enabled: true` is parsed and migratable but not servable yet
// (issue 10): `regctl serve` and distribution's `registry serve` refuse to
// start with a message that says so, instead of serving from the embedded
// store while the operator believes PostgreSQL holds the metadata.

import Foundation
import Testing

@Suite("regctl serve with database.enabled", .timeLimit(.minutes(1)))
struct DatabaseServeRefusalTests {
    static let environment = [
        "REGISTRY_HTTP_ADDR": "127.0.0.1:0",
        "REGISTRY_DATABASE_ENABLED": "true", "REGISTRY_DATABASE_HOST": "127.0.0.1",
        "REGISTRY_DATABASE_USER": "registry", "REGISTRY_DATABASE_DBNAME": "registry",
    ]

    @Test func serveRefusesToStart() throws {
        let f = try StoreFixture()
        let r = try Regctl.run(["serve", f.config], environment: Self.environment)
        #expect(r.status == 1, "\(r)")
        #expect(r.stderr.contains("database.enabled: true is not servable yet"), "\(r)")
        #expect(!r.stderr.contains("serving"), "\(r)")
    }

    @Test func distributionsServeCommandRefusesToo() throws {
        let f = try StoreFixture()
        let r = try Regctl.run(["serve", f.config], environment: Self.environment, name: "registry")
        #expect(r.status != 0, "\(r)")
        #expect(r.stderr.contains("database.enabled: true is not servable yet"), "\(r)")
    }

    @Test func disabledDatabaseServes() throws {
        let f = try StoreFixture()
        var environment = Self.environment
        environment["REGISTRY_DATABASE_ENABLED"] = "false"
        environment.removeValue(forKey: "REGISTRY_HTTP_ADDR")
        let server = try Regctl.serve(f.config, environment: environment).server
        #expect(server.stop().status == 0)
    }
}
