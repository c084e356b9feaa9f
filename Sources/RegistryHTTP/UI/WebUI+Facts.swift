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

struct WebUIManifestFacts {
    let digest: BlobDigest
    let mediaType: String
    let bytes: [UInt8]
    let parsed: ParsedManifest?
    let size: UInt64
    let platforms: [String]
    /// The image config, parsed as JSON, when small enough.
    let config: [String: Any]?

    static func platform(_ p: Platform) -> String {
        "\(p.os)/\(p.architecture)" + (p.variant.map { "/\($0)" } ?? "")
    }
}

extension WebUIManifestFacts: @unchecked Sendable {}

extension RegistryHandler {
    static let uiConfigLimit: UInt64 = 1 << 20

    static func uiFacts(_ store: any RegistryStore, _ repository: String, _ digest: BlobDigest, children: Bool = true) throws
        -> WebUIManifestFacts? {
        guard let m = try store.manifest(repository: repository, digest: digest) else { return nil }
        let parsed = try? ParsedManifest.parse(m.bytes, contentType: m.mediaType)
        var size = UInt64(m.bytes.count)
        var platforms: [String] = []
        var config: [String: Any]? = nil
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
                        config = json
                        if let os = json["os"] as? String, let arch = json["architecture"] as? String {
                            platforms.append("\(os)/\(arch)" + ((json["variant"] as? String).map { "/\($0)" } ?? ""))
                        }
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
