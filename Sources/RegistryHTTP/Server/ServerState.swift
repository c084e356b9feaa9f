// Shared mutable state of one RegistryServer: bound ports, listeners, live
// connections and the shutdown flag.
//
// Thread safety: all state lives in one Mutex; channels are closed and
// continuations resumed outside it.
// Invariants:
//   1. Once `shuttingDown` is set it never clears.
//   2. Shutdown closes a connection only while it is idle (between requests);
//      busy ones finish their request, answer `Connection: close` and close
//      themselves, or are closed when the drain timeout expires.

import NIOCore
import Synchronization

final class ServerState: Sendable {
    private struct State {
        var port: Int?
        var debugPort: Int?
        var failure: (any Error)?
        var waiters: [CheckedContinuation<Void, any Error>] = []
        var listeners: [any Channel] = []
        var connections: [Int: (channel: any Channel, busy: Bool)] = [:]
        var nextID = 0
        var finished = 0
        var shuttingDown = false
    }

    private let state = Mutex(State())

    var isShuttingDown: Bool { state.withLock { $0.shuttingDown } }
    var connectionCount: Int { state.withLock { $0.connections.count } }
    /// Connections (and HTTP/2 streams) whose serving task has ended, ever.
    /// A test hook: once it moves past a connection, that connection's
    /// handler has returned, so whatever it stored (or not) is settled.
    var finishedConnectionCount: Int { state.withLock { $0.finished } }

    func listening(port: Int, debugPort: Int?, listeners: [any Channel]) {
        let (waiters, close) = state.withLock { s in
            s.port = port
            s.debugPort = debugPort
            s.listeners = listeners
            defer { s.waiters = [] }
            return (s.waiters, s.shuttingDown)
        }
        for w in waiters { w.resume() }
        if close { for l in listeners { l.close(promise: nil) } }
    }

    func failed(_ error: any Error) {
        let waiters = state.withLock { s in
            s.failure = error
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume(throwing: error) }
    }

    func waitUntilListening() async throws -> (Int, Int?) {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            let ready = state.withLock { s -> Result<Void, any Error>? in
                if s.port != nil { return .success(()) }
                if let failure = s.failure { return .failure(failure) }
                s.waiters.append(c)
                return nil
            }
            if let ready { c.resume(with: ready) }
        }
        return state.withLock { ($0.port!, $0.debugPort) }
    }

    /// Registers a connection once its protocol is negotiated. One that
    /// finishes its TLS handshake after shutdown began was never idle when
    /// `beginShutdown` looked: close it now, before it serves anything.
    func add(_ channel: any Channel) -> Int {
        let (id, late) = state.withLock { s in
            s.nextID += 1
            s.connections[s.nextID] = (channel, false)
            return (s.nextID, s.shuttingDown)
        }
        if late { channel.close(promise: nil) }
        return id
    }

    func remove(_ id: Int) {
        state.withLock { s in
            if s.connections.removeValue(forKey: id) != nil { s.finished += 1 }
        }
    }

    /// Marks the connection busy/idle; returns false when it goes idle during
    /// shutdown (the caller then stops reading requests).
    @discardableResult
    func setBusy(_ id: Int, _ busy: Bool) -> Bool {
        state.withLock { s in
            s.connections[id]?.busy = busy
            return busy || !s.shuttingDown
        }
    }

    /// Starts graceful shutdown: stop accepting, close idle connections.
    func beginShutdown() {
        let (listeners, idle) = state.withLock { s in
            s.shuttingDown = true
            return (s.listeners, s.connections.values.filter { !$0.busy }.map(\.channel))
        }
        for l in listeners { l.close(promise: nil) }
        for c in idle { c.close(promise: nil) }
    }

    func closeAllConnections() {
        let all = state.withLock { $0.connections.values.map(\.channel) }
        for c in all { c.close(promise: nil) }
    }
}
