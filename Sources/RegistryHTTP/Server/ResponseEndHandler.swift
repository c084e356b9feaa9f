// Lets a connection close only after its last response has left.
//
// NIOAsyncChannel's writer returns once a part is queued, and closing a NIO
// channel fails every write still pending — so `Connection: close` (asked for
// by Go clients such as skopeo, or forced by the server) used to cut a large
// blob body short: the FileRegion or the last chunks were still queued when
// `executeThenClose` closed the channel. This handler sees the write promise of
// each response's `.end`; since a channel completes writes in order, the end's
// completion means every byte before it reached the socket (or the connection
// failed). HTTPConnection waits for it before closing.
//
// Thread safety: the handler is event-loop confined; `ResponseEndSignal` is a
// Mutex-guarded counter shared with the connection task.
// Invariant: `ended` counts completed `.end` writes, in order; a waiter for n
// resumes exactly once, as soon as `ended >= n`.

import NIOCore
import NIOHTTP1
import Synchronization

final class ResponseEndSignal: Sendable {
    private struct State {
        var ended = 0
        var waiter: (target: Int, continuation: CheckedContinuation<Void, Never>)?
    }
    private let state = Mutex(State())

    func ended() {
        let resume: CheckedContinuation<Void, Never>? = state.withLock { s in
            s.ended += 1
            guard let w = s.waiter, s.ended >= w.target else { return nil }
            s.waiter = nil
            return w.continuation
        }
        resume?.resume()
    }

    /// Returns once `count` responses have been completely written (or failed).
    func wait(forEnds count: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.ended >= count { return true }
                s.waiter = (count, continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }
}

final class ResponseEndHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    let signal = ResponseEndSignal()

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            let done = promise ?? context.eventLoop.makePromise(of: Void.self)
            let signal = self.signal
            done.futureResult.whenComplete { _ in signal.ended() }
            context.write(data, promise: done)
        } else {
            context.write(data, promise: promise)
        }
    }
}
