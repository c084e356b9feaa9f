/// Media types Berth understands. Values are exact strings from the OCI
/// image spec (media-types.md) and Docker's manifest v2 schema 2 document.
public enum MediaType {
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerSchema1 = "application/vnd.docker.distribution.manifest.v1+json"
    public static let dockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws"
    public static let ociEmpty = "application/vnd.oci.empty.v1+json"
    public static let ociConfig = "application/vnd.oci.image.config.v1+json"
    public static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    public static let dockerForeignLayer = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

    /// The four manifest media types accepted on PUT.
    public static let manifestTypes: [String] = [ociManifest, ociIndex, dockerManifest, dockerManifestList]

    public static let imageManifestTypes: Set<String> = [ociManifest, dockerManifest]
    public static let indexManifestTypes: Set<String> = [ociIndex, dockerManifestList]
    public static let schema1Types: Set<String> = [dockerSchema1, dockerSchema1Signed]

    private static let ociNonDistributablePrefix = "application/vnd.oci.image.layer.nondistributable."

    /// Layers a registry need not hold: Docker foreign layers and OCI
    /// non-distributable layers (deprecated, still pushed by Windows images).
    public static func isNonDistributable(_ mediaType: String) -> Bool {
        let m = essence(mediaType)
        return m == dockerForeignLayer || m.hasPrefix(ociNonDistributablePrefix)
    }

    /// The media type without parameters, trimmed and lowercased:
    /// `"Application/JSON; charset=utf-8"` -> `"application/json"`.
    public static func essence(_ value: String) -> String {
        let head = value.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return ASCII.trim(head).lowercased()
    }
}
