// Verified manifest bytes by digest, so a manifest GET that the index can
// answer (ManifestHead) is served from memory without a pack read, a
// re-hash or a thread-pool hop.
//
// Thread safety: 16 shards, each a Mutex around its entries; a lookup or an
// insert locks one shard (chosen by the digest's first byte) for a
// dictionary operation, so concurrent GETs of different manifests rarely meet.
// Invariants:
//   1. An entry's bytes hash to its digest: only bytes the engine read and
//      verified (Store.manifest re-hashes every read) are inserted, and a
//      digest names the same bytes forever, so an entry never goes stale.
//      Whether the manifest is still in a repository is never asked here:
//      every request asks the index first (ManifestHead), so a deleted
//      manifest is 404 even while its bytes are cached.
//   2. Each shard holds at most `capacity / 16` bytes of manifests (least
//      recently used evicted first); a manifest larger than a shard's
//      share is not cached.

import CASEngine
import Synchronization

final class ManifestCache: Sendable {
    private struct Shard {
        var entries: [BlobDigest: (bytes: [UInt8], used: UInt64)] = [:]
        var bytes = 0
        var clock: UInt64 = 0
    }

    /// Mutex is not copyable: an array holds references to boxed ones.
    private final class Box: Sendable {
        let mutex = Mutex(Shard())
    }

    private static let shardCount = 16
    private let shards: [Box]
    private let shardCapacity: Int

    /// `capacity`: bytes of manifests held in all; 0 disables the cache.
    init(capacity: Int) {
        shardCapacity = capacity / Self.shardCount
        shards = (0..<Self.shardCount).map { _ in Box() }
    }

    private func shard(_ digest: BlobDigest) -> Box {
        shards[Int(digest.key.last ?? 0) % Self.shardCount]
    }

    func get(_ digest: BlobDigest) -> [UInt8]? {
        guard shardCapacity > 0 else { return nil }
        return shard(digest).mutex.withLock { s in
            guard let hit = s.entries[digest] else { return nil }
            s.clock += 1
            s.entries[digest] = (hit.bytes, s.clock)
            return hit.bytes
        }
    }

    /// `bytes` must be what the engine returned for `digest` (invariant 1).
    func put(_ digest: BlobDigest, _ bytes: [UInt8]) {
        guard bytes.count <= shardCapacity else { return }
        shard(digest).mutex.withLock { s in
            guard s.entries[digest] == nil else { return }
            while s.bytes + bytes.count > shardCapacity,
                  let oldest = s.entries.min(by: { $0.value.used < $1.value.used }) {
                s.bytes -= oldest.value.bytes.count
                s.entries[oldest.key] = nil
            }
            s.clock += 1
            s.entries[digest] = (bytes, s.clock)
            s.bytes += bytes.count
        }
    }

    /// Bytes held (tests, metrics).
    var size: Int { shards.reduce(0) { total, s in total + s.mutex.withLock { $0.bytes } } }
}
