// fsck's checks of the derived tables and of the recovery journal: each
// table damaged on purpose is found and named; --repair rebuilds the ones
// that are recomputable and re-snapshots a journal that disagrees.

import Foundation
import Testing
@testable import CASEngine

@Suite struct FsckIndexTests {
    typealias F = GCTests.Fixture

    func withPopulated(_ body: (F) throws -> Void) throws {
        let clock = GCTests.Clock()
        try GCTests().withStore(clock) { f in
            try RecoveryJournalTests.populate(f, clock)
            try body(f)
        }
    }

    func tables(_ r: FsckReport) -> Set<String> { Set(r.indexFindings.map(\.table)) }

    /// Deletes the first key of `dbi` (a derived table) directly in LMDB.
    func dropFirst(_ s: Store, _ dbi: KeyPath<MetaStore.Databases, UInt32>) throws {
        try s.meta.env.write { txn in
            var first: [UInt8]?
            try txn.scan(s.meta.db[keyPath: dbi], from: nil) { key, _ in first = key; return false }
            _ = try txn.delete(s.meta.db[keyPath: dbi], try #require(first))
        }
    }

    @Test func aPopulatedStoreIsClean() throws {
        try withPopulated { f in
            let r = try f.store.fsck(verifyContent: true, scanPacks: false, repair: false)
            #expect(r.indexFindings.isEmpty && r.journalFindings.isEmpty, "\(r.indexFindings) \(r.journalFindings)")
            #expect(r.isClean)
        }
    }

    static func derived(_ table: String) -> KeyPath<MetaStore.Databases, UInt32>? {
        let paths: [String: KeyPath<MetaStore.Databases, UInt32>] = [
            "manifest_parents": \.manifestParents, "pack_live": \.packLive, "repos": \.repos,
            "manifest_tags": \.manifestTags, "blob_links": \.blobLinks, "referrers": \.referrers,
        ]
        return paths[table]
    }

    /// (table, rebuilt by --repair)
    @Test(arguments: [("manifest_parents", true), ("pack_live", true), ("repos", true),
                      ("manifest_tags", false), ("blob_links", false), ("referrers", false)])
    func aDamagedDerivedTableIsFound(_ table: String, _ repairable: Bool) throws {
        try withPopulated { f in
            try dropFirst(f.store, try #require(Self.derived(table)))
            let found = try f.store.fsck(verifyContent: false, scanPacks: false, repair: false)
            #expect(tables(found) == [table], "\(found.indexFindings)")
            let repaired = try f.store.fsck(verifyContent: false, scanPacks: false, repair: true)
            #expect(repaired.indexFindings.isEmpty == repairable, "\(repaired.indexFindings)")
        }
    }

    @Test func aLinkToAMissingBlobAndATagOnNoManifestAreNamed() throws {
        try withPopulated { f in
            let ghost = sha256(Array("never stored".utf8))
            try f.store.meta.env.write { txn in
                let repo = Array("app".utf8)
                try f.store.meta.linkInTransaction(txn, repo, ghost, now: 1)
                try txn.put(f.store.meta.db.tags, MetaKey.repoTag(repo, Array("phantom".utf8)), ghost.key)
                try txn.put(f.store.meta.db.manifestTags, MetaKey.manifestTag(repo, ghost, Array("phantom".utf8)), [])
                try f.store.meta.adjustRepository(txn, repo, .tags, by: 1)
            }
            let r = try f.store.fsck(verifyContent: false, scanPacks: false, repair: false)
            #expect(r.indexFindings.contains(IndexFinding(table: "links", problem: "app links \(ghost), which the index lacks")), "\(r.indexFindings)")
            #expect(r.indexFindings.contains(IndexFinding(table: "tags", problem: "app:phantom names \(ghost), not a manifest of the repository")))
            #expect(r.journalFindings == [IndexFinding(table: "journal", problem: "tag app:phantom: index \(ghost), journal none")])
        }
    }

    /// A tag written past the journal (straight into LMDB) is found; --repair
    /// re-snapshots the journal from the index, after which they agree.
    @Test func aJournalThatDisagreesIsFoundAndResnapshotted() throws {
        try withPopulated { f in
            let latest = try #require(try f.store.resolve(repository: "app", tag: "latest"))
            try f.store.meta.env.write { txn in
                var ignored: [JournalRecord] = []
                try f.store.meta.setTagInTransaction(txn, Array("app".utf8), Array("unjournaled".utf8), latest, now: 5, change: TagChange(.push), &ignored)
            }
            let found = try f.store.fsck(verifyContent: false, scanPacks: false, repair: false)
            #expect(found.journalFindings == [IndexFinding(table: "journal", problem: "tag app:unjournaled: index \(latest), journal none")])
            #expect(found.indexFindings.isEmpty)
            let fixed = try f.store.fsck(verifyContent: false, scanPacks: false, repair: true)
            #expect(fixed.repaired.contains("re-snapshotted the recovery journal from the index"))
            #expect(fixed.journalFindings.isEmpty && fixed.isClean)
        }
    }
}
