import CASEngine
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ServiceLifecycle
import Testing
@testable import RegistryHTTP

@Suite("Server lifecycle and debug listener")
struct ServerLifecycleTests {
    @Test func debugHealthAndMetrics() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("berth-http-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try Store.open(at: dir)
        let prometheus = PrometheusCollectorRegistry()
        prometheus.makeCounter(descriptor: MetricNameDescriptor(metricName: "berth_test", unitName: "counter", helpText: "test")).increment()
        var config = RegistryServer.Configuration()
        config.host = "127.0.0.1"
        config.port = 0
        config.accessLog = false
        config.debug = .init(host: "127.0.0.1", port: 0)
        var logger = Logger(label: "t")
        logger.logLevel = .critical
        let server = RegistryServer(configuration: config, store: store, prometheus: prometheus,
                                    metricsFactory: PrometheusMetricsFactory(registry: prometheus), logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let debugPort = try #require(try await server.debugPort())
            let apiPort = try await server.boundPort()
            _ = try await TestHTTPClient.send(port: apiPort, [TestRequest(.GET, "/v2/"), TestRequest(.GET, "/v2/x/tags/list")])
            let responses = try await TestHTTPClient.send(port: debugPort, [
                TestRequest(.GET, "/debug/health"), TestRequest(.GET, "/metrics"), TestRequest(.GET, "/other"),
            ])
            #expect(responses[0].status == .ok)
            #expect(responses[0].text == "{}")
            #expect(responses[1].status == .ok)
            #expect(responses[1].text.contains("berth_test_counter"))
            let metrics = responses[1].text
            #expect(metrics.contains(#"berth_http_requests_total{method="GET",route="base",status="200"} 1"#), "\(metrics)")
            #expect(metrics.contains(#"berth_http_requests_total{method="GET",route="tags",status="404"} 1"#))
            #expect(metrics.contains("berth_http_response_bytes_total"))
            #expect(metrics.contains("berth_http_request_duration_seconds"))
            // distribution's names and labels, for its dashboards.
            #expect(metrics.contains(#"registry_http_requests_total{code="200",handler="base",method="GET"} 1"#), "\(metrics)")
            #expect(metrics.contains(#"registry_http_requests_total{code="404",handler="tags",method="GET"} 1"#))
            #expect(metrics.contains(#"registry_http_request_duration_seconds_count{handler="tags",method="GET"} 1"#))
            #expect(metrics.contains(#"registry_http_response_size_bytes_count{handler="base"} 1"#))
            #expect(metrics.contains(#"registry_http_request_size_bytes_count{handler="tags"} 1"#))
            // The tags listing read the store once: distribution's storage family.
            #expect(metrics.contains(#"registry_storage_action_seconds_count{driver="filesystem",action="List"} 1"#), "\(metrics)")
            #expect(metrics.contains(#"registry_http_in_flight_requests{handler="tags"} 0.0"#))
            #expect(responses[2].status == .notFound)
            // A PATCH whose body is still arriving is in flight.
            let started = try await TestHTTPClient.send(port: apiPort, [TestRequest(.POST, "/v2/x/blobs/uploads/")])
            let location = try #require(started.first?["Location"])
            let upload = try #require(location.range(of: "/v2/").map { String(location[$0.lowerBound...]) })
            try await RawTestConnection.with(port: apiPort) { _, _, outbound in
                try await outbound.write(ByteBuffer(string: "PATCH \(upload) HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nhalf"))
                var seen = ""
                for _ in 0..<100 {
                    seen = try await TestHTTPClient.send(port: debugPort, [TestRequest(.GET, "/metrics")])[0].text
                    if seen.contains(#"registry_http_in_flight_requests{handler="blob-upload-chunk"} 1.0"#) { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(seen.contains(#"registry_http_in_flight_requests{handler="blob-upload-chunk"} 1.0"#))
                #expect(seen.contains(#"registry_storage_action_seconds_count{driver="filesystem",action="Writer"} 1"#))
            }
            store.close()
            let unhealthy = try await TestHTTPClient.send(port: debugPort, [TestRequest(.GET, "/debug/health")])
            #expect(unhealthy[0].status == .serviceUnavailable)
            server.shutdown()
            try await group.waitForAll()
        }
    }

    @Test func gracefulShutdownWithIdleKeepAliveConnection() async throws {
        // Drain deadline 60 s, idle timeout 120 s: closing within 20 s can only
        // be shutdown closing the idle connection (a loaded machine's slack).
        try await TestRegistry.with({ $0.drainTimeout = 60 }) { r in
            // Open a keep-alive connection, use it, leave it idle while shutting down.
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: r.port) { ch in
                    ch.eventLoop.makeCompletedFuture {
                        try ch.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: ch)
                    }
                }
            try await channel.executeThenClose { inbound, outbound in
                var it = inbound.makeAsyncIterator()
                var headers = HTTPHeaders()
                headers.add(name: "Host", value: "x")
                try await outbound.write(.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/v2/", headers: headers)))
                try await outbound.write(.end(nil))
                var status: HTTPResponseStatus?
                loop: while let part = try await it.next() {
                    switch part {
                    case .head(let h): status = h.status
                    case .end: break loop
                    default: continue
                    }
                }
                #expect(status == .ok)
                let start = ContinuousClock.now
                r.server.shutdown()
                // The idle connection is closed promptly, not after the drain timeout.
                // End of stream or a reset: either way the server closed it.
                while (try? await it.next()) != nil {}
                #expect(ContinuousClock.now - start < .seconds(20))
            }
        }
    }

    @Test func runsAsServiceLifecycleService() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("berth-http-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try Store.open(at: dir)
        defer { store.close() }
        var config = RegistryServer.Configuration()
        config.host = "127.0.0.1"
        config.port = 0
        config.accessLog = false
        var logger = Logger(label: "t")
        logger.logLevel = .critical
        let server = RegistryServer(configuration: config, store: store, logger: logger)
        let group = ServiceGroup(services: [server], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let port = try await server.boundPort()
            let r = try await TestHTTPClient.send(port: port, [TestRequest(.GET, "/v2/")])
            #expect(r[0].status == .ok)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}
