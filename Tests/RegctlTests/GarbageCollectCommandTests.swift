// `regctl garbage-collect` as an operator runs it: distribution's flags
// (--dry-run/-d, --delete-untagged/-m, --quiet/-q; their pflag forms are in
// PflagGrammarTests), distribution's stdout (registry/storage/garbagecollect.go:
// a line per repository, "<repo>: marking manifest <digest> " with its
// trailing space, "<repo>: marking blob <digest>", "manifest eligible for
// deletion: {<repo> <digest> [<tags>]}", an empty line, "<n> blobs marked, <m>
// blobs and <k> manifests eligible for deletion", "blob eligible for
// deletion: <digest>", "<repo>: layer link eligible for deletion: <digest>"),
// exit codes, and what it leaves in the store.

import Foundation
import Testing
@testable import CASEngine

@Suite("regctl garbage-collect", .serialized)
struct GarbageCollectCommandTests {
    /// app: v1 (c1, 2 MiB l1, l2) re-pointed by v2 (c2, l2) at `latest`, plus a
    /// stray upload nothing references; other: one tagged image.
    struct Images {
        var old, new, c1, l1, l2, c2, stray, other, x: BlobDigest
    }

    func populate(_ f: StoreFixture) throws -> Images {
        try f.with { (s: Store) throws in
            let c1 = try StoreFixture.blob(s, Array("config-1".utf8))
            let l1 = try StoreFixture.blob(s, [UInt8](repeating: 1, count: 2 << 20))
            let l2 = try StoreFixture.blob(s, Array("layer-2".utf8))
            let old = try StoreFixture.manifest(s, "v1", refs: [c1, l1, l2], tags: ["latest"])
            let c2 = try StoreFixture.blob(s, Array("config-2".utf8))
            let new = try StoreFixture.manifest(s, "v2", refs: [c2, l2], tags: ["latest"])
            let stray = try StoreFixture.blob(s, Array("uploaded, never referenced".utf8))
            let x = try StoreFixture.blob(s, Array("other-layer".utf8), "other")
            let other = try StoreFixture.manifest(s, "o", refs: [x], tags: ["stable"], repo: "other")
            return Images(old: old, new: new, c1: c1, l1: l1, l2: l2, c2: c2, stray: stray, other: other, x: x)
        }
    }

    /// distribution's stdout for `populate` with -m: blob lines in the report's
    /// order, a manifest's references in digest order (the engine's edge order).
    static func expectedDryRun(_ i: Images, _ blobOrder: [String]) -> [String] {
        var lines = [
            "app",
            "app: marking manifest \(i.new) ",
        ] + [i.c2, i.l2].map(\.description).sorted().map { "app: marking blob \($0)" } + [
            "other",
            "other: marking manifest \(i.other) ",
            "other: marking blob \(i.x)",
            "manifest eligible for deletion: {app \(i.old) [latest]}",
            "",
            "5 blobs marked, 4 blobs and 1 manifests eligible for deletion",
        ]
        lines += blobOrder.map { "blob eligible for deletion: \($0)" }
        // Links in the order of the blob lines; the manifest's own blob has none.
        lines += blobOrder.filter { $0 != i.old.description }.map { "app: layer link eligible for deletion: \($0)" }
        return lines
    }

    @Test func dryRunPrintsDistributionsLinesAndChangesNothing() throws {
        let f = try StoreFixture()
        let i = try populate(f)
        let r = try Regctl.run(["garbage-collect", "--dry-run", "--delete-untagged", f.config])
        #expect(r.status == 0, "\(r)")
        let order = r.lines.filter { $0.hasPrefix("blob eligible for deletion: ") }.map { String($0.dropFirst(28)) }
        #expect(Set(order) == Set([i.old, i.c1, i.l1, i.stray].map(\.description)), "\(r)")
        #expect(r.stdout == Self.expectedDryRun(i, order).joined(separator: "\n") + "\n", "\(r)")
        try f.with { (s: Store) throws in
            for d in [i.old, i.c1, i.l1, i.stray] { #expect(try s.stat(d) != nil, "dry run deleted \(d)") }
            #expect(try s.manifest(repository: "app", digest: i.old) != nil)
        }
    }

    @Test func plainCollectionKeepsUntaggedManifestsButNotStrayBlobs() throws {
        let f = try StoreFixture()
        let i = try populate(f)
        let r = try Regctl.run(["garbage-collect", "-d", f.config])
        #expect(r.status == 0, "\(r)")
        #expect(r.lines.contains("app: marking manifest \(i.old) "), "untagged v1 is still marked without -m\n\(r)")
        #expect(r.lines.contains("8 blobs marked, 1 blobs and 0 manifests eligible for deletion"), "\(r)")
        #expect(r.lines.filter { $0.hasPrefix("blob eligible for deletion: ") } == ["blob eligible for deletion: \(i.stray)"])
    }

    @Test func realRunDeletesWhatTheDryRunListed() throws {
        let f = try StoreFixture()
        let i = try populate(f)
        let dry = try Regctl.run(["garbage-collect", "-d", "-m", f.config])
        let r = try Regctl.run(["garbage-collect", "-m", f.config])
        #expect(r.status == 0, "\(r)")
        let listed = { (x: RegctlResult) in Set(x.lines.filter { $0.contains("eligible for deletion") }) }
        #expect(listed(r) == listed(dry) && !listed(r).isEmpty, "\(dry)\n\(r)")
        // What was removed is logged on stderr, as distribution's vacuum logs it.
        #expect(r.stderr.contains("deleted 4 blobs (\((2 << 20) + 31 + 8 + 26) bytes), 1 manifests; removed 1 packs; compacted "),
                "\(r)")
        for d in [i.old, i.c1, i.l1, i.stray] { #expect(r.stderr.contains("Deleting blob: \(d)"), "\(r)") }
        #expect(r.stderr.contains("deleting manifest: app@\(i.old)"), "\(r)")
        try f.with { (s: Store) throws in
            for d in [i.old, i.c1, i.l1, i.stray] { #expect(try s.stat(d) == nil, "\(d) survived") }
            for d in [i.new, i.c2, i.l2, i.other, i.x] { try s.verify(d) }
            #expect(try s.resolve(repository: "app", tag: "latest") == i.new)
            // (Not --scan-packs: the deleted small blobs stay as dead records in the shared pack until compaction.)
            let fsck = try s.fsck(verifyContent: true, scanPacks: false, repair: false, orphanAge: 0)
            #expect(fsck.isClean, "\(fsck)")
        }
        let again = try Regctl.run(["garbage-collect", "--delete-untagged", f.config])
        #expect(again.status == 0 && again.lines.contains("5 blobs marked, 0 blobs and 0 manifests eligible for deletion"),
                "\(again)")
    }

    @Test func quietPrintsNothing() throws {
        let f = try StoreFixture()
        let i = try populate(f)
        let r = try Regctl.run(["garbage-collect", "--quiet", "--dry-run", "--delete-untagged", f.config])
        #expect(r.status == 0 && r.stdout.isEmpty, "distribution's --quiet silences all of it\n\(r)")
        let real = try Regctl.run(["garbage-collect", "-q", "-m", f.config])
        #expect(real.status == 0 && real.stdout.isEmpty, "\(real)")
        #expect(real.stderr.contains("Deleting blob: \(i.stray)"), "deletions are still logged\n\(real)")
        try f.with { (s: Store) throws in #expect(try s.stat(i.stray) == nil) }
    }

    @Test func badInvocationsFailWithAMessage() throws {
        let noArgument = try Regctl.run(["garbage-collect"])
        #expect(noArgument.status == 64, "usage error (EX_USAGE)\n\(noArgument)")
        let missing = try Regctl.run(["garbage-collect", "/nonexistent/berth/config.yml"])
        #expect(missing.status == 1, "\(missing)")
        #expect(missing.stderr.contains("Error: configuration:"), "\(missing)")
        let f = try StoreFixture()
        try "version: 0.1\nstorage:\n  s3:\n    bucket: x\n".write(toFile: f.config, atomically: true, encoding: .utf8)
        let unsupported = try Regctl.run(["garbage-collect", f.config])
        #expect(unsupported.status == 1 && unsupported.stderr.contains("s3"), "\(unsupported)")
    }
}
