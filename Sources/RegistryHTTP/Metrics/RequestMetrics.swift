// Request counters through swift-metrics. The caller bootstraps the backend
// (e.g. swift-prometheus) or passes a factory; RegistryHTTP only records.
//
// Metrics (dimensions):
//   berth_http_requests_total            method, route, status
//   berth_http_request_duration_seconds  method, route          (timer)
//   berth_http_request_bytes_total       route                  (request body bytes)
//   berth_http_response_bytes_total      route                  (response body bytes)
// and, under distribution's names so its dashboards keep working:
//   registry_http_requests_total            code, handler, method
//   registry_http_request_duration_seconds  handler, method    (histogram)
//   registry_http_request_size_bytes        handler            (histogram)
//   registry_http_response_size_bytes       handler            (histogram)
//   registry_http_in_flight_requests        handler            (gauge, InFlightRequests)
//   registry_storage_action_seconds         driver, action     (histogram, StorageMetrics)
// with distribution's handler names (base, catalog, tags, manifest, blob,
// blob-upload, blob-upload-chunk, referrers; Berth's extensions as their
// route label).
//
// Thread safety: Sendable. The handles of each (method, route, status) are
// made once, on its first request, and kept in a Mutex-guarded table: a
// request costs one table lookup, not eight factory calls (each a lock and a
// hash in the backend). The factory is resolved at init, as StorageMetrics
// does (regctl bootstraps MetricsSystem before it builds the server).

import Metrics
import NIOHTTP1
import Synchronization

final class RequestMetrics: Sendable {
    private struct Key: Hashable {
        let method: String
        let route: String
        let status: UInt
    }

    private struct Handles: Sendable {
        let requests: Counter
        let duration: Metrics.Timer
        let requestBytes: Counter
        let responseBytes: Counter
        let distributionRequests: Counter
        let distributionDuration: Metrics.Timer
        let requestSize: Recorder
        let responseSize: Recorder
    }

    private let factory: any MetricsFactory
    private let handles = Mutex<[Key: Handles]>([:])

    /// nil: the global `MetricsSystem.factory` as it is now.
    init(factory: (any MetricsFactory)?) {
        self.factory = factory ?? MetricsSystem.factory
    }

    func record(method: HTTPMethod, route: String, status: HTTPResponseStatus,
                bytesIn: Int, bytesOut: Int, durationNanoseconds: Int64) {
        let key = Key(method: method.rawValue, route: route, status: status.code)
        let h = handles.withLock { table in
            if let h = table[key] { return h }
            let h = make(key)
            table[key] = h
            return h
        }
        h.requests.increment()
        h.duration.recordNanoseconds(durationNanoseconds)
        if bytesIn > 0 { h.requestBytes.increment(by: bytesIn) }
        if bytesOut > 0 { h.responseBytes.increment(by: bytesOut) }
        h.distributionRequests.increment()
        h.distributionDuration.recordNanoseconds(durationNanoseconds)
        h.requestSize.record(bytesIn)
        h.responseSize.record(bytesOut)
    }

    private func make(_ key: Key) -> Handles {
        let handler = Self.distributionHandler(key.route)
        let status = String(key.status)
        return Handles(
            requests: Counter(label: "berth_http_requests_total",
                              dimensions: [("method", key.method), ("route", key.route), ("status", status)], factory: factory),
            duration: Metrics.Timer(label: "berth_http_request_duration_seconds",
                                    dimensions: [("method", key.method), ("route", key.route)], factory: factory),
            requestBytes: Counter(label: "berth_http_request_bytes_total", dimensions: [("route", key.route)], factory: factory),
            responseBytes: Counter(label: "berth_http_response_bytes_total", dimensions: [("route", key.route)], factory: factory),
            distributionRequests: Counter(label: "registry_http_requests_total",
                                          dimensions: [("code", status), ("handler", handler), ("method", key.method)],
                                          factory: factory),
            distributionDuration: Metrics.Timer(label: "registry_http_request_duration_seconds",
                                                dimensions: [("handler", handler), ("method", key.method)], factory: factory),
            requestSize: Recorder(label: "registry_http_request_size_bytes", dimensions: [("handler", handler)], aggregate: true,
                                  factory: factory),
            responseSize: Recorder(label: "registry_http_response_size_bytes", dimensions: [("handler", handler)], aggregate: true,
                                   factory: factory))
    }

    /// distribution's route names (registry/api/v2/routes.go) for Berth's labels.
    static func distributionHandler(_ route: String) -> String {
        switch route {
        case "uploads": return "blob-upload"
        case "upload": return "blob-upload-chunk"
        default: return route
        }
    }
}
