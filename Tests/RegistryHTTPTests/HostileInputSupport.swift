// Shared pieces of the hostile-input suites: a raw TCP client for requests
// that lie (a Content-Length the body never reaches, a connection dropped
// mid-body), and the "victim" content whose bytes must survive every attack.

// Linux only (the CI platform): Glibc sockets, MSG_NOSIGNAL.
import Glibc
import Foundation
import NIOPosix
import Testing

/// One TCP connection driven byte by byte. Blocking calls run on the NIO
/// thread pool, never on the cooperative pool the server's tasks share.
final class RawConnection: @unchecked Sendable {
    // @unchecked: `fd` is written only by init and close(); each test uses a
    // connection from one task at a time, awaiting every call.
    private var fd: Int32

    init(port: Int) async throws {
        fd = try await NIOThreadPool.singleton.runIfActive { () throws -> Int32 in
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw RawError.system("socket", errno) }
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            let rc = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard rc == 0 else { let e = errno; Glibc.close(fd); throw RawError.system("connect", e) }
            return fd
        }
    }

    deinit { if fd >= 0 { _ = Glibc.close(fd) } }

    func write(_ s: String) async throws { try await write(Array(s.utf8)) }

    func write(_ bytes: [UInt8]) async throws {
        let fd = self.fd
        try await NIOThreadPool.singleton.runIfActive {
            var sent = 0
            while sent < bytes.count {
                let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard n > 0 else { throw RawError.system("send", errno) }
                sent += n
            }
        }
    }

    /// Half-close: the server sees end of stream, we can still read.
    func shutdownWrite() { _ = Glibc.shutdown(fd, Int32(SHUT_WR)) }

    func close() {
        if fd >= 0 { _ = Glibc.close(fd) }
        fd = -1
    }

    /// Reads until the peer closes or `timeout` seconds pass without data.
    /// Returns what arrived (possibly nothing) and whether the peer closed.
    func read(timeout: Double) async throws -> (bytes: [UInt8], closed: Bool) {
        let fd = self.fd
        return try await NIOThreadPool.singleton.runIfActive {
            var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            var out: [UInt8] = []
            var buf = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n > 0 { out.append(contentsOf: buf[0..<n]); continue }
                if n == 0 { return (out, true) }
                let e = errno
                if e == EAGAIN || e == EWOULDBLOCK { return (out, false) }
                if e == ECONNRESET { return (out, true) }
                throw RawError.system("recv", e)
            }
        }
    }

    /// Status code of the first response in `bytes`, if one arrived.
    static func status(_ bytes: [UInt8]) -> Int? {
        let text = String(decoding: bytes.prefix(64), as: UTF8.self)
        guard text.hasPrefix("HTTP/1.1 ") else { return nil }
        return Int(text.dropFirst(9).prefix(3))
    }
}

extension RawConnection {
    /// The first OCI error code in the body of the first response in `bytes`
    /// (its Content-Length bytes after the head).
    static func errorCode(_ bytes: [UInt8]) -> String? {
        let crlf2: [UInt8] = [13, 10, 13, 10]
        guard let end = (0..<max(0, bytes.count - 3)).first(where: { Array(bytes[$0..<$0 + 4]) == crlf2 }) else { return nil }
        let head = String(decoding: bytes[..<end], as: UTF8.self).lowercased()
        guard let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
              let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)),
              bytes.count >= end + 4 + length else { return nil }
        return TestResponse(status: .ok, headers: [:], body: Array(bytes[(end + 4)..<(end + 4 + length)])).errorCode
    }
}

enum RawError: Error { case system(String, Int32) }

/// Content pushed before the attacks; `assertIntact` GETs it back.
struct Victim {
    static let repo = "victim/app"
    let blob: [UInt8]
    let blobDigest: String
    let manifest: [UInt8]
    let manifestDigest: String

    static func push(_ r: TestRegistry) async throws -> Victim {
        let blob = Array((0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        let blobDigest = try await r.pushBlob(repo, blob)
        let manifest = try await Fixtures.image(r, repo: repo, seed: "victim")
        let put = try await r.putManifest(repo, "stable", manifest)
        guard put.status == .created else { throw FixtureError.unexpected("victim manifest: \(put.status)") }
        return Victim(blob: blob, blobDigest: blobDigest, manifest: manifest, manifestDigest: Fixtures.sha256(manifest))
    }

    /// The victim's blob and manifest are still served, byte-identical, and the server answers /v2/.
    func assertIntact(_ r: TestRegistry, after what: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let base = try await r.send(.GET, "/v2/")
        #expect(base.status == .ok, "server unhealthy after \(what)", sourceLocation: sourceLocation)
        let b = try await r.send(.GET, "/v2/\(Victim.repo)/blobs/\(blobDigest)")
        #expect(b.status == .ok && Fixtures.sha256(b.body) == blobDigest,
                "victim blob changed after \(what)", sourceLocation: sourceLocation)
        for ref in ["stable", manifestDigest] {
            let m = try await r.send(.GET, "/v2/\(Victim.repo)/manifests/\(ref)",
                                     headers: [("Accept", Fixtures.ociManifest)])
            #expect(m.status == .ok && Fixtures.sha256(m.body) == manifestDigest && m.body == manifest,
                    "victim manifest \(ref) changed after \(what)", sourceLocation: sourceLocation)
        }
    }
}
