import CASEngine
import Foundation
import NIOHTTP1
import Testing
@testable import RegistryHTTP

@Suite("Blobs and uploads (real server, real store)")
struct BlobEndpointTests {
    @Test func baseEndpointAndUnknownRoute() async throws {
        try await TestRegistry.with { r in
            let base = try await r.send(.GET, "/v2/")
            #expect(base.status == .ok)
            #expect(base.text == "{}")
            #expect(base["Docker-Distribution-API-Version"] == "registry/2.0")
            let nf = try await r.send(.GET, "/nope")
            #expect(nf.status == .notFound)
            #expect(nf["Docker-Distribution-API-Version"] == "registry/2.0")
            let bad = try await r.send(.POST, "/v2/a/tags/list")
            #expect(bad.status == .methodNotAllowed)
            #expect(bad.errorCode == "UNSUPPORTED")
        }
    }

    @Test func monolithicPushGetHeadRange() async throws {
        try await TestRegistry.with { r in
            let blob = Array("hello, berth".utf8)
            let digest = Fixtures.sha256(blob)
            let put = try await r.send(.POST, "/v2/a/b/blobs/uploads/?digest=\(digest)", body: blob)
            #expect(put.status == .created)
            #expect(put["Location"] == "/v2/a/b/blobs/\(digest)")
            #expect(put["Docker-Content-Digest"] == digest)

            let get = try await r.send(.GET, "/v2/a/b/blobs/\(digest)")
            #expect(get.status == .ok)
            #expect(get.body == blob)
            #expect(get["Content-Type"] == "application/octet-stream")
            #expect(get["Docker-Content-Digest"] == digest)
            #expect(get["Accept-Ranges"] == "bytes")

            let head = try await r.send(.HEAD, "/v2/a/b/blobs/\(digest)")
            #expect(head.status == .ok)
            #expect(head["Content-Length"] == String(blob.count))
            #expect(head.body.isEmpty)

            let range = try await r.send(.GET, "/v2/a/b/blobs/\(digest)", headers: [("Range", "bytes=7-11")])
            #expect(range.status == .partialContent)
            #expect(range.text == "berth")
            #expect(range["Content-Range"] == "bytes 7-11/\(blob.count)")

            let suffix = try await r.send(.GET, "/v2/a/b/blobs/\(digest)", headers: [("Range", "bytes=-5")])
            #expect(suffix.text == "berth")

            let unsat = try await r.send(.GET, "/v2/a/b/blobs/\(digest)", headers: [("Range", "bytes=100-200")])
            #expect(unsat.status == .rangeNotSatisfiable)
            #expect(unsat["Content-Range"] == "bytes */\(blob.count)")

            let missing = try await r.send(.GET, "/v2/a/b/blobs/\(Fixtures.sha256(Array("nope".utf8)))")
            #expect(missing.status == .notFound)
            #expect(missing.errorCode == "BLOB_UNKNOWN")
            let missingHead = try await r.send(.HEAD, "/v2/a/b/blobs/\(Fixtures.sha256(Array("nope".utf8)))")
            #expect(missingHead.status == .notFound)
            // Not linked into another repository.
            let other = try await r.send(.GET, "/v2/other/blobs/\(digest)")
            #expect(other.status == .notFound)
        }
    }

    @Test func largeBlobStreamsBothWays() async throws {
        try await TestRegistry.with { r in
            var blob = [UInt8](repeating: 0, count: 3 << 20 + 17)
            for i in blob.indices { blob[i] = UInt8(truncatingIfNeeded: i &* 31 &+ i >> 11) }
            let digest = Fixtures.sha256(blob)
            let chunks = stride(from: 0, to: blob.count, by: 64 << 10).map { Array(blob[$0..<min($0 + (64 << 10), blob.count)]) }
            let put = try await r.send(.POST, "/v2/big/blobs/uploads/?digest=\(digest)", chunks: chunks)
            #expect(put.status == .created)
            let get = try await r.send(.GET, "/v2/big/blobs/\(digest)")
            #expect(get.body.count == blob.count)
            #expect(get.body == blob)
            let mid = try await r.send(.GET, "/v2/big/blobs/\(digest)", headers: [("Range", "bytes=1048570-2097160")])
            #expect(mid.status == .partialContent)
            #expect(mid.body == Array(blob[1048570...2097160]))
        }
    }

    @Test func sha512RoundTrip() async throws {
        try await TestRegistry.with { r in
            let blob = Array("berth sha512 blob".utf8)
            let digest = "sha512:ed438d0c432b8737a9bb493abf3e6e6811311804bd740dd676477d7777433ab409a09825b2bf5c3ef7415dd79d2dc79b06c5e1628870569f933c8002269c2d45"
            let post = try await r.send(.POST, "/v2/s/blobs/uploads/")
            #expect(post.status == .accepted)
            let loc = try #require(post["Location"])
            let put = try await r.send(.PUT, "\(loc)?digest=\(digest)", body: blob)
            #expect(put.status == .created)
            #expect(put["Docker-Content-Digest"] == digest)
            let get = try await r.send(.GET, "/v2/s/blobs/\(digest)")
            #expect(get.body == blob)
            #expect(get["Docker-Content-Digest"] == digest)
        }
    }

    @Test func postThenPut() async throws {
        try await TestRegistry.with({ $0.chunkMinLength = 1024 }) { r in
            let post = try await r.send(.POST, "/v2/p/blobs/uploads/")
            #expect(post.status == .accepted)
            #expect(post["Range"] == "0-0")
            #expect(post["OCI-Chunk-Min-Length"] == "1024")
            let id = try #require(post["Docker-Upload-UUID"])
            #expect(post["Location"] == "/v2/p/blobs/uploads/\(id)")
            let blob = Array("post then put".utf8)
            let put = try await r.send(.PUT, "/v2/p/blobs/uploads/\(id)?digest=\(Fixtures.sha256(blob))", body: blob)
            #expect(put.status == .created)
            #expect(put["Location"] == "/v2/p/blobs/\(Fixtures.sha256(blob))")
            // The session is gone.
            let status = try await r.send(.GET, "/v2/p/blobs/uploads/\(id)")
            #expect(status.status == .notFound)
            #expect(status.errorCode == "BLOB_UPLOAD_UNKNOWN")
        }
    }

    @Test func chunkedPatchesThenPut() async throws {
        try await TestRegistry.with { r in
            let parts = ["first-", "second-", "third"].map { Array($0.utf8) }
            let blob = parts.flatMap { $0 }
            let post = try await r.send(.POST, "/v2/c/blobs/uploads/")
            var loc = try #require(post["Location"])
            var offset = 0
            for p in parts {
                let patch = try await r.send(.PATCH, loc, headers: [
                    ("Content-Type", "application/octet-stream"),
                    ("Content-Range", "\(offset)-\(offset + p.count - 1)"),
                ], body: p)
                #expect(patch.status == .accepted)
                offset += p.count
                #expect(patch["Range"] == "0-\(offset - 1)")
                loc = try #require(patch["Location"])
            }
            let status = try await r.send(.GET, loc)
            #expect(status.status == .noContent)
            #expect(status["Range"] == "0-\(blob.count - 1)")
            #expect(status["Docker-Upload-UUID"] != nil)

            // Out of order: starts past the end.
            let ooo = try await r.send(.PATCH, loc, headers: [("Content-Range", "\(offset + 5)-\(offset + 6)")], body: [1, 2])
            #expect(ooo.status == .rangeNotSatisfiable)
            #expect(ooo["Range"] == "0-\(blob.count - 1)")

            let put = try await r.send(.PUT, "\(loc)?digest=\(Fixtures.sha256(blob))")
            #expect(put.status == .created)
            let get = try await r.send(.GET, "/v2/c/blobs/\(Fixtures.sha256(blob))")
            #expect(get.body == blob)
        }
    }

    @Test func streamingPatchWithoutContentRangeAndFinalChunkOnPut() async throws {
        try await TestRegistry.with { r in
            let post = try await r.send(.POST, "/v2/s/blobs/uploads/")
            let loc = try #require(post["Location"])
            let a = Array(repeating: UInt8(7), count: 200_000), b = Array("tail".utf8)
            let patch = try await TestHTTPClient.send(port: r.port, [
                TestRequest(.PATCH, loc, chunks: [Array(a[0..<100_000]), Array(a[100_000...])], contentLength: false),
            ])[0]
            #expect(patch.status == .accepted)
            #expect(patch["Range"] == "0-199999")
            let blob = a + b
            let put = try await r.send(.PUT, "\(loc)?digest=\(Fixtures.sha256(blob))",
                                       headers: [("Content-Range", "200000-200003")], body: b)
            #expect(put.status == .created)
        }
    }

    @Test func uploadErrors() async throws {
        try await TestRegistry.with { r in
            let blob = Array("content".utf8)
            // Wrong digest on PUT.
            var loc = try #require(try await r.send(.POST, "/v2/e/blobs/uploads/")["Location"])
            let wrong = try await r.send(.PUT, "\(loc)?digest=\(Fixtures.sha256(Array("other".utf8)))", body: blob)
            #expect(wrong.status == .badRequest)
            #expect(wrong.errorCode == "DIGEST_INVALID")
            // Missing digest.
            loc = try #require(try await r.send(.POST, "/v2/e/blobs/uploads/")["Location"])
            let none = try await r.send(.PUT, loc, body: blob)
            #expect(none.errorCode == "DIGEST_INVALID")
            // Malformed digest.
            let malformed = try await r.send(.PUT, "\(loc)?digest=sha256:xyz", body: blob)
            #expect(malformed.errorCode == "DIGEST_INVALID")
            // Content-Range length disagrees with the body.
            loc = try #require(try await r.send(.POST, "/v2/e/blobs/uploads/")["Location"])
            let size = try await r.send(.PUT, "\(loc)?digest=\(Fixtures.sha256(blob))",
                                        headers: [("Content-Range", "0-99"), ("Content-Length", "7")], body: blob)
            #expect(size.status == .badRequest)
            #expect(size.errorCode == "SIZE_INVALID")
            // Unknown session.
            let unknown = try await r.send(.PATCH, "/v2/e/blobs/uploads/00000000-0000-0000-0000-000000000000", body: blob)
            #expect(unknown.status == .notFound)
            #expect(unknown.errorCode == "BLOB_UPLOAD_UNKNOWN")
            // Monolithic with the wrong digest.
            let mono = try await r.send(.POST, "/v2/e/blobs/uploads/?digest=\(Fixtures.sha256(Array("x".utf8)))", body: blob)
            #expect(mono.errorCode == "DIGEST_INVALID")
            // Unsupported algorithm.
            let algo = try await r.send(.POST, "/v2/e/blobs/uploads/?digest=md5:0123456789abcdef0123456789abcdef", body: blob)
            #expect(algo.status == .badRequest)
            #expect(algo.errorCode == "DIGEST_INVALID")
        }
    }

    @Test func cancelUpload() async throws {
        try await TestRegistry.with({ $0.deleteEnabled = false }) { r in
            let loc = try #require(try await r.send(.POST, "/v2/x/blobs/uploads/")["Location"])
            let del = try await r.send(.DELETE, loc)
            #expect(del.status == .noContent)
            let status = try await r.send(.GET, loc)
            #expect(status.errorCode == "BLOB_UPLOAD_UNKNOWN")
        }
    }

    @Test func mounts() async throws {
        try await TestRegistry.with { r in
            let blob = Array("mount me".utf8)
            let digest = try await r.pushBlob("src", blob)
            let mount = try await r.send(.POST, "/v2/dst/blobs/uploads/?mount=\(digest)&from=src")
            #expect(mount.status == .created)
            #expect(mount["Location"] == "/v2/dst/blobs/\(digest)")
            #expect(mount["Docker-Content-Digest"] == digest)
            #expect(try await r.send(.GET, "/v2/dst/blobs/\(digest)").body == blob)

            let anon = try await r.send(.POST, "/v2/anon/blobs/uploads/?mount=\(digest)")
            #expect(anon.status == .created)
            #expect(try await r.send(.HEAD, "/v2/anon/blobs/\(digest)").status == .ok)

            // Not available: falls back to a fresh upload session.
            let missing = Fixtures.sha256(Array("absent".utf8))
            let fallback = try await r.send(.POST, "/v2/dst/blobs/uploads/?mount=\(missing)&from=src")
            #expect(fallback.status == .accepted)
            #expect(fallback["Docker-Upload-UUID"] != nil)
        }
    }

    @Test func blobDelete() async throws {
        try await TestRegistry.with { r in
            let digest = try await r.pushBlob("d", Array("delete me".utf8))
            let del = try await r.send(.DELETE, "/v2/d/blobs/\(digest)")
            #expect(del.status == .accepted)
            #expect(try await r.send(.HEAD, "/v2/d/blobs/\(digest)").status == .notFound)
            let again = try await r.send(.DELETE, "/v2/d/blobs/\(digest)")
            #expect(again.errorCode == "BLOB_UNKNOWN")
        }
        try await TestRegistry.with({ $0.deleteEnabled = false }) { r in
            let digest = try await r.pushBlob("d", Array("keep me".utf8))
            let del = try await r.send(.DELETE, "/v2/d/blobs/\(digest)")
            #expect(del.status == .methodNotAllowed)
            #expect(del.errorCode == "UNSUPPORTED")
        }
    }

    @Test func keepAliveAndPipelining() async throws {
        try await TestRegistry.with { r in
            let digest = try await r.pushBlob("k", Array("pipelined".utf8))
            let requests = [
                TestRequest(.GET, "/v2/"),
                TestRequest(.GET, "/v2/k/blobs/\(digest)"),
                TestRequest(.HEAD, "/v2/k/blobs/\(digest)"),
                TestRequest(.GET, "/v2/k/blobs/sha256:bad"),
                TestRequest(.GET, "/v2/k/blobs/\(digest)", headers: [("Range", "bytes=0-3")]),
            ]
            for pipelined in [false, true] {
                let responses = try await r.send(requests, pipelined: pipelined)
                #expect(responses.map(\.status.code) == [200, 200, 200, 400, 206])
                #expect(responses[1].text == "pipelined")
                #expect(responses[4].text == "pipe")
            }
        }
    }

    @Test
    func engineLimits() async throws {
        var options = StoreOptions()
        options.maxUploadSize = 10
        options.maxUploadSessions = 1
        try await TestRegistry.with(storeOptions: options) { r in
            let loc = try #require(try await r.send(.POST, "/v2/l/blobs/uploads/")["Location"])
            let second = try await r.send(.POST, "/v2/l/blobs/uploads/")
            #expect(second.status == .tooManyRequests)
            #expect(second.errorCode == "TOO_MANY_REQUESTS")
            let big = try await r.send(.PATCH, loc, body: Array(repeating: 1, count: 20))
            #expect(big.status == .payloadTooLarge)
            #expect(big.errorCode == "SIZE_INVALID")
        }
    }
}
