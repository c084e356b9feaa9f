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
    /// (repository, manifest) removed, with every tag on it.
    case manifestDeleted(repository: String, digest: BlobDigest, at: UInt64)
    case tagSet(repository: String, tag: String, digest: BlobDigest, at: UInt64)
    case tagDeleted(repository: String, tag: String, at: UInt64)
    /// Last record of a complete snapshot: the number of records before it.
    case snapshotEnd(count: UInt64)

    private enum Kind: UInt8 { case manifestPut = 1, manifestDeleted = 2, tagSet = 3, tagDeleted = 4, snapshotEnd = 5 }

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
            w.u32(UInt32(edges.references.count))
            for r in edges.references { w.digest(r) }
        case let .manifestDeleted(repository, digest, at):
            w.u8(Kind.manifestDeleted.rawValue)
            w.string16(repository)
            w.digest(digest)
            w.u64(at)
        case let .tagSet(repository, tag, digest, at):
            w.u8(Kind.tagSet.rawValue)
            w.string16(repository)
            w.string16(tag)
            w.digest(digest)
            w.u64(at)
        case let .tagDeleted(repository, tag, at):
            w.u8(Kind.tagDeleted.rawValue)
            w.string16(repository)
            w.string16(tag)
            w.u64(at)
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
            let n = Int(try r.u32())
            var refs: [BlobDigest] = []
            refs.reserveCapacity(min(n, bytes.count / 33))
            for _ in 0..<n { refs.append(try r.digest()) }
            record = .manifestPut(repository: repository, digest: digest, at: at,
                                  edges: ManifestEdges(mediaType: mediaType, references: refs, subject: subject,
                                                       artifactType: artifactType, annotations: annotations))
        case .manifestDeleted:
            record = .manifestDeleted(repository: try r.string16(), digest: try r.digest(), at: try r.u64())
        case .tagSet:
            record = .tagSet(repository: try r.string16(), tag: try r.string16(), digest: try r.digest(), at: try r.u64())
        case .tagDeleted:
            record = .tagDeleted(repository: try r.string16(), tag: try r.string16(), at: try r.u64())
        case .snapshotEnd:
            record = .snapshotEnd(count: try r.u64())
        case nil:
            throw StoreError(.corrupt, "unknown journal record kind")
        }
        guard r.atEnd else { throw StoreError(.corrupt, "trailing bytes in journal record") }
        return record
    }
}
