// What the pages show of a stored manifest: its parsed form, total size
// (manifest + config + layers; an index: its children's), and platforms (an
// index: its children's descriptors; an image: its config's os/architecture).
//
// Thread safety: blocking; called only inside `ioRead` jobs.
// Invariants:
//   1. Only stored bytes are read, bounded: a config above 1 MiB is not
//      parsed (its platform shows as unknown); an index's children are read
//      one level deep.

import CASEngine
import Foundation
import OCIModel

struct WebUIManifestFacts: Sendable {
    let digest: BlobDigest
    let mediaType: String
    let bytes: [UInt8]
    let parsed: ParsedManifest?
    let size: UInt64
    let platforms: [String]
    /// The image config, when small enough.
    let config: WebUIImageConfig?

    static func platform(_ p: Platform) -> String {
        "\(p.os)/\(p.architecture)" + (p.variant.map { "/\($0)" } ?? "")
    }
}

/// What the manifest page shows of an image config (the OCI config's fields;
/// Docker's use the same names).
struct WebUIImageConfig: Sendable {
    struct Step: Sendable {
        var created = "", createdBy = "", comment = ""
        var emptyLayer = false
    }

    var os: String?, architecture: String?, variant: String?, created: String?, author: String?
    var command: [String] = []
    var labels: [String: String] = [:]
    var history: [Step] = []

    init(_ json: [String: Any]) {
        os = json["os"] as? String
        architecture = json["architecture"] as? String
        variant = json["variant"] as? String
        created = json["created"] as? String
        author = json["author"] as? String
        let inner = json["config"] as? [String: Any]
        command = (inner?["Entrypoint"] as? [String] ?? []) + (inner?["Cmd"] as? [String] ?? [])
        labels = (inner?["Labels"] as? [String: Any])?.mapValues { "\($0)" } ?? [:]
        history = (json["history"] as? [[String: Any]] ?? []).map {
            Step(created: $0["created"] as? String ?? "", createdBy: $0["created_by"] as? String ?? "",
                 comment: $0["comment"] as? String ?? "", emptyLayer: $0["empty_layer"] as? Bool ?? false)
        }
    }

    var platform: String? {
        guard let os, let architecture else { return nil }
        return "\(os)/\(architecture)" + (variant.map { "/\($0)" } ?? "")
    }
}

extension RegistryHandler {
    static let uiConfigLimit: UInt64 = 1 << 20

    static func uiFacts(_ store: any RegistryStore, _ repository: String, _ digest: BlobDigest, children: Bool = true) throws
        -> WebUIManifestFacts? {
        guard let m = try store.manifest(repository: repository, digest: digest) else { return nil }
        let parsed = try? ParsedManifest.parse(m.bytes, contentType: m.mediaType)
        var size = UInt64(m.bytes.count)
        var platforms: [String] = []
        var config: WebUIImageConfig? = nil
        if let parsed {
            switch parsed.kind {
            case .index:
                for child in parsed.manifests {
                    if let p = child.platform { platforms.append(WebUIManifestFacts.platform(p)) }
                    if children, let d = BlobDigest(child.digest.description),
                       let facts = try uiFacts(store, repository, d, children: false) {
                        size += facts.size
                    } else {
                        size += UInt64(max(0, child.size))
                    }
                }
            case .image:
                size += parsed.layers.reduce(UInt64(0)) { $0 + UInt64(max(0, $1.size)) }
                if let c = parsed.config {
                    size += UInt64(max(0, c.size))
                    if c.size >= 0, UInt64(c.size) <= uiConfigLimit, let d = BlobDigest(c.digest.description),
                       let bytes = try? store.openBlobContent(d, in: repository).read(offset: 0, length: Int(c.size)),
                       let json = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] {
                        let parsedConfig = WebUIImageConfig(json)
                        config = parsedConfig
                        if let p = parsedConfig.platform { platforms.append(p) }
                    }
                }
            }
        }
        return WebUIManifestFacts(digest: digest, mediaType: m.mediaType, bytes: m.bytes, parsed: parsed, size: size,
                                  platforms: platforms, config: config)
    }

    /// When the collector or retention takes an untagged manifest (Store+Browse).
    func uiCollectionDue(_ m: UntaggedManifest, repository: String) -> UInt64? {
        m.collectionDue(gc: configuration.collectorPolicy, retention: configuration.retention.first { $0.matches(repository) })
    }
}
