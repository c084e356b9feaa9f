// storage.maintenance.uploadpurging: every `interval`, remove upload sessions
// older than `age` (or only report them with `dryrun`). Stops at the next
// step boundary on graceful shutdown.

import CASEngine
import Logging
import NIOPosix
import ServiceLifecycle

struct UploadPurger: Service {
    let store: Store
    let age: Double
    let interval: Double
    let dryRun: Bool
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let purged = try await NIOThreadPool.singleton.runIfActive {
                        try store.purgeUploads(olderThan: UInt64(age), dryRun: dryRun)
                    }
                    if !purged.isEmpty {
                        logger.info(dryRun ? "would purge abandoned uploads" : "purged abandoned uploads",
                                    metadata: ["count": "\(purged.count)"])
                    }
                } catch {
                    logger.error("upload purge failed", metadata: ["error": "\(error)"])
                }
                do {
                    try await Task.sleep(for: .seconds(max(interval, 1)))
                } catch {
                    return  // cancelled: graceful shutdown
                }
            }
        }
    }
}
