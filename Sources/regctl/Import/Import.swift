// `regctl import [--link] [--url URL] [--username U] [--ca-file F] [--json] DISTRIBUTION_ROOT [CONFIG]`:
// bring every repository, blob, manifest and tag of a distribution
// filesystem root (DistributionLayout.swift) into Berth, verifying every
// digest while reading distribution's files.
//
// Two modes. The server is not running (the storage root's lock is free):
// the root is opened directly (ImportToStore). The server is running (the
// root is locked by it) or --url is given: the registry API of that server
// (ImportOverHTTP; --url defaults to http.addr, https when http.tls is set;
// credentials from --username / BERTH_IMPORT_USERNAME and
// BERTH_IMPORT_PASSWORD, HTTP Basic).
//
// Idempotent and resumable: everything is looked up before it is copied, so
// a re-run (after a kill, or after fixing a root) copies only what is missing
// and reports the rest "already present". Tag history (tags/<t>/index) is
// counted and reported, not imported: the engine records history only as
// tags move.
//
// --link (server stopped only): blobs above the small-blob threshold are
// reflinked (Store.commitClone) when distribution's root and Berth's storage
// root share a reflink-capable file system — no second copy of the bytes,
// every digest still verified; otherwise copied, with the reason per blob in
// the report. Over HTTP (--url, or the server running) --link is refused: a
// reflink can only be made on the storage root itself, and an operator who
// asked for no second copy should not get one silently.
//
// Exit status: 0 when everything importable was imported (or was present);
// 1 when anything was skipped for a problem (each skip is printed with its
// reason), and 1 on a fatal error ("Error: ..." on stderr, nothing reported).

import ArgumentParser
import CASEngine
import Foundation
import RegistryHTTP
import RegistryConfig

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import a distribution (registry:2/3) storage root: every repository, blob, manifest and tag.",
        discussion: """
            DISTRIBUTION_ROOT is distribution's storage.filesystem.rootdirectory (holding \
            docker/registry/v2). Every digest is verified while it is read; blobs whose bytes \
            do not match, links naming missing blobs, unparseable manifests and manifests or \
            tags needing something skipped are reported and not imported. With the Berth \
            server stopped the storage root is written directly; with it running (or with \
            --url) the import goes through the registry API. Re-running imports only what is \
            missing. Exit status 0 when everything was imported, 1 when anything was skipped.
            """
    )

    @Option(help: "Import over the registry API of this Berth (default: the config's http.addr when the server runs).")
    var url: String?
    @Option(help: "User for HTTP Basic (or BERTH_IMPORT_USERNAME); the password is read from BERTH_IMPORT_PASSWORD.")
    var username: String?
    @Option(help: "CA bundle to trust for an https --url.")
    var caFile: String?
    @Flag(help: "Reflink large blobs instead of copying them when both roots share a file system that can (XFS, btrfs); server stopped only.")
    var link = false
    @Flag(help: "Print the report as JSON.")
    var json = false
    @Argument(help: "distribution's storage root directory.")
    var distributionRoot: String
    @Argument(help: "Path to Berth's config.yml.")
    var config: String?

    func run() throws {
        let settings = try loadConfiguration(config)
        let layout = try DistributionLayout.read(root: distributionRoot)
        let plan = ImportPlan(layout, maxManifestSize: settings.berth.limits.manifestMaxSize,
                              indexChildren: IndexChildPolicy(settings.validation))
        if link, url != nil {
            throw RegctlError(Self.linkOverHTTP)
        }
        if let url {
            finish(try overHTTP(url, settings, plan, layout))
        } else {
            var options = ServerSettings.store(from: settings)
            // Read-only mode keeps clients from writing while serving; the
            // operator's own offline import is not such a client.
            options.readOnly = false
            let root = settings.storage.filesystem.rootDirectory
            let store: Store
            do {
                store = try Store.open(at: root, options: options)
            } catch let e as StoreError where e.code == .locked {
                if link { throw RegctlError(Self.linkOverHTTP) }
                finish(try overHTTP(try Self.serverURL(settings), settings, plan, layout))
            } catch let e as StoreError {
                throw RegctlError("storage at \(root): \(e.message)")
            }
            let report: ImportReport
            do {
                defer { store.close() }
                report = try ImportRun.run(plan, layout, into: ImportToStore(store: store, smallBlobThreshold: options.smallBlobThreshold, link: link))
            }
            finish(report)
        }
    }

    private func overHTTP(_ url: String, _ settings: RegistryConfiguration, _ plan: ImportPlan,
                          _ layout: DistributionLayout) throws -> ImportReport {
        let env = ProcessInfo.processInfo.environment
        let client = try RegistryClient(base: url, username: username ?? env["BERTH_IMPORT_USERNAME"],
                                        password: env["BERTH_IMPORT_PASSWORD"], caFile: caFile)
        let prefix = settings.http.prefix.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 } ?? ""
        return try ImportRun.run(plan, layout, into: ImportOverHTTP(client: client, prefix: prefix))
    }

    static let linkOverHTTP = "--link needs the Berth server stopped: a reflink is made on the storage root itself, which the running server holds (stop it and re-run, or drop --link to copy over the registry API)"

    private func finish(_ report: ImportReport) -> Never {
        print(json ? report.json : report.text)
        Foundation.exit(report.isComplete ? 0 : 1)
    }

    /// The running server's address from http.addr (a wildcard listen
    /// address is reached on loopback).
    static func serverURL(_ settings: RegistryConfiguration) throws -> String {
        var (host, port) = try ServerSettings.address(settings.http.addr, key: "http.addr")
        if ["0.0.0.0", "::", ""].contains(host) { host = "127.0.0.1" }
        if host.contains(":") { host = "[\(host)]" }
        return "\(settings.http.tls == nil ? "http" : "https")://\(host):\(port)"
    }
}
