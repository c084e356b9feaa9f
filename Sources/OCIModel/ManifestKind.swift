/// Whether a manifest describes one image/artifact or lists other manifests.
public enum ManifestKind: Sendable, Hashable {
    /// OCI image manifest or Docker manifest v2 schema 2.
    case image
    /// OCI image index or Docker manifest list.
    case index
}
