import Foundation
import NIOHTTP1
import Testing

/// Path traversal and invalid repository names, sent verbatim on the wire.
///
/// Every malformed name is 400 NAME_INVALID on every endpoint. A path that is
/// not an API endpoint at all (a trailing slash after the reference, `/v2/a/`)
/// is 404, as distribution's router answers "404 page not found" for it.
@Suite("Hostile input: repository names and paths")
struct HostileInputNameTests {
    static let invalidNames: [String] = [
        "..", "../victim/app", "victim/../victim/app", "victim/app/..", "./victim/app", "victim/./app",
        "%2e%2e/victim/app", "victim/%2e%2e/app", "victim%2fapp", "victim%2Fapp", "%76ictim/app",
        "Victim/App", "victim/APP", "victim//app", "/victim/app", "victim/app/",
        "-victim/app", "victim/app.", "victim/app-", "victim/a__.b", "victim/a___b",
        String(repeating: "a", count: 256),
        String(repeating: "a/", count: 127) + "ab",  // 256 bytes
        "victim/app;x", "victim/app:x", "victim/app@x",
    ]

    @Test func invalidNamesAreNameInvalidOnEveryEndpoint() async throws {
        try await TestRegistry.with { r in
            let victim = try await Victim.push(r)
            for name in Self.invalidNames {
                let uris: [(HTTPMethod, String, [UInt8]?)] = [
                    (.GET, "/v2/\(name)/manifests/stable", nil),
                    (.HEAD, "/v2/\(name)/manifests/\(victim.manifestDigest)", nil),
                    (.PUT, "/v2/\(name)/manifests/stable", victim.manifest),
                    (.DELETE, "/v2/\(name)/manifests/\(victim.manifestDigest)", nil),
                    (.GET, "/v2/\(name)/blobs/\(victim.blobDigest)", nil),
                    (.DELETE, "/v2/\(name)/blobs/\(victim.blobDigest)", nil),
                    (.POST, "/v2/\(name)/blobs/uploads/", nil),
                    (.POST, "/v2/\(name)/blobs/uploads/?mount=\(victim.blobDigest)&from=\(Victim.repo)", nil),
                    (.GET, "/v2/\(name)/tags/list", nil),
                    (.GET, "/v2/\(name)/referrers/\(victim.manifestDigest)", nil),
                ]
                for (method, uri, body) in uris {
                    let resp = try await r.send(method, uri, headers: [("Content-Type", Fixtures.ociManifest)], body: body)
                    #expect(resp.status == .badRequest, "\(method) \(uri): \(resp.status)")
                    if method != .HEAD {
                        #expect(resp.errorCode == "NAME_INVALID", "\(method) \(uri): \(resp.text)")
                    }
                }
            }
            try await victim.assertIntact(r, after: "invalid names")
            let catalog = try await r.send(.GET, "/v2/_catalog")
            #expect(catalog.json["repositories"] as? [String] == [Victim.repo])
        }
    }

    @Test func longestValidNameWorksAndOneMoreIsRejected() async throws {
        try await TestRegistry.with { r in
            let name255 = String(repeating: "ab/", count: 84) + "abc"
            #expect(name255.utf8.count == 255)
            let blob = Array("longest name".utf8)
            let digest = try await r.pushBlob(name255, blob)
            let get = try await r.send(.GET, "/v2/\(name255)/blobs/\(digest)")
            #expect(get.status == .ok && get.body == blob)
            let tooLong = try await r.send(.GET, "/v2/\(name255)d/blobs/\(digest)")
            #expect(tooLong.status == .badRequest)
            #expect(tooLong.errorCode == "NAME_INVALID")
        }
    }

    /// Not API endpoints at all: 404, never a write, never a 5xx.
    @Test func nonEndpointPathsAre404() async throws {
        try await TestRegistry.with { r in
            let victim = try await Victim.push(r)
            for uri in ["/v2/victim/app/manifests/stable/", "/v2/victim/app/", "/v2/victim/app/tags/list/",
                        "/v2/victim/app/blobs/", "/v2/victim/app/manifests/", "/v2/victim/app/blobs/uploads/x/y",
                        "/v2/victim/app/blobs/uploads/../x", "/v2/victim/app/manifests/../../x/manifests/stable/"] {
                for method in [HTTPMethod.GET, .PUT, .DELETE, .PATCH] {
                    let resp = try await r.send(method, uri, body: method == .GET || method == .DELETE ? nil : [1, 2, 3])
                    #expect(resp.status == .notFound, "\(method) \(uri): \(resp.status)")
                }
            }
            try await victim.assertIntact(r, after: "non-endpoint paths")
        }
    }
}
