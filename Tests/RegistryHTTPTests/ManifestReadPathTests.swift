// The manifest read path (issue 12): the index answers HEAD, 304 and the
// headers of a GET without reading the manifest's bytes; a GET reads them
// from the packs once, then from the verified manifest cache. Shown with
// the engine's `store.read.after-lookup` failpoint armed to fail: every read
// of pack bytes fails while it is armed.

import CASEngine
import Foundation
import Testing
@testable import RegistryHTTP

@Suite(.serialized) struct ManifestReadPathTests {
    @Test func headAnd304NeverReadTheBytesAndASecondGETComesFromTheCache() async throws {
        try await TestRegistry.with { r in
            let manifest = try await Fixtures.image(r, repo: "app", seed: "read-path")
            let digest = Fixtures.sha256(manifest)
            #expect(try await r.putManifest("app", "v1", manifest).status == .created)

            Failpoint.arm(.readAfterLookup, .fail, scope: r.root)
            defer { Failpoint.disarm(.readAfterLookup) }
            for ref in ["v1", digest] {
                let head = try await r.send(.HEAD, "/v2/app/manifests/\(ref)")
                #expect(head.status == .ok, "HEAD \(ref) read the bytes: \(head.status)")
                #expect(head["Content-Length"] == String(manifest.count))
                #expect(head["Docker-Content-Digest"] == digest)
                let notModified = try await r.send(.GET, "/v2/app/manifests/\(ref)", headers: [("If-None-Match", "\"\(digest)\"")])
                #expect(notModified.status == .notModified)
            }
            // Not cached yet: the GET needs the packs, which fail.
            #expect(try await r.send(.GET, "/v2/app/manifests/v1").status == .internalServerError)

            Failpoint.disarm(.readAfterLookup)
            #expect(try await r.send(.GET, "/v2/app/manifests/v1").body == manifest)
            Failpoint.arm(.readAfterLookup, .fail, scope: r.root)
            for ref in ["v1", digest] {
                let get = try await r.send(.GET, "/v2/app/manifests/\(ref)")
                #expect(get.status == .ok, "GET \(ref) after a GET read the packs again")
                #expect(get.body == manifest)
            }

            // The cache never answers for a manifest the repository no longer has.
            #expect(try await r.send(.DELETE, "/v2/app/manifests/\(digest)").status == .accepted)
            #expect(try await r.send(.GET, "/v2/app/manifests/\(digest)").status == .notFound)
            #expect(try await r.send(.GET, "/v2/other/manifests/\(digest)").status == .notFound)
        }
    }

    /// Blob HEAD: a referenced blob is answered from the index alone; a
    /// zero-ref one still goes through the grace-period restart (the
    /// engine's `store.stat.after-check` point, hit only on that path).
    @Test func blobHEADRestartsTheGraceOfAZeroRefBlobOnly() async throws {
        try await TestRegistry.with { r in
            let manifest = try await Fixtures.image(r, repo: "app", seed: "blob-head")
            #expect(try await r.putManifest("app", "v1", manifest).status == .created)
            let layer = Fixtures.sha256(Fixtures.bytes("layer-blob-head"))
            let loose = try await r.pushBlob("app", Fixtures.bytes("pushed, referenced by nothing"))
            Failpoint.arm(.statAfterCheck, .fail, scope: r.root)
            defer { Failpoint.disarm(.statAfterCheck) }
            #expect(try await r.send(.HEAD, "/v2/app/blobs/\(layer)").status == .ok)
            #expect(try await r.send(.HEAD, "/v2/app/blobs/\(loose)").status == .internalServerError,
                    "a zero-ref blob must restart its grace period before a client is told it exists")
            Failpoint.disarm(.statAfterCheck)
            #expect(try await r.send(.HEAD, "/v2/app/blobs/\(loose)").status == .ok)
            #expect(try await r.send(.HEAD, "/v2/other/blobs/\(layer)").status == .notFound)
        }
    }

    @Test func theCacheStaysWithinItsCapacity() {
        let cache = ManifestCache(capacity: 16 * 1000)        // 1000 bytes a shard
        var digests: [BlobDigest] = []
        for i in 0..<400 {
            let bytes = [UInt8](repeating: UInt8(i % 251), count: 100) + Array(String(i).utf8)
            let d = BlobDigest.compute(bytes, .sha256)
            digests.append(d)
            cache.put(d, bytes)
            #expect(cache.size <= 16 * 1000)
        }
        #expect(cache.get(digests.last!) != nil, "the newest entry is kept")
        #expect(digests.filter { cache.get($0) != nil }.count < 400, "older entries were evicted")
        let huge = [UInt8](repeating: 1, count: 2000)
        cache.put(BlobDigest.compute(huge, .sha256), huge)
        #expect(cache.get(BlobDigest.compute(huge, .sha256)) == nil, "larger than a shard: not cached")
        #expect(ManifestCache(capacity: 0).get(digests[0]) == nil)
    }
}
