// `regctl garbage-collect [--dry-run] [--delete-untagged] [--quiet] config.yml`
// (also `registry garbage-collect`, DistributionCLI.swift) with distribution's
// flags (pflag's bool grammar: PflagBool.swift) and its stdout, line for line
// (distribution registry/storage/garbagecollect.go):
//
//   <repo>                                       every repository
//   <repo>: marking manifest <digest>␠           kept manifest (trailing space
//                                                as distribution prints it)
//   <repo>: marking blob <digest>                what it references, first time
//                                                (digest order, not the manifest's)
//   manifest eligible for deletion: {<repo> <digest> [<tags of repo>]}
//   (empty line)
//   <n> blobs marked, <m> blobs and <k> manifests eligible for deletion
//   blob eligible for deletion: <digest>
//   <repo>: layer link eligible for deletion: <digest>
//
// With --retention (Berth's), `berth.retention` is applied first and each
// tag or manifest it deletes (with --dry-run: would delete) is printed as
// "retention: delete tag <repo>:<tag> (<digest>): <reason>" before the lines
// above (the collection's dry-run figures do not include those deletions).
//
// --quiet prints none of it. What was actually removed (and Berth's pack
// compaction after it) is logged on stderr through `log:` as distribution's
// vacuum logs "Deleting blob: ...". It takes the storage root's lock; when a
// `regctl serve` holds it, the pass is handed to that server over its
// control socket (ControlSocket.swift) and runs there beside live traffic
// with the server's grace period and untagged delay — the seed's `docker
// exec registry garbage-collect` on a running container. (The online
// collector in `regctl serve` needs no such call: see berth.gc.)

import ArgumentParser
import CASEngine
import Foundation
import Logging
import RegistryConfig

struct GarbageCollect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "garbage-collect",
        abstract: "Delete blobs (and with --delete-untagged, manifests) nothing references.",
        discussion: """
            Marks every manifest that is kept (all of them; with --delete-untagged \
            only tagged ones, the children of kept indexes and the referrers — \
            signatures, SBOMs — of kept manifests), then deletes every blob no kept \
            manifest references. Shared packs left mostly dead are compacted. The \
            registry must not be serving this storage root; `regctl serve` collects \
            garbage online without downtime (berth.gc). Flags take distribution's \
            forms too: --dry-run=false, --delete-untagged=true, -dm.
            """
    )

    /// The flags below in pflag's grammar (kept beside their declarations).
    static let boolFlags = [PflagBool.Flag("dry-run", "d"), PflagBool.Flag("delete-untagged", "m"), PflagBool.Flag("quiet", "q"),
                            PflagBool.Flag("retention", nil)]

    @Flag(name: [.short, .customLong("dry-run")], help: "Report what would be deleted; change nothing.")
    var dryRun = false

    @Flag(name: [.customShort("m"), .customLong("delete-untagged")], help: "Delete manifests that no tag references.")
    var deleteUntagged = false

    @Flag(name: .shortAndLong, help: "Print nothing on stdout (deletions are still logged).")
    var quiet = false

    @Flag(help: "First apply berth.retention (with --dry-run: list what it would delete, and why).")
    var retention = false

    @Argument(help: "Path to config.yml.")
    var config: String

    func run() throws {
        try collect(loadConfiguration(config))
    }

    func collect(_ settings: RegistryConfiguration) throws {
        LogSetup.bootstrap(settings.log)
        let logger = Logger(label: "berth.gc")
        let root = settings.storage.filesystem.rootDirectory
        let store: Store
        do {
            store = try Store.open(at: root, options: ServerSettings.store(from: settings))
        } catch let error as StoreError where error.code == .locked {
            // A running `regctl serve` holds the root: hand the pass to it
            // (ControlSocket.swift), as `docker exec registry garbage-collect` expects.
            let request = ControlRequest(dryRun: dryRun, deleteUntagged: deleteUntagged, retention: retention, quiet: quiet)
            if let status = try ControlClient.handOver(root: root, request) {
                if status != 0 { throw ExitCode(status) }
                return
            }
            throw RegctlError("storage at \(root) is in use by a running registry; stop it first (online GC runs inside `regctl serve`)")
        } catch let error as StoreError {
            throw RegctlError("storage at \(root): \(error.message)")
        }
        defer { store.close() }
        try Self.pass(store: store, settings: settings, policy: GCPolicy(deleteUntagged: deleteUntagged, gracePeriod: 0, untaggedDelay: 0),
                      dryRun: dryRun, retention: retention, quiet: quiet, logger: logger) { print($0) }
    }

    /// One pass: retention (when asked), mark and sweep, compaction;
    /// distribution's lines to `out`. Offline with grace 0; a running server
    /// (ControlSocket) passes its own grace period and untagged delay.
    static func pass(store: Store, settings: RegistryConfiguration, policy: GCPolicy, dryRun: Bool, retention: Bool, quiet: Bool,
                     logger: Logger, out: (String) -> Void) throws {
        if retention {
            let policies = ServerSettings.retention(from: settings)
            guard !policies.isEmpty else { throw RegctlError("--retention: berth.retention.policies is empty in the configuration") }
            for d in try store.applyRetention(policies, dryRun: dryRun) {
                if !quiet { out("retention: \(d)") }
                if !dryRun { logger.info("retention: \(d)") }
            }
        }
        let report = try store.garbageCollect(policy: policy, dryRun: dryRun)
        if !quiet {
            for line in try Self.lines(report, tags: { try store.tags(repository: $0, after: nil, limit: nil) ?? [] }) { out(line) }
        }
        guard !dryRun else { return }
        for m in report.deletedManifests { logger.info("deleting manifest: \(m.repository)@\(m.digest)") }
        for d in report.deletedBlobs { logger.info("Deleting blob: \(d)") }
        for d in report.deletedBlobs {
            for repo in report.deletedLinks[d] ?? [] { logger.info("Deleting layer link: \(repo)@\(d)") }
        }
        let compaction = try store.compact(minDeadRatio: 0.5)
        logger.info("deleted \(report.deletedBlobs.count) blobs (\(report.freedBytes) bytes), \(report.deletedManifests.count) manifests; removed \(report.removedPacks) packs; compacted \(compaction.packsRewritten.count) packs, reclaiming \(compaction.bytesReclaimed) bytes")
    }

    /// Distribution's stdout for `report` (see the top of the file); `tags`
    /// lists a repository's tags for the manifest lines.
    static func lines(_ report: GCReport, tags: (String) throws -> [String]) throws -> [String] {
        var out: [String] = []
        var keptBy: [String: [GCReport.ManifestRef]] = [:]
        for m in report.kept { keptBy[m.repository, default: []].append(m) }
        var marked = Set<BlobDigest>()
        for repo in report.repositories {
            out.append(repo)
            let kept = keptBy[repo] ?? []
            var refsOf: [BlobDigest: [BlobDigest]] = [:]
            for m in kept { refsOf[m.digest] = report.references[m] ?? [] }
            // Distribution's markManifestReferences: a reference marked for
            // the first time is printed, and a child manifest's own
            // references follow it.
            func mark(_ m: BlobDigest) {
                for r in refsOf[m] ?? [] {
                    guard marked.insert(r).inserted else { continue }
                    out.append("\(repo): marking blob \(r)")
                    if refsOf[r] != nil { mark(r) }
                }
            }
            for m in kept {
                out.append("\(repo): marking manifest \(m.digest) ")
                marked.insert(m.digest)
                mark(m.digest)
            }
        }
        for m in report.deletedManifests {
            out.append("manifest eligible for deletion: {\(m.repository) \(m.digest) [\(try tags(m.repository).joined(separator: " "))]}")
        }
        out.append("")
        out.append("\(report.markedBlobs) blobs marked, \(report.deletedBlobs.count) blobs and \(report.deletedManifests.count) manifests eligible for deletion")
        for d in report.deletedBlobs { out.append("blob eligible for deletion: \(d)") }
        var linksBy: [String: [BlobDigest]] = [:]
        for d in report.deletedBlobs { for repo in report.deletedLinks[d] ?? [] { linksBy[repo, default: []].append(d) } }
        for repo in linksBy.keys.sorted() {
            for d in linksBy[repo]! { out.append("\(repo): layer link eligible for deletion: \(d)") }
        }
        return out
    }
}

/// config.yml + REGISTRY_* overrides, with errors as operator messages.
func loadConfiguration(_ path: String?) throws -> RegistryConfiguration {
    let environment = ProcessInfo.processInfo.environment
    do {
        return try RegistryConfiguration.load(path: path ?? environment["REGISTRY_CONFIGURATION_PATH"], environment: environment)
    } catch let error as ConfigurationError {
        throw RegctlError("configuration: \(error)")
    }
}

/// Opens the storage root, turning engine errors into operator messages.
func openStore(_ root: String, options: StoreOptions) throws -> Store {
    do {
        return try Store.open(at: root, options: options)
    } catch let error as StoreError where error.code == .locked {
        throw RegctlError("storage at \(root) is in use by a running registry; stop it first (online GC runs inside `regctl serve`)")
    } catch let error as StoreError {
        throw RegctlError("storage at \(root): \(error.message)")
    }
}
