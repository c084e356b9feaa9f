// A small blocking HTTP/1.1 client for `regctl import` against a running
// Berth: one keep-alive connection (reopened when the server closes it),
// plain or TLS, Basic credentials, request bodies from memory or streamed
// from a file in 1 MiB chunks (each chunk is handed to `observe` before it
// is sent, so the caller hashes what it sends). Built on the NIO the server
// already links; no other HTTP stack in the binary.
//
// Thread safety: not thread-safe; one caller thread, never an event loop
// (every call waits on a future).

import CASEngine
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

final class RegistryClient {
    struct Response {
        let status: Int
        let headers: HTTPHeaders
        let body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    enum Body {
        case none
        case bytes([UInt8])
        case file(path: String, size: UInt64, observe: (UnsafeRawBufferPointer) -> Void)
    }

    let host: String
    let port: Int
    private let authorization: String?
    private let tls: NIOSSLContext?
    private var channel: (any Channel)?

    /// `base`: `http://host:port` or `https://host:port`.
    init(base: String, username: String?, password: String?, caFile: String?) throws {
        guard let url = URL(string: base), let scheme = url.scheme, ["http", "https"].contains(scheme), let host = url.host else {
            throw RegctlError("--url \(base): expected http://host:port or https://host:port")
        }
        self.host = host
        self.port = url.port ?? (scheme == "https" ? 443 : 80)
        if let username {
            self.authorization = "Basic " + Data("\(username):\(password ?? "")".utf8).base64EncodedString()
        } else {
            self.authorization = nil
        }
        if scheme == "https" {
            var config = TLSConfiguration.makeClientConfiguration()
            if let caFile { config.trustRoots = .file(caFile) }
            tls = try NIOSSLContext(configuration: config)
        } else {
            tls = nil
        }
    }

    deinit { try? channel?.close().wait() }

    /// The target of a `Link: <…>; rel="next"` header (pagination), if any.
    static func nextLink(_ r: Response) -> String? {
        guard let link = r.headers.first(name: "Link"), link.contains("rel=\"next\""),
              let open = link.firstIndex(of: "<"), let close = link.firstIndex(of: ">"), open < close else { return nil }
        return String(link[link.index(after: open)..<close])
    }

    func send(_ method: HTTPMethod, _ target: String, headers extra: [(String, String)] = [], body: Body = .none) throws -> Response {
        let channel = try connection()
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: target)
        head.headers.add(name: "Host", value: port == 80 || port == 443 ? host : "\(host):\(port)")
        head.headers.add(name: "User-Agent", value: "regctl-import/\(Regctl.version)")
        if let authorization { head.headers.add(name: "Authorization", value: authorization) }
        for (name, value) in extra { head.headers.add(name: name, value: value) }
        switch body {
        case .none: if [.PUT, .POST, .PATCH].contains(method) { head.headers.add(name: "Content-Length", value: "0") }
        case .bytes(let b): head.headers.add(name: "Content-Length", value: String(b.count))
        case .file(_, let size, _): head.headers.add(name: "Content-Length", value: String(size))
        }
        let promise = channel.eventLoop.makePromise(of: Response.self)
        channel.write(ResponseCollector.Outbound.start(promise, head), promise: nil)
        switch body {
        case .none: break
        case .bytes(let b): channel.write(ResponseCollector.Outbound.body(ByteBuffer(bytes: b)), promise: nil)
        case .file(let path, _, let observe):
            guard let file = FileHandle(forReadingAtPath: path) else {
                _ = channel.close()
                self.channel = nil
                throw RegctlError("\(path): cannot open")
            }
            defer { try? file.close() }
            while let chunk = try file.read(upToCount: 1 << 20), !chunk.isEmpty {
                chunk.withUnsafeBytes(observe)
                // Waiting for each chunk's write is the backpressure.
                try channel.writeAndFlush(ResponseCollector.Outbound.body(ByteBuffer(bytes: chunk))).wait()
            }
        }
        channel.writeAndFlush(ResponseCollector.Outbound.end, promise: nil)
        let response: Response
        do {
            response = try promise.futureResult.wait()
        } catch {
            self.channel = nil
            throw RegctlError("\(method) \(target) on \(host):\(port): \(error)")
        }
        if response.headers[canonicalForm: "Connection"].contains(where: { $0.lowercased() == "close" }) {
            _ = channel.close()
            self.channel = nil
        }
        return response
    }

    private func connection() throws -> any Channel {
        if let channel, channel.isActive { return channel }
        let tls = self.tls, host = self.host
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        let handler = try NIOSSLClientHandler(context: tls, serverHostname: host.first?.isNumber == true ? nil : host)
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector())
                }
            }
        do {
            let channel = try bootstrap.connect(host: host, port: port).wait()
            self.channel = channel
            return channel
        } catch {
            throw RegctlError("cannot connect to \(host):\(port): \(error)")
        }
    }
}

/// Pairs each request with its response promise; runs on the channel's loop.
private final class ResponseCollector: ChannelDuplexHandler {
    enum Outbound: Sendable {
        case start(EventLoopPromise<RegistryClient.Response>, HTTPRequestHead)
        case body(ByteBuffer)
        case end
    }
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = Outbound
    typealias OutboundOut = HTTPClientRequestPart

    private var pending: EventLoopPromise<RegistryClient.Response>?
    private var head: HTTPResponseHead?
    private var body: [UInt8] = []

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .start(let p, let h):
            pending = p
            head = nil
            body = []
            context.write(wrapOutboundOut(.head(h)), promise: promise)
        case .body(let b): context.write(wrapOutboundOut(.body(.byteBuffer(b))), promise: promise)
        case .end: context.write(wrapOutboundOut(.end(nil)), promise: promise)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): head = h
        case .body(var b): body += b.readBytes(length: b.readableBytes) ?? []
        case .end:
            if let head, let p = pending {
                pending = nil
                p.succeed(.init(status: Int(head.status.code), headers: head.headers, body: body))
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        pending?.fail(error)
        pending = nil
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        pending?.fail(ChannelError.ioOnClosedChannel)
        pending = nil
        context.fireChannelInactive()
    }
}
