// The loop shared by regctl's background maintenance services.

import Logging
import RegistryHTTP
import ServiceLifecycle

/// Runs `step` every `interval` seconds (at least 1) until graceful shutdown,
/// skipping it while the registry is in (live, reloadable) read-only mode.
/// A failed step is logged and the loop goes on; shutdown stops it between
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
            do {
                try await Task.sleep(for: .seconds(max(interval, 1)))
            } catch {
                return  // cancelled: graceful shutdown
            }
        }
    }
}
