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
            #expect(r.text.contains("4096"))
            #expect(r["Connection"] == "close")
            #expect(try await registry.send(.GET, "/v2/", headers: [("X-Small", "a")]).status == .ok)
        }
    }

    @Test("headers beyond the HTTP parser's own ceiling are refused with 400")
    func parserCeiling() async throws {
        try await TestRegistry.with { registry in
            let r = try await registry.send(.GET, "/v2/", headers: [("X-Huge", String(repeating: "b", count: 100_000))])
            #expect(r.status == .badRequest || r.status == .requestHeaderFieldsTooLarge)
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

    @Test("an idle keep-alive connection is closed after the idle timeout")
    func idleTimeout() async throws {
        try await TestRegistry.with({ $0.limits.idleTimeout = 0.3 }) { registry in
            let start = ContinuousClock.now
            let text = try await RawTestConnection.with(port: registry.port) { raw, inbound, outbound in
                try await outbound.write(ByteBuffer(string: "GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n"))
                return try await raw.readUntilClosed(inbound, timeout: .seconds(5))
            }
            #expect(text.hasPrefix("HTTP/1.1 200"))
            #expect(ContinuousClock.now - start >= .milliseconds(250))
        }
    }

    @Test("slowloris: headers trickled byte by byte are cut off at the header timeout")
    func slowHeaders() async throws {
        try await TestRegistry.with({ $0.limits.requestHeaderTimeout = 0.5 }) { registry in
            let start = ContinuousClock.now
            try await RawTestConnection.with(port: registry.port) { raw, inbound, outbound in
                let trickle = Task {
                    for byte in "GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Slow: \(String(repeating: "z", count: 200))".utf8 {
                        do {
                            try await outbound.write(ByteBuffer(bytes: [byte]))
                            try await Task.sleep(for: .milliseconds(50))
                        } catch { return }
                    }
                }
                let text = try await raw.readUntilClosed(inbound, timeout: .seconds(5))
                trickle.cancel()
                #expect(!text.contains("200 OK"))
            }
            let elapsed = ContinuousClock.now - start
            #expect(elapsed >= .milliseconds(400) && elapsed < .seconds(4))
        }
    }

    @Test("a stalled request body is cut off at the body stall timeout")
    func stalledBody() async throws {
        try await TestRegistry.with({ $0.limits.bodyStallTimeout = 0.4 }) { registry in
            let start = ContinuousClock.now
            try await RawTestConnection.with(port: registry.port) { raw, inbound, outbound in
                try await outbound.write(ByteBuffer(string:
                    "POST /v2/slow/repo/blobs/uploads/?digest=sha256:\(String(repeating: "0", count: 64)) HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789"))
                _ = try await raw.readUntilClosed(inbound, timeout: .seconds(5))
            }
            #expect(ContinuousClock.now - start >= .milliseconds(300))
        }
    }

    @Test("a connection that never sends anything is closed at the header timeout")
    func silentConnection() async throws {
        try await TestRegistry.with({ $0.limits.requestHeaderTimeout = 0.3 }) { registry in
            let text = try await RawTestConnection.with(port: registry.port) { raw, inbound, _ in
                try await raw.readUntilClosed(inbound, timeout: .seconds(5))
            }
            #expect(text.isEmpty)
        }
    }

    @Test("TLS handshake that never starts is closed at the header timeout")
    func silentTLSConnection() async throws {
        let f = try TLSFixtures.make()
        defer { f.remove() }
        try await TestRegistry.with({ $0.tls = f.serverTLS(); $0.limits.requestHeaderTimeout = 0.3 }) { registry in
            _ = try await RawTestConnection.with(port: registry.port) { raw, inbound, _ in
                try await raw.readUntilClosed(inbound, timeout: .seconds(5))
            }
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
