// `regctl fsck [--verify-content] [--scan-packs] [--repair] [--reindex] config.yml`

import ArgumentParser
import CASEngine

struct Fsck: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the storage root; with --repair, fix what can be fixed.",
        discussion: """
            Checks every index entry against its pack record (header CRC, lengths, \
            digest), recomputes refcounts from the manifests' edges, finds manifest \
            edges to missing blobs and pack files nothing references. \
            --verify-content re-hashes every blob; --scan-packs reads every record. \
            --repair sets refcounts right and removes orphaned pack files; \
            --reindex (with --scan-packs --repair) rebuilds missing index entries \
            from the packs and replays the recovery journal (journal/), bringing back \
            every manifest and tag whose blobs the packs still hold: the disaster \
            recovery after losing meta/. Without --repair the storage root is opened \
            read-only and nothing on disk changes. Corrupt records are reported, never dropped. \
            Exit status 0 when clean (or everything found was repaired), 1 otherwise.
            """
    )

    /// The flags below in pflag's grammar (`--repair=true`), as regctl's others.
    static let boolFlags = ["verify-content", "scan-packs", "repair", "reindex"].map { PflagBool.Flag($0) }

    @Flag(help: "Re-hash every blob instead of checking record headers only.")
    var verifyContent = false
    @Flag(help: "Read every record of every pack (finds records missing from the index).")
    var scanPacks = false
    @Flag(help: "Fix refcounts and remove orphaned packs.")
    var repair = false
    @Flag(help: "With --scan-packs --repair: re-index valid records missing from the index.")
    var reindex = false
    @Argument(help: "Path to config.yml.")
    var config: String?

    func run() throws {
        let settings = try loadConfiguration(config)
        var options = ServerSettings.store(from: settings)
        // Without --repair nothing on disk changes: not even the recovery a
        // writable open does (torn tails, stray temp files, orphan uploads).
        if !(repair || reindex) { options.readOnly = true }
        let store = try openStore(settings.storage.filesystem.rootDirectory, options: options)
        defer { store.close() }
        let r = try store.fsck(verifyContent: verifyContent, scanPacks: scanPacks || reindex, repair: repair || reindex,
                               reindex: reindex)
        print("checked \(r.blobsChecked) blobs, \(r.manifestsChecked) manifests")
        for c in r.corrupt { print("corrupt: \(c.digest): \(c.problem)") }
        for m in r.refcountMismatches { print("refcount: \(m.digest): stored \(m.stored), expected \(m.expected)") }
        for d in r.danglingReferences { print("dangling: \(d.repository)@\(d.manifest) references missing \(d.missing)") }
        for p in r.orphanPacks { print("orphan pack: \(p)") }
        for f in r.indexFindings { print("index: \(f)") }
        for f in r.journalFindings { print("journal: \(f.problem)") }
        if r.journalBehindIndex { print("note: the recovery journal lost its last records in a crash; the next start re-snapshots it") }
        if !r.unindexedRecords.isEmpty { print("records not in the index (dead bytes, or --reindex): \(r.unindexedRecords.count)") }
        for line in r.repaired { print("repaired: \(line)") }
        for line in r.journalSkipped { print("not restored: \(line)") }
        let unrepaired = !r.corrupt.isEmpty || !r.danglingReferences.isEmpty
            || !r.indexFindings.isEmpty || !r.journalFindings.isEmpty
            || (!repair && !(r.refcountMismatches.isEmpty && r.orphanPacks.isEmpty))
        print(unrepaired ? "fsck: problems found" : (r.isClean ? "fsck: clean" : "fsck: repaired"))
        if unrepaired { throw ExitCode(1) }
    }
}
