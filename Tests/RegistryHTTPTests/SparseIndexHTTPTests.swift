// `validation.manifests.indexes.platforms` over HTTP, as distribution v3 and
// the OCI conformance suite's "sparse" data use it: an index over an amd64
// image that was pushed and an arm64 digest that never was (the suite's
// `sparse-index`), accepted under `platforms: list` naming linux/amd64 and
// under `none`, refused with MANIFEST_BLOB_UNKNOWN by default. The suite's
// `sparse-image` (an image missing a layer) stays refused under every
// setting, as in distribution: the policy concerns index children only.

import CASEngine
import Foundation
import RegistryConfig
import Testing
@testable import RegistryHTTP

@Suite struct SparseIndexHTTPTests {
    static let amd64 = RegistryConfiguration.Validation.Platform(architecture: "amd64", os: "linux")

    /// The conformance suite's sparse index: amd64 pushed, arm64 a random digest of 1024 bytes.
    static func sparseIndex(_ r: TestRegistry, repo: String) async throws -> (index: [UInt8], amd64: [UInt8], arm64: String) {
        let image = try await Fixtures.image(r, repo: repo, seed: "sparse-amd64")
        #expect(try await r.putManifest(repo, Fixtures.sha256(image), image).status == .created)
        let arm64 = Fixtures.sha256((0..<1024).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let index = Fixtures.bytes("""
        {"schemaVersion":2,"mediaType":"\(Fixtures.ociIndex)","manifests":[\
        {"mediaType":"\(Fixtures.ociManifest)","digest":"\(Fixtures.sha256(image))","size":\(image.count),"platform":{"architecture":"amd64","os":"linux"}},\
        {"mediaType":"\(Fixtures.ociManifest)","digest":"\(arm64)","size":1024,"platform":{"architecture":"arm64","os":"linux"}}]}
        """)
        return (index, image, arm64)
    }

    @Test func listedPlatformsMustExistOthersMayBeAbsent() async throws {
        try await TestRegistry.with({ $0.indexChildren = .list([Self.amd64]) }) { r in
            let (index, _, arm64) = try await Self.sparseIndex(r, repo: "sparse")
            let put = try await r.putManifest("sparse", "sparse-index", index, mediaType: Fixtures.ociIndex)
            #expect(put.status == .created, "\(put.text)")
            for ref in ["sparse-index", Fixtures.sha256(index)] {
                let get = try await r.send(.GET, "/v2/sparse/manifests/\(ref)", headers: [("Accept", Fixtures.ociIndex)])
                #expect(get.status == .ok)
                #expect(get.body == index)
                #expect(try await r.send(.HEAD, "/v2/sparse/manifests/\(ref)", headers: [("Accept", Fixtures.ociIndex)]).status == .ok)
            }
            let child = try await r.send(.GET, "/v2/sparse/manifests/\(arm64)")
            #expect(child.status == .notFound)
            #expect(child.errorCode == "MANIFEST_UNKNOWN")

            // The listed platform absent: refused.
            let noAmd = Fixtures.bytes("""
            {"schemaVersion":2,"mediaType":"\(Fixtures.ociIndex)","manifests":[\
            {"mediaType":"\(Fixtures.ociManifest)","digest":"\(Fixtures.sha256([4, 2]))","size":2,"platform":{"architecture":"amd64","os":"linux","variant":"v3"}}]}
            """)
            let refused = try await r.putManifest("sparse", "no-amd64", noAmd, mediaType: Fixtures.ociIndex)
            #expect(refused.status == .badRequest)
            #expect(refused.errorCode == "MANIFEST_BLOB_UNKNOWN")

            // The suite's sparse-image (a layer never pushed) is refused whatever the index policy.
            let config = try await r.pushBlob("sparse", Fixtures.bytes("{\"seed\":\"sparse-image\"}"))
            let image = Fixtures.bytes("""
            {"schemaVersion":2,"mediaType":"\(Fixtures.ociManifest)","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\(config)","size":22},\
            "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"\(Fixtures.sha256([1, 2, 3]))","size":3}]}
            """)
            let sparseImage = try await r.putManifest("sparse", "sparse-image", image)
            #expect(sparseImage.status == .badRequest)
            #expect(sparseImage.errorCode == "MANIFEST_BLOB_UNKNOWN")
        }
    }

    @Test func everyChildMustExistByDefault() async throws {
        try await TestRegistry.with { r in
            let (index, _, _) = try await Self.sparseIndex(r, repo: "strict")
            let put = try await r.putManifest("strict", "sparse-index", index, mediaType: Fixtures.ociIndex)
            #expect(put.status == .badRequest)
            #expect(put.errorCode == "MANIFEST_BLOB_UNKNOWN")
            #expect(try await r.send(.GET, "/v2/strict/manifests/sparse-index").status == .notFound)
        }
    }

    @Test(arguments: [IndexChildPolicy.none, IndexChildPolicy(Self.disabledValidation)])
    func noChildNeedExistWithNoneOrValidationDisabled(_ policy: IndexChildPolicy) async throws {
        try await TestRegistry.with({ $0.indexChildren = policy }) { r in
            let (index, _, _) = try await Self.sparseIndex(r, repo: "loose")
            #expect(try await r.putManifest("loose", "sparse-index", index, mediaType: Fixtures.ociIndex).status == .created)
        }
    }

    static var disabledValidation: RegistryConfiguration.Validation {
        var v = RegistryConfiguration.Validation()
        v.disabled = true
        v.manifests.indexes.platforms = .all
        return v
    }

    /// The absent platform pushed later by digest, untagged: the online
    /// collector keeps it while the tagged sparse index names it.
    @Test func aPlatformPushedAfterItsIndexSurvivesTheCollector() async throws {
        try await TestRegistry.with({ $0.indexChildren = .none }) { r in
            let late = try await Fixtures.image(r, repo: "late", seed: "late-arm64")
            let lateDigest = Fixtures.sha256(late)
            let index = Fixtures.bytes("""
            {"schemaVersion":2,"mediaType":"\(Fixtures.ociIndex)","manifests":[\
            {"mediaType":"\(Fixtures.ociManifest)","digest":"\(lateDigest)","size":\(late.count),"platform":{"architecture":"arm64","os":"linux"}}]}
            """)
            #expect(try await r.putManifest("late", "multi", index, mediaType: Fixtures.ociIndex).status == .created)
            #expect(try await r.putManifest("late", lateDigest, late).status == .created)
            let store = try #require(r.store)
            let report = try store.collectIncrementally(policy: GCPolicy(deleteUntagged: true, gracePeriod: 0, untaggedDelay: 0))
            #expect(report.deletedManifests.isEmpty, "\(report.deletedManifests)")
            #expect(try await r.send(.GET, "/v2/late/manifests/\(lateDigest)").status == .ok)
        }
    }
}
