// Reads one connection's inbound parts: request heads, then body chunks on
// demand. Handlers pull chunks one at a time, so the next chunk is read from
// the socket only after the previous one was handed to the store
// (NIOAsyncChannel's inbound buffer provides the backpressure).
//
// Thread safety: not Sendable; owned by the connection's task.
// Invariants:
//   1. `nextChunk()` never returns parts of the following request.
//   2. After `finished`, `nextChunk()` returns nil.

import NIOCore
import NIOHTTP1

final class RequestBody {
    private var iterator: NIOAsyncChannelInboundStream<HTTPServerRequestPart>.AsyncIterator
    /// The current request's body has been read to its end.
    private(set) var finished = true
    /// Body bytes of the current request read so far.
    private(set) var bytesRead: Int = 0

    init(_ iterator: NIOAsyncChannelInboundStream<HTTPServerRequestPart>.AsyncIterator) {
        self.iterator = iterator
    }

    /// Next request head; nil at end of stream. Skips what is left of the previous body.
    func nextHead() async throws -> HTTPRequestHead? {
        while !finished { _ = try await nextChunk() }
        while let part = try await iterator.next() {
            if case .head(let head) = part {
                finished = false
                bytesRead = 0
                return head
            }
        }
        return nil
    }

    /// Next body chunk of the current request; nil at its end.
    func nextChunk() async throws -> ByteBuffer? {
        guard !finished else { return nil }
        while let part = try await iterator.next() {
            switch part {
            case .body(let buffer):
                if buffer.readableBytes == 0 { continue }
                bytesRead += buffer.readableBytes
                return buffer
            case .end:
                finished = true
                return nil
            case .head:
                throw RegistryError(.internalError, "request head inside a body")
            }
        }
        finished = true
        throw RegistryError(.blobUploadInvalid, "connection closed before the request body ended")
    }

    /// Reads the whole body if it is at most `limit` bytes; nil (with the
    /// rest unread) when it is larger.
    func collect(upTo limit: Int) async throws -> [UInt8]? {
        var out: [UInt8] = []
        while let chunk = try await nextChunk() {
            if out.count + chunk.readableBytes > limit { return nil }
            out.append(contentsOf: chunk.readableBytesView)
        }
        return out
    }

    /// Discards at most `limit` more body bytes; false if the body is longer
    /// (the connection should then be closed rather than read further).
    func discard(upTo limit: Int) async throws -> Bool {
        var skipped = 0
        while !finished {
            guard let chunk = try await nextChunk() else { break }
            skipped += chunk.readableBytes
            if skipped > limit { return false }
        }
        return true
    }
}
