// One HTTP/2 connection: every inbound stream is one request, served by
// HTTPConnection over the stream's HTTP/1 parts (HTTP2FramePayloadToHTTP1ServerCodec).
// The parent channel is registered with ServerState as busy while any stream
// is open, so graceful shutdown closes it only when it is idle (or at the
// drain deadline).
//
// Thread safety: runs as one child task per connection; the open-stream
// count is in a Mutex shared by the stream tasks.

import Logging
import NIOCore
import NIOHTTP1
import NIOHTTP2
import Synchronization

struct HTTP2Connection {
    let parent: any Channel
    let multiplexer: NIOHTTP2Handler.AsyncStreamMultiplexer<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>>
    let handler: RegistryHandler
    let state: ServerState
    let metrics: RequestMetrics
    let logger: Logger

    private final class OpenStreams: Sendable {
        let count = Mutex(0)
    }

    func run() async {
        let id = state.add(parent)
        defer { state.remove(id) }
        let open = OpenStreams()
        let (parent, state, handler, metrics, logger) = (self.parent, self.state, self.handler, self.metrics, self.logger)
        await withDiscardingTaskGroup { streams in
            do {
                for try await stream in multiplexer.inbound {
                    if open.count.withLock({ $0 += 1; return $0 }) == 1 { state.setBusy(id, true) }
                    streams.addTask {
                        await HTTPConnection(channel: stream, handler: handler, state: state, metrics: metrics,
                                             logger: logger, fileRegions: false).run()
                        let idle = open.count.withLock { $0 -= 1; return $0 == 0 }
                        // Shutting down and nothing left in flight: close the connection.
                        if idle && !state.setBusy(id, false) { parent.close(promise: nil) }
                    }
                }
            } catch {
                logger.debug("HTTP/2 connection ended", metadata: ["error": "\(error)"])
            }
        }
        try? await parent.close()
    }
}
