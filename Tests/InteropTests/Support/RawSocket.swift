import BerthTestSupport
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One blocking TCP connection to 127.0.0.1, for timeouts that only show
/// on the wire: write bytes (or nothing) and time until the server closes.
final class RawSocket {
    private var fd: Int32

    init(port: Int) throws {
        do {
            fd = try Loopback.connect(port)
        } catch {
            throw InteropError("\(error)")
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    func write(_ text: String) throws {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw InteropError("send failed: errno \(errno)") }
            sent += n
        }
    }

    /// Reads until the server closes; throws if it is still open after
    /// `timeout` seconds. Returns what arrived.
    func readUntilClosed(timeout: Double) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { throw InteropError("connection still open after \(timeout) s") }
            var tv = timeval(tv_sec: Int(left), tv_usec: suseconds_t((left - Double(Int(left))) * 1_000_000))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { out.append(contentsOf: buffer[0..<n]); continue }
            if n == 0 || errno == ECONNRESET { return String(decoding: out, as: UTF8.self) }
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { continue }
            throw InteropError("recv failed: errno \(errno)")
        }
    }
}
