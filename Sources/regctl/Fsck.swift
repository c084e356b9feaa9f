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
            from the packs alone. Corrupt records are reported, never dropped. \
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
        let store = try openStore(settings.storage.filesystem.rootDirectory, options: ServerSettings.store(from: settings))
        defer { store.close() }
        let r = try store.fsck(verifyContent: verifyContent, scanPacks: scanPacks || reindex, repair: repair || reindex,
                               reindex: reindex)
        print("checked \(r.blobsChecked) blobs, \(r.manifestsChecked) manifests")
        for c in r.corrupt { print("corrupt: \(c.digest): \(c.problem)") }
        for m in r.refcountMismatches { print("refcount: \(m.digest): stored \(m.stored), expected \(m.expected)") }
        for d in r.danglingReferences { print("dangling: \(d.repository)@\(d.manifest) references missing \(d.missing)") }
        for p in r.orphanPacks { print("orphan pack: \(p)") }
        if !r.unindexedRecords.isEmpty { print("records not in the index (dead bytes, or --reindex): \(r.unindexedRecords.count)") }
        for line in r.repaired { print("repaired: \(line)") }
        let unrepaired = !r.corrupt.isEmpty || !r.danglingReferences.isEmpty
            || (!repair && !(r.refcountMismatches.isEmpty && r.orphanPacks.isEmpty))
        print(unrepaired ? "fsck: problems found" : (r.isClean ? "fsck: clean" : "fsck: repaired"))
        if unrepaired { throw ExitCode(1) }
    }
}
