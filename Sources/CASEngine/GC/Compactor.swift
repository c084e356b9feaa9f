// Compaction: rewrites shared packs whose dead ratio (from the live-byte
// accounting, MetaStore+PackLive) passes a threshold, online. Live records are copied into the active pack (group-commit path:
// fdatasync before indexing), each index entry is switched in a transaction
// that checks it still points at the old place, then the old pack is
// unlinked. Readers holding the old location keep their open descriptor.
//
// Thread safety: safe beside live traffic; run one compactor per store.
// Invariants:
//   1. An index entry moves only after its new copy is durable (RECOVERY.md
//      small-blob steps 3-4), and only if it still names the old location.
//   2. An old pack is unlinked only after no index entry names it.
//   3. Only sealed shared packs are compacted: shared packs with an id below
//      the active pack's at the start (packs are filled and sealed in id
//      order, so no record can be added to them during the run), never a
//      dedicated pack (a dedicated pack with no index entry may be an upload
//      between its rename and its index commit; fsck owns those).

public struct CompactionReport: Sendable, Equatable {
    public var packsRewritten: [UInt32] = []
    public var recordsMoved: Int = 0
    public var bytesReclaimed: UInt64 = 0
    public init() {}
}

extension Store {
    /// Rewrites every sealed shared pack whose dead bytes are at least
    /// `minDeadRatio` of its size (0 < ratio <= 1). Candidates come from the
    /// live-byte accounting (MetaStore+PackLive): O(packs), then O(pack) for
    /// each pack rewritten — never a scan of the whole index.
    public func compact(minDeadRatio: Double = 0.5) throws -> CompactionReport {
        try checkWritable()
        var report = CompactionReport()
        guard let active = packs.activePackID else { return report }
        let liveBytes = try meta.packLiveBytes()
        for id in try packs.packIDs() where id < active {
            guard try packs.kind(of: id) == .shared else { continue }
            let size = try packs.fileSize(of: id)
            let payloadSpace = size - min(size, UInt64(PackFileHeader.size))
            guard payloadSpace > 0 else { continue }
            let dead = payloadSpace - min(payloadSpace, liveBytes[id] ?? 0)
            guard Double(dead) / Double(payloadSpace) >= minDeadRatio else { continue }
            report.recordsMoved += try rewrite(pack: id)
            // Every entry that named this pack was relocated, or was removed
            // (relocateBlob false): nothing names it any more (invariant 2).
            try failpoint(.packBeforeUnlink)
            try packs.removePack(id)
            report.packsRewritten.append(id)
            report.bytesReclaimed += dead
        }
        return report
    }

    /// Copies the pack's records that the index still names into the active
    /// pack and switches their entries; returns how many moved.
    private func rewrite(pack id: UInt32) throws -> Int {
        var live: [(BlobDigest, BlobLocation)] = []
        try packs.scan(packID: id) { header, location in
            if try meta.blob(header.digest)?.location == location { live.append((header.digest, location)) }
        }
        var moved = 0
        var batch: [(BlobDigest, BlobLocation, [UInt8])] = []
        var batchBytes = 0
        func flush() throws {
            guard !batch.isEmpty else { return }
            let locations = try packs.appendBatch(batch.map { (digest: $0.0, bytes: $0.2) })
            for ((d, old, _), new) in zip(batch, locations) where try meta.relocateBlob(d, from: old, to: new) {
                moved += 1
            }
            batch.removeAll()
            batchBytes = 0
        }
        for (d, location) in live {
            batch.append((d, location, try packs.readAll(location)))
            batchBytes += Int(location.rawLength)
            if batchBytes >= 8 << 20 { try flush() }
        }
        try flush()
        return moved
    }

    /// Bytes in sealed and active shared packs that no index entry names
    /// (what compaction could reclaim); O(packs).
    public func deadBytes() throws -> UInt64 {
        try checkOpen()
        let liveBytes = try meta.packLiveBytes()
        var dead: UInt64 = 0
        for id in try packs.packIDs() where try packs.kind(of: id) == .shared {
            let size = try packs.fileSize(of: id)
            let payloadSpace = size - min(size, UInt64(PackFileHeader.size))
            dead += payloadSpace - min(payloadSpace, liveBytes[id] ?? 0)
        }
        return dead
    }
}
