// The GC review queue and upload sessions.
//
// Thread safety: as MetaStore (reads: one read txn; writes: one write txn).
// Invariants:
//   1. review[seq] == item iff review_index[item] == seq; an identical item
//      is never queued twice.
//   2. Upload ids and repositories are non-empty and NUL-free.
//   3. An item is removed only at the sequence number the remover read
//      (`removeReviewItems`), and enqueueing an item already queued moves it
//      to a new, higher sequence number: a request made after the collector
//      read the queue survives the collector's removal of what it read, and
//      waits for the next pass. Items carry whole seconds, so a blob zeroed,
//      referenced and zeroed again within one second (or a manifest queued
//      twice in one second) asks for an identical item; before this rule the
//      second request was dropped as a duplicate and the collector, which
//      had found the first one stale, deleted the only copy.

extension MetaStore {
    /// Oldest first.
    func reviewQueue(limit: Int) throws -> [ReviewItem] {
        guard limit > 0 else { return [] }
        return try env.read { txn in
            var out: [ReviewItem] = []
            try txn.scan(db.review, from: nil) { _, value in
                out.append(try ReviewItem.decode(value))
                return out.count < limit
            }
            return out
        }
    }

    /// Items with a sequence number above `after` (nil: from the start), in
    /// queue order, at most `limit` — the collector pages through the queue.
    func reviewPage(after: UInt64?, limit: Int) throws -> [(seq: UInt64, item: ReviewItem)] {
        guard limit > 0 else { return [] }
        return try env.read { txn in
            var out: [(seq: UInt64, item: ReviewItem)] = []
            let start = after.map { MetaKey.sequence($0 &+ 1) }
            try txn.scan(db.review, from: start) { key, value in
                var r = ByteReader(key, what: "review key")
                let seq = try r.u64BE()
                if let after, seq <= after { return true }
                out.append((seq, try ReviewItem.decode(value)))
                return out.count < limit
            }
            return out
        }
    }

    /// The next store-wide sequence number (nothing queued yet has it).
    func sequenceHighWater() throws -> UInt64 {
        try env.read { txn in try peekSequence(txn) }
    }

    /// Removes the given entries (as `reviewPage` returned them) that are
    /// still queued at the same sequence number; an item queued again since
    /// (invariant 3), or already removed, is left alone.
    func removeReviewItems(_ entries: [(seq: UInt64, item: ReviewItem)]) throws {
        guard !entries.isEmpty else { return }
        try env.write { txn in
            for (seq, item) in entries {
                let encoded = item.encode(), key = MetaKey.sequence(seq)
                guard try txn.get(db.reviewIndex, encoded) == key else { continue }
                try txn.delete(db.review, key)
                try txn.delete(db.reviewIndex, encoded)
            }
        }
    }

    func reviewQueueCount() throws -> Int {
        try env.read { txn in try txn.count(db.review) }
    }

    // MARK: Uploads

    func putUpload(_ record: UploadRecord) throws {
        let id = try MetaKey.name(record.id, "upload id")
        _ = try MetaKey.name(record.repository, "repository")
        try env.write { txn in try txn.put(db.uploads, id, record.encodeValue()) }
    }

    func upload(id: String) throws -> UploadRecord? {
        let key = try MetaKey.name(id, "upload id")
        return try env.read { txn in try txn.get(db.uploads, key).map { try UploadRecord.decode(id: key, value: $0) } }
    }

    /// `.uploadUnknown` if no such session.
    func deleteUpload(id: String) throws {
        let key = try MetaKey.name(id, "upload id")
        try env.write { txn in
            guard try txn.delete(db.uploads, key) else {
                throw StoreError(.uploadUnknown, "upload \(id) unknown")
            }
        }
    }

    /// All sessions, by id.
    func uploads() throws -> [UploadRecord] {
        try env.read { txn in
            var out: [UploadRecord] = []
            try txn.scan(db.uploads, from: nil) { k, v in out.append(try UploadRecord.decode(id: k, value: v)); return true }
            return out
        }
    }

    func uploadCount() throws -> Int {
        try env.read { txn in try txn.count(db.uploads) }
    }
}
