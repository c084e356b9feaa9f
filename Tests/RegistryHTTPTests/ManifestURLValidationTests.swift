// `validation.manifests.urls` and `validation.disabled` on manifest PUT: an
// image manifest with a foreign layer (a layer with `urls`, whose blob is
// never pushed) under each policy.

import Foundation
import NIOHTTP1
import Testing
@testable import RegistryHTTP

@Suite("Manifest URL validation (validation.manifests.urls, validation.disabled)")
struct ManifestURLValidationTests {
    static let foreignType = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"

    /// An image whose config is pushed and whose only layer is foreign (never pushed).
    static func foreignImage(_ r: TestRegistry, repo: String, urls: [String]) async throws -> [UInt8] {
        let config = Fixtures.bytes("{\"foreign\":true}")
        let c = try await r.pushBlob(repo, config)
        let layerDigest = Fixtures.sha256(Fixtures.bytes("never pushed \(urls)"))
        let list = urls.map { "\"\($0)\"" }.joined(separator: ",")
        return Fixtures.bytes("""
            {"schemaVersion":2,"mediaType":"\(Fixtures.ociManifest)",
             "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\(c)","size":\(config.count)},
             "layers":[{"mediaType":"\(foreignType)","digest":"\(layerDigest)","size":1234,"urls":[\(list)]}]}
            """)
    }

    static func push(_ policy: ManifestURLPolicy, urls: [String]) async throws -> TestResponse {
        var response: TestResponse?
        try await TestRegistry.with({ $0.manifestURLs = policy }) { r in
            let manifest = try await foreignImage(r, repo: "win", urls: urls)
            response = try await r.putManifest("win", "v1", manifest)
        }
        return try #require(response)
    }

    static let example = try! ManifestURLPolicy(allow: [#"^https?://([^/]+\.)*example\.com/"#],
                                                deny: [#"^https?://www\.example\.com/"#])

    @Test func defaultConfigurationRefusesEveryForeignURL() async throws {
        // RegistryServer.Configuration() is distribution's default: no allow list.
        let r = try await Self.push(RegistryServer.Configuration().manifestURLs, urls: ["https://cdn.example.com/l"])
        #expect(r.status == .badRequest)
        #expect(r.errorCode == "MANIFEST_INVALID")
        #expect(r.text.contains("https://cdn.example.com/l"))
    }

    @Test func allowedURLIsAccepted() async throws {
        let r = try await Self.push(Self.example, urls: ["https://cdn.example.com/l", "http://example.com/m"])
        #expect(r.status == .created)
    }

    @Test(arguments: [
        "https://other.org/l",                  // matches no allow pattern
        "https://www.example.com/l",            // allowed but denied
        "ftp://cdn.example.com/l",              // not http(s)
        "https://cdn.example.com/l#frag",       // fragment
    ])
    func refusedURLNamesTheURL(_ url: String) async throws {
        let r = try await Self.push(Self.example, urls: ["https://cdn.example.com/ok", url])
        #expect(r.status == .badRequest)
        #expect(r.errorCode == "MANIFEST_INVALID")
        #expect(r.text.contains(url))
    }

    @Test func onlyDenySetStillRefuses() async throws {
        // The documented rule: without `allow`, URLs are refused.
        let policy = try ManifestURLPolicy(allow: [], deny: ["^https://bad/"])
        let r = try await Self.push(policy, urls: ["https://good.example.com/l"])
        #expect(r.errorCode == "MANIFEST_INVALID")
    }

    @Test func disabledValidationAcceptsAnyHTTPURL() async throws {
        let ok = try await Self.push(.disabled, urls: ["https://anything.org/l"])
        #expect(ok.status == .created)
        // The shape check stays, as in distribution.
        let ftp = try await Self.push(.disabled, urls: ["ftp://anything.org/l"])
        #expect(ftp.errorCode == "MANIFEST_INVALID")
    }

    @Test func manifestWithoutURLsIsUnaffected() async throws {
        try await TestRegistry.with { r in
            let manifest = try await Fixtures.image(r, repo: "app", seed: "plain")
            #expect(try await r.putManifest("app", "v1", manifest).status == .created)
        }
    }

    @Test func invalidPatternIsRefusedAtConfiguration() {
        #expect(throws: ManifestURLPolicy.PatternError.self) {
            _ = try ManifestURLPolicy(allow: ["^https://ok/", "(unclosed"], deny: [])
        }
        do {
            _ = try ManifestURLPolicy(allow: [], deny: ["[z-a]"])
        } catch let e as ManifestURLPolicy.PatternError {
            #expect(e.description.contains("validation.manifests.urls.deny[0]"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
