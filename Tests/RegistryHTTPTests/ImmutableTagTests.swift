// `berth.tags.immutable`: once a frozen tag exists, a manifest PUT or a
// promotion that would point it elsewhere is 409 TAG_IMMUTABLE naming the
// rule and changes nothing; the same manifest again is 201; tags and
// repositories no rule matches move as always. The check runs in the engine's
// write transaction, so concurrent first pushes have exactly one winner.

import Foundation
import NIOHTTP1
import Testing
@testable import RegistryHTTP

@Suite("Tag extension: immutable tags")
struct ImmutableTagTests {
    static let rules = [ImmutableTagRule(repository: "team/**", tags: ["v*", "release-?"])]

    static func with(_ body: (TestRegistry) async throws -> Void) async throws {
        try await TestRegistry.with({ $0.immutableTags = rules }, body)
    }

    @Test func aFrozenTagDoesNotMoveAndTheSameManifestIsAccepted() async throws {
        try await Self.with { r in
            let a = try await Fixtures.image(r, repo: "team/app", seed: "a")
            let b = try await Fixtures.image(r, repo: "team/app", seed: "b")
            #expect(try await r.putManifest("team/app", "v1", a).status == .created)
            let moved = try await r.putManifest("team/app", "v1", b)
            #expect(moved.status == .conflict, "\(moved.text)")
            #expect(moved.errorCode == "TAG_IMMUTABLE")
            #expect(moved.text.contains("team/**") && moved.text.contains("v*"), "the error names the rule: \(moved.text)")
            #expect(try await TagPromoteTests.tag(r, "team/app", "v1") == Fixtures.sha256(a))
            #expect(try await r.putManifest("team/app", "v1", a).status == .created, "the same digest again is fine")
            // `?tag=` on a by-digest push goes through the same check.
            let byDigest = try await r.send(.PUT, "/v2/team/app/manifests/\(Fixtures.sha256(b))?tag=v1",
                                            headers: [("Content-Type", Fixtures.ociManifest)], body: b)
            #expect(byDigest.status == .conflict && byDigest.errorCode == "TAG_IMMUTABLE", "\(byDigest.text)")
            #expect(try await TagPromoteTests.tag(r, "team/app", "v1") == Fixtures.sha256(a))
        }
    }

    @Test func unmatchedTagsAndRepositoriesMoveFreely() async throws {
        try await Self.with { r in
            for repo in ["team/app", "other/app"] {
                let a = try await Fixtures.image(r, repo: repo, seed: "a")
                let b = try await Fixtures.image(r, repo: repo, seed: "b")
                #expect(try await r.putManifest(repo, "latest", a).status == .created)
                #expect(try await r.putManifest(repo, "latest", b).status == .created, "latest matches no tag pattern")
                #expect(try await r.putManifest(repo, "release-10", a).status == .created)
                #expect(try await r.putManifest(repo, "release-10", b).status == .created, "release-? is one character")
            }
            let a = try await Fixtures.image(r, repo: "other/app", seed: "a")
            let b = try await Fixtures.image(r, repo: "other/app", seed: "b")
            #expect(try await r.putManifest("other/app", "v1", a).status == .created)
            #expect(try await r.putManifest("other/app", "v1", b).status == .created, "other/** matches no rule")
        }
    }

    @Test func aPromotionThatWouldMoveAFrozenTagMovesNothing() async throws {
        try await Self.with { r in
            let a = try await Fixtures.image(r, repo: "team/app", seed: "a")
            let b = try await Fixtures.image(r, repo: "team/app", seed: "b")
            // beta → a, latest → b, v1 → a: the shift would set v1 := b.
            #expect(try await r.putManifest("team/app", "beta", a).status == .created)
            #expect(try await r.putManifest("team/app", "latest", b).status == .created)
            #expect(try await r.putManifest("team/app", "v1", a).status == .created)
            let resp = try await TagPromoteTests.promote(r, "team/app", "{\"chain\":[\"beta\",\"latest\",\"v1\"]}")
            #expect(resp.status == .conflict && resp.errorCode == "TAG_IMMUTABLE", "\(resp.text)")
            #expect(try await TagPromoteTests.tag(r, "team/app", "latest") == Fixtures.sha256(b), "nothing moved")
            #expect(try await TagPromoteTests.tag(r, "team/app", "v1") == Fixtures.sha256(a))
            // Creating a frozen tag by promotion is allowed: it did not exist.
            let create = try await TagPromoteTests.promote(r, "team/app", "{\"chain\":[\"latest\",\"v2\"]}")
            #expect(create.status == .ok, "\(create.text)")
            #expect(try await TagPromoteTests.tag(r, "team/app", "v2") == Fixtures.sha256(b))
        }
    }

    /// Ten clients push ten different manifests to the same new frozen tag at
    /// once: exactly one is accepted, and the tag names it.
    @Test func concurrentFirstPushesHaveOneWinner() async throws {
        try await Self.with { r in
            var manifests: [[UInt8]] = []
            for i in 0..<10 { manifests.append(try await Fixtures.image(r, repo: "team/app", seed: "m\(i)")) }
            let results = try await withThrowingTaskGroup(of: (HTTPResponseStatus, String).self) { group in
                for m in manifests {
                    group.addTask { (try await r.putManifest("team/app", "v9", m).status, Fixtures.sha256(m)) }
                }
                var out: [(HTTPResponseStatus, String)] = []
                for try await x in group { out.append(x) }
                return out
            }
            let winners = results.filter { $0.0 == .created }
            #expect(winners.count == 1, "\(results.map(\.0))")
            #expect(results.filter { $0.0 == .conflict }.count == 9)
            #expect(try await TagPromoteTests.tag(r, "team/app", "v9") == winners.first?.1)
        }
    }
}
