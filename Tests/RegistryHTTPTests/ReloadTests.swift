// Config reload (SIGHUP) applies read-only and delete modes to the running
// server through RegistryServer.updateModes.

import Foundation
import Testing
@testable import RegistryHTTP

@Suite("Reload")
struct ReloadTests {
    @Test("read-only flips on and off without a restart; writes answer 405 UNSUPPORTED naming read-only")
    func readOnlyToggle() async throws {
        try await TestRegistry.with { registry in
            _ = try await registry.pushBlob("ro/repo", Array("before".utf8))
            #expect(registry.server.updateModes(readOnly: true) == ["storage.maintenance.readonly.enabled=true"])
            let refused = try await registry.send(.POST, "/v2/ro/repo/blobs/uploads/")
            #expect(refused.status == .methodNotAllowed)
            #expect(refused.errorCode == "UNSUPPORTED")
            #expect(refused.text.contains("read-only"))
            // Reads still work.
            let digest = Fixtures.sha256(Array("before".utf8))
            #expect(try await registry.send(.GET, "/v2/ro/repo/blobs/\(digest)").status == .ok)
            #expect(registry.server.updateModes(readOnly: true).isEmpty)   // no change
            registry.server.updateModes(readOnly: false)
            _ = try await registry.pushBlob("ro/repo", Array("after".utf8))
        }
    }

    @Test("delete can be switched off and on at run time")
    func deleteToggle() async throws {
        try await TestRegistry.with { registry in
            let digest = try await registry.pushBlob("del/repo", Array("x".utf8))
            registry.server.updateModes(deleteEnabled: false)
            #expect(try await registry.send(.DELETE, "/v2/del/repo/blobs/\(digest)").status == .methodNotAllowed)
            #expect(registry.server.modes.deleteEnabled == false)
            registry.server.updateModes(deleteEnabled: true)
            #expect(try await registry.send(.DELETE, "/v2/del/repo/blobs/\(digest)").status == .accepted)
        }
    }
}
