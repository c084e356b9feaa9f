// `regctl du`, `regctl ls` and `regctl rm` against a running `regctl serve`:
// usage figures equal to the bytes stored, tags listed with digest, size,
// platforms and push time, and deletes of a tag, a manifest and a whole
// repository's tagged manifests.

import Foundation
import Testing
@testable import CASEngine

@Suite("regctl du, ls, rm", .serialized, .timeLimit(.minutes(5)))
struct ServerCommandsTests {
    /// An OCI image (config naming its platform, the shared base and an own
    /// layer) stored under `tags`; returns its digest and every blob's size.
    static func image(_ s: Store, _ repo: String, _ seed: String, base: [UInt8], tags: [String]) throws -> (BlobDigest, [Int]) {
        let config = Array("{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\",\"seed\":\"\(seed)\"}".utf8)
        let own = Array("layer \(seed)".utf8) + [UInt8](repeating: 3, count: 2000)
        var descriptors: [String] = []
        var refs: [BlobDigest] = []
        for (type, bytes) in [("application/vnd.oci.image.config.v1+json", config), ("application/vnd.oci.image.layer.v1.tar", base),
                              ("application/vnd.oci.image.layer.v1.tar", own)] {
            let d = try StoreFixture.blob(s, bytes, repo)
            refs.append(d)
            descriptors.append("{\"mediaType\":\"\(type)\",\"digest\":\"\(d)\",\"size\":\(bytes.count)}")
        }
        let manifest = Array(("{\"schemaVersion\":2,\"mediaType\":\"\(StoreFixture.imageType)\",\"config\":\(descriptors[0]),"
                              + "\"layers\":[\(descriptors[1]),\(descriptors[2])]}").utf8)
        let d = StoreFixture.digest(manifest)
        try s.putManifest(repository: repo, digest: d, bytes: manifest,
                          edges: ManifestEdges(mediaType: StoreFixture.imageType, references: refs), tags: tags)
        return (d, [config.count, base.count, own.count, manifest.count])
    }

    @Test func duLsAndRmAgainstTheServer() throws {
        let f = try StoreFixture()
        let base = [UInt8](repeating: 9, count: 10_000)
        let ((app, appSizes), (tool, toolSizes)) = try f.with { s in
            (try Self.image(s, "app", "a", base: base, tags: ["latest", "v1"]), try Self.image(s, "team/tool", "t", base: base, tags: ["stable"]))
        }
        let (server, url) = try Regctl.serve(f.config, environment: ["REGISTRY_STORAGE_DELETE_ENABLED": "true"])
        defer { _ = server.stop() }

        let du = try Regctl.run(["du", "--json", "--url", url])
        #expect(du.status == 0, "\(du)")
        let usage = try JSONSerialization.jsonObject(with: Data(du.stdout.utf8)) as? [String: Any] ?? [:]
        let repos = usage["repositories"] as? [[String: Any]] ?? []
        #expect(repos.map { $0["name"] as? String } == ["app", "team/tool"])
        #expect((repos.first?["referencedBytes"] as? Int) == appSizes.reduce(0, +))
        #expect((repos.first?["uniqueBytes"] as? Int) == appSizes.reduce(0, +) - base.count)
        #expect((usage["referencedBytes"] as? Int) == appSizes.reduce(0, +) + toolSizes.reduce(0, +) - base.count)
        let human = try Regctl.run(["du", "app", "--url", url])
        #expect(human.status == 0 && human.lines.count == 2 && human.lines[1].hasPrefix("app "), "\(human)")
        let kB = String(format: "%.1f kB", Double(appSizes.reduce(0, +)) / 1000)
        #expect(human.lines[1].contains(kB), "referenced \(appSizes.reduce(0, +)) bytes: \(human)")

        let ls = try Regctl.run(["ls", "--url", url])
        #expect(ls.lines == ["app", "team/tool"], "\(ls)")
        let tags = try Regctl.run(["ls", "app", "--json", "--url", url])
        let listed = (try JSONSerialization.jsonObject(with: Data(tags.stdout.utf8)) as? [String: Any])?["tags"] as? [[String: Any]] ?? []
        #expect(listed.map { $0["tag"] as? String } == ["latest", "v1"], "\(tags)")
        for row in listed {
            #expect(row["digest"] as? String == app.description)
            #expect(row["size"] as? Int == appSizes.reduce(0, +))
            #expect(row["platforms"] as? [String] == ["linux/arm64/v8"])
            #expect((row["pushed"] as? String)?.hasSuffix("Z") == true, "\(row)")
        }

        let rmTag = try Regctl.run(["rm", "app:v1", "--url", url])
        #expect(rmTag.status == 0 && rmTag.lines == ["deleted app:v1"], "\(rmTag)")
        let rmRepo = try Regctl.run(["rm", "team/tool", "--url", url])
        #expect(rmRepo.lines == ["deleted team/tool@\(tool)"], "\(rmRepo)")
        let rmDigest = try Regctl.run(["rm", "app@\(app)", "--url", url])
        #expect(rmDigest.status == 0, "\(rmDigest)")
        let missing = try Regctl.run(["rm", "app@\(app)", "--url", url])
        #expect(missing.status == 1 && missing.stderr.contains("MANIFEST_UNKNOWN"), "\(missing)")
        let after = try Regctl.run(["du", "--json", "--url", url])
        let left = (try JSONSerialization.jsonObject(with: Data(after.stdout.utf8)) as? [String: Any])
        #expect((left?["referencedBytes"] as? Int) == 0, "\(after)")
    }
}
