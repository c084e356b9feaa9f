// The registry's HTTP/1.1 server: a ServiceLifecycle `Service`.
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
// Thread safety: Sendable; all mutable state is in ServerState.

import CASEngine
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ServiceLifecycle

public final class RegistryServer: Service, Sendable {
    public let configuration: Configuration
    let store: any RegistryStore
    let threadPool: NIOThreadPool
    let eventLoopGroup: any EventLoopGroup
    let authorizer: any RequestAuthorizer
    let prometheus: PrometheusCollectorRegistry?
    let metricsFactory: (any MetricsFactory)?
    let logger: Logger
    let state = ServerState()

    /// - Parameters:
    ///   - store: an open store; the server never closes it.
    ///   - threadPool: where every blocking store call runs (must be started).
    ///   - prometheus: served at `debug.metricsPath`; bootstrapping MetricsSystem
    ///     with it is the caller's job.
    ///   - metricsFactory: where request metrics go; nil uses MetricsSystem's
    ///     global factory (whatever the caller bootstrapped).
    public init(configuration: Configuration, store: any RegistryStore,
                threadPool: NIOThreadPool = .singleton,
                eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                authorizer: any RequestAuthorizer = AllowAllAuthorizer(),
                prometheus: PrometheusCollectorRegistry? = nil,
                metricsFactory: (any MetricsFactory)? = nil,
                logger: Logger = Logger(label: "berth.http")) {
        self.configuration = configuration
        self.store = store
        self.threadPool = threadPool
        self.eventLoopGroup = eventLoopGroup
        self.authorizer = authorizer
        self.prometheus = prometheus
        self.metricsFactory = metricsFactory
        self.logger = logger
    }

    /// The API port once listening (useful with `port: 0`); throws if binding failed.
    public func boundPort() async throws -> Int { try await state.waitUntilListening().0 }

    /// The debug listener's port, nil when not configured.
    public func debugPort() async throws -> Int? { try await state.waitUntilListening().1 }

    /// Starts graceful shutdown, as ServiceLifecycle's signal would.
    public func shutdown() { state.beginShutdown() }

    public func run() async throws {
        let handler = RegistryHandler(store: store, threadPool: threadPool, configuration: configuration,
                                      authorizer: authorizer, logger: logger)
        let server: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>
        var debug: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>? = nil
        do {
            server = try await Self.bind(group: eventLoopGroup, host: configuration.host, port: configuration.port,
                                         fileRegions: configuration.useFileRegion)
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
                                            "debug": "\(debugPort.map(String.init) ?? "off")"])

        let state = self.state
        let metrics = RequestMetrics(factory: metricsFactory)
        let logger = self.logger
        let drain = configuration.drainTimeout
        let debugServer = DebugServer(configuration: configuration.debug ?? .init(), store: store,
                                      threadPool: threadPool, prometheus: prometheus, logger: logger)
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                if let debug {
                    group.addTask { await debugServer.serve(debug) }
                }
                try await server.executeThenClose { inbound in
                    try await withThrowingDiscardingTaskGroup { connections in
                        do {
                            for try await connection in inbound {
                                connections.addTask {
                                    await HTTPConnection(channel: connection, handler: handler, state: state,
                                                         metrics: metrics, logger: logger).run()
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
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                        wrappingChannelSynchronously: channel)
                }
            }
    }
}
