// Header size and request-line limits, idle keep-alive timeout and slowloris
// (trickled headers, stalled bodies), with short timeouts; plus the timeout
// state machine without IO.

import Foundation
import NIOCore
import NIOHTTP1
import Testing
@testable import RegistryHTTP

@Suite("Limits", .serialized)
struct LimitsTests {
    @Test("oversized header block is 431 with a message; the connection closes")
    func oversizedHeaders() async throws {
        try await TestRegistry.with({ $0.limits.maxHeaderBytes = 4096 }) { registry in
            let r = try await registry.send(.GET, "/v2/", headers: [("X-Big", String(repeating: "a", count: 5000))])
            #expect(r.status == .requestHeaderFieldsTooLarge)
            #expect(r.errorCode == "UNSUPPORTED")
            #expect(r.text.contains("4096"))
            #expect(r["Connection"] == "close")
            #expect(try await registry.send(.GET, "/v2/", headers: [("X-Small", "a")]).status == .ok)
        }
    }

    @Test("headers beyond the HTTP parser's own ceiling are refused with 400")
    func parserCeiling() async throws {
        try await TestRegistry.with { registry in
            let r = try await registry.send(.GET, "/v2/", headers: [("X-Huge", String(repeating: "b", count: 100_000))])
            // NIO's parser gives up first (80 KiB) and its error handler answers.
            #expect(r.status == .badRequest, "\(r.status) \(r.text)")
            #expect(r["Connection"] == "close")
        }
    }

    @Test("request target over the limit is 414")
    func longRequestLine() async throws {
        try await TestRegistry.with({ $0.limits.maxRequestLineLength = 256 }) { registry in
            let r = try await registry.send(.GET, "/v2/" + String(repeating: "x", count: 300) + "/tags/list")
            #expect(r.status == .uriTooLong)
            #expect(r.errorCode == "UNSUPPORTED")
        }
    }

    // Timing tests: the timer under test is short, the others are at 600 s
    // (ClosedByTimer.only), so a close inside ClosedByTimer's window can
    // only be the timer under test.

    @Test("an idle keep-alive connection is closed after the idle timeout, counted from the response")
    func idleTimeout() async throws {
        let timer = ClosedByTimer(timeout: 1)
        try await TestRegistry.with({ $0.limits = timer.only(\.idleTimeout) }) { registry in
            let (text, elapsed) = try await RawTestConnection.with(port: registry.port) { raw, inbound, outbound in
                let start = ContinuousClock.now
                try await outbound.write(ByteBuffer(string: "GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n"))
                let text = try await raw.readUntilClosed(inbound, timeout: timer.upperBound + .seconds(5))
                return (text, ContinuousClock.now - start)
            }
            #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(text)")
            #expect(!text.lowercased().contains("connection: close"), "answered as if closing: \(text)")
            timer.check(elapsed, "idle keep-alive connection")
        }
    }

    @Test("slowloris: headers trickled byte by byte are cut off at the header timeout, without an answer")
    func slowHeaders() async throws {
        let timer = ClosedByTimer(timeout: 1)
        try await TestRegistry.with({ $0.limits = timer.only(\.requestHeaderTimeout) }) { registry in
            let start = ContinuousClock.now
            let text = try await RawTestConnection.with(port: registry.port) { raw, inbound, outbound in
                // One byte every 50 ms: pacing for the attack, not a wait for
                // the server; the head would take ~12 s to complete.
                let trickle = Task {
                    for byte in "GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Slow: \(String(repeating: "z", count: 200))".utf8 {
                        do {
                            try await outbound.write(ByteBuffer(bytes: [byte]))
                            try await Task.sleep(for: .milliseconds(50))
                        } catch { return }
                    }
                }
                defer { trickle.cancel() }
                return try await raw.readUntilClosed(inbound, timeout: timer.upperBound + .seconds(5))
            }
            #expect(text.isEmpty, "\(text)")
            timer.check(ContinuousClock.now - start, "trickled headers")
        }
    }

    @Test("a stalled request body is cut off at the body stall timeout, counted from its last byte")
    func stalledBody() async throws {
        let timer = ClosedByTimer(timeout: 1)
        try await TestRegistry.with({ $0.limits = timer.only(\.bodyStallTimeout) }) { registry in
            let digest = "sha256:" + String(repeating: "0", count: 64)
            let (text, elapsed) = try await RawTestConnection.with(port: registry.port) { raw, inbound, outbound in
                try await outbound.write(ByteBuffer(string:
                    "POST /v2/slow/repo/blobs/uploads/?digest=\(digest) HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"))
                let start = ContinuousClock.now
                try await outbound.write(ByteBuffer(string: "0123456789"))
                let text = try await raw.readUntilClosed(inbound, timeout: timer.upperBound + .seconds(5))
                return (text, ContinuousClock.now - start)
            }
            #expect(text.isEmpty, "\(text)")
            timer.check(elapsed, "stalled body")
        }
    }

    @Test("a connection that never sends anything is closed at the header timeout")
    func silentConnection() async throws {
        let timer = ClosedByTimer(timeout: 1)
        try await TestRegistry.with({ $0.limits = timer.only(\.requestHeaderTimeout) }) { registry in
            let start = ContinuousClock.now
            let text = try await RawTestConnection.with(port: registry.port) { raw, inbound, _ in
                try await raw.readUntilClosed(inbound, timeout: timer.upperBound + .seconds(5))
            }
            #expect(text.isEmpty, "\(text)")
            timer.check(ContinuousClock.now - start, "silent connection")
        }
    }

    @Test("TLS handshake that never starts is closed at the header timeout")
    func silentTLSConnection() async throws {
        let f = try TLSFixtures.make()
        defer { f.remove() }
        let timer = ClosedByTimer(timeout: 1)
        try await TestRegistry.with({ $0.tls = f.serverTLS(); $0.limits = timer.only(\.requestHeaderTimeout) }) { registry in
            let start = ContinuousClock.now
            let text = try await RawTestConnection.with(port: registry.port) { raw, inbound, _ in
                try await raw.readUntilClosed(inbound, timeout: timer.upperBound + .seconds(5))
            }
            #expect(text.isEmpty, "\(text)")
            timer.check(ContinuousClock.now - start, "silent TLS connection")
        }
    }

    @Test("state machine: header timer from the first byte, stall only while reading, idle after the response")
    func stateMachine() {
        var m = ConnectionTimeoutStateMachine(idlePhase: true)
        #expect(m.connectionStarted() == .arm(.header))
        #expect(m.bytesArrived() == .none)            // already timing the head
        #expect(m.headReceived() == .cancel)
        #expect(m.readRequested() == .arm(.bodyStall))
        #expect(m.bodyReceived() == .cancel)
        #expect(m.endReceived() == .none)              // handler working: no timer
        #expect(m.readRequested() == .none)
        #expect(m.bytesArrived() == .none)             // pipelined bytes while busy
        #expect(m.responseEnded() == .arm(.idle))
        #expect(m.bytesArrived() == .arm(.header))
        #expect(m.headReceived() == .cancel)
        // Answered before the body was read: idle only once the body is drained.
        #expect(m.responseEnded() == .none)
        #expect(m.endReceived() == .arm(.idle))

        var stream = ConnectionTimeoutStateMachine(idlePhase: false)
        #expect(stream.connectionStarted() == .none)
        #expect(stream.headReceived() == .none)
        #expect(stream.readRequested() == .arm(.bodyStall))
        #expect(stream.endReceived() == .cancel)
        #expect(stream.responseEnded() == .none)
    }
}
