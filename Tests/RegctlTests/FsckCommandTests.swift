// `regctl fsck` on clean and damaged stores: the findings it prints, and its
// exit status (0 clean or all repaired, 1 otherwise).

import Foundation
import Testing
@testable import CASEngine

@Suite("regctl fsck", .serialized)
struct FsckCommandTests {
    /// One image: a small config, a 2 MiB layer in its own (dedicated) pack.
    func populate(_ f: StoreFixture) throws -> (config: BlobDigest, layer: BlobDigest, manifest: BlobDigest) {
        try f.with { (s: Store) throws in
            let config = try StoreFixture.blob(s, Array("{\"os\":\"linux\"}".utf8))
            let layer = try StoreFixture.blob(s, (0..<(2 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
            let manifest = try StoreFixture.manifest(s, "img", refs: [config, layer], tags: ["latest"])
            return (config, layer, manifest)
        }
    }

    @Test func cleanStoreExitsZero() throws {
        let f = try StoreFixture()
        _ = try populate(f)
        let r = try Regctl.run(["fsck", "--verify-content", "--scan-packs", f.config])
        #expect(r.status == 0, "\(r)")
        #expect(r.lines == ["checked 3 blobs, 1 manifests", "fsck: clean"], "\(r)")
    }

    @Test func damagedPayloadIsFoundByVerifyContent() throws {
        let f = try StoreFixture()
        let (_, layer, _) = try populate(f)
        let location = try #require(try f.with { try $0.meta.blob(layer) }).location
        let handle = try #require(FileHandle(forUpdatingAtPath: StorageLayout(root: f.root).packPath(location.packID)))
        try handle.seek(toOffset: location.payloadOffset + 1000)
        handle.write(Data([0xde, 0xad]))
        try handle.close()

        let quick = try Regctl.run(["fsck", f.config])
        #expect(quick.status == 0 && quick.lines.last == "fsck: clean", "headers are intact\n\(quick)")
        let deep = try Regctl.run(["fsck", "--verify-content", f.config])
        #expect(deep.status == 1, "\(deep)")
        #expect(deep.lines.contains { $0.hasPrefix("corrupt: \(layer): ") }, "\(deep)")
        #expect(deep.lines.last == "fsck: problems found", "\(deep)")
        // Reported, never dropped, and --repair cannot fix it: still exit 1.
        let repair = try Regctl.run(["fsck", "--verify-content", "--repair", f.config])
        #expect(repair.status == 1 && repair.lines.contains { $0.hasPrefix("corrupt: \(layer)") }, "\(repair)")
        #expect(try f.with { try $0.stat(layer) } != nil)
    }

    @Test func wrongRefcountIsReportedThenRepaired() throws {
        let f = try StoreFixture()
        let (config, _, _) = try populate(f)
        try f.with { (s: Store) throws in try s.meta.repairRefcount(config, to: 7, now: s.now) }
        let found = try Regctl.run(["fsck", f.config])
        #expect(found.status == 1, "\(found)")
        #expect(found.lines.contains("refcount: \(config): stored 7, expected 1"), "\(found)")
        let fixed = try Regctl.run(["fsck", "--repair", f.config])
        #expect(fixed.status == 0, "\(fixed)")
        #expect(fixed.lines.contains { $0.hasPrefix("repaired: ") } && fixed.lines.last == "fsck: repaired", "\(fixed)")
        let after = try Regctl.run(["fsck", f.config])
        #expect(after.status == 0 && after.lines.last == "fsck: clean", "\(after)")
        #expect(try f.with { try $0.refcount(of: config) } == 1)
    }

    @Test func orphanPackIsReportedThenRemoved() throws {
        let f = try StoreFixture()
        let (_, layer, _) = try populate(f)
        // A copy of the layer's dedicated pack under a new id that nothing
        // indexes, older than fsck's orphan age (an hour).
        let layout = StorageLayout(root: f.root)
        let location = try #require(try f.with { try $0.meta.blob(layer) }).location
        let orphanID = location.packID + 100
        let orphan = layout.packPath(orphanID)
        try FileManager.default.copyItem(atPath: layout.packPath(location.packID), toPath: orphan)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -7200)], ofItemAtPath: orphan)

        let found = try Regctl.run(["fsck", f.config])
        #expect(found.status == 1, "\(found)")
        #expect(found.lines.contains("orphan pack: \(orphanID)"), "\(found)")
        let fixed = try Regctl.run(["fsck", "--repair", f.config])
        #expect(fixed.status == 0 && fixed.lines.contains("repaired: removed orphan pack \(orphanID)"), "\(fixed)")
        #expect(!FileManager.default.fileExists(atPath: orphan))
        #expect(try Regctl.run(["fsck", "--scan-packs", f.config]).status == 0)
    }

    @Test func reindexAfterLosingMetaBringsTheTaggedImageBack() throws {
        let f = try StoreFixture()
        let (config, layer, manifest) = try populate(f)
        try FileManager.default.removeItem(atPath: f.root + "/meta")
        let found = try Regctl.run(["fsck", "--scan-packs", f.config])
        #expect(found.status == 1 && found.stderr.contains("meta/ is missing; `regctl fsck --scan-packs --repair --reindex` rebuilds it"), "\(found)")
        #expect(!FileManager.default.fileExists(atPath: f.root + "/meta"), "a check creates nothing")
        let fixed = try Regctl.run(["fsck", "--scan-packs", "--repair", "--reindex", f.config])
        #expect(fixed.status == 0, "\(fixed)")
        #expect(fixed.lines.contains("repaired: replayed the recovery journal: 1 manifests"), "\(fixed)")
        #expect(!fixed.lines.contains { $0.hasPrefix("not restored: ") }, "\(fixed)")
        try f.with { (s: Store) throws in
            #expect(try s.resolve(repository: "app", tag: "latest") == manifest)
            #expect(try s.stat(layer, in: "app") != nil)
            #expect(try s.refcount(of: config) == 1 && s.refcount(of: layer) == 1)
        }
        let after = try Regctl.run(["fsck", "--verify-content", "--scan-packs", f.config])
        #expect(after.status == 0 && after.lines.last == "fsck: clean", "\(after)")
    }

    @Test func withoutRepairNothingOnDiskChanges() throws {
        let f = try StoreFixture()
        _ = try populate(f)
        let stray = f.root + "/packs/00000077.pack.tmp"     // a writable open removes it
        #expect(FileManager.default.createFile(atPath: stray, contents: Data([1])))
        let before = try Self.listing(f.root)
        let r = try Regctl.run(["fsck", "--verify-content", "--scan-packs", f.config])
        #expect(r.status == 0, "\(r)")
        #expect(try Self.listing(f.root) == before)
        #expect(FileManager.default.fileExists(atPath: stray))
    }

    /// Path → (size, modification time) of every file but LMDB's lock file.
    static func listing(_ root: String) throws -> [String: String] {
        var out: [String: String] = [:]
        let e = try #require(FileManager.default.enumerator(atPath: root))
        while let rel = e.nextObject() as? String {
            guard rel != "meta/lock.mdb" else { continue }
            let a = try FileManager.default.attributesOfItem(atPath: root + "/" + rel)
            out[rel] = "\(a[.size] ?? 0) \((a[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)"
        }
        return out
    }
}
