import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking HTTP/1.1 client on one keep-alive TCP connection to 127.0.0.1,
/// for the soak and crash suites: thousands of requests a second from plain
/// threads, no retries, no redirects, no caching, so every answer is exactly
/// what the server sent. A transport error (reset, EOF, timeout: the server
/// was killed) closes the connection and throws `TransportError`; the next
/// request reconnects.
///
/// Thread safety: none; one client per thread.
final class RawHTTPClient {
    struct Response {
        let status: Int
        /// Lower-cased names.
        let headers: [String: String]
        let body: [UInt8]

        func header(_ name: String) -> String? { headers[name.lowercased()] }
        /// The first OCI error code of the body (`BLOB_UNKNOWN`, …), if any.
        var errorCode: String? {
            guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
                  let errors = object["errors"] as? [[String: Any]] else { return nil }
            return errors.first?["code"] as? String
        }
    }

    struct TransportError: Error, CustomStringConvertible {
        let description: String
        /// Nothing of an answer had arrived (the request may never have been read).
        var beforeResponse = false
    }

    let port: Int
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []
    private let timeoutSeconds: Int

    init(port: Int, timeoutSeconds: Int = 30) {
        self.port = port
        self.timeoutSeconds = timeoutSeconds
    }

    deinit { disconnect() }

    func disconnect() {
        if fd >= 0 { close(fd) }
        fd = -1
        buffer.removeAll()
    }

    /// Sends one request and reads the whole answer. `target` is the path and query.
    func send(_ method: String, _ target: String, headers: [(String, String)] = [], body: [UInt8] = []) throws -> Response {
        let reused = fd >= 0
        do {
            return try attempt(method, target, headers: headers, body: body)
        } catch let e as TransportError where reused && e.beforeResponse {
            // The server closed the idle keep-alive connection: what any
            // client does, once, on a fresh connection.
            return try attempt(method, target, headers: headers, body: body)
        }
    }

    private var answerBytes = 0

    private func attempt(_ method: String, _ target: String, headers: [(String, String)], body: [UInt8]) throws -> Response {
        answerBytes = 0
        do {
            if fd < 0 { try connect() }
            var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n"
            for (name, value) in headers { head += "\(name): \(value)\r\n" }
            if !body.isEmpty || ["POST", "PUT", "PATCH"].contains(method) { head += "Content-Length: \(body.count)\r\n" }
            head += "\r\n"
            try write(Array(head.utf8) + body)
            let response = try readResponse(method: method)
            if response.header("connection")?.lowercased() == "close" { disconnect() }
            return response
        } catch {
            disconnect()
            throw error
        }
    }

    private func connect() throws {
        #if canImport(Glibc)
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let s = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard s >= 0 else { throw TransportError(description: "socket: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(s, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                socketConnect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else {
            let e = errno
            close(s)
            throw TransportError(description: "connect to 127.0.0.1:\(port): errno \(e)")
        }
        fd = s
    }

    private func write(_ bytes: [UInt8]) throws {
        var sent = 0
        try bytes.withUnsafeBytes { raw in
            while sent < raw.count {
                let n = socketSend(fd, raw.baseAddress! + sent, raw.count - sent)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw TransportError(description: "send: errno \(errno)", beforeResponse: true) }
                sent += n
            }
        }
    }

    /// Reads more bytes into `buffer`; throws on EOF or error.
    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let e = errno  // EAGAIN: the receive timeout, never retried
                throw TransportError(description: n == 0 ? "connection closed by the server" : "recv: errno \(e)",
                                     beforeResponse: answerBytes == 0 && (n == 0 || e == ECONNRESET))
            }
            answerBytes += n
            buffer.append(contentsOf: chunk[0..<n])
            return
        }
    }

    private func readLine() throws -> String {
        while true {
            if let i = firstCRLF() {
                let line = String(decoding: buffer[0..<i], as: UTF8.self)
                buffer.removeFirst(i + 2)
                return line
            }
            try fill()
        }
    }

    private func firstCRLF() -> Int? {
        guard buffer.count >= 2 else { return nil }
        for i in 0..<(buffer.count - 1) where buffer[i] == 13 && buffer[i + 1] == 10 { return i }
        return nil
    }

    private func readExactly(_ n: Int) throws -> [UInt8] {
        while buffer.count < n { try fill() }
        let out = Array(buffer[0..<n])
        buffer.removeFirst(n)
        return out
    }

    private func readResponse(method: String) throws -> Response {
        var status = 0
        var headers: [String: String] = [:]
        repeat {  // skip 1xx
            let statusLine = try readLine()
            let parts = statusLine.split(separator: " ", maxSplits: 2)
            guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let code = Int(parts[1]) else {
                throw TransportError(description: "bad status line \(statusLine.prefix(80))")
            }
            status = code
            headers = [:]
            while true {
                let line = try readLine()
                if line.isEmpty { break }
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        } while (100..<200).contains(status)
        var body: [UInt8] = []
        if method == "HEAD" || status == 204 || status == 304 {
            body = []
        } else if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            while true {
                let sizeLine = try readLine()
                guard let size = Int(sizeLine.split(separator: ";")[0].trimmingCharacters(in: .whitespaces), radix: 16) else {
                    throw TransportError(description: "bad chunk size \(sizeLine.prefix(40))")
                }
                if size == 0 {
                    while try !readLine().isEmpty {}
                    break
                }
                body += try readExactly(size)
                _ = try readExactly(2)
            }
        } else if let length = headers["content-length"].flatMap({ Int($0) }) {
            body = try readExactly(length)
        } else {
            throw TransportError(description: "response without Content-Length or chunked encoding")
        }
        return Response(status: status, headers: headers, body: body)
    }
}

// File scope: inside the class, `connect` and `send` name its own methods.
private func socketConnect(_ fd: Int32, _ addr: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
    connect(fd, addr, length)
}

private func socketSend(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    send(fd, bytes, count, Int32(MSG_NOSIGNAL))
    #else
    send(fd, bytes, count, 0)
    #endif
}
