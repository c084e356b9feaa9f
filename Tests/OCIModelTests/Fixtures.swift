@testable import OCIModel

/// Digests and manifest bodies shaped like what real clients push.
enum Fixtures {
    static let a = "sha256:" + String(repeating: "a", count: 64)
    static let b = "sha256:" + String(repeating: "b", count: 64)
    static let c = "sha256:" + String(repeating: "c", count: 64)
    static let d = "sha256:" + String(repeating: "d", count: 64)
    static let e = "sha256:" + String(repeating: "e", count: 64)
    static let sha512 = "sha512:" + String(repeating: "0123456789abcdef", count: 8)

    static let ociImage = """
    {
      "schemaVersion": 2,
      "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "\(a)", "size": 7023},
      "layers": [
        {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "\(b)", "size": 32654},
        {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "\(c)", "size": 16724},
        {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "\(b)", "size": 32654}
      ],
      "annotations": {"com.example.key2": "value2", "com.example.key1": "value1"}
    }
    """

    static let dockerImage = """
    {
      "schemaVersion": 2,
      "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
      "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7023, "digest": "\(a)"},
      "layers": [
        {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 32654, "digest": "\(b)"},
        {"mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "size": 1000, "digest": "\(c)",
         "urls": ["https://mcr.microsoft.com/v2/windows/blobs/\(c)"]},
        {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 73109, "digest": "\(d)"}
      ]
    }
    """

    static let ociIndex = """
    {
      "schemaVersion": 2,
      "mediaType": "application/vnd.oci.image.index.v1+json",
      "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 7143, "digest": "\(a)",
         "platform": {"architecture": "ppc64le", "os": "linux"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 7682, "digest": "\(b)",
         "platform": {"architecture": "amd64", "os": "windows", "os.version": "10.0.14393.1066", "os.features": ["win32k"]}}
      ],
      "annotations": {"com.example.key1": "value1"}
    }
    """

    static let dockerList = """
    {
      "schemaVersion": 2,
      "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
      "manifests": [
        {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 7143, "digest": "\(a)",
         "platform": {"architecture": "arm", "os": "linux", "variant": "v7"}},
        {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 7682, "digest": "\(b)",
         "platform": {"architecture": "amd64", "os": "linux"}}
      ]
    }
    """

    static let artifact = """
    {
      "schemaVersion": 2,
      "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "artifactType": "application/vnd.example.sbom.v1",
      "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "size": 2, "data": "e30="},
      "layers": [{"mediaType": "application/vnd.example.sbom.v1+json", "digest": "\(e)", "size": 123}],
      "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "\(d)", "size": 1234},
      "annotations": {"org.opencontainers.image.created": "2023-01-02T03:04:05Z"}
    }
    """

    static let schema1 = """
    {
      "schemaVersion": 1,
      "name": "hello-world",
      "tag": "latest",
      "architecture": "amd64",
      "fsLayers": [{"blobSum": "\(a)"}],
      "history": [{"v1Compatibility": "{}"}]
    }
    """

    static var all: [String] { [ociImage, dockerImage, ociIndex, dockerList, artifact, schema1] }
}

extension ParsedManifest {
    static func parse(_ json: String, contentType: String? = nil) throws -> ParsedManifest {
        try parse(Array(json.utf8), contentType: contentType)
    }
}

/// Runs `body` and returns the OCIParseError it threw, or nil.
func parseError(_ body: () throws -> Void) -> OCIParseError? {
    do {
        try body()
        return nil
    } catch let e as OCIParseError {
        return e
    } catch {
        return OCIParseError(.manifestInvalid, "unexpected error type \(error)")
    }
}
