// Synchronisation points on the server's side, instead of sleeping and
// hoping: wait until the server has finished serving the connections a test
// opened (ServerState.finishedConnectionCount), and check that a timeout
// closed a connection when it should have, not merely "eventually".

import Testing
@testable import RegistryHTTP

extension TestRegistry {
    /// Waits until no connection is being served; returns the count of
    /// finished ones, the baseline for `waitForFinished`.
    @discardableResult
    func quiesce(timeout: Duration = .seconds(20)) async throws -> Int {
        try await waitUntil("all connections finished", timeout: timeout) { server.state.connectionCount == 0 }
        return server.state.finishedConnectionCount
    }

    /// Waits until `count` more connections than `baseline` have finished:
    /// their handlers have returned, nothing of theirs is still in flight.
    func waitForFinished(_ count: Int, after baseline: Int, timeout: Duration = .seconds(20)) async throws {
        try await waitUntil("\(count) connection(s) finished", timeout: timeout) {
            server.state.finishedConnectionCount >= baseline + count
        }
    }

    /// Waits until the server has registered `count` connections being served.
    func waitUntilServing(_ count: Int, timeout: Duration = .seconds(20)) async throws {
        try await waitUntil("\(count) connection(s) being served", timeout: timeout) { server.state.connectionCount == count }
    }

    /// Polls `condition` (a state the server reaches, not a guess at time);
    /// throws after `timeout`.
    func waitUntil(_ what: String, timeout: Duration, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else { throw FixtureError.unexpected("timed out waiting: \(what)") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// How long after `start` a connection may close when a `timeout`-second
/// timer closed it: never before the timer (the lower bound is exact: the
/// server arms it after `start`), and within `slack` of it. The slack is
/// client and scheduler latency on a loaded 2-core machine (26.8 s after a
/// 1.5 s timer was seen with the whole suite running beside builds); every
/// other timer is set far above it by `only(_:)` (600 s), so a close by the
/// wrong timer still fails the check.
struct ClosedByTimer {
    let timeout: Double
    var slack: Double = 120

    /// The server's limits with this timer as `key` and the other timers at 600 s.
    func only(_ key: WritableKeyPath<RegistryServer.Configuration.Limits, Double>,
              _ base: RegistryServer.Configuration.Limits = .init()) -> RegistryServer.Configuration.Limits {
        var limits = base
        limits.idleTimeout = 600
        limits.requestHeaderTimeout = 600
        limits.bodyStallTimeout = 600
        limits[keyPath: key] = timeout
        return limits
    }

    var upperBound: Duration { .milliseconds(Int((timeout + slack) * 1000)) }

    func check(_ elapsed: Duration, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let lower = Duration.milliseconds(Int(timeout * 1000))
        #expect(elapsed >= lower, "\(what): closed after \(elapsed), before the \(timeout) s timeout",
                sourceLocation: sourceLocation)
        #expect(elapsed <= upperBound, "\(what): closed after \(elapsed), \(slack) s past the \(timeout) s timeout",
                sourceLocation: sourceLocation)
    }
}
