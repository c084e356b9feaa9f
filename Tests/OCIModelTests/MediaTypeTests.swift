import Foundation
import Testing
@testable import OCIModel

@Suite struct MediaTypeTests {
    @Test func manifestTypes() {
        #expect(MediaType.manifestTypes == [
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
        ])
    }

    @Test(arguments: [
        (MediaType.dockerForeignLayer, true),
        ("application/vnd.oci.image.layer.nondistributable.v1.tar", true),
        ("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", true),
        ("application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", true),
        ("application/vnd.oci.image.layer.v1.tar+gzip", false),
        ("application/vnd.docker.image.rootfs.diff.tar.gzip", false),
        ("", false),
    ])
    func nonDistributable(_ mediaType: String, _ expected: Bool) {
        #expect(MediaType.isNonDistributable(mediaType) == expected)
    }

    @Test func essence() {
        #expect(MediaType.essence(" Application/JSON ; charset=utf-8") == "application/json")
        #expect(MediaType.essence("") == "")
        #expect(MediaType.essence(";") == "")
    }
}

@Suite struct ImageIndexTests {
    @Test func emptyReferrers() throws {
        let bytes = ImageIndex.referrersResponse([])
        let json = String(decoding: bytes, as: UTF8.self)
        #expect(json == #"{"manifests":[],"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2}"#)
        let parsed = try ParsedManifest.parse(bytes, contentType: MediaType.ociIndex)
        #expect(parsed.manifests.isEmpty)
    }

    @Test func referrersRoundTrip() throws {
        let descriptors = [
            Descriptor(mediaType: MediaType.ociManifest, digest: try Digest(parsing: Fixtures.a), size: 1234,
                       annotations: ["org.opencontainers.image.created": "2023-01-01T00:00:00Z"],
                       artifactType: "application/vnd.example.sbom.v1"),
            Descriptor(mediaType: MediaType.ociManifest, digest: try Digest(parsing: Fixtures.sha512), size: 1,
                       artifactType: "application/vnd.dev.cosign.artifact.sig.v1+json"),
        ]
        let bytes = ImageIndex.referrersResponse(descriptors)
        let decoded = try JSONDecoder().decode(ImageIndex.self, from: Data(bytes))
        #expect(decoded.schemaVersion == 2)
        #expect(decoded.mediaType == MediaType.ociIndex)
        #expect(decoded.manifests == descriptors)
        let json = String(decoding: bytes, as: UTF8.self)
        #expect(json.contains(#""digest":"\#(Fixtures.a)""#))
        #expect(!json.contains("\\/"))
        #expect(!json.contains("platform"))
        // The registry's own output is a valid index for its own parser.
        let parsed = try ParsedManifest.parse(bytes, contentType: nil)
        #expect(parsed.kind == .index)
        #expect(parsed.manifests.map(\.artifactType) == descriptors.map(\.artifactType))
    }

    @Test func descriptorRejectsBadDigestOnDecode() {
        let json = #"{"mediaType":"a/b","digest":"sha256:nope","size":1}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Descriptor.self, from: Data(json.utf8)) }
    }

    @Test func platformCodingKeys() throws {
        let p = Platform(architecture: "amd64", os: "windows", osVersion: "10.0", osFeatures: ["win32k"])
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(p), as: UTF8.self)
        #expect(json == #"{"architecture":"amd64","os":"windows","os.features":["win32k"],"os.version":"10.0"}"#)
        #expect(try JSONDecoder().decode(Platform.self, from: Data(json.utf8)) == p)
    }
}
