// The registry's HTTP server: a ServiceLifecycle `Service`. Plaintext HTTP/1.1,
// or TLS with ALPN (`h2`, `http/1.1`); every HTTP/2 stream is turned into
// HTTP/1 parts so one request path serves both.
//
//     let server = RegistryServer(configuration: cfg, store: store)
//     let group = ServiceGroup(services: [server], logger: logger)   // or: try await server.run()
//     try await group.run()
//
// run() binds, serves until graceful shutdown (ServiceLifecycle's, or
// `shutdown()`), then stops accepting, closes idle connections, lets requests
// in flight finish for up to `drainTimeout` seconds, closes what is left and
// returns.
//
// Thread safety: Sendable; mutable state is in ServerState, ServerModes
// (atomics) and the TLS provider (its own Mutex).

import CASEngine
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL
import NIOTLS
import Prometheus
import ServiceLifecycle
import Synchronization

public final class RegistryServer: Service, Sendable {
    public let configuration: Configuration
    let store: any RegistryStore
    let threadPool: NIOThreadPool
    let readPool: NIOThreadPool
    let eventLoopGroup: any EventLoopGroup
    let authorizer: any RequestAuthorizer
    let prometheus: PrometheusCollectorRegistry?
    let metricsFactory: (any MetricsFactory)?
    let logger: Logger
    let state = ServerState()
    /// Live `readOnly` / `deleteEnabled`; see `updateModes`.
    public let modes: ServerModes
    /// The periodic storage check (`configuration.storageHealth`), nil when disabled.
    public let storageHealthCheck: StorageHealthCheck?
    private let tlsProvider = Mutex<TLSContextProvider?>(nil)

    /// - Parameters:
    ///   - store: an open store; the server never closes it.
    ///   - threadPool: where every blocking store write runs (must be started).
    ///   - readPool: where blocking reads run; nil uses `threadPool`.
    ///   - prometheus: served at `debug.metricsPath`; bootstrapping MetricsSystem
    ///     with it is the caller's job.
    ///   - metricsFactory: where request metrics go; nil uses MetricsSystem's
    ///     global factory (whatever the caller bootstrapped).
    public init(configuration: Configuration, store: any RegistryStore,
                threadPool: NIOThreadPool = .singleton,
                readPool: NIOThreadPool? = nil,
                eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                authorizer: any RequestAuthorizer = AllowAllAuthorizer(),
                prometheus: PrometheusCollectorRegistry? = nil,
                metricsFactory: (any MetricsFactory)? = nil,
                logger: Logger = Logger(label: "berth.http")) {
        self.configuration = configuration
        self.store = store
        self.threadPool = threadPool
        self.readPool = readPool ?? threadPool
        self.eventLoopGroup = eventLoopGroup
        self.authorizer = authorizer
        self.prometheus = prometheus
        self.metricsFactory = metricsFactory
        self.logger = logger
        self.modes = ServerModes(readOnly: configuration.readOnly, deleteEnabled: configuration.deleteEnabled)
        self.storageHealthCheck = configuration.storageHealth.map {
            StorageHealthCheck(interval: $0.interval, threshold: $0.threshold)
        }
    }

    /// Applies a config reload's mode changes to requests that start from now
    /// on; nil leaves a mode as it is. Returns the names of the settings that changed.
    @discardableResult
    public func updateModes(readOnly: Bool? = nil, deleteEnabled: Bool? = nil) -> [String] {
        var changed: [String] = []
        if let readOnly, readOnly != modes.readOnly { changed.append("storage.maintenance.readonly.enabled=\(readOnly)") }
        if let deleteEnabled, deleteEnabled != modes.deleteEnabled { changed.append("storage.delete.enabled=\(deleteEnabled)") }
        modes.set(readOnly: readOnly, deleteEnabled: deleteEnabled)
        if !changed.isEmpty { logger.notice("modes changed", metadata: ["settings": "\(changed.joined(separator: ", "))"]) }
        return changed
    }

    /// Re-reads the TLS certificate, key and client CAs now if their files
    /// changed (the poller also does this every `tls.reloadInterval` seconds).
    /// Returns true when new connections will use a new context.
    @discardableResult
    public func reloadTLS() -> Bool {
        tlsProvider.withLock { $0 }?.reloadIfChanged() ?? false
    }

    /// The API port once listening (useful with `port: 0`); throws if binding failed.
    public func boundPort() async throws -> Int { try await state.waitUntilListening().0 }

    /// The debug listener's port, nil when not configured.
    public func debugPort() async throws -> Int? { try await state.waitUntilListening().1 }

    /// Starts graceful shutdown, as ServiceLifecycle's signal would.
    public func shutdown() { state.beginShutdown() }

    public func run() async throws {
        let events = EventRecorder(configuration.notifications, sourceAddr: "\(Self.hostName()):\(configuration.port)")
        let handler = RegistryHandler(store: store, threadPool: threadPool, readPool: readPool, configuration: configuration,
                                      modes: modes, health: storageHealthCheck, authorizer: authorizer, events: events,
                                      storageMetrics: StorageMetrics(factory: metricsFactory),
                                      inFlight: InFlightRequests(factory: metricsFactory),
                                      manifestCache: ManifestCache(capacity: configuration.manifestCacheBytes), logger: logger)
        let server: NIOAsyncChannel<EventLoopFuture<NegotiatedConnection>, Never>
        var debug: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>? = nil
        let tls: TLSContextProvider?
        do {
            if let settings = configuration.tls {
                tls = try TLSContextProvider(configuration: settings, http2: configuration.http2Enabled, logger: self.logger)
            } else {
                tls = nil
            }
            tlsProvider.withLock { $0 = tls }
            server = try await Self.bindAPI(group: eventLoopGroup, configuration: configuration, tls: tls)
        } catch {
            state.failed(error)
            throw error
        }
        if let d = configuration.debug {
            do {
                debug = try await Self.bind(group: eventLoopGroup, host: d.host, port: d.port, fileRegions: false)
            } catch {
                try? await server.channel.close()
                state.failed(error)
                throw error
            }
        }
        let port = server.channel.localAddress?.port ?? configuration.port
        let debugPort = debug.flatMap { $0.channel.localAddress?.port }
        state.listening(port: port, debugPort: debugPort,
                        listeners: [server.channel] + (debug.map { [$0.channel] } ?? []))
        logger.info("listening", metadata: ["address": "\(configuration.host):\(port)",
                                            "debug": "\(debugPort.map(String.init) ?? "off")",
                                            "tls": "\(tls != nil)",
                                            "http2": "\(tls != nil && configuration.http2Enabled)"])

        let state = self.state
        let metrics = RequestMetrics(factory: metricsFactory)
        let logger = self.logger
        let drain = configuration.drainTimeout
        let debugServer = DebugServer(configuration: configuration.debug ?? .init(), store: store,
                                      threadPool: threadPool, prometheus: prometheus, health: storageHealthCheck,
                                      logger: logger)
        let store = self.store
        let threadPool = self.threadPool
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                if let debug {
                    group.addTask { await debugServer.serve(debug) }
                }
                if events.enabled {
                    let dispatcher = NotificationDispatcher(recorder: events, store: store, threadPool: threadPool, logger: logger)
                    group.addTask { await dispatcher.run(stopping: { state.isShuttingDown }) }
                }
                if let check = storageHealthCheck {
                    group.addTask {
                        await check.run(store: store, pool: threadPool, logger: logger, stopping: { state.isShuttingDown })
                    }
                }
                if let tls, tls.configuration.reloadInterval > 0 {
                    let interval = tls.configuration.reloadInterval
                    group.addTask {
                        // Short sleeps so shutdown is never held up by a long interval.
                        var waited = 0.0
                        while !state.isShuttingDown {
                            try? await Task.sleep(for: .milliseconds(Int(min(interval, 0.25) * 1000)))
                            waited += min(interval, 0.25)
                            if waited >= interval {
                                waited = 0
                                tls.reloadIfChanged()
                            }
                        }
                    }
                }
                try await server.executeThenClose { inbound in
                    try await withThrowingDiscardingTaskGroup { connections in
                        do {
                            for try await negotiation in inbound {
                                connections.addTask {
                                    let connection: NegotiatedConnection
                                    do {
                                        connection = try await negotiation.get()
                                    } catch {
                                        logger.debug("connection setup failed", metadata: ["error": "\(error)"])
                                        return
                                    }
                                    switch connection {
                                    case .http1(let channel, let fileRegions):
                                        await HTTPConnection(channel: channel, handler: handler, state: state,
                                                             metrics: metrics, logger: logger,
                                                             fileRegions: fileRegions).run()
                                    case .http2(let parent, let multiplexer):
                                        await HTTP2Connection(parent: parent, multiplexer: multiplexer, handler: handler,
                                                              state: state, metrics: metrics, logger: logger).run()
                                    }
                                }
                            }
                        } catch {
                            logger.debug("accept loop ended", metadata: ["error": "\(error)"])
                        }
                        // No longer accepting: give requests in flight `drain` seconds.
                        state.beginShutdown()
                        connections.addTask {
                            let deadline = ContinuousClock.now + .milliseconds(Int(drain * 1000))
                            while state.connectionCount > 0 && ContinuousClock.now < deadline {
                                try? await Task.sleep(for: .milliseconds(20))
                            }
                            state.closeAllConnections()
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            state.beginShutdown()
        }
        logger.info("stopped")
    }

    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        return String(cString: buffer)
    }

    /// What a new API connection becomes once TLS and ALPN (if any) are done.
    enum NegotiatedConnection: Sendable {
        case http1(NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, fileRegions: Bool)
        case http2(any Channel, NIOHTTP2Handler.AsyncStreamMultiplexer<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>>)
    }

    static func bindAPI(group: any EventLoopGroup, configuration: Configuration, tls: TLSContextProvider?) async throws
        -> NIOAsyncChannel<EventLoopFuture<NegotiatedConnection>, Never> {
        let limits = configuration.limits
        let fileRegions = configuration.useFileRegion && tls == nil
        let http2 = configuration.http2Enabled
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .bind(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture { () throws -> EventLoopFuture<NegotiatedConnection> in
                    guard let tls else {
                        let http1 = try configureHTTP1(channel, limits: limits, fileRegions: fileRegions)
                        return channel.eventLoop.makeSucceededFuture(.http1(http1, fileRegions: fileRegions))
                    }
                    try channel.pipeline.syncOperations.addHandler(tls.makeHandler())
                    let alpn = NIOTypedApplicationProtocolNegotiationHandler<NegotiatedConnection> { result, channel in
                        channel.eventLoop.makeCompletedFuture { () throws -> NegotiatedConnection in
                            if case .negotiated("h2") = result, http2 {
                                return try configureHTTP2(channel, limits: limits)
                            }
                            return .http1(try configureHTTP1(channel, limits: limits, fileRegions: false), fileRegions: false)
                        }
                    }
                    try channel.pipeline.syncOperations.addHandler(alpn)
                    // The handshake is a request header too: a client that
                    // never finishes it is closed after the header timeout.
                    if limits.requestHeaderTimeout > 0 {
                        let timer = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(limits.requestHeaderTimeout * 1e9))) {
                            channel.close(promise: nil)
                        }
                        alpn.protocolNegotiationResult.whenComplete { _ in timer.cancel() }
                    }
                    return alpn.protocolNegotiationResult
                }
            }
    }

    static func configureHTTP1(_ channel: any Channel, limits: Configuration.Limits, fileRegions: Bool) throws
        -> NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart> {
        let sync = channel.pipeline.syncOperations
        let timeouts = ConnectionTimeouts(limits: limits, idlePhase: true)
        try sync.addHandler(ConnectionTimeouts.ByteHandler(timeouts))
        try sync.configureHTTPServerPipeline(withErrorHandling: true)
        try sync.addHandler(ConnectionTimeouts.MessageHandler(timeouts, startsConnection: false))
        if fileRegions {
            try sync.addHandler(FileRegionCloser())
        }
        try sync.addHandler(ResponseEndHandler())
        return try ChildChannels.wrap(channel)
    }

    static func configureHTTP2(_ channel: any Channel, limits: Configuration.Limits) throws -> NegotiatedConnection {
        let idle = HTTP2IdleTimer(channel: channel, timeout: limits.idleTimeout)
        let multiplexer = try channel.pipeline.syncOperations.configureAsyncHTTP2Pipeline(
            mode: .server, streamDelegate: idle) { stream in
            stream.eventLoop.makeCompletedFuture {
                let sync = stream.pipeline.syncOperations
                try sync.addHandler(HTTP2FramePayloadToHTTP1ServerCodec())
                try sync.addHandler(ConnectionTimeouts.MessageHandler(ConnectionTimeouts(limits: limits, idlePhase: false),
                                                                      startsConnection: false))
                return try ChildChannels.wrap(stream)
            }
        }
        idle.start()
        return .http2(channel, multiplexer)
    }

    static func bind(group: any EventLoopGroup, host: String, port: Int, fileRegions: Bool) async throws
        -> NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never> {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    if fileRegions {
                        try channel.pipeline.syncOperations.addHandler(FileRegionCloser())
                    }
                    try channel.pipeline.syncOperations.addHandler(ResponseEndHandler())
                    return try ChildChannels.wrap(channel)
                }
            }
    }
}
