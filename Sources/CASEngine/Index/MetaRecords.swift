// Records of the metadata layer and their byte encodings (SCHEMA.md).
//
// Thread safety: value types, Sendable.
// Invariants:
//   1. `BlobRecord.zeroedAt == 0` exactly while `refcount > 0` (set to the
//      time it last reached 0 otherwise).
//   2. `encode` and `decode` are inverse; decode of anything else throws
//      `.corrupt` or `.unsupportedFormat`.
//   3. `ManifestEntry.references` is distinct and sorted by digest key.

struct BlobRecord: Sendable, Equatable {
    var location: BlobLocation
    var refcount: UInt64
    /// Unix seconds when refcount last reached 0; 0 while refcount > 0.
    var zeroedAt: UInt64
    var createdAt: UInt64

    static let encodedSize = 54

    func encode() -> [UInt8] {
        var w = ByteWriter(capacity: Self.encodedSize)
        w.u32(location.packID)
        w.u64(location.recordOffset)
        w.u64(location.storedLength)
        w.u64(location.rawLength)
        w.u16(location.flags.rawValue)
        w.u64(refcount)
        w.u64(zeroedAt)
        w.u64(createdAt)
        return w.bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> BlobRecord {
        guard bytes.count == encodedSize else {
            throw StoreError(.corrupt, "blob record has \(bytes.count) bytes, expected \(encodedSize)")
        }
        var r = ByteReader(bytes, what: "blob")
        let location = BlobLocation(packID: try r.u32(), recordOffset: try r.u64(), storedLength: try r.u64(),
                                    rawLength: try r.u64(), flags: RecordFlags(rawValue: try r.u16()))
        return BlobRecord(location: location, refcount: try r.u64(), zeroedAt: try r.u64(), createdAt: try r.u64())
    }
}

struct ManifestRecord: Sendable, Equatable {
    let digest: BlobDigest
    let mediaType: String
    let location: BlobLocation
}

struct UploadRecord: Sendable, Equatable {
    let id: String
    let repository: String
    let startedAt: UInt64

    func encodeValue() -> [UInt8] {
        var w = ByteWriter()
        w.u64(startedAt)
        w.raw(repository.utf8)
        return w.bytes
    }

    static func decode(id: [UInt8], value: [UInt8]) throws -> UploadRecord {
        var r = ByteReader(value, what: "upload")
        let startedAt = try r.u64()
        return UploadRecord(id: String(decoding: id, as: UTF8.self),
                            repository: String(decoding: r.rest, as: UTF8.self), startedAt: startedAt)
    }
}

enum ReviewItem: Sendable, Equatable {
    case blobZeroed(BlobDigest, at: UInt64)
    case manifestUntagged(repository: String, digest: BlobDigest, at: UInt64)

    func encode() -> [UInt8] {
        var w = ByteWriter()
        switch self {
        case let .blobZeroed(d, at):
            w.u8(1); w.u64(at); w.digest(d)
        case let .manifestUntagged(repo, d, at):
            w.u8(2); w.u64(at); w.digest(d); w.raw(repo.utf8)
        }
        return w.bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> ReviewItem {
        var r = ByteReader(bytes, what: "review")
        let kind = try r.u8()
        let at = try r.u64()
        let d = try r.digest()
        switch kind {
        case 1: return .blobZeroed(d, at: at)
        case 2: return .manifestUntagged(repository: String(decoding: r.rest, as: UTF8.self), digest: d, at: at)
        default: throw StoreError(.corrupt, "unknown review item kind \(kind)")
        }
    }
}

/// A manifest's edges as kept per (repository, digest).
struct ManifestEntry: Equatable {
    var createdAt: UInt64
    var mediaType: String
    var subject: BlobDigest?
    var references: [BlobDigest]
    /// When the manifest last may have become unkept (pushed, lost its last
    /// tag, or lost the manifest that kept it): the untagged delay counts
    /// from here. A trailing field: entries written before it read as 0.
    var unkeptAt: UInt64 = 0
    /// Children of a sparse index absent when it was recorded: parent edges,
    /// not references (MetaStore+Manifests invariant 6). A trailing field
    /// written only when non-empty, so other entries keep their bytes.
    var absent: [BlobDigest] = []

    /// Every child this manifest is a parent of in `manifest_parents`.
    var parentEdges: [BlobDigest] { references + absent }

    func encode() -> [UInt8] {
        var w = ByteWriter()
        w.u64(createdAt)
        w.string16(mediaType)
        if let subject { w.u8(1); w.digest(subject) } else { w.u8(0) }
        w.digests32(references)
        w.u64(unkeptAt)
        if !absent.isEmpty { w.digests32(absent) }
        return w.bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> ManifestEntry {
        var r = ByteReader(bytes, what: "manifest")
        let createdAt = try r.u64()
        let mediaType = try r.string16()
        let hasSubject = try r.u8() == 1
        let subject: BlobDigest? = if hasSubject { try r.digest() } else { nil }
        let refs = try r.digests32()
        let unkeptAt = r.atEnd ? 0 : try r.u64()
        let absent = r.atEnd ? [] : try r.digests32()
        guard r.atEnd else { throw StoreError(.corrupt, "trailing bytes in manifest entry") }
        return ManifestEntry(createdAt: createdAt, mediaType: mediaType, subject: subject, references: refs, unkeptAt: unkeptAt,
                             absent: absent)
    }
}

/// Value of a referrers entry (the key names repository, subject and digest).
enum ReferrerValue {
    static func encode(mediaType: String, artifactType: String?, size: UInt64, annotations: [UInt8]?) -> [UInt8] {
        var w = ByteWriter()
        w.u64(size)
        w.string16(mediaType)
        if let artifactType { w.u8(1); w.string16(artifactType) } else { w.u8(0) }
        if let annotations { w.u8(1); w.u32(UInt32(annotations.count)); w.raw(annotations) } else { w.u8(0) }
        return w.bytes
    }

    static func decode(digest: BlobDigest, _ bytes: [UInt8]) throws -> Referrer {
        var r = ByteReader(bytes, what: "referrer")
        let size = try r.u64()
        let mediaType = try r.string16()
        let hasArtifactType = try r.u8() == 1
        let artifactType: String? = if hasArtifactType { try r.string16() } else { nil }
        let hasAnnotations = try r.u8() == 1
        let annotations: [UInt8]? = if hasAnnotations { Array(try r.take(Int(try r.u32()))) } else { nil }
        return Referrer(digest: digest, mediaType: mediaType, size: size, artifactType: artifactType, annotations: annotations)
    }
}
