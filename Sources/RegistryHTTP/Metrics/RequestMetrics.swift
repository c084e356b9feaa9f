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
// Thread safety: Sendable; handles are created per observation and cached by
// the backend by (label, dimensions).

import Metrics
import NIOHTTP1

struct RequestMetrics: Sendable {
    /// nil: the global `MetricsSystem.factory` at the time of each observation.
    let factory: (any MetricsFactory)?

    func record(method: HTTPMethod, route: String, status: HTTPResponseStatus,
                bytesIn: Int, bytesOut: Int, durationNanoseconds: Int64) {
        let factory = self.factory ?? MetricsSystem.factory
        let dims = [("method", method.rawValue), ("route", route), ("status", String(status.code))]
        Counter(label: "berth_http_requests_total", dimensions: dims, factory: factory).increment()
        Metrics.Timer(label: "berth_http_request_duration_seconds",
                      dimensions: [("method", method.rawValue), ("route", route)], factory: factory)
            .recordNanoseconds(durationNanoseconds)
        if bytesIn > 0 {
            Counter(label: "berth_http_request_bytes_total", dimensions: [("route", route)], factory: factory)
                .increment(by: bytesIn)
        }
        if bytesOut > 0 {
            Counter(label: "berth_http_response_bytes_total", dimensions: [("route", route)], factory: factory)
                .increment(by: bytesOut)
        }
        let handler = Self.distributionHandler(route)
        Counter(label: "registry_http_requests_total",
                dimensions: [("code", String(status.code)), ("handler", handler), ("method", method.rawValue)], factory: factory)
            .increment()
        Metrics.Timer(label: "registry_http_request_duration_seconds",
                      dimensions: [("handler", handler), ("method", method.rawValue)], factory: factory)
            .recordNanoseconds(durationNanoseconds)
        Recorder(label: "registry_http_request_size_bytes", dimensions: [("handler", handler)], aggregate: true, factory: factory)
            .record(bytesIn)
        Recorder(label: "registry_http_response_size_bytes", dimensions: [("handler", handler)], aggregate: true, factory: factory)
            .record(bytesOut)
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
