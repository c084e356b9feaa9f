// `health.storagedriver`: a periodic probe of the store. After `threshold`
// consecutive failed probes the registry is unhealthy: every API request is
// answered 503 UNAVAILABLE (distribution's health.Handler) and
// `/debug/health` answers 503 with the failing check (distribution's
// StatusHandler: `{"storagedriver_filesystem": "<error>"}`). One successful
// probe makes it healthy again.
//
// Thread safety: Sendable; the state sits behind a Mutex, `run` is one task
// of the server's task group and the probe itself runs on the thread pool.
// Invariants:
//   1. Unhealthy iff the last `threshold` probes all failed (distribution's
//      thresholdUpdater: the failure count saturates at the threshold and a
//      success resets it).
//   2. The first probe runs one interval after `run` starts (distribution's
//      ticker); a healthy start is assumed until then.
//   3. `probes` and `failedProbes` only grow.

import Logging
import NIOPosix
import Synchronization

public final class StorageHealthCheck: Sendable {
    /// Distribution registers the check as "storagedriver_" + the driver's name.
    public static let checkName = "storagedriver_filesystem"

    public let interval: Double
    public let threshold: Int

    private struct State {
        var consecutiveFailures = 0
        var lastError: String? = nil
        var probes = 0
        var failedProbes = 0
    }
    private let state = Mutex(State())

    /// `interval` seconds (<= 0: distribution's default 10 s); `threshold` < 1 means 1.
    public init(interval: Double, threshold: Int) {
        self.interval = interval > 0 ? interval : 10
        self.threshold = max(1, threshold)
    }

    /// Records one probe's outcome (nil: success); returns whether the
    /// registry was healthy before and is after.
    @discardableResult
    func record(_ error: (any Error)?) -> (before: Bool, after: Bool) {
        state.withLock { s in
            let before = s.consecutiveFailures < threshold
            s.probes += 1
            if let error {
                s.failedProbes += 1
                s.consecutiveFailures = min(s.consecutiveFailures + 1, threshold)
                s.lastError = "\(error)"
            } else {
                s.consecutiveFailures = 0
                s.lastError = nil
            }
            return (before, s.consecutiveFailures < threshold)
        }
    }

    public var isHealthy: Bool { state.withLock { $0.consecutiveFailures < threshold } }

    /// Failing checks by name with their last error; empty when healthy.
    public var failingChecks: [String: String] {
        state.withLock { s in
            s.consecutiveFailures >= threshold ? [Self.checkName: s.lastError ?? "failed"] : [:]
        }
    }

    /// Probes run so far, and how many of them failed.
    public var probes: Int { state.withLock { $0.probes } }
    public var failedProbes: Int { state.withLock { $0.failedProbes } }

    /// Probes every `interval` until `stopping` is true. Sleeps in slices of
    /// at most 0.25 s so shutdown is never held up by a long interval.
    func run(store: any RegistryStore, pool: NIOThreadPool, logger: Logger, stopping: @Sendable () -> Bool) async {
        let slice = min(max(interval, 0.001), 0.25)
        var waited = 0.0
        while !stopping() {
            try? await Task.sleep(for: .nanoseconds(Int64(slice * 1e9)))
            waited += slice
            guard waited >= interval, !stopping() else { continue }
            waited = 0
            var failure: (any Error)? = nil
            do { try await pool.runIfActive { try store.healthProbe() } } catch { failure = error }
            let change = record(failure)
            if let failure { logger.warning("storage health check failed", metadata: ["error": "\(failure)"]) }
            if change.before && !change.after {
                logger.error("registry unhealthy: API requests answer 503 until a storage health check passes",
                             metadata: ["check": "\(Self.checkName)", "threshold": "\(threshold)"])
            } else if !change.before && change.after {
                logger.notice("registry healthy again", metadata: ["check": "\(Self.checkName)"])
            }
        }
    }
}
