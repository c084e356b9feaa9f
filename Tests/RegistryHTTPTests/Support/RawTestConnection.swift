// A raw TCP connection for limit tests: write arbitrary bytes (slowly, if
// need be) and observe when the server closes.

import NIOCore
import NIOPosix

final class RawTestConnection {
    let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>

    private init(channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>) { self.channel = channel }

    static func with<T: Sendable>(port: Int, _ body: (RawTestConnection, NIOAsyncChannelInboundStream<ByteBuffer>,
                                                      NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws -> T) async throws -> T {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { ch in
                ch.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: ch)
                }
            }
        let raw = RawTestConnection(channel: channel)
        return try await channel.executeThenClose { inbound, outbound in
            try await body(raw, inbound, outbound)
        }
    }

    /// Reads until the server closes; returns everything read. Throws on timeout.
    func readUntilClosed(_ inbound: NIOAsyncChannelInboundStream<ByteBuffer>, timeout: Duration) async throws -> String {
        let channel = self.channel.channel
        let timer = Task { () -> Bool in
            do { try await Task.sleep(for: timeout) } catch { return false }
            try? await channel.close()
            return true
        }
        var text = ""
        do {
            for try await chunk in inbound { text += String(buffer: chunk) }
        } catch {}
        timer.cancel()
        if await timer.value { throw FixtureError.unexpected("connection still open after \(timeout)") }
        return text
    }
}
