import Foundation

/// An OCI content descriptor as the harness writes and reads it.
struct LayoutDescriptor: Codable, Equatable {
    var mediaType: String
    var digest: String
    var size: Int
    var platform: LayoutPlatform?
    var artifactType: String?
    var annotations: [String: String]?

    /// The hex part of `sha256:<hex>`.
    var hex: String { String(digest.split(separator: ":").last ?? "") }
}

struct LayoutPlatform: Codable, Equatable {
    var architecture: String
    var os: String
}

enum MediaTypes {
    static let imageManifest = "application/vnd.oci.image.manifest.v1+json"
    static let imageIndex = "application/vnd.oci.image.index.v1+json"
    static let imageConfig = "application/vnd.oci.image.config.v1+json"
    static let layerTarGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    static let empty = "application/vnd.oci.empty.v1+json"
    static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
}

/// An `oci:` image layout directory (image-spec `image-layout.md`):
/// `oci-layout`, `index.json`, `blobs/sha256/<hex>`.
///
/// Writes are what skopeo reads with `oci:<dir>:<ref>`; reads are what skopeo
/// wrote when copying back out of the registry.
final class OCILayout {
    static let refNameAnnotation = "org.opencontainers.image.ref.name"

    let root: URL
    var blobsDirectory: URL { root.appendingPathComponent("blobs/sha256") }
    var indexURL: URL { root.appendingPathComponent("index.json") }

    /// Opens an existing layout (e.g. one skopeo wrote).
    init(at root: URL) {
        self.root = root
    }

    /// Creates an empty layout at `root`.
    static func create(at root: URL) throws -> OCILayout {
        let layout = OCILayout(at: root)
        try FileManager.default.createDirectory(at: layout.blobsDirectory, withIntermediateDirectories: true)
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: root.appendingPathComponent("oci-layout"))
        try layout.writeIndex([])
        return layout
    }

    // MARK: blobs

    func blobURL(_ digest: String) -> URL {
        blobsDirectory.appendingPathComponent(String(digest.split(separator: ":").last ?? ""))
    }

    func blob(_ digest: String) throws -> Data {
        try Data(contentsOf: blobURL(digest))
    }

    func hasBlob(_ digest: String) -> Bool {
        FileManager.default.fileExists(atPath: blobURL(digest).path)
    }

    /// Stores `data` as a blob and returns its descriptor.
    @discardableResult
    func writeBlob(_ data: Data, mediaType: String) throws -> LayoutDescriptor {
        let digest = try SHA256.digest(of: data)
        let url = blobURL(digest)
        if !FileManager.default.fileExists(atPath: url.path) {
            try data.write(to: url)
        }
        return LayoutDescriptor(mediaType: mediaType, digest: digest, size: data.count)
    }

    /// Moves a file into the blob store and returns its descriptor.
    func importBlob(file: URL, mediaType: String) throws -> LayoutDescriptor {
        let digest = try SHA256.digest(ofFile: file)
        let size = try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int ?? 0
        let url = blobURL(digest)
        if FileManager.default.fileExists(atPath: url.path) {
            try FileManager.default.removeItem(at: file)
        } else {
            try FileManager.default.moveItem(at: file, to: url)
        }
        return LayoutDescriptor(mediaType: mediaType, digest: digest, size: size)
    }

    /// Encodes a JSON document canonically enough to be stable: sorted keys,
    /// no escaped slashes. The bytes written are the bytes whose digest counts.
    func writeJSON<T: Encodable>(_ value: T, mediaType: String) throws -> LayoutDescriptor {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try writeBlob(try encoder.encode(value), mediaType: mediaType)
    }

    // MARK: index.json

    struct Index: Codable {
        var schemaVersion = 2
        var mediaType: String? = MediaTypes.imageIndex
        var manifests: [LayoutDescriptor]
    }

    func entries() throws -> [LayoutDescriptor] {
        try JSONDecoder().decode(Index.self, from: Data(contentsOf: indexURL)).manifests
    }

    private func writeIndex(_ manifests: [LayoutDescriptor]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
        try encoder.encode(Index(manifests: manifests)).write(to: indexURL)
    }

    /// Names `descriptor` in index.json as `ref` (what `oci:<dir>:<ref>` selects).
    func tag(_ descriptor: LayoutDescriptor, as ref: String) throws {
        var entry = descriptor
        entry.annotations = (entry.annotations ?? [:]).merging([Self.refNameAnnotation: ref]) { $1 }
        var manifests = try entries().filter { $0.annotations?[Self.refNameAnnotation] != ref }
        manifests.append(entry)
        try writeIndex(manifests)
    }

    /// The descriptor index.json names `ref`.
    func entry(forRef ref: String) throws -> LayoutDescriptor {
        guard let entry = try entries().first(where: { $0.annotations?[Self.refNameAnnotation] == ref }) else {
            throw InteropError("\(root.path)/index.json names no \(ref)")
        }
        return entry
    }
}
