// `GET /v2/<name>/_berth/tags/<tag>/history` and `POST …/rollback` against a
// real server: who moved a tag and how (htpasswd users), newest first with
// `Link` pagination, rollback by steps and by digest with OCI errors, and a
// rollback after the old image became untagged while the online collector
// ran with untagged deletion on (kept by `berth.tags.history.protect`).

import CASEngine
import Foundation
import NIOHTTP1
import Testing
@testable import RegistryHTTP

@Suite("Tag extension: history and rollback")
struct TagHistoryHTTPTests {
    static func rollback(_ r: TestRegistry, _ repo: String, _ tag: String, _ body: String,
                         auth: (String, String)? = nil) async throws -> TestResponse {
        try await r.send(.POST, "/v2/\(repo)/_berth/tags/\(tag)/rollback",
                         headers: [("Content-Type", "application/json")] + (auth.map { [$0] } ?? []), body: Array(body.utf8))
    }

    static func history(_ r: TestRegistry, _ path: String, auth: (String, String)? = nil) async throws -> TestResponse {
        try await r.send(.GET, path, headers: auth.map { [$0] } ?? [])
    }

    /// An image whose config and layer are pushed with `auth`; returns (manifest bytes, digest).
    static func image(_ r: TestRegistry, _ repo: String, _ seed: String, auth: (String, String)? = nil) async throws -> ([UInt8], String) {
        var descriptors: [String] = []
        for (type, bytes) in [("application/vnd.oci.image.config.v1+json", Array("{\"seed\":\"\(seed)\"}".utf8)),
                              ("application/vnd.oci.image.layer.v1.tar", Array("layer-\(seed)".utf8))] {
            let d = Fixtures.sha256(bytes)
            let put = try await r.send(.POST, "/v2/\(repo)/blobs/uploads/?digest=\(d)", headers: auth.map { [$0] } ?? [], body: bytes)
            #expect(put.status == .created, "\(put.text)")
            descriptors.append("{\"mediaType\":\"\(type)\",\"digest\":\"\(d)\",\"size\":\(bytes.count)}")
        }
        let m = Array(("{\"schemaVersion\":2,\"mediaType\":\"\(Fixtures.ociManifest)\",\"config\":\(descriptors[0]),"
                       + "\"layers\":[\(descriptors[1])]}").utf8)
        return (m, Fixtures.sha256(m))
    }

    static func put(_ r: TestRegistry, _ repo: String, _ tag: String, _ m: [UInt8], type: String = Fixtures.ociManifest,
                    auth: (String, String)? = nil) async throws {
        let resp = try await r.send(.PUT, "/v2/\(repo)/manifests/\(tag)", headers: [("Content-Type", type)] + (auth.map { [$0] } ?? []),
                                    body: m)
        #expect(resp.status == .created, "\(resp.text)")
    }

    static func digest(_ r: TestRegistry, _ repo: String, _ tag: String) async throws -> String? {
        let resp = try await r.send(.HEAD, "/v2/\(repo)/manifests/\(tag)", headers: [("Accept", Fixtures.ociManifest + "," + Fixtures.ociIndex)])
        return resp.status == .ok ? resp["Docker-Content-Digest"] : nil
    }

    @Test func historyNamesWhoMovedTheTagAndHowNewestFirstInPages() async throws {
        let dir = try AuthTools.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/htpasswd"
        try AuthTools.htpasswd(file, "alice", "a-secret", create: true)
        try AuthTools.htpasswd(file, "bob", "b-secret")
        let auth = try HtpasswdAuthorizer(realm: "Berth", path: file, access: nil, maxFailures: 10, failureWindow: .seconds(60),
                                          reloadInterval: .seconds(60), logger: .init(label: "test"))
        let alice = AuthTools.basic("alice", "a-secret"), bob = AuthTools.basic("bob", "b-secret")
        try await TestRegistry.with(authorizer: auth) { r in
            let (m1, d1) = try await Self.image(r, "app", "one", auth: alice)
            let (m2, d2) = try await Self.image(r, "app", "two", auth: alice)
            try await Self.put(r, "app", "latest", m1, auth: alice)
            try await Self.put(r, "app", "beta", m2, auth: alice)
            let promoted = try await r.send(.POST, "/v2/app/_berth/tags/promote", headers: [("Content-Type", "application/json"), bob],
                                            body: Array("{\"chain\":[\"beta\",\"latest\"]}".utf8))
            #expect(promoted.status == .ok, "\(promoted.text)")
            let back = try await Self.rollback(r, "app", "latest", "{\"steps\":1}", auth: alice)
            #expect(back.status == .ok, "\(back.text)")
            #expect(back.json["digest"] as? String == d1 && back.json["previous"] as? String == d2, "\(back.text)")
            let deleted = try await r.send(.DELETE, "/v2/app/manifests/latest", headers: [bob])
            #expect(deleted.status == .accepted, "\(deleted.text)")

            let anonymous = try await Self.history(r, "/v2/app/_berth/tags/latest/history")
            #expect(anonymous.status == .unauthorized, "the registry's access rules: pull needs a login")

            let all = try await Self.history(r, "/v2/app/_berth/tags/latest/history", auth: bob)
            #expect(all.status == .ok, "\(all.text)")
            #expect(all.json["tag"] as? String == "latest")
            let entries = all.json["history"] as? [[String: Any]] ?? []
            #expect(entries.map { $0["action"] as? String } == ["delete", "rollback", "promote", "push"])
            #expect(entries.map { $0["by"] as? String } == ["bob", "alice", "bob", "alice"])
            #expect(entries.map { $0["digest"] as? String } == [d1, d1, d2, d1])
            let rfc3339 = #/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/#
            for e in entries { #expect((e["at"] as? String)?.wholeMatch(of: rfc3339) != nil, "\(e)") }
            let at = ISO8601DateFormatter().date(from: entries[0]["at"] as? String ?? "")
            #expect(at.map { abs($0.timeIntervalSinceNow) < 600 } == true, "at is the time of the change")

            // Pages of two, linked like tag lists.
            let first = try await Self.history(r, "/v2/app/_berth/tags/latest/history?n=2", auth: bob)
            #expect((first.json["history"] as? [[String: Any]])?.map { $0["action"] as? String } == ["delete", "rollback"])
            let link = try #require(first["Link"])
            let next = String(link[link.index(after: link.firstIndex(of: "<")!)..<link.firstIndex(of: ">")!])
            #expect(link.hasSuffix("rel=\"next\"") && next.hasPrefix("/v2/app/_berth/tags/latest/history?n=2&last="), "\(link)")
            let second = try await Self.history(r, next, auth: bob)
            #expect((second.json["history"] as? [[String: Any]])?.map { $0["action"] as? String } == ["promote", "push"])
            #expect(second["Link"] == nil, "the last page has no next link")

            let never = try await Self.history(r, "/v2/app/_berth/tags/never/history", auth: bob)
            #expect(never.status == .notFound && never.errorCode == "MANIFEST_UNKNOWN", "\(never.text)")
            let badLast = try await Self.history(r, "/v2/app/_berth/tags/latest/history?last=x", auth: bob)
            #expect(badLast.status == .badRequest && badLast.errorCode == "PAGINATION_NUMBER_INVALID", "\(badLast.text)")
        }
    }

    @Test func rollbackByStepsAndDigestAndItsRefusals() async throws {
        try await TestRegistry.with({ $0.immutableTags = [.init(repository: "app", tags: ["v*"])] }) { r in
            var digests: [String] = []
            for seed in ["a", "b", "c"] {
                let (m, d) = try await Self.image(r, "app", seed)
                try await Self.put(r, "app", "latest", m)
                digests.append(d)
            }
            let two = try await Self.rollback(r, "app", "latest", "{\"steps\":2}")
            #expect(two.status == .ok && two.json["digest"] as? String == digests[0], "\(two.text)")
            let to = try await Self.rollback(r, "app", "latest", "{\"to\":\"\(digests[2])\"}")
            #expect(to.status == .ok && to.json["digest"] as? String == digests[2], "\(to.text)")
            let plain = try await Self.rollback(r, "app", "latest", "")
            #expect(plain.status == .ok && plain.json["digest"] as? String == digests[0], "no body: one step back, \(plain.text)")
            #expect(try await Self.digest(r, "app", "latest") == digests[0])

            let stranger = "sha256:" + String(repeating: "0", count: 64)
            for body in ["{\"steps\":9}", "{\"to\":\"\(stranger)\"}", "{\"steps\":1,\"to\":\"\(digests[1])\"}", "{\"steps\":0}", "[1]"] {
                let resp = try await Self.rollback(r, "app", "latest", body)
                #expect(resp.status == .badRequest && resp.errorCode == "TAG_INVALID", "\(body): \(resp.text)")
            }
            let badDigest = try await Self.rollback(r, "app", "latest", "{\"to\":\"nope\"}")
            #expect(badDigest.status == .badRequest && badDigest.errorCode == "DIGEST_INVALID", "\(badDigest.text)")
            let unknown = try await Self.rollback(r, "app", "nothing", "{}")
            #expect(unknown.status == .notFound && unknown.errorCode == "MANIFEST_UNKNOWN", "\(unknown.text)")
            #expect(try await Self.digest(r, "app", "latest") == digests[0], "no refusal moved the tag")

            // Immutable tags stay put under rollback.
            let (m1, _) = try await Self.image(r, "app", "v1-first")
            try await Self.put(r, "app", "v1", m1)
            let (m2, _) = try await Self.image(r, "app", "v1-second")
            let refused = try await r.putManifest("app", "v1", m2)
            #expect(refused.status == .conflict, "\(refused.text)")
            try await Self.put(r, "app", "v2", m2)
            let frozen = try await Self.rollback(r, "app", "v1", "{\"to\":\"\(Fixtures.sha256(m2))\"}")
            #expect(frozen.status == .badRequest, "v2's digest is not in v1's history: \(frozen.text)")
            try await Self.put(r, "app", "rc", m1)
            try await Self.put(r, "app", "rc", m2)
            #expect(try await Self.rollback(r, "app", "rc", "{}").status == .ok, "rc is not frozen")
        }
    }

    @Test func rollbackOfAFrozenTagIsTagImmutable() async throws {
        // `v1` moves before the rule exists (a config change); afterwards a
        // rollback would move it and is refused like a push.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("berth-frozen-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var first = ""
        do {
            let store = try Store.open(at: dir)
            defer { store.close() }
            for seed in ["x", "y"] {
                let bytes = Array("{\"schemaVersion\":2,\"mediaType\":\"\(Fixtures.ociManifest)\",\"config\":{\"mediaType\":\"a\",\"digest\":\"sha256:\(String(repeating: "a", count: 64))\",\"size\":1},\"layers\":[],\"annotations\":{\"s\":\"\(seed)\"}}".utf8)
                let d = BlobDigest.compute(bytes, .sha256)
                if first.isEmpty { first = d.description }
                try store.putManifest(repository: "app", digest: d, bytes: bytes,
                                      edges: ManifestEdges(mediaType: Fixtures.ociManifest, references: []), tags: ["v1"])
            }
        }
        try await TestRegistry.with({ $0.immutableTags = [.init(repository: "app", tags: ["v1"])] }, root: dir) { r in
            let resp = try await Self.rollback(r, "app", "v1", "{\"to\":\"\(first)\"}")
            #expect(resp.status == .conflict && resp.errorCode == "TAG_IMMUTABLE", "\(resp.text)")
        }
    }

    /// An index is re-pointed away from `latest`; the online collector runs
    /// with untagged deletion on and no delay while the server serves. With
    /// `protect` the old index and its children survive and the rollback
    /// restores a pullable image; without it they are gone and the rollback
    /// is MANIFEST_UNKNOWN.
    @Test(arguments: [true, false])
    func rollbackAfterTheOldImageBecameUntaggedUnderTheCollector(protect: Bool) async throws {
        var options = StoreOptions()
        options.tagHistory = TagHistoryPolicy(protect: protect ? 3600 : 0)
        try await TestRegistry.with(storeOptions: options) { r in
            let (amd, amdDigest) = try await Self.image(r, "app", "amd64")
            let (arm, armDigest) = try await Self.image(r, "app", "arm64")
            try await Self.put(r, "app", amdDigest, amd)
            try await Self.put(r, "app", armDigest, arm)
            let index = Array(("{\"schemaVersion\":2,\"mediaType\":\"\(Fixtures.ociIndex)\",\"manifests\":["
                + "{\"mediaType\":\"\(Fixtures.ociManifest)\",\"digest\":\"\(amdDigest)\",\"size\":\(amd.count),\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
                + "{\"mediaType\":\"\(Fixtures.ociManifest)\",\"digest\":\"\(armDigest)\",\"size\":\(arm.count),\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\"}}]}").utf8)
            try await Self.put(r, "app", "latest", index, type: Fixtures.ociIndex)
            let (next, _) = try await Self.image(r, "app", "next")
            try await Self.put(r, "app", "latest", next)

            let store = try #require(r.store)
            let policy = GCPolicy(deleteUntagged: true, gracePeriod: 0, untaggedDelay: 0)
            // Two passes: the second takes what the first one's deletions queued.
            let removed = try store.collectIncrementally(policy: policy).deletedManifests.count
                + store.collectIncrementally(policy: policy).deletedManifests.count
            let back = try await Self.rollback(r, "app", "latest", "{\"steps\":1}")
            if protect {
                #expect(removed == 0)
                #expect(back.status == .ok, "\(back.text)")
                #expect(try await Self.digest(r, "app", "latest") == Fixtures.sha256(index))
                for child in [amdDigest, armDigest] {
                    let got = try await r.send(.GET, "/v2/app/manifests/\(child)", headers: [("Accept", Fixtures.ociManifest)])
                    #expect(got.status == .ok, "child \(child) of the restored index")
                    let layer = "sha256:" + String((try JSONSerialization.jsonObject(with: Data(got.body)) as? [String: Any])
                        .flatMap { ($0["layers"] as? [[String: Any]])?.first?["digest"] as? String }?.dropFirst(7) ?? "")
                    #expect(try await r.send(.GET, "/v2/app/blobs/\(layer)").status == .ok, "its layer")
                }
            } else {
                #expect(removed == 3, "the index and both children")
                #expect(back.status == .notFound && back.errorCode == "MANIFEST_UNKNOWN", "\(back.text)")
            }
        }
    }

    @Test func accessAndRoutes() throws {
        #expect(try Router.match("/v2/team/app/_berth/tags/latest/history").route == .tagHistory(name: "team/app", tag: "latest"))
        #expect(try Router.match("/v2/app/_berth/tags/promote/rollback").route == .tagRollback(name: "app", tag: "promote"))
        #expect(throws: RegistryError.self) { try Router.match("/v2/app/_berth/tags/-bad/history") }
        let get = AuthorizationRequest(method: .GET, route: .tagHistory(name: "app", tag: "t"), query: QueryParameters(nil),
                                       headers: HTTPHeaders(), peer: nil)
        #expect(AccessScope.required(by: get).map(\.description) == ["repository:app:pull"])
        let post = AuthorizationRequest(method: .POST, route: .tagRollback(name: "app", tag: "t"), query: QueryParameters(nil),
                                        headers: HTTPHeaders(), peer: nil)
        #expect(AccessScope.required(by: post).map(\.description) == ["repository:app:pull,push"])
    }
}
