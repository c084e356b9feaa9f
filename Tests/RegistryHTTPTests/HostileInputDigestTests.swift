import Foundation
import NIOHTTP1
import Testing

/// Malformed digests and unsupported algorithms: 400 DIGEST_INVALID wherever
/// a digest is accepted (spec.md: "if the client provided digest is invalid or
/// uses an unsupported algorithm, the registry SHOULD respond with 400";
/// distribution uses DIGEST_INVALID for both).
@Suite("Hostile input: digests")
struct HostileInputDigestTests {
    static let hex64 = String(repeating: "ab", count: 32)
    static let malformed: [String] = [
        "sha256:xyz",
        "sha256:" + String(hex64.dropLast()),  // 63 hex
        "sha256:" + hex64 + "a",  // 65 hex
        "sha256:" + hex64.uppercased(),
        "sha256:" + String(hex64.dropLast()) + "G",
        "sha256:" + String(hex64.dropLast()) + "=",
        "sha256:",
        "sha512:" + hex64,  // sha512 needs 128
        "SHA256:" + hex64,
        "sha256" + hex64,
    ]
    static let unsupported: [String] = [
        "md5:d41d8cd98f00b204e9800998ecf8427e",
        "sha384:" + String(repeating: "0", count: 96),
        "sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709",
        "blake3:" + hex64,
        "sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564",
    ]

    @Test func blobEndpointsRejectMalformedAndUnsupportedDigests() async throws {
        try await TestRegistry.with { r in
            let victim = try await Victim.push(r)
            for digest in Self.malformed + Self.unsupported {
                for method in [HTTPMethod.GET, .DELETE] {
                    let resp = try await r.send(method, "/v2/\(Victim.repo)/blobs/\(digest)")
                    #expect(resp.status == .badRequest, "\(method) blob \(digest): \(resp.status)")
                    #expect(resp.errorCode == "DIGEST_INVALID", "\(method) blob \(digest): \(resp.text)")
                }
                let head = try await r.send(.HEAD, "/v2/\(Victim.repo)/blobs/\(digest)")
                #expect(head.status == .badRequest, "HEAD blob \(digest)")
                let ref = try await r.send(.GET, "/v2/\(Victim.repo)/referrers/\(digest)")
                #expect(ref.status == .badRequest && ref.errorCode == "DIGEST_INVALID", "referrers \(digest): \(ref.text)")
            }
            try await victim.assertIntact(r, after: "bad blob digests")
        }
    }

    @Test func manifestEndpointsRejectMalformedAndUnsupportedDigests() async throws {
        try await TestRegistry.with { r in
            let victim = try await Victim.push(r)
            // Only references with digest grammar: `SHA256:…` and `sha256<hex>` are a bad reference / a tag.
            for digest in (Self.malformed + Self.unsupported) where Digest_grammar(digest) {
                for method in [HTTPMethod.GET, .DELETE] {
                    let resp = try await r.send(method, "/v2/\(Victim.repo)/manifests/\(digest)")
                    #expect(resp.status == .badRequest && resp.errorCode == "DIGEST_INVALID",
                            "\(method) manifest \(digest): \(resp.status) \(resp.text)")
                }
                let put = try await r.putManifest(Victim.repo, digest, victim.manifest)
                #expect(put.status == .badRequest && put.errorCode == "DIGEST_INVALID", "PUT manifest \(digest): \(put.text)")
            }
            try await victim.assertIntact(r, after: "bad manifest digests")
        }
    }

    @Test func uploadEndpointsRejectMalformedAndUnsupportedDigests() async throws {
        try await TestRegistry.with { r in
            let victim = try await Victim.push(r)
            let blob = Array("payload under a bad digest".utf8)
            for digest in Self.malformed + Self.unsupported {
                let mono = try await r.send(.POST, "/v2/\(Victim.repo)/blobs/uploads/?digest=\(digest)", body: blob)
                #expect(mono.status == .badRequest && mono.errorCode == "DIGEST_INVALID", "monolithic \(digest): \(mono.text)")
                let mount = try await r.send(.POST, "/v2/other/blobs/uploads/?mount=\(digest)&from=\(Victim.repo)")
                #expect(mount.status == .badRequest && mount.errorCode == "DIGEST_INVALID", "mount \(digest): \(mount.text)")

                // A session survives a PUT with a bad digest and still completes.
                let start = try await r.send(.POST, "/v2/\(Victim.repo)/blobs/uploads/")
                let location = try #require(start["Location"])
                let bad = try await r.send(.PUT, "\(location)?digest=\(digest)", body: blob)
                #expect(bad.status == .badRequest && bad.errorCode == "DIGEST_INVALID", "PUT upload \(digest): \(bad.text)")
                let good = try await r.send(.PUT, "\(location)?digest=\(Fixtures.sha256(blob))", body: blob)
                #expect(good.status == .created, "upload after bad digest: \(good.text)")
            }
            try await victim.assertIntact(r, after: "bad upload digests")
        }
    }

    /// A PUT whose digest does not match the bytes: 400 DIGEST_INVALID, and
    /// neither the claimed digest nor the bytes' real digest becomes visible.
    @Test func digestMismatchStoresNothing() async throws {
        try await TestRegistry.with { r in
            let victim = try await Victim.push(r)
            let bytes = Array("the real content".utf8)
            let real = Fixtures.sha256(bytes)
            // Claim the victim's digest for other bytes (content spoofing).
            let claims = [victim.blobDigest, Fixtures.sha256(Array("something else".utf8)),
                          "sha512:" + String(repeating: "0", count: 128)]
            for claimed in claims {
                let mono = try await r.send(.POST, "/v2/\(Victim.repo)/blobs/uploads/?digest=\(claimed)", body: bytes)
                #expect(mono.status == .badRequest && mono.errorCode == "DIGEST_INVALID", "monolithic: \(mono.text)")

                let start = try await r.send(.POST, "/v2/\(Victim.repo)/blobs/uploads/")
                let location = try #require(start["Location"])
                let patch = try await r.send(.PATCH, location, body: bytes)
                #expect(patch.status == .accepted)
                let put = try await r.send(.PUT, "\(location)?digest=\(claimed)")
                #expect(put.status == .badRequest && put.errorCode == "DIGEST_INVALID", "chunked: \(put.text)")
                // The session is gone after a failed commit (distribution does the same).
                let after = try await r.send(.GET, location)
                #expect(after.status == .notFound && after.errorCode == "BLOB_UPLOAD_UNKNOWN")
            }
            for d in [real, claims[1], claims[2]] {
                let head = try await r.send(.HEAD, "/v2/\(Victim.repo)/blobs/\(d)")
                #expect(head.status == .notFound, "\(d) must not be stored")
            }
            try await victim.assertIntact(r, after: "digest mismatch")
        }
    }

    /// The body is shorter or longer than the upload says: 400 SIZE_INVALID, nothing stored.
    @Test func sizeMismatchStoresNothing() async throws {
        try await TestRegistry.with { r in
            let victim = try await Victim.push(r)
            let bytes = Array("sized content".utf8)
            let digest = Fixtures.sha256(bytes)
            for range in ["0-99", "0-3", "0-\(bytes.count)"] {
                let start = try await r.send(.POST, "/v2/\(Victim.repo)/blobs/uploads/")
                let location = try #require(start["Location"])
                let put = try await r.send(.PUT, "\(location)?digest=\(digest)",
                                           headers: [("Content-Range", range)], body: bytes)
                #expect(put.status == .badRequest && put.errorCode == "SIZE_INVALID", "Content-Range \(range): \(put.text)")
            }
            let head = try await r.send(.HEAD, "/v2/\(Victim.repo)/blobs/\(digest)")
            #expect(head.status == .notFound)
            try await victim.assertIntact(r, after: "size mismatch")
        }
    }
}

/// Whether `s` has the general digest grammar (so the manifest route reads it as a digest).
private func Digest_grammar(_ s: String) -> Bool {
    guard let colon = s.firstIndex(of: ":") else { return false }
    let alg = s[..<colon]
    return !alg.isEmpty && alg.allSatisfy { $0.isLowercase || $0.isNumber || "+._-".contains($0) }
        && !s[s.index(after: colon)...].isEmpty
}
