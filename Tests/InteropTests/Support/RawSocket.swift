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
        #if canImport(Glibc)
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw InteropError("socket() failed: errno \(errno)") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            // deinit runs for a class whose init throws once every property is
            // set: forget the descriptor, or deinit closes its number again.
            let e = errno
            close(fd)
            fd = -1
            throw InteropError("connect to \(port) failed: errno \(e)")
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
