import Foundation
import NIOHTTP1
import Testing

/// Requests whose `Content-Length` lies, over a raw socket. Whatever the
/// server answers, nothing is committed: neither the claimed digest nor the
/// digest of the bytes that did arrive becomes visible.
@Suite("Hostile input: lying Content-Length")
struct HostileInputBodyTests {
    static let full = Array((0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) })
    static let sent = Array(full.prefix(100))

    static func head(_ method: String, _ uri: String, contentLength: Int, _ extra: String = "") -> String {
        "\(method) \(uri) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(contentLength)\r\n\(extra)\r\n"
    }

    func assertNothingCommitted(_ r: TestRegistry, _ victim: Victim, _ what: String,
                                sourceLocation: SourceLocation = #_sourceLocation) async throws {
        for d in [Fixtures.sha256(Self.full), Fixtures.sha256(Self.sent)] {
            let head = try await r.send(.HEAD, "/v2/\(Victim.repo)/blobs/\(d)")
            #expect(head.status == .notFound, "\(what): \(d) visible", sourceLocation: sourceLocation)
        }
        try await victim.assertIntact(r, after: what, sourceLocation: sourceLocation)
    }

    /// Declared 1000, sent 100, then end of stream (half-close). The server
    /// does not allow half-closed connections, so end of stream closes it:
    /// no answer at all (in particular no 201), the connection is closed,
    /// and once the server has finished the request nothing is stored.
    @Test func shortBodyThenHalfClose() async throws {
        try await TestRegistry.with { r in
            let victim = try await Victim.push(r)
            let digest = Fixtures.sha256(Self.full)
            let baseline = try await r.quiesce()
            let c = try await RawConnection(port: r.port)
            try await c.write(Self.head("POST", "/v2/\(Victim.repo)/blobs/uploads/?digest=\(digest)", contentLength: 1000))
            try await c.write(Self.sent)
            c.shutdownWrite()
            let (bytes, closed) = try await c.read(timeout: 20)
            c.close()
            #expect(bytes.isEmpty, "answered a truncated body: \(String(decoding: bytes.prefix(200), as: UTF8.self))")
            #expect(closed, "connection still open 20 s after end of stream")
            try await r.waitForFinished(1, after: baseline)
            try await assertNothingCommitted(r, victim, "truncated monolithic POST")
        }
    }

    /// Same, with the socket simply closed (no response read), for a
    /// monolithic POST, a chunked-upload PUT and a manifest PUT.
    @Test func shortBodyThenAbruptClose() async throws {
        try await TestRegistry.with { r in
            let victim = try await Victim.push(r)
            let digest = Fixtures.sha256(Self.full)

            // Everything the attacks need first, so that the server's count of
            // finished connections moves only with the three attacks.
            let start = try await r.send(.POST, "/v2/\(Victim.repo)/blobs/uploads/")
            let location = try #require(start["Location"])
            // A complete, valid manifest, but fewer bytes than declared.
            let other = try await Fixtures.image(r, repo: Victim.repo, seed: "truncated")
            let baseline = try await r.quiesce()

            let c1 = try await RawConnection(port: r.port)
            try await c1.write(Self.head("POST", "/v2/\(Victim.repo)/blobs/uploads/?digest=\(digest)", contentLength: 1000))
            try await c1.write(Self.sent)
            c1.close()

            let c2 = try await RawConnection(port: r.port)
            try await c2.write(Self.head("PUT", "\(location)?digest=\(digest)", contentLength: 1000))
            try await c2.write(Self.sent)
            c2.close()

            let c3 = try await RawConnection(port: r.port)
            try await c3.write(Self.head("PUT", "/v2/\(Victim.repo)/manifests/stable", contentLength: other.count + 50,
                                         "Content-Type: \(Fixtures.ociManifest)\r\n"))
            try await c3.write(other)
            c3.close()

            // The server has finished all three requests: whatever they were
            // going to store is settled, and nothing may be visible.
            try await r.waitForFinished(3, after: baseline)
            try await assertNothingCommitted(r, victim, "abrupt close")
            let m = try await r.send(.HEAD, "/v2/\(Victim.repo)/manifests/\(Fixtures.sha256(other))")
            #expect(m.status == .notFound)
        }
    }

    /// Declared 1000, sent 100, connection held open: the server waits for
    /// the rest without answering until the body stall timeout closes the
    /// connection; nothing is visible meanwhile or after the server gave up.
    @Test func longerDeclaredThanSentWithTimeout() async throws {
        let timer = ClosedByTimer(timeout: 1)
        try await TestRegistry.with({ $0.limits = timer.only(\.bodyStallTimeout) }) { r in
            let victim = try await Victim.push(r)
            let digest = Fixtures.sha256(Self.full)
            try await r.quiesce()
            let c = try await RawConnection(port: r.port)
            // Timed from before the head is sent: the server arms its stall
            // timer only after it has the head, so the lower bound holds even
            // when this task is descheduled between the two writes.
            let started = ContinuousClock.now
            try await c.write(Self.head("POST", "/v2/\(Victim.repo)/blobs/uploads/?digest=\(digest)", contentLength: 1000))
            try await c.write(Self.sent)
            // Read from now on, so the close is timed as it happens, not after
            // the probes below (slow on a loaded machine).
            async let answer = { () async throws -> ([UInt8], Bool, Duration) in
                let (bytes, closed) = try await c.read(timeout: timer.timeout + timer.slack + 5)
                return (bytes, closed, ContinuousClock.now - started)
            }()
            try await assertNothingCommitted(r, victim, "stalled body (open)")
            let (bytes, closed, elapsed) = try await answer
            timer.check(elapsed, "stalled body")
            #expect(bytes.isEmpty, "answered a stalled body: \(String(decoding: bytes.prefix(200), as: UTF8.self))")
            #expect(closed)
            c.close()
            // The server closed it, so it was being served; no connection left
            // means its request is finished.
            try await r.quiesce()
            try await assertNothingCommitted(r, victim, "stalled body (closed)")
        }
    }

    /// Declared 10, sent 100: the body is the first 10 bytes (DIGEST_INVALID
    /// for the claimed digest of all 100) and the rest is not a request.
    @Test func shorterDeclaredThanSent() async throws {
        try await TestRegistry.with { r in
            let victim = try await Victim.push(r)
            let digest = Fixtures.sha256(Self.sent)
            let c = try await RawConnection(port: r.port)
            try await c.write(Self.head("POST", "/v2/\(Victim.repo)/blobs/uploads/?digest=\(digest)", contentLength: 10))
            try await c.write(Self.sent)
            let (bytes, closed) = try await c.read(timeout: 20)
            c.close()
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(RawConnection.status(bytes) == 400, "\(text.prefix(200))")
            #expect(RawConnection.errorCode(bytes) == "DIGEST_INVALID", "\(text)")
            // The 90 bytes after the body are no request: refused, then closed.
            #expect(closed)
            for d in [digest, Fixtures.sha256(Array(Self.sent.prefix(10)))] {
                let head = try await r.send(.HEAD, "/v2/\(Victim.repo)/blobs/\(d)")
                #expect(head.status == .notFound)
            }
            try await victim.assertIntact(r, after: "over-long body")
        }
    }
}
