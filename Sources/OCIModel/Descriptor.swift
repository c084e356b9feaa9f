/// A content descriptor (OCI image-spec descriptor.md). `digest` is
/// encoded and decoded as its `algorithm:encoded` string.
public struct Descriptor: Codable, Hashable, Sendable {
    public var mediaType: String
    public var digest: Digest
    public var size: Int64
    public var urls: [String]?
    public var annotations: [String: String]?
    public var artifactType: String?
    public var platform: Platform?
    /// Embedded content, base64 (not decoded or checked here).
    public var data: String?

    public init(mediaType: String, digest: Digest, size: Int64, urls: [String]? = nil,
                annotations: [String: String]? = nil, artifactType: String? = nil,
                platform: Platform? = nil, data: String? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.urls = urls
        self.annotations = annotations
        self.artifactType = artifactType
        self.platform = platform
        self.data = data
    }

    enum CodingKeys: String, CodingKey {
        case mediaType, digest, size, urls, annotations, artifactType, platform, data
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        mediaType = try c.decode(String.self, forKey: .mediaType)
        let digestString = try c.decode(String.self, forKey: .digest)
        do {
            digest = try Digest(parsing: digestString)
        } catch let error as OCIParseError {
            throw DecodingError.dataCorruptedError(forKey: .digest, in: c, debugDescription: error.message)
        }
        size = try c.decode(Int64.self, forKey: .size)
        urls = try c.decodeIfPresent([String].self, forKey: .urls)
        annotations = try c.decodeIfPresent([String: String].self, forKey: .annotations)
        artifactType = try c.decodeIfPresent(String.self, forKey: .artifactType)
        platform = try c.decodeIfPresent(Platform.self, forKey: .platform)
        data = try c.decodeIfPresent(String.self, forKey: .data)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(mediaType, forKey: .mediaType)
        try c.encode(digest.description, forKey: .digest)
        try c.encode(size, forKey: .size)
        try c.encodeIfPresent(urls, forKey: .urls)
        try c.encodeIfPresent(annotations, forKey: .annotations)
        try c.encodeIfPresent(artifactType, forKey: .artifactType)
        try c.encodeIfPresent(platform, forKey: .platform)
        try c.encodeIfPresent(data, forKey: .data)
    }
}
