// An anonymous mount (`?mount=` without `from`) finds only blobs the
// requester may pull; a PATCH is answered only after its bytes are synced.

import CASEngine
import Foundation
import Logging
import NIOHTTP1
import Testing
@testable import RegistryConfig
@testable import RegistryHTTP

@Suite("Mounts and upload durability")
struct MountAndDurabilityTests {
    typealias Auth = RegistryConfiguration.Auth

    static let access = Auth.Access(rules: [
        Auth.Rule(repository: "team-a/**", users: .users(["alice"]), actions: [.pull, .push, .delete]),
        Auth.Rule(repository: "team-b/**", users: .users(["bob"]), actions: [.pull, .push, .delete]),
    ])

    @Test func anonymousMountOnlyFindsBlobsTheRequesterMayPull() async throws {
        let dir = try AuthTools.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/htpasswd"
        try AuthTools.htpasswd(file, "alice", "pw-alice", create: true)
        try AuthTools.htpasswd(file, "bob", "pw-bob")
        let auth = try HtpasswdAuthorizer(realm: "r", path: file, access: Self.access, logger: Logger(label: "test"))
        let alice = AuthTools.basic("alice", "pw-alice"), bob = AuthTools.basic("bob", "pw-bob")
        try await TestRegistry.with(authorizer: auth) { registry in
            let secret = Fixtures.bytes("team-a private layer")
            let digest = Fixtures.sha256(secret)
            let push = try await registry.send(.POST, "/v2/team-a/x/blobs/uploads/?digest=\(digest)", headers: [alice], body: secret)
            #expect(push.status == .created)

            // bob may not pull team-a: the mount is a plain upload start.
            let mount = try await registry.send(.POST, "/v2/team-b/y/blobs/uploads/?mount=\(digest)", headers: [bob])
            #expect(mount.status == .accepted)
            #expect(mount["Location"]?.contains("/v2/team-b/y/blobs/uploads/") == true)
            let read = try await registry.send(.GET, "/v2/team-b/y/blobs/\(digest)", headers: [bob])
            #expect(read.status == .notFound)
            #expect(read.errorCode == "BLOB_UNKNOWN")
            // Naming the source is refused outright (pull on `from` is checked).
            let named = try await registry.send(.POST, "/v2/team-b/y/blobs/uploads/?mount=\(digest)&from=team-a/x", headers: [bob])
            #expect(named.status == .forbidden)

            // A blob bob may pull is mounted anonymously (201), from wherever he may pull it.
            let own = Fixtures.bytes("team-b shared layer")
            let ownDigest = Fixtures.sha256(own)
            #expect(try await registry.send(.POST, "/v2/team-b/z/blobs/uploads/?digest=\(ownDigest)", headers: [bob], body: own).status == .created)
            let ownMount = try await registry.send(.POST, "/v2/team-b/y/blobs/uploads/?mount=\(ownDigest)", headers: [bob])
            #expect(ownMount.status == .created)
            #expect(try await registry.send(.GET, "/v2/team-b/y/blobs/\(ownDigest)", headers: [bob]).body == own)
            // And alice's anonymous mount of her own blob into another of her repositories works.
            #expect(try await registry.send(.POST, "/v2/team-a/w/blobs/uploads/?mount=\(digest)", headers: [alice]).status == .created)
        }
    }

    @Test func patchIsAnsweredOnlyAfterItsBytesAreSynced() async throws {
        try await TestRegistry.with { registry in
            let start = try await registry.send(.POST, "/v2/app/blobs/uploads/")
            #expect(start.status == .accepted)
            let location = try #require(start["Location"])
            // The sync fails: the client must not be told 202.
            Failpoint.arm(.uploadBeforeSync, .fail, scope: registry.root, count: 1)
            let failed = try await registry.send(.PATCH, location, headers: [("Content-Type", "application/octet-stream")],
                                                 body: [UInt8](repeating: 1, count: 1000))
            #expect(failed.status == .internalServerError)
            let ok = try await registry.send(.PATCH, location, headers: [("Content-Type", "application/octet-stream")],
                                             body: [UInt8](repeating: 2, count: 1000))
            #expect(ok.status == .accepted)
            #expect(ok["Range"] == "0-1999")
        }
    }
}
