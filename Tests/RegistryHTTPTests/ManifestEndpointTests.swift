import Foundation
import NIOHTTP1
import Testing
@testable import RegistryHTTP

@Suite("Manifests, tags, referrers (real server, real store)")
struct ManifestEndpointTests {
    @Test func putAndGetByTagAndDigest() async throws {
        try await TestRegistry.with { r in
            let manifest = try await Fixtures.image(r, repo: "app", seed: "1")
            let digest = Fixtures.sha256(manifest)
            let put = try await r.putManifest("app", "v1", manifest)
            #expect(put.status == .created)
            #expect(put["Location"] == "/v2/app/manifests/\(digest)")
            #expect(put["Docker-Content-Digest"] == digest)
            #expect(put["OCI-Subject"] == nil)

            for ref in ["v1", digest] {
                let get = try await r.send(.GET, "/v2/app/manifests/\(ref)", headers: [("Accept", Fixtures.ociManifest)])
                #expect(get.status == .ok)
                #expect(get.body == manifest)
                #expect(get["Content-Type"] == Fixtures.ociManifest)
                #expect(get["Docker-Content-Digest"] == digest)
                #expect(get["ETag"] == "\"\(digest)\"")
                let head = try await r.send(.HEAD, "/v2/app/manifests/\(ref)")
                #expect(head.status == .ok)
                #expect(head["Content-Length"] == String(manifest.count))
                #expect(head.body.isEmpty)
            }
            // The stored type is served even when Accept does not list it (see handler doc).
            let narrow = try await r.send(.GET, "/v2/app/manifests/v1", headers: [("Accept", Fixtures.dockerManifest)])
            #expect(narrow.status == .ok)
            #expect(narrow["Content-Type"] == Fixtures.ociManifest)

            let cached = try await r.send(.GET, "/v2/app/manifests/v1", headers: [("If-None-Match", "\"\(digest)\"")])
            #expect(cached.status == .notModified)
            #expect(cached.body.isEmpty)

            let unknown = try await r.send(.GET, "/v2/app/manifests/nope")
            #expect(unknown.status == .notFound)
            #expect(unknown.errorCode == "MANIFEST_UNKNOWN")
            let unknownDigest = try await r.send(.GET, "/v2/app/manifests/\(Fixtures.sha256([1]))")
            #expect(unknownDigest.errorCode == "MANIFEST_UNKNOWN")
        }
    }

    @Test func putByDigestAndExtraTags() async throws {
        try await TestRegistry.with { r in
            let manifest = try await Fixtures.image(r, repo: "app", seed: "2")
            let digest = Fixtures.sha256(manifest)
            let put = try await r.putManifest("app", "\(digest)?tag=a&tag=b", manifest)
            #expect(put.status == .created)
            #expect(put.headers["OCI-Tag"] == ["a", "b"])
            // Manifests are blobs of the repository too.
            let asBlob = try await r.send(.GET, "/v2/app/blobs/\(digest)")
            #expect(asBlob.status == .ok)
            #expect(asBlob.body == manifest)
            for tag in ["a", "b"] {
                #expect(try await r.send(.GET, "/v2/app/manifests/\(tag)").body == manifest)
            }
            let mismatch = try await r.putManifest("app", Fixtures.sha256([9]), manifest)
            #expect(mismatch.status == .badRequest)
            #expect(mismatch.errorCode == "DIGEST_INVALID")
        }
    }

    @Test func dockerSchema2AndIndex() async throws {
        try await TestRegistry.with { r in
            let docker = try await Fixtures.image(r, repo: "multi", seed: "amd64", mediaType: Fixtures.dockerManifest,
                                                  configType: "application/vnd.docker.container.image.v1+json",
                                                  layerType: "application/vnd.docker.image.rootfs.diff.tar.gzip")
            let put1 = try await r.putManifest("multi", "amd64", docker, mediaType: Fixtures.dockerManifest)
            #expect(put1.status == .created)
            #expect(try await r.send(.GET, "/v2/multi/manifests/amd64")["Content-Type"] == Fixtures.dockerManifest)
            let oci = try await Fixtures.image(r, repo: "multi", seed: "arm64")
            #expect(try await r.putManifest("multi", "arm64", oci).status == .created)

            let index = Fixtures.bytes("""
            {"schemaVersion":2,"mediaType":"\(Fixtures.ociIndex)","manifests":[\
            {"mediaType":"\(Fixtures.dockerManifest)","digest":"\(Fixtures.sha256(docker))","size":\(docker.count),"platform":{"architecture":"amd64","os":"linux"}},\
            {"mediaType":"\(Fixtures.ociManifest)","digest":"\(Fixtures.sha256(oci))","size":\(oci.count),"platform":{"architecture":"arm64","os":"linux"}}]}
            """)
            let put = try await r.putManifest("multi", "latest", index, mediaType: Fixtures.ociIndex)
            #expect(put.status == .created)
            let get = try await r.send(.GET, "/v2/multi/manifests/latest")
            #expect(get["Content-Type"] == Fixtures.ociIndex)
            #expect(get.body == index)

            // An index over a manifest the repository lacks.
            let dangling = Fixtures.bytes("""
            {"schemaVersion":2,"mediaType":"\(Fixtures.ociIndex)","manifests":[\
            {"mediaType":"\(Fixtures.ociManifest)","digest":"\(Fixtures.sha256([7, 7]))","size":2}]}
            """)
            let bad = try await r.putManifest("multi", "dangling", dangling, mediaType: Fixtures.ociIndex)
            #expect(bad.status == .badRequest)
            #expect(bad.errorCode == "MANIFEST_BLOB_UNKNOWN")
        }
    }

    @Test func manifestRejections() async throws {
        try await TestRegistry.with({ $0.manifestMaxSize = 2048 }) { r in
            let missing = Fixtures.bytes("""
            {"schemaVersion":2,"mediaType":"\(Fixtures.ociManifest)","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\(Fixtures.sha256([1]))","size":1},"layers":[]}
            """)
            let r1 = try await r.putManifest("rej", "missing", missing)
            #expect(r1.status == .badRequest)
            #expect(r1.errorCode == "MANIFEST_BLOB_UNKNOWN")

            let schema1 = Fixtures.bytes(#"{"schemaVersion":1,"name":"rej","tag":"x","fsLayers":[],"history":[]}"#)
            let r2 = try await r.putManifest("rej", "s1", schema1, mediaType: "application/vnd.docker.distribution.manifest.v1+prettyjws")
            #expect(r2.status == .badRequest)
            #expect(r2.errorCode == "MANIFEST_INVALID")

            let good = try await Fixtures.image(r, repo: "rej", seed: "ct")
            let r3 = try await r.putManifest("rej", "ct", good, mediaType: Fixtures.ociIndex)
            #expect(r3.status == .badRequest)
            #expect(r3.errorCode == "MANIFEST_INVALID")

            let big = Fixtures.bytes("{\"schemaVersion\":2,\"annotations\":{\"x\":\"" + String(repeating: "a", count: 4096) + "\"}}")
            let r4 = try await r.putManifest("rej", "big", big)
            #expect(r4.status == .payloadTooLarge)
            #expect(r4.errorCode == "MANIFEST_INVALID")

            let notJSON = try await r.putManifest("rej", "junk", Fixtures.bytes("not json"))
            #expect(notJSON.errorCode == "MANIFEST_INVALID")
        }
    }

    @Test func referrers() async throws {
        try await TestRegistry.with { r in
            let subject = try await Fixtures.image(r, repo: "ref", seed: "subject")
            let subjectDigest = Fixtures.sha256(subject)
            #expect(try await r.putManifest("ref", "v1", subject).status == .created)

            let empty = try await r.send(.GET, "/v2/ref/referrers/\(subjectDigest)")
            #expect(empty.status == .ok)
            #expect(empty["Content-Type"] == Fixtures.ociIndex)
            #expect((empty.json["manifests"] as? [Any])?.count == 0)

            let sig = try await Fixtures.image(r, repo: "ref", seed: "sig", artifactType: "application/vnd.example.sig",
                                               subject: (subjectDigest, subject.count))
            let put = try await r.putManifest("ref", Fixtures.sha256(sig), sig)
            #expect(put.status == .created)
            #expect(put["OCI-Subject"] == subjectDigest)
            let sbom = try await Fixtures.image(r, repo: "ref", seed: "sbom", artifactType: "application/vnd.example.sbom",
                                                subject: (subjectDigest, subject.count))
            #expect(try await r.putManifest("ref", Fixtures.sha256(sbom), sbom).status == .created)

            let all = try await r.send(.GET, "/v2/ref/referrers/\(subjectDigest)")
            let manifests = try #require(all.json["manifests"] as? [[String: Any]])
            #expect(manifests.count == 2)
            #expect(Set(manifests.compactMap { $0["digest"] as? String }) == [Fixtures.sha256(sig), Fixtures.sha256(sbom)])
            #expect(all["OCI-Filters-Applied"] == nil)
            let sigEntry = try #require(manifests.first { $0["digest"] as? String == Fixtures.sha256(sig) })
            #expect(sigEntry["artifactType"] as? String == "application/vnd.example.sig")
            #expect(sigEntry["size"] as? Int == sig.count)
            #expect((sigEntry["annotations"] as? [String: String])?["org.example.seed"] == "sig")

            let filtered = try await r.send(.GET, "/v2/ref/referrers/\(subjectDigest)?artifactType=application%2Fvnd.example.sbom")
            #expect(filtered["OCI-Filters-Applied"] == "artifactType")
            let only = try #require(filtered.json["manifests"] as? [[String: Any]])
            #expect(only.map { $0["digest"] as? String } == [Fixtures.sha256(sbom)])

            let badDigest = try await r.send(.GET, "/v2/ref/referrers/sha256:zz")
            #expect(badDigest.errorCode == "DIGEST_INVALID")
        }
    }

    @Test func tagsPagination() async throws {
        try await TestRegistry.with { r in
            let manifest = try await Fixtures.image(r, repo: "t", seed: "tags")
            for tag in ["c", "a", "e", "b", "d"] {
                #expect(try await r.putManifest("t", tag, manifest).status == .created)
            }
            let all = try await r.send(.GET, "/v2/t/tags/list")
            #expect(all.json["name"] as? String == "t")
            #expect(all.json["tags"] as? [String] == ["a", "b", "c", "d", "e"])
            #expect(all["Link"] == nil)

            let p1 = try await r.send(.GET, "/v2/t/tags/list?n=2")
            #expect(p1.json["tags"] as? [String] == ["a", "b"])
            #expect(p1["Link"] == "</v2/t/tags/list?n=2&last=b>; rel=\"next\"")
            let p2 = try await r.send(.GET, "/v2/t/tags/list?n=2&last=b")
            #expect(p2.json["tags"] as? [String] == ["c", "d"])
            let p3 = try await r.send(.GET, "/v2/t/tags/list?n=2&last=d")
            #expect(p3.json["tags"] as? [String] == ["e"])
            #expect(p3["Link"] == nil)

            let zero = try await r.send(.GET, "/v2/t/tags/list?n=0")
            #expect(zero.status == .ok)
            #expect(zero.json["tags"] as? [String] == [])

            let unknown = try await r.send(.GET, "/v2/nothere/tags/list")
            #expect(unknown.status == .notFound)
            #expect(unknown.errorCode == "NAME_UNKNOWN")
            let badN = try await r.send(.GET, "/v2/t/tags/list?n=-1")
            #expect(badN.status == .badRequest)
            #expect(badN.errorCode == "PAGINATION_NUMBER_INVALID")
        }
        try await TestRegistry.with({ $0.tagsMaxEntries = 2 }) { r in
            let manifest = try await Fixtures.image(r, repo: "t", seed: "max")
            for tag in ["a", "b", "c"] { _ = try await r.putManifest("t", tag, manifest) }
            let capped = try await r.send(.GET, "/v2/t/tags/list?n=50")
            #expect(capped.json["tags"] as? [String] == ["a", "b"])
            #expect(capped["Link"] == "</v2/t/tags/list?n=2&last=b>; rel=\"next\"")
        }
    }

    @Test func catalogPagination() async throws {
        try await TestRegistry.with({ $0.catalogMaxEntries = 3 }) { r in
            for repo in ["r3", "r1", "r4", "r2", "r5/x"] {
                try await r.pushBlob(repo, Array(repo.utf8))
                let m = try await Fixtures.image(r, repo: repo, seed: repo)
                #expect(try await r.putManifest(repo, "latest", m).status == .created)
            }
            let capped = try await r.send(.GET, "/v2/_catalog")
            #expect(capped.json["repositories"] as? [String] == ["r1", "r2", "r3"])
            #expect(capped["Link"] == "</v2/_catalog?n=3&last=r3>; rel=\"next\"")
            let tooMany = try await r.send(.GET, "/v2/_catalog?n=4")
            #expect(tooMany.status == .badRequest)
            #expect(tooMany.errorCode == "PAGINATION_NUMBER_INVALID")
            let zero = try await r.send(.GET, "/v2/_catalog?n=0")
            #expect(zero.json["repositories"] as? [String] == [])
            #expect(zero["Link"] == nil)
            let p1 = try await r.send(.GET, "/v2/_catalog?n=2")
            #expect(p1.json["repositories"] as? [String] == ["r1", "r2"])
            #expect(p1["Link"] == "</v2/_catalog?n=2&last=r2>; rel=\"next\"")
            let p2 = try await r.send(.GET, "/v2/_catalog?n=2&last=r4")
            #expect(p2.json["repositories"] as? [String] == ["r5/x"])
            #expect(p2["Link"] == nil)
        }
    }

    @Test func manifestDeletes() async throws {
        try await TestRegistry.with { r in
            let m = try await Fixtures.image(r, repo: "del", seed: "1")
            let digest = Fixtures.sha256(m)
            #expect(try await r.putManifest("del", "one", m).status == .created)
            #expect(try await r.putManifest("del", "two", m).status == .created)
            let delTag = try await r.send(.DELETE, "/v2/del/manifests/one")
            #expect(delTag.status == .accepted)
            #expect(try await r.send(.GET, "/v2/del/manifests/one").status == .notFound)
            #expect(try await r.send(.GET, "/v2/del/manifests/two").status == .ok)
            let delDigest = try await r.send(.DELETE, "/v2/del/manifests/\(digest)")
            #expect(delDigest.status == .accepted)
            #expect(try await r.send(.GET, "/v2/del/manifests/\(digest)").errorCode == "MANIFEST_UNKNOWN")
            #expect(try await r.send(.GET, "/v2/del/manifests/two").status == .notFound)
            #expect(try await r.send(.DELETE, "/v2/del/manifests/\(digest)").errorCode == "MANIFEST_UNKNOWN")
        }
        try await TestRegistry.with({ $0.deleteEnabled = false }) { r in
            let m = try await Fixtures.image(r, repo: "del", seed: "2")
            #expect(try await r.putManifest("del", "keep", m).status == .created)
            let del = try await r.send(.DELETE, "/v2/del/manifests/keep")
            #expect(del.status == .methodNotAllowed)
            #expect(del.errorCode == "UNSUPPORTED")
            #expect(try await r.send(.GET, "/v2/del/manifests/keep").status == .ok)
        }
    }

    @Test func readOnlyMode() async throws {
        try await TestRegistry.with({ $0.readOnly = true }) { r in
            let blob = Array("ro".utf8)
            let writes: [(HTTPMethod, String)] = [
                (.POST, "/v2/ro/blobs/uploads/?digest=\(Fixtures.sha256(blob))"),
                (.PATCH, "/v2/ro/blobs/uploads/x"), (.PUT, "/v2/ro/blobs/uploads/x?digest=\(Fixtures.sha256(blob))"),
                (.PUT, "/v2/ro/manifests/latest"), (.DELETE, "/v2/ro/manifests/latest"),
                (.DELETE, "/v2/ro/blobs/\(Fixtures.sha256(blob))"), (.DELETE, "/v2/ro/blobs/uploads/x"),
            ]
            for (method, uri) in writes {
                let resp = try await r.send(method, uri, body: blob)
                #expect(resp.status == .methodNotAllowed, "\(method) \(uri)")
                #expect(resp.errorCode == "UNSUPPORTED")
                #expect(resp.text.contains("read-only"))
            }
            #expect(try await r.send(.GET, "/v2/").status == .ok)
            #expect(try await r.send(.GET, "/v2/_catalog").status == .ok)
        }
    }

    @Test func invalidNamesDigestsTags() async throws {
        try await TestRegistry.with { r in
            for path in ["/v2/a/../b/manifests/latest", "/v2/a/%2e%2e/b/tags/list", "/v2/a%2Fb/manifests/x",
                         "/v2/Upper/manifests/x", "/v2/a/./b/blobs/uploads/"] {
                let resp = try await r.send(.GET, path)
                #expect(resp.status == .badRequest, "\(path)")
                #expect(resp.errorCode == "NAME_INVALID", "\(path)")
            }
            let badDigest = try await r.send(.GET, "/v2/a/blobs/sha256:1234")
            #expect(badDigest.errorCode == "DIGEST_INVALID")
            let badAlgo = try await r.send(.GET, "/v2/a/manifests/md5:0123456789abcdef0123456789abcdef")
            #expect(badAlgo.status == .badRequest)
            let badTag = try await r.send(.GET, "/v2/a/manifests/-tag")
            #expect(badTag.status == .badRequest)
            let m = try await Fixtures.image(r, repo: "a", seed: "tag")
            let badExtraTag = try await r.putManifest("a", "ok?tag=.bad", m)
            #expect(badExtraTag.status == .badRequest)
        }
    }
}
