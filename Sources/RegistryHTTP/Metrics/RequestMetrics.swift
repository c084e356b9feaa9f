// Request counters through swift-metrics. The caller bootstraps the backend
// (e.g. swift-prometheus) or passes a factory; RegistryHTTP only records.
//
// Metrics (dimensions):
//   berth_http_requests_total            method, route, status
//   berth_http_request_duration_seconds  method, route          (timer)
//   berth_http_request_bytes_total       route                  (request body bytes)
//   berth_http_response_bytes_total      route                  (response body bytes)
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
    }
}
