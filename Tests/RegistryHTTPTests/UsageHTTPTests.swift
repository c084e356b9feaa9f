// `GET /v2/_berth/usage` and `GET /v2/<name>/_berth/usage` against a real
// server: figures checked against sums of the bytes the test pushed, shared
// layers moving between unique and shared as repositories come and go, and
// the access each needs.

import BerthTestSupport
import CASEngine
import Foundation
import NIOHTTP1
import Testing
@testable import RegistryHTTP

@Suite("Usage extension")
struct UsageHTTPTests {
    /// Pushes config, the shared base layer and an own layer, then the
    /// manifest under `latest`; returns every byte array pushed.
    static func push(_ r: TestRegistry, _ repo: String, own: [UInt8], base: [UInt8]) async throws -> [[UInt8]] {
        let config = Array("{\"repo\":\"\(repo)\",\"os\":\"linux\",\"architecture\":\"amd64\"}".utf8)
        var descriptors: [String] = []
        for (type, bytes) in [("application/vnd.oci.image.config.v1+json", config), ("application/vnd.oci.image.layer.v1.tar", base),
                              ("application/vnd.oci.image.layer.v1.tar", own)] {
            descriptors.append("{\"mediaType\":\"\(type)\",\"digest\":\"\(try await r.pushBlob(repo, bytes))\",\"size\":\(bytes.count)}")
        }
        let manifest = Array(("{\"schemaVersion\":2,\"mediaType\":\"\(Fixtures.ociManifest)\",\"config\":\(descriptors[0]),"
                              + "\"layers\":[\(descriptors[1]),\(descriptors[2])]}").utf8)
        let put = try await r.putManifest(repo, "latest", manifest)
        #expect(put.status == .created, "\(put.text)")
        return [config, base, own, manifest]
    }

    static func number(_ object: [String: Any], _ key: String) -> UInt64? { (object[key] as? NSNumber)?.uint64Value }

    @Test func figuresMatchTheBytesPushed() async throws {
        try await TestRegistry.with { r in
            var rng = SplitMix64(seed: 7)
            let base = (0..<300_000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let ownA = Array("only in a".utf8) + [UInt8](repeating: 1, count: 5000)
            let ownB = Array("only in b".utf8) + [UInt8](repeating: 2, count: 7000)
            let a = try await Self.push(r, "team/a", own: ownA, base: base)
            let b = try await Self.push(r, "b", own: ownB, base: base)
            let sum = { (parts: [[UInt8]]) in parts.reduce(UInt64(0)) { $0 + UInt64($1.count) } }

            let ua = try await r.send(.GET, "/v2/team/a/_berth/usage")
            #expect(ua.status == .ok, "\(ua.text)")
            #expect(ua.json["repository"] as? String == "team/a")
            #expect(Self.number(ua.json, "referencedBytes") == sum(a))
            #expect(Self.number(ua.json, "uniqueBytes") == sum(a) - UInt64(base.count), "everything but the shared base")
            #expect(Self.number(ua.json, "sharedBytes") == UInt64(base.count))
            #expect(Self.number(ua.json, "blobs") == 4)

            let all = try await r.send(.GET, "/v2/_berth/usage")
            #expect(all.status == .ok, "\(all.text)")
            let repos = all.json["repositories"] as? [[String: Any]] ?? []
            #expect(repos.map { $0["name"] as? String } == ["b", "team/a"])
            #expect(Self.number(repos[0], "referencedBytes") == sum(b))
            #expect(Self.number(all.json, "referencedBytes") == sum(a) + sum(b) - UInt64(base.count), "the base once")
            #expect(Self.number(all.json, "dedupSavedBytes") == UInt64(base.count))
            #expect(Self.number(all.json, "blobs") == 7)
            // On disk: the random base as is, the repetitive layers LZ4-compressed.
            let stored = Self.number(all.json, "storedBytes") ?? 0
            #expect(stored >= UInt64(base.count) && stored < sum(a) + sum(b) - UInt64(base.count), "\(stored)")
            #expect(Self.number(all.json, "deadBytes") == 0)
            #expect(((all.json["gcBacklog"] as? [String: Any]).flatMap { Self.number($0, "reviewItems") }) != nil)

            // b goes: the base is a's alone.
            let digest = Fixtures.sha256(b[3])
            #expect(try await r.send(.DELETE, "/v2/b/manifests/\(digest)").status == .accepted)
            let after = try await r.send(.GET, "/v2/team/a/_berth/usage")
            #expect(Self.number(after.json, "uniqueBytes") == sum(a) && Self.number(after.json, "sharedBytes") == 0, "\(after.text)")
            let gone = try await r.send(.GET, "/v2/b/_berth/usage")
            #expect(gone.status == .ok && Self.number(gone.json, "referencedBytes") == 0, "b still has its links: \(gone.text)")
            let unknown = try await r.send(.GET, "/v2/nothing/_berth/usage")
            #expect(unknown.status == .notFound && unknown.errorCode == "NAME_UNKNOWN", "\(unknown.text)")
        }
    }

    @Test func accessAndRoutes() throws {
        #expect(try Router.match("/v2/_berth/usage").route == .registryUsage)
        #expect(try Router.match("/v2/team/app/_berth/usage").route == .repositoryUsage(name: "team/app"))
        let registry = AuthorizationRequest(method: .GET, route: .registryUsage, query: QueryParameters(nil), headers: HTTPHeaders(), peer: nil)
        #expect(AccessScope.required(by: registry).map(\.description) == ["registry:catalog:*"])
        let repo = AuthorizationRequest(method: .GET, route: .repositoryUsage(name: "app"), query: QueryParameters(nil),
                                        headers: HTTPHeaders(), peer: nil)
        #expect(AccessScope.required(by: repo).map(\.description) == ["repository:app:pull"])
    }
}
