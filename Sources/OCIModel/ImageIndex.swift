import Foundation

/// An OCI image index, as Berth writes it (referrers API responses).
public struct ImageIndex: Codable, Sendable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var manifests: [Descriptor]
    public var annotations: [String: String]?

    public init(schemaVersion: Int = 2, mediaType: String? = MediaType.ociIndex,
                manifests: [Descriptor], annotations: [String: String]? = nil) {
        self.schemaVersion = schemaVersion
        self.mediaType = mediaType
        self.manifests = manifests
        self.annotations = annotations
    }

    /// JSON body of `GET /v2/<name>/referrers/<digest>`: an OCI index whose
    /// `manifests` is always present, `[]` when there are no referrers.
    public static func referrersResponse(_ descriptors: [Descriptor]) -> [UInt8] {
        let index = ImageIndex(manifests: descriptors)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings, integers and arrays cannot fail; the
        // fallback keeps the function total anyway.
        guard let data = try? encoder.encode(index) else {
            return Array(#"{"manifests":[],"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2}"#.utf8)
        }
        return Array(data)
    }
}
