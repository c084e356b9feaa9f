// Loopback sockets for the test harnesses: a free port, whether a port
// accepts, and a connected descriptor. One copy, shared by every suite.
//
// Thread safety: stateless functions.
// Invariants:
//   1. `connect` returns a descriptor the caller owns, or throws having
//      closed everything it opened: a caller never holds a descriptor number
//      that is already closed (closing it again would close another test's
//      socket in this process).

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public struct LoopbackError: Error, CustomStringConvertible {
    public let description: String
}

public enum Loopback {
    /// A TCP port on 127.0.0.1 that was free a moment ago: bind port 0, read
    /// what the kernel chose, close. A server binds it right after; a
    /// collision shows up as a failed readiness probe.
    public static func freePort() throws -> Int {
        let fd = try socket()
        defer { close(fd) }
        var addr = address(port: 0)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let rc = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 ? getsockname(fd, $0, &len) : -1 }
        }
        guard rc == 0 else { throw LoopbackError(description: "bind/getsockname on 127.0.0.1:0 failed: errno \(errno)") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// Whether something accepts connections on 127.0.0.1:`port` now.
    public static func accepts(_ port: Int) -> Bool {
        guard let fd = try? connect(port) else { return false }
        close(fd)
        return true
    }

    /// A socket connected to 127.0.0.1:`port`, owned by the caller (invariant 1).
    public static func connect(_ port: Int) throws -> Int32 {
        let fd = try socket()
        var addr = address(port: port)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                systemConnect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else {
            let e = errno
            close(fd)
            throw LoopbackError(description: "connect to 127.0.0.1:\(port) failed: errno \(e)")
        }
        return fd
    }

    private static func socket() throws -> Int32 {
        #if canImport(Glibc)
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = Darwin.socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw LoopbackError(description: "socket() failed: errno \(errno)") }
        return fd
    }

    private static func address(port: Int) -> sockaddr_in {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return addr
    }

    private static func systemConnect(_ fd: Int32, _ addr: UnsafePointer<sockaddr>, _ len: socklen_t) -> Int32 {
        #if canImport(Glibc)
        Glibc.connect(fd, addr, len)
        #else
        Darwin.connect(fd, addr, len)
        #endif
    }
}
