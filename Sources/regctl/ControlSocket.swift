// The control socket of `regctl serve`: `<root>/control.sock`, a Unix
// socket (mode 0600) through which `regctl garbage-collect` hands its pass
// to the server that holds the storage root, as the seed's `docker exec
// registry garbage-collect …` expects of a running container.
//
// Protocol: the client sends one line of JSON (`ControlRequest`); the server
// answers with lines `o <text>` (the command's stdout, in order), then one
// line `x <status> <message>` (0: done; 1: refused or failed, message for
// stderr), and closes.
//
// Thread safety: one accept thread; one request at a time (a second waits
// in the listen backlog). The pass runs on that thread against the served
// store, beside live traffic and the online collector: every decision is
// re-checked in its write transaction, and the pass uses the server's grace
// period and untagged delay (GarbageCollector), never 0.
// Invariants:
//   1. The socket exists only while the server holds the root's lock: it is
//      created after the store is open and removed before it closes; a stale
//      file from a killed server is replaced (the lock proves it stale).
//   2. Only the user that can open the socket file (mode 0600, the server's
//      user) can hand a pass over.

import CASEngine
import Foundation
import Logging
import RegistryConfig
import ServiceLifecycle

/// What `regctl garbage-collect` asks of the server.
struct ControlRequest: Codable {
    var command = "garbage-collect"
    var dryRun: Bool
    var deleteUntagged: Bool
    var retention: Bool
    var quiet: Bool
}

enum ControlSocket {
    static func path(root: String) -> String { root + "/control.sock" }

    /// sockaddr_un for `path`; nil when the path is longer than sun_path.
    static func address(_ path: String) -> sockaddr_un? {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return addr
    }

    /// Writes all of `text` to `fd` (best effort: the client may have gone).
    static func send(_ fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            bytes = bytes.dropFirst(n)
        }
    }
}

/// The server side (a Service of `regctl serve`).
struct ControlSocketService: Service {
    let store: Store
    let settings: RegistryConfiguration
    let logger: Logger

    func run() async throws {
        let path = ControlSocket.path(root: settings.storage.filesystem.rootDirectory)
        guard var addr = ControlSocket.address(path) else {
            logger.notice("no control socket: the storage path is too long for a Unix socket", metadata: ["path": "\(path)"])
            return
        }
        unlink(path)  // invariant 1: we hold the lock, so any file there is stale
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RegctlError("control socket: socket: errno \(errno)") }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, chmod(path, 0o600) == 0, listen(fd, 4) == 0 else {
            let e = errno
            close(fd)
            throw RegctlError("control socket \(path): errno \(e)")
        }
        let thread = Thread { [store, settings, logger] in
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 {
                    if errno == EINTR { continue }
                    return  // the listening socket was shut down
                }
                Self.serve(client, store: store, settings: settings, logger: logger)
                close(client)
            }
        }
        thread.start()
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
        }
        unlink(path)
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }

    static func serve(_ fd: Int32, store: Store, settings: RegistryConfiguration, logger: Logger) {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while line.count < 4096, read(fd, &byte, 1) == 1, byte != UInt8(ascii: "\n") { line.append(byte) }
        guard let request = try? JSONDecoder().decode(ControlRequest.self, from: Data(line)), request.command == "garbage-collect" else {
            ControlSocket.send(fd, "x 1 control socket: not a request this server understands\n")
            return
        }
        logger.notice("garbage-collect handed over by regctl", metadata: [
            "dry_run": "\(request.dryRun)", "delete_untagged": "\(request.deleteUntagged)", "retention": "\(request.retention)",
        ])
        do {
            let gc = settings.berth.gc
            let policy = GCPolicy(deleteUntagged: request.deleteUntagged, gracePeriod: UInt64(gc.gracePeriod),
                                  untaggedDelay: UInt64(gc.untaggedDelay))
            try GarbageCollect.pass(store: store, settings: settings, policy: policy, dryRun: request.dryRun,
                                    retention: request.retention, quiet: request.quiet, logger: logger) { text in
                ControlSocket.send(fd, "o " + text.replacingOccurrences(of: "\n", with: " ") + "\n")
            }
            ControlSocket.send(fd, "x 0 done\n")
        } catch {
            ControlSocket.send(fd, "x 1 \(error)\n".replacingOccurrences(of: "\n", with: " ") + "\n")
        }
    }
}

/// The client side: hands the pass to the server holding `root`. Returns
/// nil when no server answers on the socket (the caller refuses as before).
enum ControlClient {
    static func handOver(root: String, _ request: ControlRequest) throws -> Int32? {
        let path = ControlSocket.path(root: root)
        guard var addr = ControlSocket.address(path) else { return nil }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else { return nil }
        ControlSocket.send(fd, String(decoding: try JSONEncoder().encode(request), as: UTF8.self) + "\n")
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { throw RegctlError("the running registry closed the control socket before finishing") }
            pending += buffer[..<n]
            while let nl = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let text = String(decoding: pending[..<nl], as: UTF8.self)
                pending.removeSubrange(...nl)
                if text.hasPrefix("o ") {
                    print(text.dropFirst(2))
                } else if text.hasPrefix("x ") {
                    let parts = text.dropFirst(2).split(separator: " ", maxSplits: 1)
                    let status = Int32(parts.first ?? "1") ?? 1
                    if status != 0 { FileHandle.standardError.write(Data("Error: \(parts.count > 1 ? parts[1] : "")\n".utf8)) }
                    return status
                }
            }
        }
    }
}
