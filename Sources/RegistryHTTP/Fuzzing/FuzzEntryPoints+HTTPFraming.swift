// FuzzHTTPFraming: raw bytes from a client into the HTTP/1.1 server
// pipeline as RegistryServer.configureHTTP1 builds it (connection timeouts,
// NIO's decoder with pipelining and protocol-error handling), on an
// EmbeddedChannel, fed in chunks so every split point of a request is hit.
//
// Thread safety: everything runs on the calling thread (EmbeddedEventLoop).
// Invariants:
//   1. Parts arrive as head, body*, end, per request, and only while the
//      connection is open.
//   2. A request with one Content-Length and no Transfer-Encoding delivers
//      exactly that many body bytes before its end (request smuggling needs
//      this to fail).
//   3. Nothing traps, whatever the bytes; a malformed request closes the
//      connection (after a 400).

import NIOCore
import NIOEmbedded
import NIOHTTP1

@_spi(Fuzzing)
extension FuzzEntryPoints {
    /// Input: first byte (mod 64, + 1) is the chunk size, the rest is what the client sends.
    public static func httpFraming(_ bytes: [UInt8]) throws {
        guard let first = bytes.first else { return }
        let chunk = Int(first % 64) + 1
        let channel = EmbeddedChannel()
        let recorder = FramingRecorder()
        let timeouts = ConnectionTimeouts(limits: RegistryServer.Configuration.Limits(), idlePhase: true)
        let sync = channel.pipeline.syncOperations
        try? sync.addHandler(ConnectionTimeouts.ByteHandler(timeouts))
        try? sync.configureHTTPServerPipeline(withErrorHandling: true)
        try? sync.addHandler(ConnectionTimeouts.MessageHandler(timeouts, startsConnection: false))
        try? sync.addHandler(recorder)
        _ = try? channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        var rest = bytes.dropFirst()
        while !rest.isEmpty, channel.isActive {
            let piece = rest.prefix(chunk)
            rest = rest.dropFirst(piece.count)
            _ = try? channel.writeInbound(channel.allocator.buffer(bytes: piece))
            if recorder.violation != nil { break }
        }
        _ = try? channel.finish()
        if let v = recorder.violation { throw FuzzInvariantViolation(v) }
    }
}

/// Checks invariants 1 and 2 on what reaches the handler, and answers each
/// request (an empty 200) so the pipelining handler lets the next one through.
private final class FramingRecorder: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    var violation: String?
    private var inRequest = false
    private var expected: Int?
    private var received = 0
    private var active = true

    func channelInactive(context: ChannelHandlerContext) {
        active = false
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !active { fail("a part after the connection closed") }
        switch unwrapInboundIn(data) {
        case .head(let head):
            if inRequest { fail("a head inside a request") }
            inRequest = true
            received = 0
            let lengths = head.headers["content-length"], encodings = head.headers["transfer-encoding"]
            expected = lengths.count == 1 && encodings.isEmpty ? Int(lengths[0]) : nil
        case .body(let body):
            if !inRequest { fail("body outside a request") }
            received += body.readableBytes
            if let e = expected, received > e { fail("\(received) body bytes for Content-Length \(e)") }
        case .end:
            if !inRequest { fail("an end outside a request") }
            if let e = expected, received != e { fail("\(received) body bytes for Content-Length \(e) at the end") }
            inRequest = false
            var headers = HTTPHeaders()
            headers.add(name: "Content-Length", value: "0")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    private func fail(_ what: String) {
        if violation == nil { violation = what }
    }
}
