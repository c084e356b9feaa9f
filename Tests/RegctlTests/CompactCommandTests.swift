// `regctl compact`: rewrites mostly-dead sealed shared packs and says how
// many bytes it reclaimed; the disk usage of packs/ drops by about that much.

import BerthTestSupport
import Foundation
import Testing
@testable import CASEngine

@Suite("regctl compact", .serialized)
struct CompactCommandTests {
    static func packBytes(_ root: String) throws -> UInt64 {
        let dir = root + "/packs"
        return try FileManager.default.contentsOfDirectory(atPath: dir).reduce(0) {
            $0 + ((try FileManager.default.attributesOfItem(atPath: dir + "/" + $1)[.size] as? UInt64) ?? 0)
        }
    }

    @Test func compactReclaimsDeadSharedPackBytes() throws {
        let f = try StoreFixture(maxSharedPackSize: 64 << 10)
        var keep: [BlobDigest] = []
        var rng = TestSeed.generator(0xC0A1)
        try f.with { (s: Store) throws in
            for i in 0..<40 {
                let layer = try StoreFixture.blob(s, rng.bytes(3000))  // incompressible: ~20 per 64 KiB pack
                let m = try StoreFixture.manifest(s, "m\(i)", refs: [layer], tags: ["t\(i)"])
                if i % 4 == 0 { keep += [layer, m] }
            }
            for i in 0..<40 where i % 4 != 0 { try s.deleteTag(repository: "app", tag: "t\(i)") }
            // The engine's collector, not `regctl garbage-collect` (which compacts itself).
            let gc = try s.garbageCollect(policy: GCPolicy(deleteUntagged: true, gracePeriod: 0, untaggedDelay: 0), dryRun: false)
            #expect(gc.deletedManifests.count == 30)
        }
        let before = try Self.packBytes(f.root)
        let r = try Regctl.run(["compact", f.config])
        #expect(r.status == 0, "\(r)")
        let line = try #require(r.lines.last, "\(r)")
        let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { UInt64($0) }
        #expect(line.hasPrefix("compacted ") && line.hasSuffix(" bytes") && numbers.count == 3, "\(r)")
        let (packs, reclaimed) = (numbers.first ?? 0, numbers.last ?? 0)
        #expect(packs >= 1 && reclaimed > 10_000, "\(r)")
        let after = try Self.packBytes(f.root)
        #expect(after < before && before - after >= reclaimed / 2, "packs/ went from \(before) to \(after) bytes; \(r)")
        try f.with { (s: Store) throws in for d in keep { try s.verify(d) } }

        let again = try Regctl.run(["compact", f.config])
        #expect(again.status == 0 && again.lines.last == "compacted 0 packs, moved 0 records, reclaimed 0 bytes", "\(again)")
    }

    @Test func ratioOutsideTheRangeIsAUsageError() throws {
        let f = try StoreFixture()
        for ratio in ["0", "1.5", "-1"] {
            let r = try Regctl.run(["compact", "--min-dead-ratio", ratio, f.config])
            #expect(r.status == 64 && r.stderr.contains("--min-dead-ratio"), "\(ratio): \(r)")
        }
    }
}
