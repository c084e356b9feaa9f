// How accepted connections and HTTP/2 streams become NIOAsyncChannels.
//
// NIO's `init(wrappingChannelSynchronously:)` makes the caller responsible
// for finishing the channel's writer: a wrapper that is dropped unconsumed
// traps (`preconditionFailure("Deinited NIOAsyncWriter without calling
// finish()")`, in release builds too). A server does drop some: a
// connection accepted, or a stream opened, while graceful shutdown ends the
// accept loop is wrapped but never handed to a task. Seen as regctl serve
// exiting with SIGILL on SIGTERM (2 of 40 stops under load,
// /tmp/stoploop.sh-style: connect, then SIGTERM). The wrappers made here
// finish and close on deinit instead (the `synchronouslyWrapping`
// initializer, deprecated only because it relies on deinit for teardown —
// exactly what an unconsumed child needs; a consumed one is closed by
// `executeThenClose` as before).
//
// Thread safety: called on the child channel's event loop (NIO's rule for
// synchronous wrapping).

import NIOCore
import NIOHTTP1

enum ChildChannels {
    /// The build's one deprecation warning, on purpose (see above).
    static func wrap(_ channel: any Channel) throws -> NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart> {
        try NIOAsyncChannel(synchronouslyWrapping: channel)
    }
}
