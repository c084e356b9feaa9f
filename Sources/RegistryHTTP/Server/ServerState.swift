// Shared mutable state of one RegistryServer: bound ports, listeners, live
// connections and the shutdown flag.
//
// Thread safety: every stored property is read and written only with `lock`
// held, which is why the `@unchecked Sendable` is sound. Channels are Sendable.
// Invariants:
//   1. Once `shuttingDown` is set it never clears.
//   2. A connection is closed by shutdown only while idle (between requests)
//      or when the drain timeout expires.

import Foundation
import NIOCore

final class ServerState: @unchecked Sendable {
    private let lock = NSLock()
    private var port: Int?
    private var debugPort: Int?
    private var failure: (any Error)?
    private var waiters: [CheckedContinuation<Void, any Error>] = []
    private var listeners: [any Channel] = []
    private var connections: [Int: (channel: any Channel, busy: Bool)] = [:]
    private var nextID = 0
    private var shuttingDownFlag = false

    var isShuttingDown: Bool { lock.withLock { shuttingDownFlag } }
    var connectionCount: Int { lock.withLock { connections.count } }

    func listening(port: Int, debugPort: Int?, listeners: [any Channel]) {
        let (w, close) = lock.withLock { () -> ([CheckedContinuation<Void, any Error>], Bool) in
            self.port = port
            self.debugPort = debugPort
            self.listeners = listeners
            let w = waiters
            waiters = []
            return (w, shuttingDownFlag)
        }
        for c in w { c.resume() }
        if close { for l in listeners { l.close(promise: nil) } }
    }

    func failed(_ error: any Error) {
        let w = lock.withLock { () -> [CheckedContinuation<Void, any Error>] in
            failure = error
            let w = waiters
            waiters = []
            return w
        }
        for c in w { c.resume(throwing: error) }
    }

    func waitUntilListening() async throws -> (Int, Int?) {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            let ready = lock.withLock { () -> Result<Void, any Error>? in
                if port != nil { return .success(()) }
                if let failure { return .failure(failure) }
                waiters.append(c)
                return nil
            }
            if let ready { c.resume(with: ready) }
        }
        return lock.withLock { (port!, debugPort) }
    }

    func add(_ channel: any Channel) -> Int {
        lock.withLock {
            nextID += 1
            connections[nextID] = (channel, false)
            return nextID
        }
    }

    func remove(_ id: Int) {
        _ = lock.withLock { connections.removeValue(forKey: id) }
    }

    /// Marks the connection busy/idle; returns false when it is idle during
    /// shutdown (the caller then stops reading requests).
    @discardableResult
    func setBusy(_ id: Int, _ busy: Bool) -> Bool {
        lock.withLock {
            connections[id]?.busy = busy
            return busy || !shuttingDownFlag
        }
    }

    /// Starts graceful shutdown: stop accepting, close idle connections.
    func beginShutdown() {
        let (ls, idle) = lock.withLock { () -> ([any Channel], [any Channel]) in
            shuttingDownFlag = true
            return (listeners, connections.values.filter { !$0.busy }.map(\.channel))
        }
        for l in ls { l.close(promise: nil) }
        for c in idle { c.close(promise: nil) }
    }

    func closeAllConnections() {
        let all = lock.withLock { connections.values.map(\.channel) }
        for c in all { c.close(promise: nil) }
    }
}
