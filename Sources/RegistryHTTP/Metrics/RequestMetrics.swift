// Request counters through swift-metrics. The caller bootstraps the backend
// (e.g. swift-prometheus); RegistryHTTP only records.
//
// Thread safety: Sendable; metric handles are created per observation and
// cached by the backend by (label, dimensions).

import Metrics
import NIOHTTP1

struct RequestMetrics: Sendable {
    func record(method: HTTPMethod, route: String, status: HTTPResponseStatus,
                bytesIn: Int, bytesOut: Int, durationNanoseconds: Int64) {
        let dims = [("method", method.rawValue), ("route", route), ("status", String(status.code))]
        Counter(label: "berth_http_requests_total", dimensions: dims).increment()
        Metrics.Timer(label: "berth_http_request_duration_seconds",
                      dimensions: [("method", method.rawValue), ("route", route)],
                      preferredDisplayUnit: .seconds)
            .recordNanoseconds(durationNanoseconds)
        if bytesIn > 0 {
            Counter(label: "berth_http_request_bytes_total", dimensions: [("route", route)]).increment(by: bytesIn)
        }
        if bytesOut > 0 {
            Counter(label: "berth_http_response_bytes_total", dimensions: [("route", route)]).increment(by: bytesOut)
        }
    }
}
