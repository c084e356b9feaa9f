// Per-client throttle for failed logins: after `maxFailures` failures within
// `window`, every credentialed request from that address gets 429 with
// Retry-After until the oldest counted failure leaves the window.
//
// Thread safety: all state in one Mutex; `clock` must be thread-safe.
// Invariants:
//   1. Successful logins are never counted and never reset another client.
//   2. Keyed by the TCP peer address only (X-Forwarded-For is client-chosen).
//   3. The table is bounded: expired clients are pruned when it grows.

import Synchronization

final class LoginRateLimiter: Sendable {
    let maxFailures: Int
    let window: Duration
    /// The time source: ContinuousClock in production, a hand-moved clock in
    /// tests (so a loaded machine cannot expire a failure early).
    let clock: @Sendable () -> ContinuousClock.Instant
    private let failures = Mutex<[String: [ContinuousClock.Instant]]>([:])
    private static let pruneThreshold = 10_000

    init(maxFailures: Int = 10, window: Duration = .seconds(60),
         clock: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.maxFailures = max(1, maxFailures)
        self.window = window
        self.clock = clock
    }

    /// Seconds until `client` may try again; nil when not blocked.
    func retryAfter(_ client: String, now: ContinuousClock.Instant? = nil) -> Int? {
        let now = now ?? clock()
        return failures.withLock { table in
            guard var list = table[client] else { return nil }
            list.removeAll { now - $0 >= window }
            table[client] = list.isEmpty ? nil : list
            guard list.count >= maxFailures, let oldest = list.first else { return nil }
            let remaining = window - (now - oldest)
            return max(1, Int((remaining / .seconds(1)).rounded(.up)))
        }
    }

    func recordFailure(_ client: String, now: ContinuousClock.Instant? = nil) {
        let now = now ?? clock()
        failures.withLock { table in
            if table.count >= Self.pruneThreshold {
                table = table.filter { _, list in list.contains { now - $0 < window } }
                // Still huge (a spread-out attack): forget rather than grow without bound.
                if table.count >= Self.pruneThreshold * 10 { table.removeAll() }
            }
            var list = table[client, default: []]
            list.removeAll { now - $0 >= window }
            list.append(now)
            if list.count > maxFailures { list.removeFirst(list.count - maxFailures) }
            table[client] = list
        }
    }

    /// "1.2.3.4:5678" -> "1.2.3.4"; "::1:5678" -> "::1".
    static func clientAddress(_ peer: String?) -> String {
        guard let peer, let colon = peer.lastIndex(of: ":") else { return peer ?? "-" }
        return String(peer[..<colon])
    }
}
