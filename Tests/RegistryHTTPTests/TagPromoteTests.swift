// `POST /v2/<name>/_berth/tags/promote` (Berth's tag extension): the chain
// shifts in one transaction, `expect` is compare-and-swap, errors are OCI
// error JSON, and concurrent promotions with the same `expect` have exactly
// one winner.

import Foundation
import NIOHTTP1
import Testing
@testable import RegistryHTTP

@Suite("Tag extension: promote")
struct TagPromoteTests {
    static func promote(_ r: TestRegistry, _ repo: String, _ body: String) async throws -> TestResponse {
        try await r.send(.POST, "/v2/\(repo)/_berth/tags/promote", headers: [("Content-Type", "application/json")],
                         body: Array(body.utf8))
    }

    static func tag(_ r: TestRegistry, _ repo: String, _ t: String) async throws -> String? {
        let resp = try await r.send(.HEAD, "/v2/\(repo)/manifests/\(t)", headers: [("Accept", Fixtures.ociManifest)])
        return resp.status == .ok ? resp.headers.first(name: "Docker-Content-Digest") : nil
    }

    /// Pushes images a, b, c; tags beta → c, latest → b, archive → a.
    static func release(_ r: TestRegistry, _ repo: String) async throws -> (a: String, b: String, c: String) {
        var digests: [String] = []
        for (seed, tag) in [("a", "archive"), ("b", "latest"), ("c", "beta")] {
            let m = try await Fixtures.image(r, repo: repo, seed: seed)
            let put = try await r.putManifest(repo, tag, m)
            #expect(put.status == .created, "\(put.text)")
            digests.append(Fixtures.sha256(m))
        }
        return (digests[0], digests[1], digests[2])
    }

    @Test func theChainShiftsAndTheAnswerNamesEveryTag() async throws {
        try await TestRegistry.with { r in
            let (_, b, c) = try await Self.release(r, "app")
            let resp = try await Self.promote(r, "app", "{\"chain\":[\"beta\",\"latest\",\"archive\"],\"expect\":{\"beta\":\"\(c)\"}}")
            #expect(resp.status == .ok, "\(resp.text)")
            #expect(resp.json["tags"] as? [String: String] == ["beta": c, "latest": c, "archive": b])
            #expect(try await Self.tag(r, "app", "beta") == c)
            #expect(try await Self.tag(r, "app", "latest") == c)
            #expect(try await Self.tag(r, "app", "archive") == b)
        }
    }

    @Test func aFailedExpectationMovesNothing() async throws {
        try await TestRegistry.with { r in
            let (a, b, c) = try await Self.release(r, "app")
            let resp = try await Self.promote(r, "app", "{\"chain\":[\"beta\",\"latest\",\"archive\"],\"expect\":{\"latest\":\"\(a)\"}}")
            #expect(resp.status == .conflict)
            #expect(resp.errorCode == "TAG_CONFLICT", "\(resp.text)")
            #expect(try await Self.tag(r, "app", "beta") == c)
            #expect(try await Self.tag(r, "app", "latest") == b)
            #expect(try await Self.tag(r, "app", "archive") == a)
        }
    }

    @Test func aMissingMemberIsCreatedAndAMissingFirstIsUnknown() async throws {
        try await TestRegistry.with { r in
            let m = try await Fixtures.image(r, repo: "app", seed: "only")
            #expect(try await r.putManifest("app", "beta", m).status == .created)
            let d = Fixtures.sha256(m)
            let resp = try await Self.promote(r, "app", "{\"chain\":[\"beta\",\"latest\",\"archive\"]}")
            #expect(resp.status == .ok, "\(resp.text)")
            #expect(resp.json["tags"] as? [String: String] == ["beta": d, "latest": d])
            #expect(try await Self.tag(r, "app", "archive") == nil, "nothing was in latest to shift into archive")
            let missing = try await Self.promote(r, "app", "{\"chain\":[\"rc\",\"latest\"]}")
            #expect(missing.status == .notFound && missing.errorCode == "MANIFEST_UNKNOWN", "\(missing.text)")
        }
    }

    @Test(arguments: [
        "not json", "{\"chain\":[\"beta\"]}", "{\"chain\":[\"beta\",\"beta\"]}", "{\"chain\":[\"beta\",\"-bad\"]}",
        "{\"chain\":[\"beta\",\"latest\"],\"expect\":{\"archive\":\"sha256:0000000000000000000000000000000000000000000000000000000000000000\"}}",
        "{\"chain\":[\"beta\",\"latest\"],\"expect\":{\"beta\":\"not-a-digest\"}}",
    ])
    func badRequestsAreRefusedAndChangeNothing(_ body: String) async throws {
        try await TestRegistry.with { r in
            let (_, b, c) = try await Self.release(r, "app")
            let resp = try await Self.promote(r, "app", body)
            #expect(resp.status == .badRequest, "\(resp.text)")
            #expect(["TAG_INVALID", "DIGEST_INVALID"].contains(resp.errorCode ?? ""), "\(resp.text)")
            #expect(try await Self.tag(r, "app", "beta") == c)
            #expect(try await Self.tag(r, "app", "latest") == b)
        }
    }

    /// Ten clients promote the same chain with the same `expect` (beta and
    /// latest as they are): exactly one wins, nine get 409, and the tags are
    /// shifted exactly once.
    @Test func concurrentPromotionsWithTheSameExpectationHaveOneWinner() async throws {
        try await TestRegistry.with { r in
            let (_, b, c) = try await Self.release(r, "app")
            let body = "{\"chain\":[\"beta\",\"latest\",\"archive\"],\"expect\":{\"beta\":\"\(c)\",\"latest\":\"\(b)\"}}"
            let statuses = try await withThrowingTaskGroup(of: HTTPResponseStatus.self) { group in
                for _ in 0..<10 { group.addTask { try await Self.promote(r, "app", body).status } }
                var out: [HTTPResponseStatus] = []
                for try await s in group { out.append(s) }
                return out
            }
            #expect(statuses.filter { $0 == .ok }.count == 1, "\(statuses)")
            #expect(statuses.filter { $0 == .conflict }.count == 9, "\(statuses)")
            #expect(try await Self.tag(r, "app", "latest") == c)
            #expect(try await Self.tag(r, "app", "archive") == b, "shifted once, not twice")
        }
    }

    @Test func itNeedsPushAndReadOnlyModeRefusesIt() async throws {
        let request = AuthorizationRequest(method: .POST, route: .tagPromote(name: "team/app"), query: QueryParameters(nil),
                                           headers: HTTPHeaders(), peer: nil)
        #expect(AccessScope.required(by: request).map(\.description) == ["repository:team/app:pull,push"])
        #expect(try Router.match("/v2/team/app/_berth/tags/promote").route == .tagPromote(name: "team/app"))
        try await TestRegistry.with { r in
            let (_, b, _) = try await Self.release(r, "app")
            _ = r.server.updateModes(readOnly: true)
            let resp = try await Self.promote(r, "app", "{\"chain\":[\"beta\",\"latest\"]}")
            #expect(resp.status == .methodNotAllowed && resp.errorCode == "UNSUPPORTED", "\(resp.text)")
            #expect(try await Self.tag(r, "app", "latest") == b)
        }
    }
}
