// storage.maintenance.uploadpurging: every `interval`, remove upload sessions
// older than `age` (or only report them with `dryrun`).

import CASEngine
import Logging
import NIOPosix
import RegistryHTTP
import ServiceLifecycle

struct UploadPurger: Service {
    let store: Store
    let age: Double
    let interval: Double
    let dryRun: Bool
    let modes: ServerModes
    let logger: Logger

    func run() async throws {
        await runPeriodically(every: interval, skipWhile: modes, logger: logger, what: "upload purge") { [store, age, dryRun, logger] in
            let purged = try await NIOThreadPool.singleton.runIfActive {
                try store.purgeUploads(olderThan: UInt64(age), dryRun: dryRun)
            }
            if !purged.isEmpty {
                logger.info(dryRun ? "would purge abandoned uploads" : "purged abandoned uploads",
                            metadata: ["count": "\(purged.count)"])
            }
        }
    }
}
