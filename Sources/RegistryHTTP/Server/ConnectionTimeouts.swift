// Connection timeouts against idle and slow (slowloris) clients.
//
//   header timeout  from a request's first byte (or a new connection) until
//                   its head is complete; trickled headers hit this one.
//   body stall      while the server asks for body bytes and none arrive.
//                   Armed only when a read is requested, so backpressure
//                   (the store being slow) never counts against the client.
//   idle            between requests on a keep-alive connection.
// When a timer fires the connection is closed. Nothing runs while a handler
// is working on a request (the response is not finished).
//
// Thread safety: the state machine is a value; the handlers and the shared
// `ConnectionTimeouts` object are confined to the channel's event loop.
// Invariants:
//   1. At most one timer is armed; arming replaces, every transition that
//      leaves a waiting state cancels.
//   2. A request is "done" when both its end was read and its response end written.

import NIOCore
import NIOHTTP1
import NIOHTTP2

struct ConnectionTimeoutStateMachine: Equatable {
    enum Timer: Equatable { case header, bodyStall, idle }
    enum Action: Equatable { case none, arm(Timer), cancel }

    /// Streams (HTTP/2) carry one request and have no idle phase.
    let idlePhase: Bool
    private(set) var armed: Timer?
    private var requestOpen = false
    private var responseOpen = false

    init(idlePhase: Bool) { self.idlePhase = idlePhase }

    /// A new connection: its first request head is due within the header timeout.
    mutating func connectionStarted() -> Action { idlePhase ? arm(.header) : .none }

    /// Raw bytes arrived (before HTTP decoding).
    mutating func bytesArrived() -> Action {
        if !requestOpen && !responseOpen && armed != .header && idlePhase { return arm(.header) }
        return .none
    }

    mutating func headReceived() -> Action {
        requestOpen = true
        responseOpen = true
        return cancel()
    }

    mutating func bodyReceived() -> Action { armed == .bodyStall ? cancel() : .none }

    mutating func endReceived() -> Action {
        requestOpen = false
        return responseOpen ? cancel() : idle()
    }

    /// The server wants more bytes.
    mutating func readRequested() -> Action {
        requestOpen && armed == nil ? arm(.bodyStall) : .none
    }

    mutating func responseEnded() -> Action {
        responseOpen = false
        return requestOpen ? .none : idle()
    }

    private mutating func idle() -> Action { idlePhase ? arm(.idle) : cancel() }

    private mutating func arm(_ timer: Timer) -> Action {
        armed = timer
        return .arm(timer)
    }

    private mutating func cancel() -> Action {
        guard armed != nil else { return .none }
        armed = nil
        return .cancel
    }
}

/// Shared by the byte-level and the message-level handler of one connection.
final class ConnectionTimeouts {
    private var machine: ConnectionTimeoutStateMachine
    private let limits: RegistryServer.Configuration.Limits
    private var scheduled: Scheduled<Void>?

    init(limits: RegistryServer.Configuration.Limits, idlePhase: Bool) {
        self.limits = limits
        self.machine = ConnectionTimeoutStateMachine(idlePhase: idlePhase)
    }

    func apply(_ action: ConnectionTimeoutStateMachine.Action, _ context: ChannelHandlerContext) {
        switch action {
        case .none: return
        case .cancel:
            scheduled?.cancel()
            scheduled = nil
        case .arm(let timer):
            scheduled?.cancel()
            let seconds = switch timer {
            case .header: limits.requestHeaderTimeout
            case .bodyStall: limits.bodyStallTimeout
            case .idle: limits.idleTimeout
            }
            guard seconds > 0 else { scheduled = nil; return }
            let channel = context.channel
            scheduled = context.eventLoop.scheduleTask(in: .nanoseconds(Int64(seconds * 1e9))) {
                channel.close(promise: nil)
            }
        }
    }

    func started(_ context: ChannelHandlerContext) { apply(machine.connectionStarted(), context) }
    func bytes(_ context: ChannelHandlerContext) { apply(machine.bytesArrived(), context) }
    func head(_ context: ChannelHandlerContext) { apply(machine.headReceived(), context) }
    func body(_ context: ChannelHandlerContext) { apply(machine.bodyReceived(), context) }
    func end(_ context: ChannelHandlerContext) { apply(machine.endReceived(), context) }
    func read(_ context: ChannelHandlerContext) { apply(machine.readRequested(), context) }
    func responseEnd(_ context: ChannelHandlerContext) { apply(machine.responseEnded(), context) }
    func stop() {
        scheduled?.cancel()
        scheduled = nil
    }

    /// Goes before the HTTP/1 decoder: notices the first byte of a request head.
    final class ByteHandler: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        let timeouts: ConnectionTimeouts
        init(_ timeouts: ConnectionTimeouts) { self.timeouts = timeouts }

        func handlerAdded(context: ChannelHandlerContext) {
            if context.channel.isActive { timeouts.started(context) }
        }
        func channelActive(context: ChannelHandlerContext) {
            timeouts.started(context)
            context.fireChannelActive()
        }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            timeouts.bytes(context)
            context.fireChannelRead(data)
        }
        func channelInactive(context: ChannelHandlerContext) {
            timeouts.stop()
            context.fireChannelInactive()
        }
    }

    /// Goes after HTTP decoding (and after HTTPServerPipelineHandler, so it
    /// sees one request at a time).
    final class MessageHandler: ChannelDuplexHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias InboundOut = HTTPServerRequestPart
        typealias OutboundIn = HTTPServerResponsePart
        typealias OutboundOut = HTTPServerResponsePart
        let timeouts: ConnectionTimeouts
        let startsConnection: Bool
        init(_ timeouts: ConnectionTimeouts, startsConnection: Bool) {
            self.timeouts = timeouts
            self.startsConnection = startsConnection
        }

        func handlerAdded(context: ChannelHandlerContext) {
            if startsConnection && context.channel.isActive { timeouts.started(context) }
        }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head: timeouts.head(context)
            case .body: timeouts.body(context)
            case .end: timeouts.end(context)
            }
            context.fireChannelRead(data)
        }
        func read(context: ChannelHandlerContext) {
            timeouts.read(context)
            context.read()
        }
        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            if case .end = unwrapOutboundIn(data) { timeouts.responseEnd(context) }
            context.write(data, promise: promise)
        }
        func channelInactive(context: ChannelHandlerContext) {
            timeouts.stop()
            context.fireChannelInactive()
        }
    }
}

/// HTTP/2 connection (parent channel): closes it after `idleTimeout` without
/// open streams. The inline multiplexer does not pass stream events down the
/// parent pipeline, so this is its stream delegate.
///
/// `@unchecked Sendable`: NIOHTTP2Handler calls the delegate on the parent
/// channel's event loop, and `start()` runs there too (pipeline setup), so
/// `open` and `scheduled` are only ever touched on that one loop.
final class HTTP2IdleTimer: NIOHTTP2StreamDelegate, @unchecked Sendable {
    private let channel: any Channel
    private let timeout: Double
    private var open = 0
    private var scheduled: Scheduled<Void>?

    init(channel: any Channel, timeout: Double) {
        self.channel = channel
        self.timeout = timeout
    }

    func start() {
        arm()
        channel.closeFuture.whenComplete { [self] _ in
            self.scheduled?.cancel()
            self.scheduled = nil
        }
    }

    func streamCreated(_ id: HTTP2StreamID, channel: any Channel) {
        open += 1
        scheduled?.cancel()
        scheduled = nil
    }

    func streamClosed(_ id: HTTP2StreamID, channel: any Channel) {
        open = max(0, open - 1)
        if open == 0 { arm() }
    }

    private func arm() {
        scheduled?.cancel()
        guard timeout > 0 else { return }
        let channel = self.channel
        scheduled = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout * 1e9))) {
            channel.close(promise: nil)
        }
    }
}
