// HTTP/2 connection lifetime with an in-process client: the idle timeout
// closes a connection without streams no sooner than configured and not much
// later, counted from the last stream; graceful shutdown closes an idle
// connection at once instead of waiting for the drain deadline.

import Foundation
import NIOCore
import Testing
@testable import RegistryHTTP

@Suite("HTTP/2 connections", .serialized)
struct HTTP2ConnectionTests {
    @Test("an HTTP/2 connection without streams is closed after the idle timeout, counted from its last stream")
    func idleHTTP2() async throws {
        let f = try TLSFixtures.make()
        defer { f.remove() }
        // 26.8 s after a 1.5 s timer was seen with the whole suite running on
        // 2 loaded cores: the window is wide, and every other timer is set
        // far above it (600 s), so a close by any of them still fails. The
        // timer is 6 s: the clean-clone CI saw a debug build's TLS handshake
        // and h2 preface outlast a 1.5 s idle timer on every one of 5 tries.
        let timer = ClosedByTimer(timeout: 6)
        try await TestRegistry.with({
            $0.tls = f.serverTLS()
            $0.limits = timer.only(\.idleTimeout)
        }) { registry in
            async let neverUsed = Self.timeUntilClosed(registry, f, request: false, within: timer)
            async let usedOnce = Self.timeUntilClosed(registry, f, request: true, within: timer)
            timer.check(try await neverUsed, "connection without streams")
            timer.check(try await usedOnce, "connection after one stream")
        }
    }

    /// Connects over h2 (and sends one GET if `request`); returns the time
    /// from just before the connection (or the GET) until the server closed it.
    static func timeUntilClosed(_ registry: TestRegistry, _ f: TLSFixtures, request: Bool,
                                within timer: ClosedByTimer) async throws -> Duration {
        for attempt in 1... {
            let connected = ContinuousClock.now
            var start = connected
            // On a loaded machine the TLS handshake and the h2 preface of a
            // debug build can outlast the idle timeout too: the same correct
            // close, the same retry.
            let c: HTTP2TestConnection
            do {
                c = try await HTTP2TestConnection.connect(port: registry.port, f)
            } catch {
                let idle = ContinuousClock.now - connected
                if attempt < 10 && idle >= .seconds(timer.timeout) { continue }
                throw FixtureError.unexpected("connect (attempt \(attempt)) failed after \(idle): \(error)")
            }
            if request {
                start = ContinuousClock.now
                do {
                    let r = try await c.send(.GET, "/v2/")
                    #expect(r.status == .ok && r["Docker-Distribution-API-Version"] == "registry/2.0")
                } catch {
                    // On a loaded machine the stream-less connection may reach
                    // its idle timeout before the GET goes out: a correct close,
                    // provided the timeout really elapsed. Then try again.
                    let idle = ContinuousClock.now - connected
                    #expect(idle >= .seconds(timer.timeout), "closed after \(idle), before the idle timeout: \(error)")
                    if attempt < 10 && idle >= .seconds(timer.timeout) { continue }
                    throw error
                }
            }
            try await c.waitForClose(timeout: timer.upperBound + .seconds(5))
            return ContinuousClock.now - start
        }
        fatalError("unreachable")
    }

    @Test("graceful shutdown closes an idle HTTP/2 connection and returns, without waiting for the drain deadline")
    func shutdownWithIdleHTTP2() async throws {
        let f = try TLSFixtures.make()
        defer { f.remove() }
        var shutdownStarted = ContinuousClock.now
        // Idle timeout 120 s, drain deadline 60 s: only shutdown's closing of
        // idle connections ends this one within seconds.
        try await TestRegistry.with({ $0.tls = f.serverTLS(); $0.drainTimeout = 60 }) { registry in
            let c = try await HTTP2TestConnection.connect(port: registry.port, f)
            try await registry.waitUntilServing(1)
            shutdownStarted = ContinuousClock.now
            registry.server.shutdown()
            try await c.waitForClose(timeout: .seconds(20))
        }
        #expect(ContinuousClock.now - shutdownStarted < .seconds(20), "run() waited for the drain deadline")
    }
}
