// Tag promotion: shifting a chain of tags (`beta → latest → archive`) in one
// write transaction, with compare-and-swap preconditions.
//
// Thread safety: as MetaStore (one journaled write transaction).
// Invariants:
//   1. All of it or nothing: every `expect` is checked, the first tag must
//      exist, and only then each tag i (from the last) takes the digest tag
//      i−1 had before the call — in the same transaction, so concurrent
//      promotions of one chain serialise and at most one of several with the
//      same `expect` succeeds.
//   2. A member whose predecessor had no digest keeps its own (nothing to
//      shift in); a member that did not exist and gets one is created.
//   3. Every tag that moves goes through `setTagInTransaction`: history,
//      untagged reviews and the recovery journal follow as for a tag PUT.

extension MetaStore {
    /// The chain's digests after the promotion (members without one absent).
    func promoteTags(repository: String, chain: [String], expect: [String: BlobDigest],
                     freeze: TagFreeze? = nil, by: String? = nil, now: UInt64) throws -> [String: BlobDigest] {
        let repo = try MetaKey.name(repository, "repository")
        let keys = try chain.map { try MetaKey.name($0, "tag") }
        guard chain.count >= 2, Set(chain).count == chain.count else {
            throw StoreError(.invalidArgument, "a promotion chain names at least two distinct tags")
        }
        for tag in expect.keys where !chain.contains(tag) {
            throw StoreError(.invalidArgument, "expect names \(tag), which is not in the chain")
        }
        return try journaledWrite { txn, journal in
            var before: [BlobDigest?] = []
            for k in keys {
                if let v = try txn.get(db.tags, MetaKey.repoTag(repo, k)) {
                    var r = ByteReader(v, what: "tag")
                    before.append(try r.digest())
                } else {
                    before.append(nil)
                }
            }
            for (i, tag) in chain.enumerated() {
                if let want = expect[tag], before[i] != want {
                    throw StoreError(.conflict, "tag \(tag) is \(before[i].map { "\($0)" } ?? "absent"), not \(want)")
                }
            }
            guard before[0] != nil else {
                throw StoreError(.tagUnknown, "tag \(chain[0]) unknown in repository \(repository)")
            }
            var after = before
            for i in stride(from: chain.count - 1, through: 1, by: -1) {
                guard let source = before[i - 1] else { continue }
                try setTagInTransaction(txn, repo, keys[i], source, now: now, freeze: freeze,
                                        change: TagChange(.promote, by: by), &journal)
                after[i] = source
            }
            var out: [String: BlobDigest] = [:]
            for (tag, d) in zip(chain, after) { out[tag] = d }
            return out
        }
    }
}
