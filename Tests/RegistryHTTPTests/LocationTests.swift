// Location headers as distribution builds them: under `http.host` when set,
// https when Berth terminates TLS, paths with `relativeurls`.

import Foundation
import NIOHTTP1
import Testing
@testable import RegistryHTTP

@Suite struct LocationTests {
    @Test func externalURLPrefixesGeneratedLocations() async throws {
        try await TestRegistry.with({ $0.relativeURLs = false; $0.externalURL = "https://registry.example.com/" }) { registry in
            let r = try await TestHTTPClient.send(port: registry.port, [TestRequest(.POST, "/v2/app/blobs/uploads/")])
            let location = try #require(r[0].headers.first(name: "Location"))
            #expect(location.hasPrefix("https://registry.example.com/v2/app/blobs/uploads/"), "\(location)")
        }
    }

    @Test func absoluteLocationsFollowTheForwardedHost() async throws {
        try await TestRegistry.with({ $0.relativeURLs = false }) { registry in
            let r = try await TestHTTPClient.send(port: registry.port,
                                                  [TestRequest(.POST, "/v2/app/blobs/uploads/", headers: [("X-Forwarded-Host", "reg.local:5000")])])
            #expect(r[0].headers.first(name: "Location")?.hasPrefix("http://reg.local:5000/v2/app/blobs/uploads/") == true)
        }
    }

    @Test func locationsAreHTTPSWhenBerthTerminatesTLS() async throws {
        let f = try TLSFixtures.make()
        defer { f.remove() }
        try await TestRegistry.with({ $0.tls = f.serverTLS(); $0.relativeURLs = false }) { registry in
            let r = try await Curl.run(["--cacert", f.caCert, "-i", "-X", "POST", "-o", "-",
                                        "https://127.0.0.1:\(registry.port)/v2/app/blobs/uploads/"])
            let location = r.stdout.split(separator: "\r\n").first { $0.lowercased().hasPrefix("location:") }
            #expect(location?.contains("https://127.0.0.1:\(registry.port)/v2/app/blobs/uploads/") == true, "\(r.stdout)")
        }
    }
}
