// `Connection: close` responses are written completely before the server
// closes (ResponseEndHandler.swift). skopeo sends `Connection: close` on blob
// pulls; before the fix a 70 MB layer was cut off after a few megabytes
// ("happened during read: unexpected EOF") because closing the channel failed
// the queued FileRegion write.

import Foundation
import NIOCore
import Testing
@testable import RegistryHTTP

// The limit only stops a hang; a loaded machine has needed more than a minute.
@Suite("Connection: close", .timeLimit(.minutes(5)))
struct ConnectionCloseTests {
    /// Reads a whole `Connection: close` response; returns (head, body byte count, body digest).
    static func fetch(port: Int, _ path: String) async throws -> (head: String, bodyCount: Int, digest: String) {
        try await RawTestConnection.with(port: port) { _, inbound, outbound in
            try await outbound.write(ByteBuffer(string: "GET \(path) HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"))
            var received: [UInt8] = []
            for try await chunk in inbound { received += chunk.readableBytesView }
            let separator = Array("\r\n\r\n".utf8)
            let end = try #require((0...(received.count - 4)).first { Array(received[$0..<$0 + 4]) == separator })
            let body = Array(received[(end + 4)...])
            return (String(decoding: received[..<end], as: UTF8.self), body.count, Fixtures.sha256(body))
        }
    }

    @Test("a large blob answered with Connection: close arrives whole", arguments: [false, true])
    func largeBlobArrivesWhole(fileRegions: Bool) async throws {
        try await TestRegistry.with({ $0.useFileRegion = fileRegions }) { r in
            // 12 MiB: well past what loopback socket buffers hold (the cut
            // came after about 4 MB), filled by an LCG (cheap in debug builds).
            var blob = [UInt8](repeating: 0, count: 12 << 20)
            var x: UInt64 = 0x9E37_79B9_7F4A_7C15
            blob.withUnsafeMutableBytes { raw in
                let words = raw.bindMemory(to: UInt64.self)
                for i in words.indices {
                    x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    words[i] = x
                }
            }
            let digest = try await r.pushBlob("close/app", blob)
            for _ in 0..<2 {
                let got = try await Self.fetch(port: r.port, "/v2/close/app/blobs/\(digest)")
                #expect(got.head.hasPrefix("HTTP/1.1 200"))
                #expect(got.head.lowercased().contains("connection: close"))
                #expect(got.bodyCount == blob.count)
                #expect(got.digest == digest)
            }
        }
    }
}
