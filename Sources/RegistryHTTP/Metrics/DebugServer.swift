// The debug listener (`http.debug.addr`): Prometheus text at `metricsPath`
// and `/debug/health`: 200 `{}`, or 503 with the failing checks by name
// (distribution's StatusHandler: `{"storagedriver_filesystem": "<error>"}`).
// With `health.storagedriver` enabled the answer is the periodic check's
// state; without it (distribution then reports `{}` always) Berth probes the
// store on demand.
//
// Thread safety: Sendable; one task per connection, store calls on the pool.

import CASEngine
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus

struct DebugServer: Sendable {
    let configuration: RegistryServer.Configuration.Debug
    let store: any RegistryStore
    let threadPool: NIOThreadPool
    let prometheus: PrometheusCollectorRegistry?
    let health: StorageHealthCheck?
    let logger: Logger

    func serve(_ server: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>) async {
        do {
            try await server.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in inbound {
                        group.addTask { await self.handle(connection) }
                    }
                }
            }
        } catch {
            logger.debug("debug listener ended", metadata: ["error": "\(error)"])
        }
    }

    private func handle(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead? = nil
                for try await part in inbound {
                    switch part {
                    case .head(let h): head = h
                    case .body: continue
                    case .end:
                        guard let h = head else { continue }
                        let (status, type, body) = await respond(h)
                        var headers = HTTPHeaders()
                        headers.add(name: "Content-Type", value: type)
                        headers.add(name: "Content-Length", value: String(body.count))
                        if !h.isKeepAlive { headers.add(name: "Connection", value: "close") }
                        try await outbound.write(.head(HTTPResponseHead(version: h.version, status: status, headers: headers)))
                        if h.method != .HEAD { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
                        try await outbound.write(.end(nil))
                        if !h.isKeepAlive { return }
                    }
                }
            }
        } catch {
            logger.debug("debug connection ended", metadata: ["error": "\(error)"])
        }
    }

    private func respond(_ head: HTTPRequestHead) async -> (HTTPResponseStatus, String, [UInt8]) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        if configuration.metricsEnabled, path == configuration.metricsPath, let prometheus {
            return (.ok, "text/plain; version=0.0.4; charset=utf-8", prometheus.emitToBuffer())
        }
        if path == "/debug/health" {
            var failing: [String: String] = [:]
            if let health {
                failing = health.failingChecks
            } else {
                let store = self.store
                do {
                    try await threadPool.runIfActive { try store.healthProbe() }
                } catch {
                    logger.warning("health check failed", metadata: ["error": "\(error)"])
                    failing[StorageHealthCheck.checkName] = "\(error)"
                }
            }
            return (failing.isEmpty ? .ok : .serviceUnavailable, "application/json", Self.checksJSON(failing))
        }
        return (.notFound, "text/plain", Array("404 page not found\n".utf8))
    }

    /// `{"name":"error",…}` in name order; `{}` when nothing fails.
    static func checksJSON(_ checks: [String: String]) -> [UInt8] {
        var out = "{"
        for (i, name) in checks.keys.sorted().enumerated() {
            if i > 0 { out += "," }
            JSONText.appendString(name, to: &out)
            out += ":"
            JSONText.appendString(checks[name]!, to: &out)
        }
        return Array((out + "}").utf8)
    }
}
