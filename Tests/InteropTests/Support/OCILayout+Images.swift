import Foundation

/// What `addImage` wrote: the manifest and everything it references.
struct BuiltImage {
    let manifest: LayoutDescriptor
    let config: LayoutDescriptor
    let layers: [LayoutDescriptor]
    /// The manifest as a descriptor carrying its platform (for an index).
    var platformManifest: LayoutDescriptor
}

private struct ImageConfig: Codable {
    struct Config: Codable {
        var Env: [String]
        var Cmd: [String]
        var WorkingDir: String
    }
    struct RootFS: Codable {
        var type = "layers"
        var diff_ids: [String]
    }
    struct History: Codable {
        var created: String
        var created_by: String
    }
    var architecture: String
    var os: String
    var created: String
    var config: Config
    var rootfs: RootFS
    var history: [History]
}

private struct ImageManifest: Codable {
    var schemaVersion = 2
    var mediaType: String
    var artifactType: String?
    var config: LayoutDescriptor
    var layers: [LayoutDescriptor]
    var subject: LayoutDescriptor?
    var annotations: [String: String]?
}

private struct ImageIndexDocument: Codable {
    var schemaVersion = 2
    var mediaType = MediaTypes.imageIndex
    var manifests: [LayoutDescriptor]
}

/// The empty JSON object blob (`application/vnd.oci.empty.v1+json`, `{}`).
let emptyConfigDigest = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"

extension OCILayout {
    /// A real image: `layerCount` tar.gz layers made by /bin/tar and `gzip -n`
    /// from generated files, a config whose `rootfs.diff_ids` are the
    /// uncompressed tar digests, and an OCI image manifest over them.
    ///
    /// `seed` makes contents distinct between images; `largeLayerBytes` adds
    /// incompressible bytes to the last layer so uploads are not trivially small.
    func addImage(
        seed: String, layerCount: Int, architecture: String = "amd64", largeLayerBytes: Int = 0
    ) throws -> BuiltImage {
        var layers: [LayoutDescriptor] = []
        var diffIDs: [String] = []
        for n in 0..<layerCount {
            let large = (n == layerCount - 1) ? largeLayerBytes : 0
            let (layer, diffID) = try addLayer(seed: "\(seed)-\(architecture)-\(n)", largeBytes: large)
            layers.append(layer)
            diffIDs.append(diffID)
        }
        let created = "2026-01-01T00:00:00Z"
        let config = ImageConfig(
            architecture: architecture, os: "linux", created: created,
            config: .init(
                Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "BERTH_SEED=\(seed)"],
                Cmd: ["/bin/sh"], WorkingDir: "/"),
            rootfs: .init(diff_ids: diffIDs),
            history: (0..<layerCount).map { .init(created: created, created_by: "interop layer \($0)") })
        let configDescriptor = try writeJSON(config, mediaType: MediaTypes.imageConfig)
        let manifest = try writeJSON(
            ImageManifest(
                mediaType: MediaTypes.imageManifest, config: configDescriptor, layers: layers,
                annotations: ["org.opencontainers.image.title": "berth-interop-\(seed)"]),
            mediaType: MediaTypes.imageManifest)
        var withPlatform = manifest
        withPlatform.platform = LayoutPlatform(architecture: architecture, os: "linux")
        return BuiltImage(manifest: manifest, config: configDescriptor, layers: layers, platformManifest: withPlatform)
    }

    /// An OCI image index over the given (platform-carrying) manifests.
    func addIndex(_ manifests: [LayoutDescriptor]) throws -> LayoutDescriptor {
        try writeJSON(ImageIndexDocument(manifests: manifests), mediaType: MediaTypes.imageIndex)
    }

    /// An artifact manifest in the OCI 1.1 shape: `artifactType`, the empty
    /// config `{}`, one payload layer, and `subject` pointing at `subject`.
    func addArtifact(
        artifactType: String, subject: LayoutDescriptor, payload: Data, payloadMediaType: String
    ) throws -> LayoutDescriptor {
        let empty = try writeBlob(Data("{}".utf8), mediaType: MediaTypes.empty)
        precondition(empty.digest == emptyConfigDigest)
        var payloadDescriptor = try writeBlob(payload, mediaType: payloadMediaType)
        payloadDescriptor.annotations = ["org.opencontainers.image.title": "signature.json"]
        var subjectDescriptor = subject
        subjectDescriptor.platform = nil
        subjectDescriptor.annotations = nil
        var manifest = try writeJSON(
            ImageManifest(
                mediaType: MediaTypes.imageManifest, artifactType: artifactType, config: empty,
                layers: [payloadDescriptor], subject: subjectDescriptor,
                annotations: ["org.opencontainers.image.created": "2026-01-01T00:00:00Z"]),
            mediaType: MediaTypes.imageManifest)
        manifest.artifactType = artifactType
        return manifest
    }

    /// One tar.gz layer; returns its descriptor and its diff_id.
    private func addLayer(seed: String, largeBytes: Int) throws -> (LayoutDescriptor, String) {
        let fm = FileManager.default
        let work = fm.temporaryDirectory.appendingPathComponent("berth-layer-\(UUID().uuidString)")
        let tree = work.appendingPathComponent("tree")
        defer { try? fm.removeItem(at: work) }
        let etc = tree.appendingPathComponent("etc/berth")
        try fm.createDirectory(at: etc, withIntermediateDirectories: true)
        try Data("layer \(seed)\n".utf8).write(to: etc.appendingPathComponent("\(seed).txt"))
        var text = ""
        for line in 0..<200 { text += "\(seed) line \(line): the quick brown fox jumps over the lazy dog\n" }
        try Data(text.utf8).write(to: etc.appendingPathComponent("notes-\(seed).txt"))
        if largeBytes > 0 {
            var generator = SystemRandomNumberGenerator()
            var bytes = [UInt8](repeating: 0, count: largeBytes)
            for i in bytes.indices { bytes[i] = UInt8.random(in: .min ... .max, using: &generator) }
            let opt = tree.appendingPathComponent("opt")
            try fm.createDirectory(at: opt, withIntermediateDirectories: true)
            try Data(bytes).write(to: opt.appendingPathComponent("payload.bin"))
        }
        let tar = work.appendingPathComponent("layer.tar")
        try Command.check(
            "tar",
            ["--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner",
             "-C", tree.path, "-cf", tar.path, "."])
        let diffID = try SHA256.digest(ofFile: tar)
        try Command.check("gzip", ["-n", "-f", tar.path])
        let gz = work.appendingPathComponent("layer.tar.gz")
        let descriptor = try importBlob(file: gz, mediaType: MediaTypes.layerTarGzip)
        return (descriptor, diffID)
    }
}
