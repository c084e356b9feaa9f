// Closes a response's `FileRegion` file handle once NIO has finished with the
// write (sent, or failed because the connection went away).
// NIOAsyncChannel's writer offers no per-write completion, so the handler
// that sees the write's promise owns the descriptor's lifetime.
//
// Thread safety: a channel handler; event-loop confined.

import NIOCore
import NIOHTTP1

final class FileRegionCloser: ChannelOutboundHandler {
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .body(.fileRegion(let region)) = unwrapOutboundIn(data) {
            let done = promise ?? context.eventLoop.makePromise(of: Void.self)
            done.futureResult.whenComplete { _ in try? region.fileHandle.close() }
            context.write(data, promise: done)
        } else {
            context.write(data, promise: promise)
        }
    }
}
