// Live-byte accounting per shared pack, so compaction and the dead-bytes
// metric cost O(packs), not a scan of every index entry.
//
// `pack_live`: key packID u32 BE → value liveBytes u64 LE: the sum, over the
// index entries naming a record in that shared pack, of the record's size
// (header + stored payload). Dedicated packs are not accounted (GC unlinks
// them whole).
//
// Thread safety: as MetaStore; adjustments run inside the caller's write
// transaction.
// Invariants:
//   1. pack_live[p] == Σ over blobs[d].location.packID == p (not dedicated)
//      of (record header size + storedLength); absent when 0. It changes in
//      the same transaction as the index entries it sums (commit, removal,
//      relocation, metadata-test inserts).
//   2. A pack's dead bytes = its file size − file header − pack_live[p]:
//      removed or relocated records, records a lost dedupe race appended, torn
//      or never-indexed tails.

extension MetaStore {
    static func recordBytes(_ l: BlobLocation) -> UInt64 { PackRecordHeader.payloadGap(l.flags) + l.storedLength }

    func adjustPackLive(_ txn: LMDBTransaction, _ location: BlobLocation, added: Bool) throws {
        guard !location.flags.contains(.dedicated) else { return }
        let key = MetaKey.packID(location.packID)
        var live: UInt64 = 0
        if let v = try txn.get(db.packLive, key) {
            var r = ByteReader(v, what: "pack_live")
            live = try r.u64()
        }
        let delta = Self.recordBytes(location)
        if added {
            live += delta
        } else {
            guard live >= delta else { throw StoreError(.corrupt, "pack_live underflow for pack \(location.packID)") }
            live -= delta
        }
        if live == 0 {
            try txn.delete(db.packLive, key)
        } else {
            var w = ByteWriter(capacity: 8)
            w.u64(live)
            try txn.put(db.packLive, key, w.bytes)
        }
    }

    /// Live bytes of every accounted shared pack.
    func packLiveBytes() throws -> [UInt32: UInt64] {
        try env.read { txn in try storedPackLive(txn) }
    }

    /// pack_live as stored.
    func storedPackLive(_ txn: LMDBTransaction) throws -> [UInt32: UInt64] {
        var out: [UInt32: UInt64] = [:]
        try txn.scan(db.packLive, from: nil) { key, value in
            var k = ByteReader(key, what: "pack_live key")
            var v = ByteReader(value, what: "pack_live")
            out[UInt32(try k.u32BE())] = try v.u64()
            return true
        }
        return out
    }

    /// pack_live as the index entries make it (invariant 1).
    func computedPackLive(_ txn: LMDBTransaction) throws -> [UInt32: UInt64] {
        var live: [UInt32: UInt64] = [:]
        try txn.scan(db.blobs, from: nil) { _, value in
            let rec = try BlobRecord.decode(value)
            if !rec.location.flags.contains(.dedicated) { live[rec.location.packID, default: 0] += Self.recordBytes(rec.location) }
            return true
        }
        return live
    }

    /// Schema 1 → 2 (and `fsck --repair`): recomputes pack_live from the index.
    func rebuildPackLive(_ txn: LMDBTransaction) throws {
        let live = try computedPackLive(txn)
        try txn.removeAll(db.packLive)
        for (id, bytes) in live {
            var w = ByteWriter(capacity: 8)
            w.u64(bytes)
            try txn.put(db.packLive, MetaKey.packID(id), w.bytes)
        }
    }

    func rebuildPackLive() throws {
        try env.write { txn in try rebuildPackLive(txn) }
    }
}
