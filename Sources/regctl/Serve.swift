// `regctl serve`: load config.yml + REGISTRY_* overrides, open the store, run
// the HTTP server (and the debug listener and upload purger) until SIGTERM or
// SIGINT, then drain in-flight requests and close the store.

import ArgumentParser
import CASEngine
import Foundation
import Logging
import Metrics
import NIOCore
import NIOPosix
import Prometheus
import RegistryConfig
import RegistryHTTP
import ServiceLifecycle

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the registry.",
        discussion: """
            CONFIG is a distribution-style config.yml (also taken from \
            REGISTRY_CONFIGURATION_PATH). Every REGISTRY_<SECTION>_<KEY> environment \
            variable overrides the matching key, e.g. REGISTRY_HTTP_ADDR=127.0.0.1:5000, \
            REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=/var/lib/registry, \
            REGISTRY_STORAGE_DELETE_ENABLED=true. Keys Berth does not support are \
            refused with their name.
            """
    )

    @Argument(help: "Path to config.yml (optional).")
    var config: String?

    func run() async throws {
        try await serve(loadConfiguration(config))
    }

    /// Serves `settings` (loaded from `config`, which SIGHUP re-reads).
    func serve(_ settings: RegistryConfiguration) async throws {
        if settings.database.enabled {
            // Parsed and migratable (`regctl db migrate`), not yet servable (issue 10).
            throw RegctlError("database.enabled: true is not servable yet: the registry engine does not run on PostgreSQL; "
                + "`regctl db migrate` can prepare the database, but serve with database.enabled: false (the embedded store)")
        }
        LogSetup.bootstrap(settings.log)
        var logger = Logger(label: "berth")
        for (k, v) in settings.log.fields { logger[metadataKey: k] = .string(v) }

        let prometheus = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: prometheus))

        let serverConfig = try ServerSettings.http(from: settings)
        let authorizer = try await AuthSetup.authorizer(from: settings, logger: logger)
        // Opened writable even in read-only mode: read-only is enforced at the
        // HTTP layer so that a config reload (SIGHUP) can switch it off.
        var storeOptions = ServerSettings.store(from: settings)
        storeOptions.readOnly = false
        let store = try openStore(settings.storage.filesystem.rootDirectory, options: storeOptions)
        defer { store.close() }
        logRecovery(store.recovery, logger: logger)

        // Blocking store calls (fsync'ing writes, preads) run here, never on
        // an event loop. More threads than cores on purpose: writers waiting
        // on an fsync cost no CPU, and the more of them wait together, the
        // more one group commit carries (the 2-thread singleton pool capped
        // a batch at two writers).
        let blockingPool = NIOThreadPool(numberOfThreads: max(32, System.coreCount * 8))
        blockingPool.start()
        let readPool = NIOThreadPool(numberOfThreads: System.coreCount)
        readPool.start()

        let server = RegistryServer(configuration: serverConfig, store: store, threadPool: blockingPool, readPool: readPool,
                                    authorizer: authorizer, prometheus: prometheus, logger: logger)
        var services: [any Service] = [server]
        services.append(ConfigReloader(path: config ?? ProcessInfo.processInfo.environment["REGISTRY_CONFIGURATION_PATH"], server: server,
                                       logger: logger, initial: settings))
        // Background maintenance always runs and skips its work while the
        // (live, SIGHUP-reloadable) read-only mode is on.
        let modes = server.modes
        let purging = settings.storage.maintenance.uploadPurging
        if purging.enabled {
            services.append(UploadPurger(store: store, age: purging.age, interval: purging.interval,
                                         dryRun: purging.dryRun, modes: modes, logger: logger))
        }
        services.append(OnlineGC(store: store, settings: settings.berth.gc, retention: ServerSettings.retention(from: settings),
                                  retentionDryRun: settings.berth.retention.dryRun, modes: modes, logger: logger))
        services.append(ControlSocketService(store: store, settings: settings, logger: logger))
        logger.info("serving", metadata: [
            "addr": "\(serverConfig.host):\(serverConfig.port)",
            "root": "\(settings.storage.filesystem.rootDirectory)",
            "delete": "\(serverConfig.deleteEnabled)",
            "readonly": "\(serverConfig.readOnly)",
            "tls": "\(serverConfig.tls != nil)",
            "ui": "\(serverConfig.uiEnabled ? "\(serverConfig.prefix)/ui/" : "off")",
            "health": "\(serverConfig.storageHealth.map { "every \($0.interval)s, threshold \($0.threshold)" } ?? "off")",
        ])
        for key in settings.keysWithoutEffect {
            logger.notice("config key has no effect in Berth", metadata: ["key": "\(key.keyPath)", "reason": "\(key.reason)"])
        }
        let group = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
        try await blockingPool.shutdownGracefully()
        try await readPool.shutdownGracefully()
        logger.info("stopped")
    }

    func logRecovery(_ report: RecoveryReport, logger: Logger) {
        for t in report.tornTails {
            logger.warning("truncated torn pack tail", metadata: ["pack": "\(t.packID)", "offset": "\(t.offset)", "bytes": "\(t.bytes)"])
        }
        if !report.orphanUploadFiles.isEmpty {
            logger.notice("removed orphan upload files", metadata: ["count": "\(report.orphanUploadFiles.count)"])
        }
        if !report.staleUploadRecords.isEmpty {
            logger.notice("dropped upload sessions whose file was gone", metadata: ["count": "\(report.staleUploadRecords.count)"])
        }
        switch report.journal {
        case .consistent: break
        case .resnapshotted: logger.notice("recovery journal re-snapshotted from the index")
        case .needsReplay:
            logger.error("""
                the recovery journal holds manifests and tags the index lacks (meta/ lost or restored from an older copy); \
                stop the server and run `regctl fsck --scan-packs --repair --reindex CONFIG` to bring them back
                """)
        }
    }
}
