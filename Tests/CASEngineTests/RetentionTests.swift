// Retention (GC/Retention.swift): keepTags rules by pattern, most recently
// pushed / pulled and pushed / pulled within; untagged manifests after a
// delay; a dry run equal to the real run; a push racing the pass (forced at
// the `retention.after-plan` failpoint) wins; pull times batched.

import Foundation
import Testing
@testable import CASEngine

@Suite struct RetentionTests {
    static func glob(_ prefix: String) -> @Sendable (String) -> Bool { { $0.hasPrefix(prefix) } }

    /// Ten date-stamped tags an hour apart, plus the release trio and a stray tag.
    func populate(_ f: GCTests.Fixture, _ clock: GCTests.Clock, repo: String = "ubuntu") throws -> [String: BlobDigest] {
        var digests: [String: BlobDigest] = [:]
        for day in 1...10 {
            let tag = "noble-202409\(String(format: "%02d", day)).1"
            digests[tag] = try f.manifest("\(repo)-\(tag)", refs: [try f.blob("layer-\(day)", repo)], tags: [tag], repo: repo)
            clock.advance(3600)
        }
        for tag in ["latest", "beta", "stray"] {
            digests[tag] = try f.manifest("\(repo)-\(tag)", refs: [], tags: [tag], repo: repo)
        }
        return digests
    }

    static let policy = RetentionPolicy(
        name: "policy[0]", matches: { $0 == "ubuntu" },
        keepTags: [RetentionKeepRule(name: "dated", matches: glob("noble-"), mostRecentlyPushedCount: 3),
                   RetentionKeepRule(name: "release", matches: { ["latest", "beta", "archive"].contains($0) })])

    @Test func keepRulesKeepWhatTheyNameAndTheDryRunIsTheRealRun() throws {
        let clock = GCTests.Clock()
        try GCTests().withStore(clock) { f in
            _ = try populate(f, clock)
            _ = try populate(f, clock, repo: "untouched")
            let dry = try f.store.applyRetention([Self.policy], dryRun: true)
            #expect(try f.store.tags(repository: "ubuntu", after: nil, limit: nil)?.count == 13, "a dry run deletes nothing")
            let real = try f.store.applyRetention([Self.policy], dryRun: false)
            #expect(real == dry)
            #expect(Set(real.compactMap(\.tag)) == Set((1...7).map { "noble-202409\(String(format: "%02d", $0)).1" } + ["stray"]))
            #expect(real.first { $0.tag == "stray" }?.reason == "policy[0]: matches no keepTags pattern")
            #expect(real.first { $0.tag == "noble-20240901.1" }?.reason == "policy[0]: matches dated but meets none of their criteria")
            #expect(try f.store.tags(repository: "ubuntu", after: nil, limit: nil)
                        == ["beta", "latest", "noble-20240908.1", "noble-20240909.1", "noble-20240910.1"])
            #expect(try f.store.tags(repository: "untouched", after: nil, limit: nil)?.count == 13, "no policy matches it")
            #expect(try f.store.applyRetention([Self.policy], dryRun: false).isEmpty, "nothing left to do")
        }
    }

    @Test func pushedAndPulledWithinAndMostRecentlyPulled() throws {
        let clock = GCTests.Clock()
        try GCTests().withStore(clock) { f in
            _ = try populate(f, clock)
            // Pulled: day 2 long ago, day 3 recently, day 4 most recently.
            f.store.recordPull(repository: "ubuntu", tag: "noble-20240902.1")
            clock.advance(10 * 86_400)
            f.store.recordPull(repository: "ubuntu", tag: "noble-20240903.1")
            clock.advance(60)
            f.store.recordPull(repository: "ubuntu", tag: "noble-20240904.1")
            #expect(try f.store.lastPulled(repository: "ubuntu", tag: "noble-20240904.1") == clock.read())
            let stored = try f.store.meta.env.read { txn in
                try f.store.meta.pulledAt(txn, Array("ubuntu".utf8), Array("noble-20240904.1".utf8))
            }
            #expect(stored == nil, "a pull is not a write until the flush")
            let policy = RetentionPolicy(name: "p", matches: { _ in true }, keepTags: [
                RetentionKeepRule(name: "pulled", matches: Self.glob("noble-"), mostRecentlyPulledCount: 1, pulledWithin: 3600),
                RetentionKeepRule(name: "pushed", matches: { _ in true }, pushedWithin: 10 * 86_400 + 600),
            ])
            let kept = Set(try f.store.tags(repository: "ubuntu", after: nil, limit: nil) ?? [])
                .subtracting(try f.store.applyRetention([policy], dryRun: false).compactMap(\.tag))
            // Pushed within 10 days 10 minutes of now: the trio pushed last (day 10 at +10h is too old).
            #expect(kept == ["noble-20240903.1", "noble-20240904.1", "latest", "beta", "stray"], "\(kept.sorted())")
            let flushed = try f.store.meta.env.read { txn in
                try f.store.meta.pulledAt(txn, Array("ubuntu".utf8), Array("noble-20240904.1".utf8))
            }
            #expect(flushed == clock.read(), "retention flushed the pending pulls")
            #expect(try f.store.lastPulled(repository: "ubuntu", tag: "noble-20240902.1") == nil, "deleted with its tag")
        }
    }

    @Test func untaggedManifestsGoAfterTheDelayNotInThePassThatUntaggedThem() throws {
        let clock = GCTests.Clock()
        try GCTests().withStore(clock) { f in
            let old = try f.manifest("old", refs: [], tags: [], repo: "ubuntu")
            clock.advance(7200)
            let young = try f.manifest("young", refs: [], tags: [], repo: "ubuntu")
            let tagged = try f.manifest("tagged", refs: [], tags: ["stray"], repo: "ubuntu")
            let policy = RetentionPolicy(name: "p", matches: { $0 == "ubuntu" },
                                         keepTags: [RetentionKeepRule(name: "release", matches: { $0 == "latest" })],
                                         deleteUntagged: true, untaggedDelay: 3600)
            let first = try f.store.applyRetention([policy], dryRun: false)
            #expect(first.map(\.tag) == ["stray", nil])
            #expect(first.last?.digest == old)
            #expect(try f.store.manifest(repository: "ubuntu", digest: young) != nil)
            #expect(try f.store.manifest(repository: "ubuntu", digest: tagged) != nil, "untagged by this pass: waits")
            clock.advance(3601)
            #expect(Set(try f.store.applyRetention([policy], dryRun: false).map(\.digest)) == [young, tagged])
        }
    }

    /// A client re-points a tag after the plan chose to delete it: the
    /// deletion's re-check sees another digest and leaves the tag alone.
    @Test func aPushRacingThePassWins() throws {
        let clock = GCTests.Clock()
        try GCTests().withStore(clock) { f in
            _ = try f.manifest("a", refs: [], tags: ["stray"], repo: "ubuntu")
            let store = f.store
            let policy = RetentionPolicy(name: "p", matches: { $0 == "ubuntu" },
                                         keepTags: [RetentionKeepRule(name: "r", matches: { $0 == "latest" })])
            let applied = try GCRaceTests().interleave(.retentionAfterPlan, store, call: { try store.applyRetention([policy], dryRun: false) }) {
                _ = try f.manifest("b", refs: [], tags: ["stray"], repo: "ubuntu")
            }
            #expect(applied.isEmpty, "the planned deletion named the old digest")
            #expect(try f.store.resolve(repository: "ubuntu", tag: "stray") != nil)
        }
    }
}
