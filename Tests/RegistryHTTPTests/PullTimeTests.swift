// Pulls by tag are recorded without a write per pull (noted, then flushed),
// HEAD by tag counts, GET by digest does not, the history answer carries the
// last pull, and retention run beside the serving server keeps the tag a
// client pulled.

@testable import CASEngine
import Foundation
import Testing
@testable import RegistryHTTP

@Suite("Pull times")
struct PullTimeTests {
    @Test func pullsByTagAreNotedAndKeepTagsUnderRetention() async throws {
        try await TestRegistry.with { r in
            let store = try #require(r.store)
            var digests: [String: String] = [:]
            for tag in ["pulled", "headed", "bydigest", "never"] {
                let m = try await Fixtures.image(r, repo: "app", seed: tag)
                #expect(try await r.putManifest("app", tag, m).status == .created)
                digests[tag] = Fixtures.sha256(m)
            }
            let accept = [("Accept", Fixtures.ociManifest)]
            #expect(try await r.send(.GET, "/v2/app/manifests/pulled", headers: accept).status == .ok)
            #expect(try await r.send(.HEAD, "/v2/app/manifests/headed", headers: accept).status == .ok)
            #expect(try await r.send(.GET, "/v2/app/manifests/\(digests["bydigest"]!)", headers: accept).status == .ok)
            #expect(try await r.send(.GET, "/v2/app/manifests/missing", headers: accept).status == .notFound)

            let stored = try store.meta.env.read { txn in try store.meta.pulledAt(txn, Array("app".utf8), Array("pulled".utf8)) }
            #expect(stored == nil, "noted, not written")
            #expect(try store.lastPulled(repository: "app", tag: "pulled") != nil)
            let history = try await r.send(.GET, "/v2/app/_berth/tags/headed/history")
            #expect((history.json["pulled"] as? String)?.hasSuffix("Z") == true, "\(history.text)")
            let never = try await r.send(.GET, "/v2/app/_berth/tags/never/history")
            #expect(never.json["pulled"] is NSNull, "\(never.text)")

            let policy = RetentionPolicy(name: "p", matches: { $0 == "app" },
                                         keepTags: [RetentionKeepRule(name: "pulled", matches: { _ in true }, pulledWithin: 3600)])
            let deleted = try store.applyRetention([policy], dryRun: false)
            #expect(Set(deleted.compactMap(\.tag)) == ["bydigest", "never"])
            #expect(try store.meta.env.read { txn in try store.meta.pulledAt(txn, Array("app".utf8), Array("pulled".utf8)) } != nil,
                    "retention flushed the noted pulls")
            let left = try await r.send(.GET, "/v2/app/tags/list")
            #expect(left.json["tags"] as? [String] == ["headed", "pulled"], "\(left.text)")
        }
    }
}
