// ALPN and HTTP/2 with a real client (curl with nghttp2; required): h2 is negotiated,
// blobs go up and come back intact over h2, and `http2Enabled = false`
// leaves only http/1.1.

import Foundation
import Testing
@testable import RegistryHTTP

@Suite("HTTP/2", .serialized)
struct HTTP2Tests {
    /// curl with nghttp2 is part of the test environment: without it these
    /// tests fail (naming what is missing), they never skip.
    static func requireCurlWithHTTP2() throws {
        let version = try Curl.exec("/usr/bin/curl", ["--version"])
        try #require(version.stdout.contains("HTTP2"), "/usr/bin/curl lacks HTTP2 support: \(version.stdout)")
    }

    @Test("ALPN negotiates h2; blob push and pull over h2 keep the digest")
    func blobOverHTTP2() async throws {
        try Self.requireCurlWithHTTP2()
        let f = try TLSFixtures.make()
        defer { f.remove() }
        try await TestRegistry.with({ $0.tls = f.serverTLS() }) { registry in
            let base = "https://127.0.0.1:\(registry.port)"
            let v2 = try await Curl.run(["--http2", "--cacert", f.caCert, "-o", "/dev/null",
                                         "-w", "%{http_version} %{http_code}", base + "/v2/"])
            #expect(v2.stdout == "2 200", "\(v2.stderr)")

            // ~3 MiB: several DATA frames and flow-control windows each way.
            var blob = [UInt8](repeating: 0, count: 3 << 20 + 17)
            for i in blob.indices { blob[i] = UInt8(truncatingIfNeeded: i &* 2654435761 >> 7) }
            let digest = Fixtures.sha256(blob)
            let upload = f.dir + "/blob.bin"
            try Data(blob).write(to: URL(fileURLWithPath: upload))
            let push = try await Curl.run(["--http2", "--cacert", f.caCert, "-o", "/dev/null",
                                           "-w", "%{http_version} %{http_code}", "-X", "POST",
                                           "-H", "Content-Type: application/octet-stream",
                                           "--data-binary", "@" + upload,
                                           base + "/v2/h2/repo/blobs/uploads/?digest=\(digest)"])
            #expect(push.stdout == "2 201", "\(push.stderr)")

            let download = f.dir + "/blob.out"
            let pull = try await Curl.run(["--http2", "--cacert", f.caCert, "-o", download,
                                           "-w", "%{http_version} %{http_code}", base + "/v2/h2/repo/blobs/\(digest)"])
            #expect(pull.stdout == "2 200", "\(pull.stderr)")
            let got = try [UInt8](Data(contentsOf: URL(fileURLWithPath: download)))
            #expect(got.count == blob.count)
            #expect(Fixtures.sha256(got) == digest)

            // A range over h2 too.
            let rangeFile = f.dir + "/range.out"
            let range = try await Curl.run(["--http2", "--cacert", f.caCert, "-r", "10-19", "-o", rangeFile,
                                            "-w", "%{http_code}", base + "/v2/h2/repo/blobs/\(digest)"])
            #expect(range.stdout == "206")
            #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: rangeFile))) == Array(blob[10...19]))
        }
    }

    @Test("http2 disabled: ALPN offers only http/1.1")
    func http2Disabled() async throws {
        try Self.requireCurlWithHTTP2()
        let f = try TLSFixtures.make()
        defer { f.remove() }
        try await TestRegistry.with({ $0.tls = f.serverTLS(); $0.http2Enabled = false }) { registry in
            let r = try await Curl.run(["--http2", "--cacert", f.caCert, "-o", "/dev/null",
                                        "-w", "%{http_version} %{http_code}", "https://127.0.0.1:\(registry.port)/v2/"])
            #expect(r.stdout == "1.1 200", "\(r.stderr)")
        }
    }

    @Test("several requests multiplexed on one h2 connection")
    func multiplexed() async throws {
        try Self.requireCurlWithHTTP2()
        let f = try TLSFixtures.make()
        defer { f.remove() }
        try await TestRegistry.with({ $0.tls = f.serverTLS() }) { registry in
            let digest = try await registry.pushBlobOverTLS(f, "mux/repo", Array("hello h2".utf8))
            let url = "https://127.0.0.1:\(registry.port)/v2/mux/repo/blobs/\(digest)"
            let r = try await Curl.run(["--http2", "--cacert", f.caCert, "--parallel", "--parallel-immediate",
                                        "-w", "%{http_version} %{http_code}\n", url, url, url, url])
            let lines = r.stdout.components(separatedBy: "\n").filter { $0.hasSuffix("2 200") }
            #expect(lines.count == 4, "\(r.stdout) \(r.stderr)")
        }
    }
}

extension TestRegistry {
    /// Monolithic push over HTTPS/1.1 with the NIOSSL client.
    func pushBlobOverTLS(_ f: TLSFixtures, _ repo: String, _ bytes: [UInt8]) async throws -> String {
        let digest = Fixtures.sha256(bytes)
        let r = try await TLSTestConnection.with(port: port, try TLSTestConnection.configuration(f)) {
            try await $0.send(.POST, "/v2/\(repo)/blobs/uploads/?digest=\(digest)", body: bytes)
        }
        guard r.status == .created else { throw FixtureError.unexpected("push: \(r.status) \(r.text)") }
        return digest
    }
}
