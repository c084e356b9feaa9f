// `regctl garbage-collect [--dry-run] [--delete-untagged] [--quiet] config.yml`
// with distribution's flags and output shape. Offline: it takes the storage
// root's lock, so the server must be stopped (the online collector in
// `regctl serve` needs no downtime: see berth.gc in the configuration).

import ArgumentParser
import CASEngine
import Foundation
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
            garbage online without downtime (berth.gc).
            """
    )

    @Flag(name: [.short, .customLong("dry-run")], help: "Report what would be deleted; change nothing.")
    var dryRun = false

    @Flag(name: [.customShort("m"), .customLong("delete-untagged")], help: "Delete manifests that no tag references.")
    var deleteUntagged = false

    @Flag(name: .shortAndLong, help: "Print only the summary.")
    var quiet = false

    @Argument(help: "Path to config.yml.")
    var config: String

    func run() throws {
        let settings = try loadConfiguration(config)
        let root = settings.storage.filesystem.rootDirectory
        let store = try openStore(root, options: ServerSettings.store(from: settings))
        defer { store.close() }
        let report = try store.garbageCollect(
            policy: GCPolicy(deleteUntagged: deleteUntagged, gracePeriod: 0, untaggedDelay: 0), dryRun: dryRun)
        if !quiet {
            var lastRepo: String?
            for m in report.kept {
                if m.repository != lastRepo {
                    print(m.repository)
                    lastRepo = m.repository
                }
                print("\(m.repository): marking manifest \(m.digest)")
            }
        }
        print("\(report.markedBlobs) blobs marked, \(report.deletedBlobs.count) blobs and \(report.deletedManifests.count) manifests eligible for deletion")
        for m in report.deletedManifests {
            print("manifest eligible for deletion: \(m.repository)@\(m.digest)")
        }
        for d in report.deletedBlobs {
            print("blob eligible for deletion: \(d)")
        }
        guard !dryRun else { return }
        let compaction = try store.compact(minDeadRatio: 0.5)
        print("deleted \(report.deletedBlobs.count) blobs (\(report.freedBytes) bytes), \(report.deletedManifests.count) manifests; removed \(report.removedPacks) packs; compacted \(compaction.packsRewritten.count) packs, reclaiming \(compaction.bytesReclaimed) bytes")
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
