// Public value types of the engine API (see Store.swift).
//
// Thread safety: value types, Sendable.

import Metrics

/// Tuning and policy for one store; the regctl layer fills it from config.yml.
public struct StoreOptions: Sendable {
    /// Blobs of at most this many bytes are appended to a shared pack with group
    /// commit; larger ones become their own pack, renamed from the upload file.
    public var smallBlobThreshold: Int = 1 << 20
    /// A shared pack is sealed and a new one started past this size.
    public var maxSharedPackSize: UInt64 = 1 << 30
    /// Try LZ4 on small blobs (kept only when it saves at least 1/8).
    public var compression: Bool = true
    /// Initial LMDB map size: virtual address space reserved for metadata.
    /// The map doubles when full, up to `metadataMaxMapSize`.
    public var metadataMapSize: Int = 1 << 30
    /// Ceiling of the map's growth; a write past it fails `.limitExceeded`.
    public var metadataMaxMapSize: Int = 4 << 40
    /// Reject every write with `.readOnly`.
    public var readOnly: Bool = false
    /// The recovery journal's active segment is checkpointed (a snapshot of
    /// every manifest and tag written, older segments removed) once it holds
    /// this many bytes, at the collector's next pass.
    public var journalCheckpointBytes: UInt64 = 64 << 20
    /// Upper bound on concurrently open upload sessions.
    public var maxUploadSessions: Int = 10_000
    /// Upper bound on one upload's size in bytes (nil: unbounded).
    public var maxUploadSize: UInt64? = nil
    /// How much tag history is kept, and how long it protects manifests
    /// from the untagged policy (settable later: `Store.tagHistoryPolicy`).
    public var tagHistory = TagHistoryPolicy()

    /// Where the engine's metrics go (nil: the global MetricsSystem factory).
    public var metricsFactory: (any MetricsFactory)? = nil

    public init() {}
}

/// What the index knows of a stored blob.
public struct BlobInfo: Sendable, Equatable {
    public let digest: BlobDigest
    /// Size of the original (uncompressed) content.
    public let size: UInt64
    /// Number of (repository, manifest) holders; see DESIGN.md "References".
    public let refcount: UInt64
}

public struct UploadStatus: Sendable, Equatable {
    /// Random 128-bit id, lowercase hex with dashes (UUID form).
    public let id: String
    public let repository: String
    /// Bytes received and durable in the upload file so far.
    public let offset: UInt64
    /// Unix seconds.
    public let startedAt: UInt64
}

/// A manifest of a repository as its index entry has it (no bytes read).
public struct ManifestHead: Sendable, Equatable {
    public let digest: BlobDigest
    public let mediaType: String
    public let size: UInt64

    init(_ record: ManifestRecord) {
        digest = record.digest
        mediaType = record.mediaType
        size = record.location.rawLength
    }
}

public struct StoredManifest: Sendable, Equatable {
    public let digest: BlobDigest
    public let mediaType: String
    public let bytes: [UInt8]
}

/// A manifest as the caller (RegistryHTTP, via OCIModel) parsed it: the engine
/// does not read JSON, it stores these facts and counts the edges.
public struct ManifestEdges: Sendable, Equatable {
    public var mediaType: String
    /// Every blob or child manifest this manifest holds (config, layers except
    /// foreign/non-distributable ones, child manifests of an index). Duplicates
    /// are counted once.
    public var references: [BlobDigest]
    /// The `subject` this manifest refers to, if any (a weak edge: not counted).
    public var subject: BlobDigest?
    /// Effective artifact type (artifactType, or config.mediaType for images).
    public var artifactType: String?
    /// The manifest's `annotations` object as JSON bytes, opaque to the engine,
    /// returned as-is in referrer listings.
    public var annotations: [UInt8]?
    /// Children of an index that need not be in the repository (a sparse
    /// index: `validation.manifests.indexes.platforms: none|list`). On a put,
    /// each one the repository holds is counted like a reference; the rest
    /// are recorded as absent: not counted, but parent edges all the same, so
    /// a child pushed later is kept by the index (MetaStore+Manifests
    /// invariant 6). As recorded (journal, stored entry): the absent ones only.
    public var sparseChildren: [BlobDigest]

    public init(mediaType: String, references: [BlobDigest], subject: BlobDigest? = nil,
                artifactType: String? = nil, annotations: [UInt8]? = nil, sparseChildren: [BlobDigest] = []) {
        self.mediaType = mediaType
        self.references = references
        self.subject = subject
        self.artifactType = artifactType
        self.annotations = annotations
        self.sparseChildren = sparseChildren
    }
}

/// One entry of a referrers listing.
public struct Referrer: Sendable, Equatable {
    public let digest: BlobDigest
    public let mediaType: String
    public let size: UInt64
    public let artifactType: String?
    public let annotations: [UInt8]?
}

/// Immutable tags: for (repository, tag), nil when the tag may move, else the
/// rule that freezes it (in the error message). The caller (RegistryHTTP,
/// from `berth.tags.immutable`) passes one per write, so a reload applies to
/// the next request; the engine calls it inside the write transaction.
public typealias TagFreeze = @Sendable (_ repository: String, _ tag: String) -> String?
