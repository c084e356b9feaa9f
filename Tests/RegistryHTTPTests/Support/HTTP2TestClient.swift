// An in-process HTTP/2 client (NIOSSL + ALPN + NIOHTTP2): no external tool
// whose death could pass for the server closing the connection. Each request
// is one stream, spoken as HTTP/1 parts (HTTP2FramePayloadToHTTP1ClientCodec).

import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL
import NIOTLS
import Synchronization

final class HTTP2TestConnection: Sendable {
    typealias Stream = NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>

    /// The TCP (parent) channel.
    let channel: any Channel
    private let multiplexer: NIOHTTP2Handler.AsyncStreamMultiplexer<Void>
    private let port: Int

    private init(channel: any Channel, multiplexer: NIOHTTP2Handler.AsyncStreamMultiplexer<Void>, port: Int) {
        self.channel = channel
        self.multiplexer = multiplexer
        self.port = port
    }

    private enum Negotiated: Sendable {
        case h2(any Channel, NIOHTTP2Handler.AsyncStreamMultiplexer<Void>)
        case other(ALPNResult)
    }

    /// Connects, completes the TLS handshake offering only `h2`, and the
    /// HTTP/2 preface. Throws unless the server chose h2.
    static func connect(port: Int, _ f: TLSFixtures) async throws -> HTTP2TestConnection {
        var c = TLSConfiguration.makeClientConfiguration()
        c.trustRoots = .file(f.caCert)
        c.applicationProtocols = ["h2"]
        let context = try NIOSSLContext(configuration: c)
        let negotiation = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { ch in
                ch.eventLoop.makeCompletedFuture { () throws -> EventLoopFuture<Negotiated> in
                    try ch.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                    let alpn = NIOTypedApplicationProtocolNegotiationHandler<Negotiated> { result, ch in
                        ch.eventLoop.makeCompletedFuture {
                            guard case .negotiated("h2") = result else { return .other(result) }
                            let mux = try ch.pipeline.syncOperations.configureAsyncHTTP2Pipeline(mode: .client) { stream in
                                stream.eventLoop.makeSucceededVoidFuture()   // the server opens no streams
                            }
                            return .h2(ch, mux)
                        }
                    }
                    try ch.pipeline.syncOperations.addHandler(alpn)
                    return alpn.protocolNegotiationResult
                }
            }
        switch try await negotiation.get() {
        case .h2(let channel, let mux): return HTTP2TestConnection(channel: channel, multiplexer: mux, port: port)
        case .other(let result): throw FixtureError.unexpected("ALPN did not choose h2: \(result)")
        }
    }

    /// One request on a new stream.
    func send(_ method: HTTPMethod, _ uri: String) async throws -> TestResponse {
        let stream: Stream = try await multiplexer.openStream { ch in
            ch.eventLoop.makeCompletedFuture {
                try ch.pipeline.syncOperations.addHandler(HTTP2FramePayloadToHTTP1ClientCodec(httpProtocol: .https))
                return try Stream(wrappingChannelSynchronously: ch)
            }
        }
        return try await stream.executeThenClose { inbound, outbound in
            var headers = HTTPHeaders()
            headers.add(name: "Host", value: "127.0.0.1:\(port)")
            try await outbound.write(.head(HTTPRequestHead(version: .http2, method: method, uri: uri, headers: headers)))
            try await outbound.write(.end(nil))
            var head: HTTPResponseHead?
            var body: [UInt8] = []
            for try await part in inbound {
                switch part {
                case .head(let h): head = h
                case .body(let b): body.append(contentsOf: b.readableBytesView)
                case .end:
                    guard let head else { continue }
                    return TestResponse(status: head.status, headers: head.headers, body: body)
                }
            }
            throw TestClientError.connectionClosed
        }
    }

    /// Waits for the server to close the connection; throws if it is still
    /// open after `timeout` (and closes it then).
    func waitForClose(timeout: Duration) async throws {
        let channel = self.channel
        let timedOut = TimedOut()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await channel.closeFuture.get() }
            group.addTask {
                try await Task.sleep(for: timeout)
                timedOut.flag.withLock { $0 = true }
                try? await channel.close()
            }
            _ = try await group.next()
            group.cancelAll()
        }
        if timedOut.flag.withLock({ $0 }) { throw FixtureError.unexpected("HTTP/2 connection still open after \(timeout)") }
    }

    func close() async { try? await channel.close() }

    private final class TimedOut: Sendable { let flag = Mutex(false) }
}
