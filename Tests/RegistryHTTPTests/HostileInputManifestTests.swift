import Foundation
import NIOHTTP1
import Testing

/// Hostile manifest bodies, all PUT over the victim's own tag: each is
/// rejected and the tag still serves the victim's bytes afterwards.
@Suite("Hostile input: manifests")
struct HostileInputManifestTests {
    static let tagURI = "/v2/\(Victim.repo)/manifests/stable"

    @Test func deeplyNestedJSONIsRejectedQuickly() async throws {
        try await TestRegistry.with { r in
            let victim = try await Victim.push(r)
            let bodies: [(String, [UInt8])] = [
                ("100k [", Array(repeating: UInt8(ascii: "["), count: 100_000)),
                ("100k [ closed", Array(repeating: UInt8(ascii: "["), count: 100_000) + Array(repeating: UInt8(ascii: "]"), count: 100_000)),
                ("50k {\"a\":", Array(String(repeating: "{\"a\":", count: 50_000).utf8)),
                ("nested in config", Array(("{\"schemaVersion\":2,\"mediaType\":\"\(Fixtures.ociManifest)\",\"config\":"
                    + String(repeating: "[", count: 70_000)).utf8)),
                ("65 levels", Array(("{\"schemaVersion\":2,\"annotations\":" + String(repeating: "[", count: 64)
                    + String(repeating: "]", count: 64) + "}").utf8)),
            ]
            for (what, body) in bodies {
                // An answer at all (the client's own timeout bounds the wait)
                // shows the parser neither overflowed its stack nor hung; speed
                // is for Benchmarks/, not a wall-clock limit here.
                let resp = try await r.send(.PUT, Self.tagURI, headers: [("Content-Type", Fixtures.ociManifest)], body: body)
                #expect(resp.status == .badRequest && resp.errorCode == "MANIFEST_INVALID", "\(what): \(resp.status) \(resp.text.prefix(200))")
                try await victim.assertIntact(r, after: what)
            }
        }
    }

    /// Long enough that an answer before it cannot be the stall timer's doing.
    static let stallTimeout = 30.0

    @Test func hugeManifestIs413() async throws {
        try await TestRegistry.with({ $0.limits.bodyStallTimeout = Self.stallTimeout }) { r in
            let victim = try await Victim.push(r)
            let limit = 4 << 20
            // Streamed without Content-Length (chunked): the limit is enforced while reading.
            var huge = Array("{\"schemaVersion\":2,\"annotations\":{\"a\":\"".utf8)
            huge += Array(repeating: UInt8(ascii: "x"), count: limit)
            huge += Array("\"}}".utf8)
            let chunks = stride(from: 0, to: huge.count, by: 256 << 10).map { Array(huge[$0..<min($0 + (256 << 10), huge.count)]) }
            let streamed = try await TestHTTPClient.send(port: r.port, [
                TestRequest(.PUT, Self.tagURI, headers: [("Content-Type", Fixtures.ociManifest)], chunks: chunks, contentLength: false),
            ])[0]
            #expect(streamed.status == .payloadTooLarge, "chunked: \(streamed.status)")
            #expect(streamed.errorCode == "MANIFEST_INVALID")
            try await victim.assertIntact(r, after: "huge chunked manifest")

            // Declared 1 GiB, a few bytes sent, then the client stalls: the
            // handler refuses on the declared length and the answer goes out
            // at once, unread body or not (HTTPConnection closes rather than
            // drain more than discardLimit). The body stall timeout is set
            // long: waiting for the body would end in that close, unanswered.
            let c = try await RawConnection(port: r.port)
            let declaredStart = ContinuousClock.now
            try await c.write("PUT \(Self.tagURI) HTTP/1.1\r\nHost: x\r\nContent-Type: \(Fixtures.ociManifest)\r\n"
                + "Content-Length: \(1 << 30)\r\n\r\n{\"schemaVersion\":2,")
            let (bytes, closed) = try await c.read(timeout: 60)
            let answeredAfter = ContinuousClock.now - declaredStart
            c.close()
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(RawConnection.status(bytes) == 413, "\(text.prefix(300))")
            #expect(RawConnection.errorCode(bytes) == "MANIFEST_INVALID", "\(text.prefix(300))")
            #expect(text.lowercased().contains("\r\nconnection: close\r\n"), "\(text.prefix(300))")
            #expect(closed, "the connection must close: the rest of the body is not read")
            #expect(answeredAfter < .seconds(Int(Self.stallTimeout)), "answered only after \(answeredAfter)")
            try await victim.assertIntact(r, after: "declared 1 GiB manifest")
        }
    }

    @Test func bodyOfTheWrongMediaTypeIsManifestInvalid() async throws {
        try await TestRegistry.with { r in
            let victim = try await Victim.push(r)
            let indexWithType = Array("{\"schemaVersion\":2,\"mediaType\":\"\(Fixtures.ociIndex)\",\"manifests\":[{\"mediaType\":\"\(Fixtures.ociManifest)\",\"digest\":\"\(victim.manifestDigest)\",\"size\":\(victim.manifest.count)}]}".utf8)
            let indexWithoutType = Array("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"\(Fixtures.ociManifest)\",\"digest\":\"\(victim.manifestDigest)\",\"size\":\(victim.manifest.count)}]}".utf8)
            let cases: [(String, [UInt8], String)] = [
                ("index as image (mediaType set)", indexWithType, Fixtures.ociManifest),
                ("index as image (no mediaType)", indexWithoutType, Fixtures.ociManifest),
                ("index as docker manifest", indexWithoutType, Fixtures.dockerManifest),
                ("image as index", victim.manifest, Fixtures.ociIndex),
                ("image as docker list", victim.manifest, "application/vnd.docker.distribution.manifest.list.v2+json"),
                ("image as docker manifest", victim.manifest, Fixtures.dockerManifest),
                ("image as layer type", victim.manifest, "application/vnd.oci.image.layer.v1.tar"),
            ]
            for (what, body, type) in cases {
                let resp = try await r.send(.PUT, Self.tagURI, headers: [("Content-Type", type)], body: body)
                #expect(resp.status == .badRequest && resp.errorCode == "MANIFEST_INVALID", "\(what): \(resp.status) \(resp.text)")
            }
            try await victim.assertIntact(r, after: "wrong media types")
        }
    }

    @Test func garbageBodiesAreManifestInvalid() async throws {
        try await TestRegistry.with { r in
            let victim = try await Victim.push(r)
            let d = victim.blobDigest
            let bodies: [String] = [
                "", "null", "[]", "{}", "\"x\"", "2", "{\"schemaVersion\":2",
                "{\"schemaVersion\":\"2\",\"config\":{}}",
                "{\"schemaVersion\":1e400}", "{\"schemaVersion\":2.0000000000000001,\"layers\":[]}",
                "{\"schemaVersion\":99999999999999999999999,\"layers\":[]}",
                "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"\(d)\",\"size\":-1},\"layers\":[]}",
                "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"\(d)\",\"size\":1.5},\"layers\":[]}",
                "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"\(d)\",\"size\":1e30},\"layers\":[]}",
                "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"\(d)\",\"size\":99999999999999999999},\"layers\":[]}",
                "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":null,\"size\":1},\"layers\":[]}",
                "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"md5:00\",\"size\":1},\"layers\":[]}",
                "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"\(d.uppercased())\",\"size\":1},\"layers\":[]}",
                "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"\(d)\",\"size\":1},\"layers\":{}}",
                "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"\(d)\",\"size\":1},\"layers\":[null]}",
                "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"\(d)\",\"size\":1},\"layers\":[],\"manifests\":[]}",
                "{\"schemaVersion\":2,\"mediaType\":7,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"\(d)\",\"size\":1},\"layers\":[]}",
                "{\"schemaVersion\":2,\"mediaType\":\"\(Fixtures.ociManifest)\",\"config\":{\"mediaType\":\"a/b\",\"digest\":\"\(d)\",\"size\":1},\"layers\":[],\"annotations\":{\"a\":1}}",
                "\u{0}", "{\"schemaVersion\":2,\u{0}}",
            ]
            var raw = bodies.map { Array($0.utf8) }
            raw.append([0xEF, 0xBB, 0xBF] + victim.manifest)  // BOM
            raw.append([0xFF, 0xFE, 0x7B, 0x00])  // UTF-16
            raw.append(Array(victim.manifest.dropLast()) + [0xC3])  // truncated UTF-8
            for body in raw {
                let resp = try await r.send(.PUT, Self.tagURI, headers: [("Content-Type", Fixtures.ociManifest)], body: body)
                let shown = String(decoding: body.prefix(100), as: UTF8.self)
                #expect(resp.status == .badRequest, "\(shown): \(resp.status) \(resp.text)")
                #expect(resp.errorCode == "MANIFEST_INVALID", "\(shown): \(resp.text)")
            }
            try await victim.assertIntact(r, after: "garbage manifests")
        }
    }

    /// Blobs pushed to another repository do not count as present here.
    @Test func blobsOfAnotherRepositoryAreManifestBlobUnknown() async throws {
        try await TestRegistry.with { r in
            let victim = try await Victim.push(r)
            // Config and layer exist only in "elsewhere/src".
            let foreign = try await Fixtures.image(r, repo: "elsewhere/src", seed: "foreign")
            let resp = try await r.putManifest(Victim.repo, "stable", foreign)
            #expect(resp.status == .badRequest && resp.errorCode == "MANIFEST_BLOB_UNKNOWN", "\(resp.status) \(resp.text)")
            let byDigest = try await r.putManifest(Victim.repo, Fixtures.sha256(foreign), foreign)
            #expect(byDigest.status == .badRequest && byDigest.errorCode == "MANIFEST_BLOB_UNKNOWN")

            // An index whose child manifest lives only in the other repository.
            let child = try await r.putManifest("elsewhere/src", "child", foreign)
            #expect(child.status == .created)
            let index = Array("{\"schemaVersion\":2,\"mediaType\":\"\(Fixtures.ociIndex)\",\"manifests\":[{\"mediaType\":\"\(Fixtures.ociManifest)\",\"digest\":\"\(Fixtures.sha256(foreign))\",\"size\":\(foreign.count)}]}".utf8)
            let idx = try await r.putManifest(Victim.repo, "stable", index, mediaType: Fixtures.ociIndex)
            #expect(idx.status == .badRequest && idx.errorCode == "MANIFEST_BLOB_UNKNOWN", "\(idx.status) \(idx.text)")

            // The victim's own blobs and one foreign layer: still unknown.
            let mixed = Array(String(decoding: victim.manifest, as: UTF8.self)
                .replacingOccurrences(of: "\"layers\":[", with: "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"\(Fixtures.sha256(Array("layer-foreign".utf8)))\",\"size\":13},").utf8)
            let m = try await r.putManifest(Victim.repo, "stable", mixed)
            #expect(m.status == .badRequest && m.errorCode == "MANIFEST_BLOB_UNKNOWN", "\(m.status) \(m.text)")

            // Foreign blobs stay invisible through this repository.
            let get = try await r.send(.GET, "/v2/\(Victim.repo)/manifests/\(Fixtures.sha256(foreign))")
            #expect(get.status == .notFound)
            try await victim.assertIntact(r, after: "cross-repository references")
        }
    }
}
