// The records of the recovery journal (Journal/RecoveryJournal.swift): every
// change of what a registry client can name — a manifest recorded in or
// removed from a repository, a tag set or deleted — as a self-contained
// value, so that the metadata can be rebuilt from the packs plus the journal
// after `meta/` is lost (`regctl fsck --reindex`). FORMAT.md documents the
// bytes.
//
// Thread safety: value types.
// Invariants:
//   1. `decode(encode(r)) == r`; `decode` of anything else throws `.corrupt`
//      and never traps (a torn or damaged record is detected by the frame's
//      CRC first, but the payload is still treated as untrusted).
//   2. A record carries everything needed to re-apply it without reading
//      the manifest's bytes (edges, subject, artifact type, annotations).

enum JournalRecord: Equatable, Sendable {
    /// (repository, manifest) recorded with these edges at `at`.
    case manifestPut(repository: String, digest: BlobDigest, at: UInt64, edges: ManifestEdges)
    /// (repository, manifest) removed, with every tag on it, by `by`.
    case manifestDeleted(repository: String, digest: BlobDigest, at: UInt64, by: String? = nil)
    /// The tag moved; `change` is what its history entry records.
    case tagSet(repository: String, tag: String, digest: BlobDigest, at: UInt64, change: TagChange = TagChange(.push))
    case tagDeleted(repository: String, tag: String, at: UInt64, by: String? = nil)
    /// Last record of a complete snapshot: the number of records before it.
    case snapshotEnd(count: UInt64)

    /// 2-4: records written before tag history kept users and actions (read
    /// as by nobody, a set as a push); 6-8 replace them and are written now.
    private enum Kind: UInt8 {
        case manifestPut = 1, manifestDeleted = 2, tagSet = 3, tagDeleted = 4, snapshotEnd = 5
        case manifestDeletedBy = 6, tagSetBy = 7, tagDeletedBy = 8
    }

    func encode() -> [UInt8] {
        var w = ByteWriter(capacity: 128)
        switch self {
        case let .manifestPut(repository, digest, at, edges):
            w.u8(Kind.manifestPut.rawValue)
            w.string16(repository)
            w.digest(digest)
            w.u64(at)
            w.string16(edges.mediaType)
            if let s = edges.subject { w.u8(1); w.digest(s) } else { w.u8(0) }
            if let a = edges.artifactType { w.u8(1); w.string16(a) } else { w.u8(0) }
            if let a = edges.annotations { w.u8(1); w.u32(UInt32(a.count)); w.raw(a) } else { w.u8(0) }
            w.digests32(edges.references)
            // A sparse index's absent children: trailing, only when present.
            if !edges.sparseChildren.isEmpty { w.digests32(edges.sparseChildren) }
        case let .manifestDeleted(repository, digest, at, by):
            w.u8(Kind.manifestDeletedBy.rawValue)
            w.string16(repository)
            w.digest(digest)
            w.u64(at)
            Self.encodeUser(by, &w)
        case let .tagSet(repository, tag, digest, at, change):
            w.u8(Kind.tagSetBy.rawValue)
            w.string16(repository)
            w.string16(tag)
            w.digest(digest)
            w.u64(at)
            w.u8(change.action.rawValue)
            Self.encodeUser(change.by, &w)
        case let .tagDeleted(repository, tag, at, by):
            w.u8(Kind.tagDeletedBy.rawValue)
            w.string16(repository)
            w.string16(tag)
            w.u64(at)
            Self.encodeUser(by, &w)
        case let .snapshotEnd(count):
            w.u8(Kind.snapshotEnd.rawValue)
            w.u64(count)
        }
        return w.bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> JournalRecord {
        var r = ByteReader(bytes, what: "journal")
        let record: JournalRecord
        switch Kind(rawValue: try r.u8()) {
        case .manifestPut:
            let repository = try r.string16()
            let digest = try r.digest()
            let at = try r.u64()
            let mediaType = try r.string16()
            let subject: BlobDigest? = try r.u8() == 1 ? try r.digest() : nil
            let artifactType: String? = try r.u8() == 1 ? try r.string16() : nil
            let annotations: [UInt8]? = try r.u8() == 1 ? Array(try r.take(Int(try r.u32()))) : nil
            let refs = try r.digests32()
            let absent = r.atEnd ? [] : try r.digests32()
            record = .manifestPut(repository: repository, digest: digest, at: at,
                                  edges: ManifestEdges(mediaType: mediaType, references: refs, subject: subject,
                                                       artifactType: artifactType, annotations: annotations,
                                                       sparseChildren: absent))
        case .manifestDeleted:
            record = .manifestDeleted(repository: try r.string16(), digest: try r.digest(), at: try r.u64())
        case .tagSet:
            record = .tagSet(repository: try r.string16(), tag: try r.string16(), digest: try r.digest(), at: try r.u64())
        case .tagDeleted:
            record = .tagDeleted(repository: try r.string16(), tag: try r.string16(), at: try r.u64())
        case .manifestDeletedBy:
            let (repository, digest, at) = (try r.string16(), try r.digest(), try r.u64())
            record = .manifestDeleted(repository: repository, digest: digest, at: at, by: try decodeUser(&r))
        case .tagSetBy:
            let (repository, tag, digest, at) = (try r.string16(), try r.string16(), try r.digest(), try r.u64())
            guard let action = TagAction(rawValue: try r.u8()), action != .delete else {
                throw StoreError(.corrupt, "bad tag action in journal record")
            }
            record = .tagSet(repository: repository, tag: tag, digest: digest, at: at, change: TagChange(action, by: try decodeUser(&r)))
        case .tagDeletedBy:
            let (repository, tag, at) = (try r.string16(), try r.string16(), try r.u64())
            record = .tagDeleted(repository: repository, tag: tag, at: at, by: try decodeUser(&r))
        case .snapshotEnd:
            record = .snapshotEnd(count: try r.u64())
        case nil:
            throw StoreError(.corrupt, "unknown journal record kind")
        }
        guard r.atEnd else { throw StoreError(.corrupt, "trailing bytes in journal record") }
        return record
    }

    /// The user who made a change: u8 0 (none) or 1 + string.
    private static func encodeUser(_ by: String?, _ w: inout ByteWriter) {
        if let by { w.u8(1); w.string16(by) } else { w.u8(0) }
    }

    private static func decodeUser(_ r: inout ByteReader) throws -> String? {
        switch try r.u8() {
        case 0: return nil
        case 1: return try r.string16()
        default: throw StoreError(.corrupt, "bad user flag in journal record")
        }
    }
}
