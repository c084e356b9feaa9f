// `regctl tag promote` against a running `regctl serve`: the chain moves,
// --expect is compare-and-swap (exit 1 with the OCI error on stderr), --json
// prints the server's answer.

import Foundation
import Testing
@testable import CASEngine

@Suite("regctl tag", .serialized, .timeLimit(.minutes(5)))
struct TagCommandTests {
    @Test func promoteMovesTheChainAndExpectGuardsIt() throws {
        let f = try StoreFixture()
        let (a, b, c) = try f.with { (s: Store) throws -> (BlobDigest, BlobDigest, BlobDigest) in
            (try StoreFixture.manifest(s, "a", refs: [], tags: ["archive"]),
             try StoreFixture.manifest(s, "b", refs: [], tags: ["latest"]),
             try StoreFixture.manifest(s, "c", refs: [], tags: ["beta"]))
        }
        let (server, url) = try Regctl.serve(f.config)
        defer { _ = server.stop() }

        let refused = try Regctl.run(["tag", "promote", "app", "beta", "latest", "archive", "--expect", "latest=\(a)", "--url", url])
        #expect(refused.status == 1, "\(refused)")
        #expect(refused.stderr.contains("Error: TAG_CONFLICT: "), "\(refused)")

        let moved = try Regctl.run(["tag", "promote", "app", "beta", "latest", "archive", "--expect", "beta=\(c)",
                                    "--expect", "latest=\(b)", "--url", url])
        #expect(moved.status == 0, "\(moved)")
        #expect(moved.lines == ["beta     \(c)", "latest   \(c)", "archive  \(b)"], "\(moved)")

        let json = try Regctl.run(["tag", "promote", "app", "latest", "archive", "--json", "--url", url])
        #expect(json.status == 0, "\(json)")
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?["tags"] as? [String: String] == ["latest": c.description, "archive": c.description], "\(json)")
        _ = a
    }
}

extension TagCommandTests {
    @Test func historyAndRollbackTalkToTheServer() throws {
        let f = try StoreFixture()
        let (a, b) = try f.with { (s: Store) throws -> (BlobDigest, BlobDigest) in
            (try StoreFixture.manifest(s, "a", refs: [], tags: ["latest"]),
             try StoreFixture.manifest(s, "b", refs: [], tags: ["latest"]))
        }
        let (server, url) = try Regctl.serve(f.config)
        defer { _ = server.stop() }

        let back = try Regctl.run(["tag", "rollback", "app", "latest", "--url", url])
        #expect(back.status == 0, "\(back)")
        #expect(back.lines == ["latest  \(b) -> \(a)"], "\(back)")
        let refused = try Regctl.run(["tag", "rollback", "app", "latest", "--steps", "7", "--url", url])
        #expect(refused.status == 1 && refused.stderr.contains("Error: TAG_INVALID: "), "\(refused)")

        let history = try Regctl.run(["tag", "history", "app", "latest", "--url", url])
        #expect(history.status == 0, "\(history)")
        #expect(history.lines.count == 4, "header and three entries: \(history)")
        #expect(history.lines.dropFirst().map { $0.split(separator: " ", omittingEmptySubsequences: true)[1] } == ["rollback", "push", "push"])
        #expect(history.lines.dropFirst().map { String($0.split(separator: " ").last!) } == [a.description, b.description, a.description])

        // --json, and --limit bounding what is printed.
        let json = try Regctl.run(["tag", "history", "app", "latest", "--limit", "2", "--json", "--url", url])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect((object?["history"] as? [[String: Any]])?.map { $0["action"] as? String } == ["rollback", "push"], "\(json)")
        let all = try Regctl.run(["tag", "history", "app", "latest", "--json", "--url", url])
        #expect(((try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [String: Any])?["history"] as? [Any])?.count == 3)
    }
}
