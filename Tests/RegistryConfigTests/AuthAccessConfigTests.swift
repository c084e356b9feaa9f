// auth.htpasswd.access (Berth extension) decoding.

import Foundation
import Testing
@testable import RegistryConfig

@Suite struct AuthAccessConfigTests {
    typealias Auth = RegistryConfiguration.Auth

    @Test func fullAccessBlockParses() throws {
        let yaml = """
            version: 0.1
            auth:
              htpasswd:
                realm: Berth
                path: /etc/berth/htpasswd
                access:
                  catalog: [admin]
                  rules:
                    - repository: "team-a/**"
                      users: [alice, bob]
                      actions: [pull, push, delete]
                    - repository: "public/*"
                      users: "*"
                      actions: [pull]
                      anonymous: [pull]
                    - repository: "**"
                      users: [admin]
                      actions: ["*"]
            """
        let config = try RegistryConfiguration.parse(yaml: yaml, environment: [:])
        let expected = Auth.Access(catalog: .users(["admin"]), rules: [
            .init(repository: "team-a/**", users: .users(["alice", "bob"]), actions: [.pull, .push, .delete]),
            .init(repository: "public/*", users: .anyAuthenticated, actions: [.pull], anonymous: [.pull]),
            .init(repository: "**", users: .users(["admin"]), actions: [.pull, .push, .delete]),
        ])
        #expect(config.auth == .htpasswd(.init(realm: "Berth", path: "/etc/berth/htpasswd", access: expected)))
    }

    @Test func catalogStarAndNoAccessBlock() throws {
        let star = try RegistryConfiguration.parse(yaml: """
            version: 0.1
            auth:
              htpasswd: {realm: r, path: /p, access: {catalog: "*"}}
            """, environment: [:])
        #expect(star.auth == .htpasswd(.init(realm: "r", path: "/p", access: .init(catalog: .anyAuthenticated))))
        let none = try RegistryConfiguration.parse(yaml: "version: 0.1\nauth:\n  htpasswd: {realm: r, path: /p}\n", environment: [:])
        #expect(none.auth == .htpasswd(.init(realm: "r", path: "/p", access: nil)))
    }

    @Test func invalidRulesAreRefusedWithTheirPath() {
        let unknownAction = expectFailure(yaml: """
            version: 0.1
            auth:
              htpasswd:
                realm: r
                path: /p
                access:
                  rules:
                    - repository: "a/*"
                      users: "*"
                      actions: [pull, write]
            """)
        #expect(unknownAction?.keyPath == "auth.htpasswd.access.rules[0].actions")
        let missingRepo = expectFailure(yaml: """
            version: 0.1
            auth:
              htpasswd:
                realm: r
                path: /p
                access:
                  rules:
                    - users: "*"
                      actions: [pull]
            """)
        #expect(missingRepo?.keyPath == "auth.htpasswd.access.rules[0].repository")
        let unknownKey = expectFailure(yaml: """
            version: 0.1
            auth:
              htpasswd:
                realm: r
                path: /p
                access:
                  rules:
                    - repository: x
                      user: alice
            """)
        #expect(unknownKey?.keyPath == "auth.htpasswd.access.rules[0].user")
        let badUsers = expectFailure(yaml: """
            version: 0.1
            auth:
              htpasswd: {realm: r, path: /p, access: {rules: [{repository: x, users: alice}]}}
            """)
        #expect(badUsers?.keyPath == "auth.htpasswd.access.rules[0].users")
    }
}
