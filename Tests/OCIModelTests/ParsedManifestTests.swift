import Foundation
import Testing
@testable import OCIModel

@Suite struct ParsedManifestTests {
    func digest(_ s: String) -> Digest { try! Digest(parsing: s) }

    @Test func ociImage() throws {
        let m = try ParsedManifest.parse(Fixtures.ociImage, contentType: MediaType.ociManifest)
        #expect(m.kind == .image)
        #expect(m.mediaType == MediaType.ociManifest)
        #expect(m.config?.digest == digest(Fixtures.a))
        #expect(m.config?.size == 7023)
        #expect(m.layers.count == 3)
        #expect(m.manifests.isEmpty)
        #expect(m.subject == nil)
        // No artifactType: falls back to the config media type (referrers API rule).
        #expect(m.artifactType == MediaType.ociConfig)
        // Duplicate layer listed once, order preserved.
        #expect(m.references == [digest(Fixtures.a), digest(Fixtures.b), digest(Fixtures.c)])
        #expect(m.annotations == ["com.example.key1": "value1", "com.example.key2": "value2"])
        #expect(m.annotationsJSON.map { String(decoding: $0, as: UTF8.self) }
                == #"{"com.example.key1":"value1","com.example.key2":"value2"}"#)
    }

    @Test func dockerSchema2ExcludesForeignLayers() throws {
        let m = try ParsedManifest.parse(Fixtures.dockerImage, contentType: MediaType.dockerManifest)
        #expect(m.kind == .image)
        #expect(m.mediaType == MediaType.dockerManifest)
        #expect(m.layers.count == 3)
        #expect(m.layers[1].urls?.count == 1)
        #expect(m.references == [digest(Fixtures.a), digest(Fixtures.b), digest(Fixtures.d)])
        #expect(m.annotations == nil)
        #expect(m.annotationsJSON == nil)
    }

    @Test func layerWithURLsOrNondistributableMediaTypeIsExcluded() throws {
        let json = """
        {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
         "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\(Fixtures.a)","size":1},
         "layers":[
          {"mediaType":"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip","digest":"\(Fixtures.b)","size":1},
          {"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"\(Fixtures.c)","size":1,"urls":["https://example.com/x"]},
          {"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"\(Fixtures.d)","size":1,"urls":[]}
         ]}
        """
        let m = try ParsedManifest.parse(json)
        #expect(m.references == [digest(Fixtures.a), digest(Fixtures.d)])
    }

    @Test func ociIndex() throws {
        let m = try ParsedManifest.parse(Fixtures.ociIndex, contentType: MediaType.ociIndex)
        #expect(m.kind == .index)
        #expect(m.config == nil)
        #expect(m.layers.isEmpty)
        #expect(m.manifests.count == 2)
        #expect(m.manifests[1].platform == Platform(architecture: "amd64", os: "windows",
            osVersion: "10.0.14393.1066", osFeatures: ["win32k"]))
        #expect(m.references == [digest(Fixtures.a), digest(Fixtures.b)])
        #expect(m.artifactType == nil)
    }

    @Test func dockerManifestList() throws {
        let m = try ParsedManifest.parse(Fixtures.dockerList, contentType: MediaType.dockerManifestList)
        #expect(m.kind == .index)
        #expect(m.mediaType == MediaType.dockerManifestList)
        #expect(m.manifests[0].platform?.variant == "v7")
        #expect(m.references.count == 2)
    }

    @Test func artifactWithSubject() throws {
        let m = try ParsedManifest.parse(Fixtures.artifact, contentType: MediaType.ociManifest)
        #expect(m.artifactType == "application/vnd.example.sbom.v1")
        #expect(m.subject?.digest == digest(Fixtures.d))
        #expect(m.config?.mediaType == MediaType.ociEmpty)
        #expect(m.config?.data == "e30=")
        // The subject is not a reference: it may be pushed after its referrers.
        #expect(!m.references.contains(digest(Fixtures.d)))
        #expect(m.references.count == 2)
    }

    @Test func indexWithArtifactTypeAndSubject() throws {
        let json = """
        {"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","artifactType":"application/x-sig",
         "manifests":[],"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\(Fixtures.a)","size":5}}
        """
        let m = try ParsedManifest.parse(json)
        #expect(m.kind == .index)
        #expect(m.artifactType == "application/x-sig")
        #expect(m.subject?.digest == digest(Fixtures.a))
        #expect(m.references.isEmpty)
    }

    @Test func emptyLayersAllowed() throws {
        let json = """
        {"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"\(Fixtures.a)","size":2},"layers":[]}
        """
        let m = try ParsedManifest.parse(json)
        #expect(m.mediaType == MediaType.ociManifest)
        #expect(m.layers.isEmpty)
    }

    @Test func mediaTypeInference() throws {
        let image = #"{"schemaVersion":2,"config":{"mediaType":"a/b","digest":"\#(Fixtures.a)","size":1},"layers":[]}"#
        let index = #"{"schemaVersion":2,"manifests":[]}"#
        #expect(try ParsedManifest.parse(image).mediaType == MediaType.ociManifest)
        #expect(try ParsedManifest.parse(index).mediaType == MediaType.ociIndex)
        // Content-Type decides when the body has no mediaType; parameters are ignored.
        #expect(try ParsedManifest.parse(image, contentType: "application/vnd.docker.distribution.manifest.v2+json; charset=utf-8").mediaType
                == MediaType.dockerManifest)
        #expect(try ParsedManifest.parse(index, contentType: MediaType.dockerManifestList).kind == .index)
        #expect(try ParsedManifest.parse(index, contentType: "").mediaType == MediaType.ociIndex)
    }

    @Test func schema1Rejected() {
        let unsupported = OCIParseError(.manifestUnsupported, "")
        #expect(parseError { _ = try ParsedManifest.parse(Fixtures.schema1) } == unsupported)
        #expect(parseError { _ = try ParsedManifest.parse(Fixtures.schema1, contentType: MediaType.dockerSchema1Signed) } == unsupported)
        #expect(parseError { _ = try ParsedManifest.parse(Fixtures.ociImage, contentType: MediaType.dockerSchema1) } == unsupported)
        let withMediaType = #"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v1+json"}"#
        #expect(parseError { _ = try ParsedManifest.parse(withMediaType) } == unsupported)
        let message = parseError { _ = try ParsedManifest.parse(Fixtures.schema1) }?.message ?? ""
        #expect(message.contains("schema1"))
        #expect(message.contains("current client"))
    }

    static let invalidCases: [(String, String, String?)] = [
        ("mediaType mismatch", Fixtures.ociImage, MediaType.dockerManifest),
        ("content type not a manifest", #"{"schemaVersion":2,"manifests":[]}"#, "application/json"),
        ("unknown mediaType", #"{"schemaVersion":2,"mediaType":"text/plain","manifests":[]}"#, nil),
        ("mediaType not a string", #"{"schemaVersion":2,"mediaType":5,"manifests":[]}"#, nil),
        ("neither config nor manifests", #"{"schemaVersion":2}"#, nil),
        ("both config and manifests, no type",
         #"{"schemaVersion":2,"config":{"mediaType":"a/b","digest":"\#(Fixtures.a)","size":1},"layers":[],"manifests":[]}"#, nil),
        ("no schemaVersion", #"{"manifests":[]}"#, nil),
        ("schemaVersion 3", #"{"schemaVersion":3,"manifests":[]}"#, nil),
        ("schemaVersion string", #"{"schemaVersion":"2","manifests":[]}"#, nil),
        ("schemaVersion bool", #"{"schemaVersion":true,"manifests":[]}"#, nil),
        ("top-level array", "[]", nil),
        ("top-level string", #""hello""#, nil),
        ("top-level number", "2", nil),
        ("null", "null", nil),
        ("empty body", "", nil),
        ("whitespace", "   \n", nil),
        ("truncated", String(Fixtures.ociImage.prefix(100)), nil),
        ("garbage", "\u{1}\u{2}\u{ff}not json", nil),
        ("image without config", #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}"#, nil),
        ("image without layers",
         #"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"a/b","digest":"\#(Fixtures.a)","size":1}}"#, nil),
        ("image with manifests", #"{"schemaVersion":2,"config":{"mediaType":"a/b","digest":"\#(Fixtures.a)","size":1},"layers":[],"manifests":[]}"#, MediaType.ociManifest),
        ("index without manifests", #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json"}"#, nil),
        ("index with config",
         #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[],"config":{"mediaType":"a/b","digest":"\#(Fixtures.a)","size":1}}"#, nil),
        ("index with layers", #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[],"layers":[]}"#, nil),
        ("layers not an array", #"{"schemaVersion":2,"config":{"mediaType":"a/b","digest":"\#(Fixtures.a)","size":1},"layers":{}}"#, nil),
        ("config missing mediaType", #"{"schemaVersion":2,"config":{"digest":"\#(Fixtures.a)","size":1},"layers":[]}"#, nil),
        ("config empty mediaType", #"{"schemaVersion":2,"config":{"mediaType":"","digest":"\#(Fixtures.a)","size":1},"layers":[]}"#, nil),
        ("config missing digest", #"{"schemaVersion":2,"config":{"mediaType":"a/b","size":1},"layers":[]}"#, nil),
        ("config bad digest", #"{"schemaVersion":2,"config":{"mediaType":"a/b","digest":"sha256:xyz","size":1},"layers":[]}"#, nil),
        ("config unsupported digest", #"{"schemaVersion":2,"config":{"mediaType":"a/b","digest":"md5:d41d8cd98f00b204e9800998ecf8427e","size":1},"layers":[]}"#, nil),
        ("config missing size", #"{"schemaVersion":2,"config":{"mediaType":"a/b","digest":"\#(Fixtures.a)"},"layers":[]}"#, nil),
        ("negative size", #"{"schemaVersion":2,"config":{"mediaType":"a/b","digest":"\#(Fixtures.a)","size":-1},"layers":[]}"#, nil),
        ("fractional size", #"{"schemaVersion":2,"config":{"mediaType":"a/b","digest":"\#(Fixtures.a)","size":1.5},"layers":[]}"#, nil),
        ("huge size", #"{"schemaVersion":2,"config":{"mediaType":"a/b","digest":"\#(Fixtures.a)","size":99999999999999999999999},"layers":[]}"#, nil),
        ("size string", #"{"schemaVersion":2,"config":{"mediaType":"a/b","digest":"\#(Fixtures.a)","size":"1"},"layers":[]}"#, nil),
        ("bad layer digest", #"{"schemaVersion":2,"config":{"mediaType":"a/b","digest":"\#(Fixtures.a)","size":1},"layers":[{"mediaType":"a/b","digest":"sha256:ABC","size":1}]}"#, nil),
        ("bad index entry", #"{"schemaVersion":2,"manifests":[{"mediaType":"a/b","size":1}]}"#, nil),
        ("bad subject", #"{"schemaVersion":2,"manifests":[],"subject":{"mediaType":"a/b","digest":"nope","size":1}}"#, nil),
        ("annotation value not a string", #"{"schemaVersion":2,"manifests":[],"annotations":{"a":1}}"#, nil),
        ("annotations not an object", #"{"schemaVersion":2,"manifests":[],"annotations":["a"]}"#, nil),
        ("descriptor annotation not a string",
         #"{"schemaVersion":2,"manifests":[{"mediaType":"a/b","digest":"\#(Fixtures.a)","size":1,"annotations":{"k":null}}]}"#, nil),
        ("artifactType not a string", #"{"schemaVersion":2,"manifests":[],"artifactType":{}}"#, nil),
        ("platform without os", #"{"schemaVersion":2,"manifests":[{"mediaType":"a/b","digest":"\#(Fixtures.a)","size":1,"platform":{"architecture":"amd64"}}]}"#, nil),
    ]

    @Test(arguments: invalidCases)
    func invalid(_ name: String, _ json: String, _ contentType: String?) {
        let error = parseError { _ = try ParsedManifest.parse(json, contentType: contentType) }
        #expect(error == OCIParseError(.manifestInvalid, ""), "\(name): \(String(describing: error))")
    }

    @Test func messagesNameTheField() {
        func message(_ json: String) -> String {
            parseError { _ = try ParsedManifest.parse(json) }?.message ?? ""
        }
        #expect(message(#"{"schemaVersion":2,"config":{"mediaType":"a/b","digest":"\#(Fixtures.a)","size":1},"layers":[{"mediaType":"a/b","digest":"sha256:ABC","size":1}]}"#)
                .contains("layers[0].digest"))
        #expect(message(#"{"schemaVersion":2,"manifests":[{"mediaType":"a/b","digest":"\#(Fixtures.a)"}]}"#)
                .contains("manifests[0].size"))
        #expect(message(#"{"schemaVersion":2,"manifests":[],"annotations":{"a":1}}"#).contains("annotations"))
        #expect(message(Fixtures.ociImage.replacingOccurrences(of: "\"size\": 7023", with: "\"size\": -5")).contains("config.size"))
    }

    @Test func deepNestingRejectedFast() {
        let depth = 10_000
        let nested = Array(repeating: UInt8(ascii: "["), count: depth) + Array(repeating: UInt8(ascii: "]"), count: depth)
        let objects = Array(#"{"schemaVersion":2,"manifests":[],"annotations":"#.utf8)
            + Array(repeating: UInt8(ascii: "{"), count: depth)
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for bytes in [nested, objects] {
                let e = parseError { _ = try ParsedManifest.parse(bytes, contentType: nil) }
                #expect(e == OCIParseError(.manifestInvalid, ""))
                #expect(e?.message.contains("nesting too deep") == true)
            }
        }
        #expect(elapsed < .seconds(2))  // a linear scan of 20 KB; generous for a loaded CI box
    }

    @Test func depthGuardHonoursStrings() throws {
        // 100 brackets inside a string value are not nesting.
        let json = #"{"schemaVersion":2,"manifests":[],"annotations":{"k":"\#(String(repeating: "[{", count: 100))\"\\"}}"#
        let m = try ParsedManifest.parse(json)
        #expect(m.annotations?["k"]?.hasPrefix("[{[{") == true)
        #expect(JSONDepthGuard.check(Array("[[[]]]".utf8), maxDepth: 3))
        #expect(!JSONDepthGuard.check(Array("[[[[]]]]".utf8), maxDepth: 3))
        #expect(JSONDepthGuard.check(Array(#"["\"[[[[[[["]"#.utf8), maxDepth: 1))
    }

    @Test func nestingAtTheLimitIsAccepted() throws {
        // 64 levels total: the top object, the annotations value is not nested, so
        // put depth inside an unknown field that the decoder ignores.
        let inner = String(repeating: "[", count: 63) + String(repeating: "]", count: 63)
        let json = #"{"schemaVersion":2,"manifests":[],"x":\#(inner)}"#
        _ = try ParsedManifest.parse(json)
        let tooDeep = #"{"schemaVersion":2,"manifests":[],"x":[\#(inner)]}"#
        #expect(parseError { _ = try ParsedManifest.parse(tooDeep) } == OCIParseError(.manifestInvalid, ""))
    }

    @Test func unknownFieldsIgnored() throws {
        let json = #"{"schemaVersion":2,"manifests":[],"foo":{"bar":[1,2,3]},"zzz":null}"#
        #expect(try ParsedManifest.parse(json).kind == .index)
    }
}


@Suite struct ParsedManifestScaleTests {
    /// A manifest near the default size limit parses, and `references`
    /// de-duplicates across thousands of layers.
    @Test func thousandsOfLayers() throws {
        var layers: [String] = []
        for i in 0..<10_000 {
            let hex = String(i % 5_000, radix: 16)
            let digest = "sha256:" + String(repeating: "0", count: 64 - hex.count) + hex
            layers.append(#"{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"\#(digest)","size":\#(i)}"#)
        }
        let json = #"{"schemaVersion":2,"config":{"mediaType":"a/b","digest":"\#(Fixtures.a)","size":1},"layers":[\#(layers.joined(separator: ","))]}"#
        #expect(json.utf8.count < ParsedManifest.defaultMaxSize)
        let m = try ParsedManifest.parse(json)
        #expect(m.layers.count == 10_000)
        #expect(m.references.count == 5_001)
        #expect(m.references.first == (try Digest(parsing: Fixtures.a)))
    }

    @Test func hugeFlatGarbageIsRejected() {
        let bytes = [UInt8](repeating: UInt8(ascii: "x"), count: ParsedManifest.defaultMaxSize)
        #expect(parseError { _ = try ParsedManifest.parse(bytes, contentType: nil) } == OCIParseError(.manifestInvalid, ""))
    }
}
