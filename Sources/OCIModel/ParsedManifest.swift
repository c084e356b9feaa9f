import Foundation

/// A manifest or index pushed by a client, validated, with the edges the
/// storage engine counts (`references`, `subject`).
///
/// Accepted: OCI image manifest, OCI image index, Docker manifest v2 schema 2,
/// Docker manifest list. Docker schema 1 is refused (`manifestUnsupported`).
/// Parsing is total: any byte string returns or throws `OCIParseError`;
/// nesting depth is bounded before a JSON decoder runs.
public struct ParsedManifest: Sendable {
    /// Default limit on manifest bodies; enforcing it is the caller's job
    /// (it knows the configured limit and reads the body).
    public static let defaultMaxSize = 4 << 20

    /// Effective media type: the JSON `mediaType`, else the Content-Type,
    /// else inferred from the shape (`config` -> OCI manifest, `manifests` -> OCI index).
    public let mediaType: String
    public let kind: ManifestKind
    public let config: Descriptor?
    public let layers: [Descriptor]
    public let manifests: [Descriptor]
    public let subject: Descriptor?
    /// Effective artifact type for the referrers API: the manifest's
    /// `artifactType`, else (images only) `config.mediaType`.
    public let artifactType: String?
    public let annotations: [String: String]?
    /// `annotations` re-encoded as JSON with sorted keys; nil when absent.
    public let annotationsJSON: [UInt8]?

    /// Every digest that must already exist in the repository for the push to
    /// succeed: config, layers (except non-distributable layers and layers with
    /// `urls`), child manifests. De-duplicated, first occurrence order. The
    /// subject is not included: it may be pushed later.
    public var references: [Digest] {
        var seen = Set<Digest>()
        var result: [Digest] = []
        func add(_ d: Digest) { if seen.insert(d).inserted { result.append(d) } }
        if let config { add(config.digest) }
        for layer in layers {
            if MediaType.isNonDistributable(layer.mediaType) { continue }
            if let urls = layer.urls, !urls.isEmpty { continue }
            add(layer.digest)
        }
        for m in manifests { add(m.digest) }
        return result
    }

    public static func parse(_ bytes: [UInt8], contentType: String?) throws -> ParsedManifest {
        var declared: String? = contentType.map(MediaType.essence)
        if declared == "" { declared = nil }
        if let declared, MediaType.schema1Types.contains(declared) {
            throw schema1Error
        }
        if bytes.isEmpty {
            throw invalid("manifest body is empty")
        }
        guard JSONDepthGuard.check(bytes) else {
            throw invalid("manifest JSON nesting too deep (more than \(JSONDepthGuard.maxDepth) levels)")
        }
        // RFC 8259 §8.1: UTF-8 without a byte order mark. Foundation would also
        // accept a BOM or guess UTF-16/32, storing bytes distribution rejects.
        guard let first = bytes.first(where: { !JSONDepthGuard.isWhitespace($0) }), first == UInt8(ascii: "{"),
              !bytes.contains(0) else {
            throw invalid("manifest must be a JSON object in UTF-8 (no byte order mark, no NUL bytes)")
        }

        let data = Data(bytes)
        let probe: Probe
        do {
            probe = try JSONDecoder().decode(Probe.self, from: data)
        } catch {
            throw invalid("manifest is not a valid JSON object: \(describe(error))")
        }

        if probe.schemaVersion == 1 || probe.mediaType.map(MediaType.schema1Types.contains) == true {
            throw schema1Error
        }
        guard probe.hasSchemaVersion else { throw invalid("schemaVersion is required") }
        guard probe.schemaVersion == 2 else { throw invalid("schemaVersion must be 2") }
        if probe.hasMediaType && probe.mediaType == nil {
            throw invalid("mediaType must be a string")
        }

        let mediaType: String
        switch (probe.mediaType, declared) {
        case let (json?, ct?):
            guard json == ct else {
                throw invalid("mediaType \(Digest.quote(json)) does not match Content-Type \(Digest.quote(ct))")
            }
            mediaType = json
        case let (json?, nil):
            mediaType = json
        case let (nil, ct?):
            mediaType = ct
        case (nil, nil):
            switch (probe.hasConfig, probe.hasManifests) {
            case (true, false): mediaType = MediaType.ociManifest
            case (false, true): mediaType = MediaType.ociIndex
            default:
                throw invalid("cannot determine the manifest media type: set mediaType or Content-Type")
            }
        }
        guard MediaType.manifestTypes.contains(mediaType) else {
            throw invalid("unsupported manifest media type \(Digest.quote(mediaType))")
        }

        let raw: RawManifest
        do {
            raw = try JSONDecoder().decode(RawManifest.self, from: data)
        } catch {
            throw invalid("malformed manifest: \(describe(error))")
        }

        let subject = try raw.subject.map { try $0.validated(field: "subject") }
        let annotations = raw.annotations
        let ownArtifactType = raw.artifactType.flatMap { $0.isEmpty ? nil : $0 }

        if MediaType.indexManifestTypes.contains(mediaType) {
            if raw.config != nil { throw invalid("an index must not have config") }
            if raw.layers != nil { throw invalid("an index must not have layers") }
            guard let rawManifests = raw.manifests else {
                throw invalid("manifests is required in an index")
            }
            var manifests: [Descriptor] = []
            manifests.reserveCapacity(rawManifests.count)
            for (i, m) in rawManifests.enumerated() {
                manifests.append(try m.validated(field: "manifests[\(i)]"))
            }
            return ParsedManifest(
                mediaType: mediaType, kind: .index, config: nil, layers: [], manifests: manifests,
                subject: subject, artifactType: ownArtifactType, annotations: annotations,
                annotationsJSON: encodeAnnotations(annotations))
        }

        if raw.manifests != nil { throw invalid("an image manifest must not have manifests") }
        guard let rawConfig = raw.config else { throw invalid("config is required in an image manifest") }
        let config = try rawConfig.validated(field: "config")
        guard let rawLayers = raw.layers else { throw invalid("layers is required in an image manifest") }
        var layers: [Descriptor] = []
        layers.reserveCapacity(rawLayers.count)
        for (i, l) in rawLayers.enumerated() {
            layers.append(try l.validated(field: "layers[\(i)]"))
        }
        return ParsedManifest(
            mediaType: mediaType, kind: .image, config: config, layers: layers, manifests: [],
            subject: subject, artifactType: ownArtifactType ?? config.mediaType, annotations: annotations,
            annotationsJSON: encodeAnnotations(annotations))
    }

    public init(mediaType: String, kind: ManifestKind, config: Descriptor?, layers: [Descriptor],
                manifests: [Descriptor], subject: Descriptor?, artifactType: String?,
                annotations: [String: String]?, annotationsJSON: [UInt8]?) {
        self.mediaType = mediaType
        self.kind = kind
        self.config = config
        self.layers = layers
        self.manifests = manifests
        self.subject = subject
        self.artifactType = artifactType
        self.annotations = annotations
        self.annotationsJSON = annotationsJSON
    }

    // MARK: - Helpers

    static let schema1Error = OCIParseError(.manifestUnsupported,
        "Docker schema1 manifests are not supported; push with a current client (schema2 or OCI)")

    static func invalid(_ message: String) -> OCIParseError {
        OCIParseError(.manifestInvalid, message)
    }

    static func encodeAnnotations(_ annotations: [String: String]?) -> [UInt8]? {
        guard let annotations else { return nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(annotations)).map { Array($0) }
    }

    /// A short, field-naming message for a decoding failure.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "invalid JSON" }
        func path(_ keys: [any CodingKey]) -> String {
            var s = ""
            for k in keys {
                if let i = k.intValue { s += "[\(i)]" } else { s += (s.isEmpty ? "" : ".") + k.stringValue }
            }
            return s.isEmpty ? "top level" : s
        }
        func name(_ type: Any.Type) -> String {
            switch type {
            case is [String: Any].Type: return "an object"
            case is [Any].Type: return "an array"
            case is String.Type: return "a string"
            case is Int64.Type, is Int.Type: return "an integer"
            default: return "\(type)"
            }
        }
        switch error {
        case .typeMismatch(let type, let ctx):
            return "\(path(ctx.codingPath)): expected \(name(type))"
        case .valueNotFound(let type, let ctx):
            return "\(path(ctx.codingPath)): expected \(name(type)), found null"
        case .keyNotFound(let key, let ctx):
            return "\(path(ctx.codingPath + [key])) is required"
        case .dataCorrupted(let ctx):
            // Foundation reports bad literals (1.5 or 1e30 for an integer) without a path.
            return ctx.codingPath.isEmpty
                ? "invalid JSON or a value of the wrong kind (sizes must be integers)"
                : "\(path(ctx.codingPath)): \(Digest.quote(ctx.debugDescription))"
        @unknown default:
            return "invalid JSON"
        }
    }
}

// MARK: - Wire shapes

/// Lenient first look: the fields that decide how to parse the rest. Never
/// fails on field types, only when the top level is not an object.
private struct Probe: Decodable {
    var hasSchemaVersion = false
    var schemaVersion: Int?
    var hasMediaType = false
    var mediaType: String?
    var hasConfig = false
    var hasManifests = false

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ s: String) { stringValue = s }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        hasSchemaVersion = c.contains(Key("schemaVersion"))
        schemaVersion = try? c.decode(Int.self, forKey: Key("schemaVersion"))
        hasMediaType = c.contains(Key("mediaType"))
        mediaType = try? c.decode(String.self, forKey: Key("mediaType"))
        hasConfig = c.contains(Key("config"))
        hasManifests = c.contains(Key("manifests"))
    }
}

private struct RawManifest: Decodable {
    var config: RawDescriptor?
    var layers: [RawDescriptor]?
    var manifests: [RawDescriptor]?
    var subject: RawDescriptor?
    var artifactType: String?
    var annotations: [String: String]?
}

/// A descriptor as sent, with every field optional so validation can name
/// exactly which one is missing or wrong.
private struct RawDescriptor: Decodable {
    var mediaType: String?
    var digest: String?
    var size: Int64?
    var urls: [String]?
    var annotations: [String: String]?
    var artifactType: String?
    var platform: Platform?
    var data: String?

    func validated(field: String) throws -> Descriptor {
        guard let mediaType, !mediaType.isEmpty else {
            throw ParsedManifest.invalid("\(field).mediaType is required")
        }
        guard let digestString = digest else {
            throw ParsedManifest.invalid("\(field).digest is required")
        }
        let parsed: Digest
        do {
            parsed = try Digest(parsing: digestString)
        } catch let error as OCIParseError {
            throw ParsedManifest.invalid("\(field).digest: \(error.message)")
        }
        guard let size else { throw ParsedManifest.invalid("\(field).size is required") }
        guard size >= 0 else { throw ParsedManifest.invalid("\(field).size must not be negative") }
        return Descriptor(mediaType: mediaType, digest: parsed, size: size, urls: urls,
                          annotations: annotations, artifactType: artifactType,
                          platform: platform, data: data)
    }
}
