// Key construction for every metadata database (layouts in SCHEMA.md).
//
// Thread safety: pure functions.
// Invariants:
//   1. A repository-scoped key is `repo ‖ 0x00 ‖ rest`; names never contain
//      NUL, so the prefix `repo ‖ 0x00` selects exactly one repository.
//   2. Names are validated (non-empty, no NUL) before any key is built.

enum MetaKey {
    static let schemaVersion: [UInt8] = Array("schema_version".utf8)
    static let nextSequence: [UInt8] = Array("next_sequence".utf8)
    /// u32 segment + u64 offset: where the recovery journal ends after the last journaled commit.
    static let journalEnd: [UInt8] = Array("journal_end".utf8)
    /// Present while the journal holds changes the index has not replayed.
    static let journalNeedsReplay: [UInt8] = Array("journal_needs_replay".utf8)
    /// Present once an online pass with the untagged policy off dropped untagged reviews.
    static let untaggedReviewsDropped: [UInt8] = Array("untagged_reviews_dropped".utf8)
    /// u64 LE unix seconds: when the last collector pass (online or mark-and-sweep) finished.
    static let lastCollection: [UInt8] = Array("last_collection".utf8)

    /// UTF-8 bytes of a repository name, tag or upload id; `.invalidArgument`
    /// when empty or containing NUL.
    static func name(_ s: String, _ what: String) throws -> [UInt8] {
        let bytes = Array(s.utf8)
        guard !bytes.isEmpty else { throw StoreError(.invalidArgument, "\(what) must not be empty") }
        guard !bytes.contains(0) else { throw StoreError(.invalidArgument, "\(what) must not contain NUL") }
        guard bytes.count <= 400 else { throw StoreError(.invalidArgument, "\(what) longer than 400 bytes") }
        return bytes
    }

    /// `repo ‖ 0x00`
    static func repoPrefix(_ repo: [UInt8]) -> [UInt8] { repo + [0] }

    /// `repo ‖ 0x00 ‖ digestKey` (links, manifests, repo_refs)
    static func repoDigest(_ repo: [UInt8], _ d: BlobDigest) -> [UInt8] { repo + [0] + d.key }

    /// `repo ‖ 0x00 ‖ tag` (tags)
    static func repoTag(_ repo: [UInt8], _ tag: [UInt8]) -> [UInt8] { repo + [0] + tag }

    /// `repo ‖ 0x00 ‖ digestKey ‖ tag` (manifest_tags)
    static func manifestTag(_ repo: [UInt8], _ d: BlobDigest, _ tag: [UInt8]) -> [UInt8] { repo + [0] + d.key + tag }

    /// `repo ‖ 0x00 ‖ tag ‖ 0x00` + u64 BE sequence (tag_history)
    static func tagHistoryPrefix(_ repo: [UInt8], _ tag: [UInt8]) -> [UInt8] { repo + [0] + tag + [0] }

    /// `digestKey ‖ repo` (blob_links)
    static func blobLink(_ d: BlobDigest, _ repo: [UInt8]) -> [UInt8] { d.key + repo }

    /// `repo ‖ 0x00 ‖ subjectKey ‖ digestKey` (referrers)
    static func referrer(_ repo: [UInt8], subject: BlobDigest, _ d: BlobDigest) -> [UInt8] { repo + [0] + subject.key + d.key }

    /// u32 BE pack id (pack_live)
    static func packID(_ id: UInt32) -> [UInt8] { [UInt8(id >> 24), UInt8(id >> 16 & 0xff), UInt8(id >> 8 & 0xff), UInt8(id & 0xff)] }

    static func sequence(_ seq: UInt64) -> [UInt8] { var w = ByteWriter(capacity: 8); w.u64BE(seq); return w.bytes }
}
