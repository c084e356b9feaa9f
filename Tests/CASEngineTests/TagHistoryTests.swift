// Tag history in the engine: actions and users recorded per change, the
// `berth.tags.history` bounds (maxentries, maxage counted from when the tag
// moved on), rollback's choice of target, protection of rolled-back targets
// (and an index's children) from the untagged policy, and the journal
// carrying actions and users through a reindex.

import Foundation
import Testing
@testable import CASEngine

@Suite struct TagHistoryTests {
    typealias Clock = GCTests.Clock

    func withStore(_ clock: Clock = Clock(), policy: TagHistoryPolicy = TagHistoryPolicy(),
                   _ body: (GCTests.Fixture) throws -> Void) throws {
        try GCTests().withStore(clock) { f in
            f.store.tagHistoryPolicy = policy
            try body(f)
        }
    }

    func page(_ f: GCTests.Fixture, _ tag: String, before: UInt64? = nil, limit: Int? = nil) throws -> [TagHistoryEntry] {
        try f.store.tagHistory(repository: "app", tag: tag, before: before, limit: limit) ?? []
    }

    @Test func everyChangeRecordsItsActionAndUserNewestFirst() throws {
        let clock = Clock()
        try withStore(clock) { f in
            let a = try f.manifest("a", refs: [], tags: [])
            let b = try f.manifest("b", refs: [], tags: [])
            try f.store.putManifest(repository: "app", digest: a, bytes: Array("{\"schemaVersion\":2,\"name\":\"a\"}".utf8),
                                    edges: ManifestEdges(mediaType: GCTests.image, references: []), tags: ["beta"], by: "alice")
            try f.store.putManifest(repository: "app", digest: b, bytes: Array("{\"schemaVersion\":2,\"name\":\"b\"}".utf8),
                                    edges: ManifestEdges(mediaType: GCTests.image, references: []), tags: ["latest"], by: "alice")
            clock.advance(10)
            _ = try f.store.promoteTags(repository: "app", chain: ["beta", "latest"], expect: [:], by: "bob")
            clock.advance(10)
            let back = try f.store.rollbackTag(repository: "app", tag: "latest", steps: 1, by: "carol")
            #expect(back.digest == b && back.previous == a)
            clock.advance(10)
            try f.store.deleteTag(repository: "app", tag: "latest", by: "dave")
            let h = try page(f, "latest")
            #expect(h.map(\.action) == [.delete, .rollback, .promote, .push])
            #expect(h.map(\.by) == ["dave", "carol", "bob", "alice"])
            #expect(h.map(\.digest) == [b, b, a, b])
            #expect(h.map(\.at) == [1_000_030, 1_000_020, 1_000_010, 1_000_000])
            #expect(h.map(\.sequence) == h.map(\.sequence).sorted(by: >), "newest first")
            // Pages: below the last sequence seen.
            let first = try page(f, "latest", limit: 2)
            #expect(first.map(\.action) == [.delete, .rollback])
            #expect(try page(f, "latest", before: first.last!.sequence, limit: 2).map(\.action) == [.promote, .push])
            #expect(try f.store.tagHistory(repository: "app", tag: "never", before: nil, limit: nil) == nil)
            // A deleted tag: step 1 restores what it had.
            let restored = try f.store.rollbackTag(repository: "app", tag: "latest", steps: 1)
            #expect(restored.digest == b && restored.previous == nil)
            #expect(try f.store.resolve(repository: "app", tag: "latest") == b)
        }
    }

    @Test func rollbackRefusesWhatTheHistoryDoesNotHold() throws {
        try withStore { f in
            let a = try f.manifest("a", refs: [], tags: ["latest"])
            let b = try f.manifest("b", refs: [], tags: ["latest"])
            let stranger = try f.manifest("c", refs: [], tags: ["other"])
            for (steps, to) in [(2, nil), (nil, stranger), (0, nil)] as [(Int?, BlobDigest?)] {
                #expect(throws: StoreError.self) { try f.store.rollbackTag(repository: "app", tag: "latest", steps: steps, to: to) }
            }
            #expect(throws: StoreError.self) { try f.store.rollbackTag(repository: "app", tag: "latest", steps: 1, to: a) }
            #expect(throws: StoreError.self) { try f.store.rollbackTag(repository: "app", tag: "none", steps: 1) }
            let frozen: TagFreeze = { _, tag in tag == "latest" ? "rule app:latest" : nil }
            do {
                _ = try f.store.rollbackTag(repository: "app", tag: "latest", to: a, freeze: frozen)
                Issue.record("an immutable tag rolled back")
            } catch let e as StoreError {
                #expect(e.code == .immutable)
            }
            #expect(try f.store.resolve(repository: "app", tag: "latest") == b, "nothing moved")
            #expect(try f.store.rollbackTag(repository: "app", tag: "latest", to: a).digest == a)
        }
    }

    @Test func maxEntriesKeepsTheNewest() throws {
        try withStore(policy: TagHistoryPolicy(maxEntries: 3)) { f in
            var digests: [BlobDigest] = []
            for i in 0..<6 { digests.append(try f.manifest("m\(i)", refs: [], tags: ["latest"])) }
            #expect(try page(f, "latest").map(\.digest) == Array(digests.suffix(3).reversed()))
            #expect(try f.store.tagHistory(repository: "app", tag: "latest").count == 3, "pruned on disk, not only hidden")
            #expect(throws: StoreError.self) { try f.store.rollbackTag(repository: "app", tag: "latest", to: digests[2]) }
        }
    }

    @Test func maxAgeCountsFromWhenTheTagMovedOn() throws {
        let clock = Clock()
        try withStore(clock, policy: TagHistoryPolicy(maxAge: 100)) { f in
            let a = try f.manifest("a", refs: [], tags: ["latest"])
            clock.advance(1000)
            #expect(try page(f, "latest").map(\.digest) == [a], "the current entry never expires")
            let b = try f.manifest("b", refs: [], tags: ["latest"])
            #expect(try page(f, "latest").map(\.digest) == [b, a], "a was the position until just now")
            clock.advance(101)
            #expect(try page(f, "latest").map(\.digest) == [b], "a expired 100 s after latest left it")
            #expect(try f.store.tagHistory(repository: "app", tag: "latest").count == 2, "still on disk until the next change")
            _ = try f.manifest("c", refs: [], tags: ["latest"])
            #expect(try f.store.tagHistory(repository: "app", tag: "latest").map(\.digest).contains(a) == false)
        }
    }

    /// An index re-pointed away from under `multi` keeps itself, its children
    /// and its signature while history protects it, so a rollback restores a
    /// whole image even with the untagged policy on and no delay; once the
    /// protection ends the collector takes them.
    @Test func protectionKeepsARollbackTargetWithItsChildren() throws {
        let clock = Clock()
        try withStore(clock, policy: TagHistoryPolicy(protect: 3600)) { f in
            let policy = GCPolicy(deleteUntagged: true, gracePeriod: 0, untaggedDelay: 0)
            let amd = try f.manifest("amd64", refs: [try f.blob("l-amd")], tags: [])
            let arm = try f.manifest("arm64", refs: [try f.blob("l-arm")], tags: [])
            let idx = try f.manifest("index", refs: [amd, arm], tags: ["multi"], type: GCTests.index)
            let sig = try f.manifest("sig", refs: [try f.blob("sig-layer")], subject: idx, tags: [])
            let newer = try f.manifest("next", refs: [try f.blob("l-next")], tags: ["multi"])
            clock.advance(10)
            #expect(try f.store.collectIncrementally(policy: policy).deletedManifests.isEmpty)
            let dry = try f.store.garbageCollect(policy: policy, dryRun: true)
            #expect(dry.deletedManifests.isEmpty, "offline GC honours the protection too")
            #expect(try f.store.rollbackTag(repository: "app", tag: "multi", to: idx).digest == idx)
            for m in [amd, arm, sig] { #expect(try f.store.manifest(repository: "app", digest: m) != nil) }

            // Re-pointed again; an hour later the protection of idx ends.
            _ = try f.store.rollbackTag(repository: "app", tag: "multi", to: newer)
            clock.advance(3599)
            #expect(try f.store.collectIncrementally(policy: policy).deletedManifests.isEmpty)
            clock.advance(2)
            let report = try f.store.collectIncrementally(policy: policy)
            #expect(report.deletedManifests.map(\.digest) == [idx])
            // What idx kept is queued by its deletion, for the next pass.
            let next = try f.store.collectIncrementally(policy: policy)
            #expect(Set(next.deletedManifests.map(\.digest)) == [amd, arm, sig])
            #expect(throws: StoreError.self) { try f.store.rollbackTag(repository: "app", tag: "multi", to: idx) }
        }
    }

    /// Without protection the same collector pass takes the old index: the
    /// contrast that shows the protection is what keeps it above.
    @Test func withoutProtectionTheUntaggedPolicyTakesTheTarget() throws {
        let clock = Clock()
        try withStore(clock) { f in
            let policy = GCPolicy(deleteUntagged: true, gracePeriod: 0, untaggedDelay: 0)
            let amd = try f.manifest("amd64", refs: [try f.blob("l-amd")], tags: [])
            let idx = try f.manifest("index", refs: [amd], tags: ["multi"], type: GCTests.index)
            _ = try f.manifest("next", refs: [try f.blob("l-next")], tags: ["multi"])
            clock.advance(10)
            #expect(Set(try f.store.collectIncrementally(policy: policy).deletedManifests.map(\.digest)) == [idx, amd])
            do {
                _ = try f.store.rollbackTag(repository: "app", tag: "multi", to: idx)
                Issue.record("rolled back to a deleted manifest")
            } catch let e as StoreError {
                #expect(e.code == .manifestUnknown)
            }
        }
    }

    @Test func journalRecordsCarryActionsAndUsers() throws {
        let d = sha256([1])
        let records: [JournalRecord] = [
            .tagSet(repository: "a", tag: "t", digest: d, at: 3, change: TagChange(.promote, by: "bob")),
            .tagSet(repository: "a", tag: "t", digest: d, at: 3, change: TagChange(.rollback)),
            .tagDeleted(repository: "a", tag: "t", at: 4, by: "dave"),
            .manifestDeleted(repository: "a", digest: d, at: 5, by: "eve"),
        ]
        for r in records { #expect(try JournalRecord.decode(r.encode()) == r) }
        // Kind 3 as written before actions existed: a push by nobody.
        var old = ByteWriter()
        old.u8(3); old.string16("a"); old.string16("t"); old.digest(d); old.u64(3)
        #expect(try JournalRecord.decode(old.bytes) == .tagSet(repository: "a", tag: "t", digest: d, at: 3, change: TagChange(.push)))
        // A delete is not a set action.
        var bad = ByteWriter()
        bad.u8(7); bad.string16("a"); bad.string16("t"); bad.digest(d); bad.u64(3); bad.u8(TagAction.delete.rawValue); bad.u8(0)
        #expect(throws: StoreError.self) { try JournalRecord.decode(bad.bytes) }
    }

    /// Losing meta/ and rebuilding it from the journal brings the history's
    /// actions and users back (replay goes through the same tag writes).
    @Test func aReindexRestoresActionsAndUsers() throws {
        let clock = Clock()
        try withStore(clock) { f in
            let a = try f.manifest("a", refs: [], tags: ["beta"])
            _ = try f.manifest("b", refs: [], tags: ["latest"])
            _ = try f.store.promoteTags(repository: "app", chain: ["beta", "latest"], expect: [:], by: "bob")
            _ = try f.store.rollbackTag(repository: "app", tag: "latest", steps: 1, by: "carol")
            let before = try page(f, "latest").map { "\($0.action.name):\($0.by ?? "-")" }
            #expect(before == ["rollback:carol", "promote:bob", "push:-"])
            f.store.close()
            try FileManager.default.removeItem(atPath: f.root.path + "/meta")
            let store = try Store(root: f.root.path, options: smallOptions(), clock: clock.read)
            defer { store.close() }
            _ = try store.fsck(verifyContent: false, scanPacks: true, repair: true, reindex: true, orphanAge: 0)
            let after = try store.tagHistory(repository: "app", tag: "latest", before: nil, limit: nil)?.map { "\($0.action.name):\($0.by ?? "-")" }
            #expect(after == before)
            #expect(try store.resolve(repository: "app", tag: "beta") == a)
        }
    }
}
