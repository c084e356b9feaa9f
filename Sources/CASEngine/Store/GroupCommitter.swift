// Group commit for small blobs: many concurrent writers share one pack
// fdatasync and one LMDB transaction.
//
// Thread safety: all state is guarded by `condition`; `commit` may be called
// from any thread and blocks until its entries are durable and visible.
// Invariants:
//   1. At most one thread (the leader) runs a batch at a time.
//   2. An entry's waiter is released only after its batch's pack bytes were
//      fdatasync'd AND the LMDB transaction that indexes them committed
//      (RECOVERY.md, steps 1-3), or with the error that stopped the batch.
//   3. A batch never mixes entries whose results were already delivered.

import Foundation

final class GroupCommitter: @unchecked Sendable {
    // @unchecked: every mutable field is read and written only while holding
    // `condition`'s lock.
    struct Entry {
        let digest: BlobDigest
        let bytes: [UInt8]
        let linkTo: String?
    }

    private final class Ticket {
        let entries: [Entry]
        var result: Result<[BlobRecord], any Error>?
        init(_ entries: [Entry]) { self.entries = entries }
    }

    private let packs: PackStore
    private let meta: MetaStore
    private let clock: @Sendable () -> UInt64
    private let condition = NSCondition()
    private var pending: [Ticket] = []
    private var leaderActive = false
    /// Upper bound on the bytes one batch writes (keeps latency bounded).
    private let maxBatchBytes = 8 << 20
    /// Successful batches and the entries they carried (read with `statistics`).
    private var committedBatches = 0, committedEntries = 0

    private let metrics: EngineMetrics?

    init(packs: PackStore, meta: MetaStore, clock: @escaping @Sendable () -> UInt64, metrics: EngineMetrics? = nil) {
        self.metrics = metrics
        self.packs = packs
        self.meta = meta
        self.clock = clock
    }

    /// How many batches committed so far and how many entries they carried:
    /// entries / batches is the group-commit sharing factor.
    var statistics: (batches: Int, entries: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (committedBatches, committedEntries)
    }

    /// Appends `entries` to the shared pack and indexes them; returns the index
    /// records in the same order (an existing digest keeps its older location).
    func commit(_ entries: [Entry]) throws -> [BlobRecord] {
        let ticket = Ticket(entries)
        condition.lock()
        pending.append(ticket)
        while ticket.result == nil {
            if !leaderActive {
                leaderActive = true
                runBatches()
                leaderActive = false
                condition.broadcast()
            } else {
                condition.wait()
            }
        }
        condition.unlock()
        return try ticket.result!.get()
    }

    /// Called with the lock held; releases it while doing I/O.
    private func runBatches() {
        while !pending.isEmpty {
            var batch: [Ticket] = []
            var bytes = 0
            while let next = pending.first, batch.isEmpty || bytes + next.entries.reduce(0, { $0 + $1.bytes.count }) <= maxBatchBytes {
                pending.removeFirst()
                bytes += next.entries.reduce(0, { $0 + $1.bytes.count })
                batch.append(next)
            }
            condition.unlock()
            let outcome = Result { try write(batch.flatMap(\.entries)) }
            condition.lock()
            switch outcome {
            case .success(let records):
                committedBatches += 1
                committedEntries += records.count
                var index = 0
                for ticket in batch {
                    ticket.result = .success(Array(records[index..<(index + ticket.entries.count)]))
                    index += ticket.entries.count
                }
            case .failure(let error):
                for ticket in batch { ticket.result = .failure(error) }
            }
            condition.broadcast()
        }
    }

    private func write(_ entries: [Entry]) throws -> [BlobRecord] {
        metrics?.groupCommitBlobs.record(entries.count)
        let locations = try packs.appendBatch(entries.map { (digest: $0.digest, bytes: $0.bytes) })
        let rows = zip(entries, locations).map { (digest: $0.digest, location: $1, linkTo: $0.linkTo) }
        return try meta.commitBlobs(rows, now: clock())
    }
}
