import BerthTestSupport
import Foundation

/// Generated content for the soak and crash suites: blobs and OCI manifests
/// (JSON written by hand, fields in a fixed order, so equal inputs give equal
/// digests), hashed by the harness's own SHA-256.
struct SoakBlob: Sendable {
    let digest: String
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.digest = SHA256.digest(bytes)
    }
}

/// A manifest the harness pushes, with everything its closure holds.
struct SoakManifest: Sendable {
    enum Kind: Sendable { case image, index, referrer }

    let kind: Kind
    let mediaType: String
    let bytes: [UInt8]
    let digest: String
    /// Config and layers (image, referrer), in push order.
    let blobs: [SoakBlob]
    /// Child manifests (index), pushed by digest before the index.
    let children: [SoakManifest]
    /// The manifest a referrer is about.
    let subject: String?

    static let imageType = "application/vnd.oci.image.manifest.v1+json"
    static let indexType = "application/vnd.oci.image.index.v1+json"
    static let configType = "application/vnd.oci.image.config.v1+json"
    static let layerType = "application/vnd.oci.image.layer.v1.tar"
    static let artifactType = "application/vnd.berth.soak.signature"
    /// The OCI empty descriptor's content (`{}`), shared by every referrer.
    static let emptyConfig = SoakBlob(Array("{}".utf8))

    private static func descriptor(_ mediaType: String, _ digest: String, _ size: Int, extra: String = "") -> String {
        "{\"mediaType\":\"\(mediaType)\",\"digest\":\"\(digest)\",\"size\":\(size)\(extra)}"
    }

    /// An image: a unique config (`label` makes it so) and the given layers.
    static func image(label: String, layers: [SoakBlob]) -> SoakManifest {
        let config = SoakBlob(Array("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Labels\":{\"berth.soak\":\"\(label)\"}}}".utf8))
        let json = "{\"schemaVersion\":2,\"mediaType\":\"\(imageType)\",\"config\":"
            + descriptor(configType, config.digest, config.bytes.count)
            + ",\"layers\":[" + layers.map { descriptor(layerType, $0.digest, $0.bytes.count) }.joined(separator: ",") + "]}"
        let bytes = Array(json.utf8)
        return SoakManifest(kind: .image, mediaType: imageType, bytes: bytes, digest: SHA256.digest(bytes),
                            blobs: [config] + layers, children: [], subject: nil)
    }

    /// A multi-arch index over `children` (images).
    static func index(label: String, children: [SoakManifest]) -> SoakManifest {
        let arches = ["amd64", "arm64", "riscv64", "s390x"]
        let entries = children.enumerated().map { i, c in
            descriptor(imageType, c.digest, c.bytes.count, extra: ",\"platform\":{\"architecture\":\"\(arches[i % arches.count])\",\"os\":\"linux\"}")
        }
        let json = "{\"schemaVersion\":2,\"mediaType\":\"\(indexType)\",\"manifests\":[" + entries.joined(separator: ",")
            + "],\"annotations\":{\"berth.soak\":\"\(label)\"}}"
        let bytes = Array(json.utf8)
        return SoakManifest(kind: .index, mediaType: indexType, bytes: bytes, digest: SHA256.digest(bytes),
                            blobs: [], children: children, subject: nil)
    }

    /// A signature-like artifact about `subject`: empty config, one unique layer.
    static func referrer(label: String, subject: SoakManifest) -> SoakManifest {
        let payload = SoakBlob(Array("signature of \(subject.digest) by \(label)".utf8))
        let json = "{\"schemaVersion\":2,\"mediaType\":\"\(imageType)\",\"artifactType\":\"\(artifactType)\",\"config\":"
            + descriptor("application/vnd.oci.empty.v1+json", emptyConfig.digest, emptyConfig.bytes.count)
            + ",\"layers\":[" + descriptor(layerType, payload.digest, payload.bytes.count) + "],\"subject\":"
            + descriptor(subject.mediaType, subject.digest, subject.bytes.count) + "}"
        let bytes = Array(json.utf8)
        return SoakManifest(kind: .referrer, mediaType: imageType, bytes: bytes, digest: SHA256.digest(bytes),
                            blobs: [emptyConfig, payload], children: [], subject: subject.digest)
    }
}

/// Layers shared by every client of a run (so pushes dedupe against, mount
/// and race the collector over each other's blobs); some larger than the
/// server's small-blob threshold so they take the dedicated-pack path.
struct LayerPool: Sendable {
    let layers: [SoakBlob]

    init(seed: UInt64, count: Int, largeEvery: Int = 5, largeSize: ClosedRange<Int> = 9_000...40_000) {
        var rng = SplitMix64(seed: seed ^ 0x5EED_1A7E)
        layers = (0..<count).map { i in
            let size = i % largeEvery == largeEvery - 1 ? Int.random(in: largeSize, using: &rng) : Int.random(in: 32...6_000, using: &rng)
            return SoakBlob(rng.bytes(size))
        }
    }
}

/// The run's seed: `BERTH_TEST_SEED` when set (to replay a failure), else random.
enum SoakSeed {
    static func pick() -> UInt64 {
        if let text = ProcessInfo.processInfo.environment["BERTH_TEST_SEED"], let seed = UInt64(text) { return seed }
        return UInt64.random(in: 1...UInt64(UInt32.max))
    }
}
