// The loop shared by regctl's background maintenance services.

import Logging
import RegistryHTTP
import ServiceLifecycle

/// The shortest wait between two steps (seconds).
let minimumInterval = 0.01

/// Runs `step`, then waits `interval` seconds (sub-second values are honoured:
/// tests run the collector every few hundred milliseconds; at least
/// `minimumInterval`, so `0s` cannot spin), until graceful shutdown, skipping
/// the step while the registry is in (live, reloadable) read-only mode. A
/// failed step is logged and the loop goes on; shutdown stops it between
/// steps, never inside one.
func runPeriodically(every interval: Double, skipWhile modes: ServerModes, logger: Logger, what: String,
                     _ step: @escaping @Sendable () async throws -> Void) async {
    await cancelWhenGracefulShutdown {
        while !Task.isCancelled {
            if !modes.readOnly {
                do {
                    try await step()
                } catch {
                    logger.error("\(what) failed", metadata: ["error": "\(error)"])
                }
            }
            let delay = max(interval, minimumInterval)
            logger.debug("\(what) pass done", metadata: ["next_in_seconds": "\(delay)"])
            do {
                try await Task.sleep(for: .seconds(delay))
            } catch {
                return  // cancelled: graceful shutdown
            }
        }
    }
}
