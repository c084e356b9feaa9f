// `regctl garbage-collect --retention` with `berth.retention` in config.yml:
// the dry run lists what would go and why, and the real run deletes exactly
// that; and `regctl serve` applies the same policy online, counting pulls by
// tag.

import Foundation
import Testing
@testable import CASEngine

@Suite("regctl retention", .serialized, .timeLimit(.minutes(5)))
struct RetentionCommandTests {
    static let retention = """
        berth:
          gc:
            interval: 200ms
          retention:
            policies:
              - repositories: ["ubuntu"]
                keeptags:
                  - patterns: ["noble-*"]
                    mostrecentlypushedcount: 2
                  - patterns: [latest]
              - repositories: ["team/**"]
                keeptags:
                  - patterns: ["*"]
                    mostrecentlypulledcount: 1
        """

    func populate(_ f: StoreFixture) throws {
        try (try String(contentsOfFile: f.config, encoding: .utf8) + "\n" + Self.retention).write(toFile: f.config, atomically: true, encoding: .utf8)
        try f.with { s in
            for (i, tag) in ["noble-20240901.1", "noble-20240902.1", "noble-20240903.1", "latest", "stray"].enumerated() {
                _ = try StoreFixture.manifest(s, "ubuntu-\(i)", refs: [], tags: [tag], repo: "ubuntu")
            }
            for tag in ["a", "b"] { _ = try StoreFixture.manifest(s, "team-\(tag)", refs: [], tags: [tag], repo: "team/app") }
            _ = try StoreFixture.manifest(s, "other", refs: [], tags: ["anything"], repo: "other")
        }
    }

    @Test func theDryRunListsWhatTheRealRunDeletes() throws {
        let f = try StoreFixture()
        try populate(f)
        let dry = try Regctl.run(["garbage-collect", "--retention", "--dry-run", f.config])
        #expect(dry.status == 0, "\(dry)")
        let planned = dry.lines.filter { $0.hasPrefix("retention: ") }
        // Pushed in one second: ties go by name, so 03 and 02 are the two newest.
        // team/app: never pulled, so the pulled-count rule keeps nothing.
        #expect(planned.map { $0.split(separator: " ")[3] } == ["team/app:a", "team/app:b", "ubuntu:noble-20240901.1", "ubuntu:stray"],
                "\(dry)")
        #expect(planned.last?.hasSuffix(": berth.retention.policies[0]: matches no keepTags pattern") == true, "\(planned)")
        #expect(try f.with { try $0.tags(repository: "ubuntu", after: nil, limit: nil)?.count } == 5, "dry: nothing deleted")

        let real = try Regctl.run(["garbage-collect", "--retention", f.config])
        #expect(real.status == 0, "\(real)")
        #expect(real.lines.filter { $0.hasPrefix("retention: ") } == planned)
        #expect(try f.with { try $0.tags(repository: "ubuntu", after: nil, limit: nil) }
                    == ["latest", "noble-20240902.1", "noble-20240903.1"])
        #expect(try f.with { try $0.tags(repository: "other", after: nil, limit: nil) } == ["anything"], "no policy matches other")
    }

    /// Online: the collector's passes apply the same policy while serving.
    @Test func serveAppliesThePolicyOnline() throws {
        let f = try StoreFixture()
        try populate(f)
        let (server, url) = try Regctl.serve(f.config)
        defer { _ = server.stop() }
        // Wait (bounded) until a pass has run: the stray tag is gone.
        let deadline = Date().addingTimeInterval(30)
        var tags: [String] = []
        while Date() < deadline, server.process.isRunning {
            if let listed = try? Self.tags(url, "ubuntu"), !listed.isEmpty, !listed.contains("stray") { tags = listed; break }
            usleep(100_000)
        }
        #expect(tags == ["latest", "noble-20240902.1", "noble-20240903.1"], "\(server.stderr)")
        #expect(try Self.tags(url, "other") == ["anything"])
        let log = server.stop().stderr
        #expect(log.contains("retention: delete tag ubuntu:stray"), "\(log)")
    }

    static func tags(_ url: String, _ repo: String) throws -> [String] {
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        curl.arguments = ["-sf", "\(url)/v2/\(repo)/tags/list"]
        let out = Pipe()
        curl.standardOutput = out
        try curl.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        curl.waitUntilExit()
        return ((try? JSONSerialization.jsonObject(with: data)) as? [String: Any])?["tags"] as? [String] ?? []
    }
}
