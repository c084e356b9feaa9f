// A real HTTP receiver on loopback for notification tests: records every
// POST (headers and body), answers 200 — or 503 for the first `failFirst`
// requests — and can be stopped and started again on the same port.

import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

final class WebhookReceiver: Sendable {
    struct Delivery: Sendable {
        let headers: HTTPHeaders
        let body: [UInt8]
        let status: Int
    }

    private let state = Mutex<(deliveries: [Delivery], failuresLeft: Int)>(([], 0))
    private let channel = Mutex<(any Channel)?>(nil)
    /// Accepted connections: closed by `stop` too (a stopped receiver keeps
    /// no pooled connection alive).
    private let children = Mutex<[ObjectIdentifier: any Channel]>([:])
    private(set) var port: Int { get { portBox.withLock { $0 } } set { portBox.withLock { $0 = newValue } } }
    private let portBox = Mutex(0)

    init(failFirst: Int = 0) { state.withLock { $0.failuresLeft = failFirst } }

    var deliveries: [Delivery] { state.withLock { $0.deliveries } }

    /// Events of the successful deliveries, in arrival order.
    var events: [[String: Any]] {
        deliveries.filter { $0.status == 200 }.flatMap { d -> [[String: Any]] in
            let json = try? JSONSerialization.jsonObject(with: Data(d.body)) as? [String: Any]
            return json?["events"] as? [[String: Any]] ?? []
        }
    }

    /// Every event id received, successful deliveries or not.
    var attemptedIDs: [String] {
        deliveries.flatMap { d -> [String] in
            let json = try? JSONSerialization.jsonObject(with: Data(d.body)) as? [String: Any]
            return (json?["events"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        }
    }

    func start() async throws {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                self.children.withLock { $0[ObjectIdentifier(channel)] = channel }
                channel.closeFuture.whenComplete { _ in _ = self.children.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) } }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(receiver: self))
                }
            }
        let ch = try await bootstrap.bind(host: "127.0.0.1", port: port).get()
        port = ch.localAddress?.port ?? 0
        channel.withLock { $0 = ch }
    }

    func stop() async throws {
        let ch = channel.withLock { c -> (any Channel)? in defer { c = nil }; return c }
        try await ch?.close()
        for child in children.withLock({ Array($0.values) }) { try? await child.close() }
    }

    /// Waits (up to `limit`) until `condition` holds over the received events.
    func wait(for limit: Duration = .seconds(30), _ condition: ([[String: Any]]) -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if condition(events) { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return condition(events)
    }

    fileprivate func record(_ head: HTTPRequestHead, _ body: [UInt8]) -> Int {
        state.withLock { s in
            let status = s.failuresLeft > 0 ? 503 : 200
            if s.failuresLeft > 0 { s.failuresLeft -= 1 }
            s.deliveries.append(Delivery(headers: head.headers, body: body, status: status))
            return status
        }
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let receiver: WebhookReceiver
        var head: HTTPRequestHead?
        var body: [UInt8] = []
        init(receiver: WebhookReceiver) { self.receiver = receiver }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h): head = h; body = []
            case .body(var b): body += b.readBytes(length: b.readableBytes) ?? []
            case .end:
                guard let head else { return }
                let status = receiver.record(head, body)
                var headers = HTTPHeaders()
                headers.add(name: "Content-Length", value: "0")
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version,
                    status: HTTPResponseStatus(statusCode: status), headers: headers))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
