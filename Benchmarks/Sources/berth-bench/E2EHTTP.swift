// A small blocking HTTP/1.1 client over POSIX sockets for the e2e benchmarks:
// keep-alive, Content-Length request bodies (streamed from memory), responses
// read by Content-Length (chunked tolerated), bodies either kept or counted
// and discarded. One connection per thread; no locking.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct E2EError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

struct HTTPResult {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]
    var bodyLength: Int

    func header(_ name: String) -> String? {
        headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
    }
}

final class HTTPConn {
    let port: UInt16
    private var fd: Int32 = -1
    private var buf: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0

    init(port: UInt16, bufferSize: Int = 256 << 10) {
        self.port = port
        buf = .allocate(byteCount: bufferSize, alignment: 64)
    }

    deinit {
        close()
        buf.deallocate()
    }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
        start = 0
        end = 0
    }

    private func connect() throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw E2EError("socket: \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else {
            let e = errno
            close()
            throw E2EError("connect 127.0.0.1:\(port): errno \(e)")
        }
    }

    private func sendAll(_ p: UnsafeRawBufferPointer) throws {
        var off = 0
        while off < p.count {
            let n = send(fd, p.baseAddress! + off, min(p.count - off, 1 << 20), Int32(MSG_NOSIGNAL))
            if n < 0 {
                if errno == EINTR { continue }
                throw E2EError("send: errno \(errno)")
            }
            off += n
        }
    }

    private func fill() throws {
        if start == end { start = 0; end = 0 }
        if end == buf.count {
            // compact
            let live = end - start
            if start > 0 {
                memmove(buf.baseAddress!, buf.baseAddress! + start, live)
                start = 0
                end = live
            }
            guard end < buf.count else { throw E2EError("response header too large") }
        }
        while true {
            let n = recv(fd, buf.baseAddress! + end, buf.count - end, 0)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { throw E2EError("connection closed by server (recv \(n), errno \(errno))") }
            end += n
            return
        }
    }

    private func readLine() throws -> String {
        while true {
            var i = start
            while i + 1 < end {
                if buf[i] == 13 && buf[i + 1] == 10 {
                    let line = String(decoding: UnsafeRawBufferPointer(rebasing: buf[start..<i]), as: UTF8.self)
                    start = i + 2
                    return line
                }
                i += 1
            }
            try fill()
        }
    }

    /// Reads exactly `count` bytes, appending them to `keep` if non-nil.
    private func readBody(_ count: Int, into keep: inout [UInt8]?) throws {
        var remaining = count
        while remaining > 0 {
            if start == end {
                // Large bodies: read straight into the buffer and drop.
                start = 0; end = 0
                let n = recv(fd, buf.baseAddress!, min(buf.count, remaining), 0)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { throw E2EError("connection closed mid-body") }
                end = n
            }
            let take = min(remaining, end - start)
            if keep != nil { keep!.append(contentsOf: UnsafeRawBufferPointer(rebasing: buf[start..<(start + take)])) }
            start += take
            remaining -= take
        }
    }

    /// One request. `body` is sent with Content-Length; the response body is
    /// kept only when `keepBody` (otherwise counted and discarded).
    func request(_ method: String, _ path: String, headers: [(String, String)] = [],
                 body: UnsafeRawBufferPointer? = nil, keepBody: Bool = true) throws -> HTTPResult {
        var attempt = 0
        while true {
            let fresh = fd < 0
            if fresh { try connect() }
            do {
                return try requestOnce(method, path, headers: headers, body: body, keepBody: keepBody)
            } catch {
                close()
                // A kept-alive connection the server closed: retry once on a new one.
                attempt += 1
                if fresh || attempt > 1 { throw error }
            }
        }
    }

    private func requestOnce(_ method: String, _ path: String, headers: [(String, String)],
                             body: UnsafeRawBufferPointer?, keepBody: Bool) throws -> HTTPResult {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUser-Agent: berth-bench\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        if let body { head += "Content-Length: \(body.count)\r\n" }
        else if method == "PUT" || method == "POST" || method == "PATCH" { head += "Content-Length: 0\r\n" }
        head += "\r\n"
        var h = Array(head.utf8)
        if let body, body.count <= 64 << 10 {
            h.append(contentsOf: body)  // small bodies: one send
            try h.withUnsafeBytes { try sendAll($0) }
        } else {
            try h.withUnsafeBytes { try sendAll($0) }
            if let body { try sendAll(body) }
        }

        let statusLine = try readLine()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, let status = Int(parts[1]) else { throw E2EError("bad status line: \(statusLine)") }
        var result = HTTPResult(status: status, headers: [], body: [], bodyLength: 0)
        var contentLength: Int?
        var chunked = false
        var closeAfter = false
        while true {
            let line = try readLine()
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = String(line[..<colon])
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            result.headers.append((name, value))
            switch name.lowercased() {
            case "content-length": contentLength = Int(value)
            case "transfer-encoding": chunked = value.lowercased().contains("chunked")
            case "connection": closeAfter = value.lowercased() == "close"
            default: break
            }
        }
        var keep: [UInt8]? = keepBody ? [] : nil
        let noBody = method == "HEAD" || status == 204 || status == 304 || (100..<200).contains(status)
        if !noBody {
            if chunked {
                while true {
                    let sizeLine = try readLine()
                    let size = Int(sizeLine.split(separator: ";")[0].trimmingCharacters(in: .whitespaces), radix: 16) ?? 0
                    if size == 0 {
                        while try !readLine().isEmpty {}
                        break
                    }
                    try readBody(size, into: &keep)
                    result.bodyLength += size
                    _ = try readLine()
                }
            } else if let contentLength {
                try readBody(contentLength, into: &keep)
                result.bodyLength = contentLength
            } else {
                closeAfter = true  // body until close: not expected from either server
            }
        }
        result.body = keep ?? []
        if closeAfter { close() }
        return result
    }
}
