// distribution's `registry_http_in_flight_requests{handler}` gauge: requests
// being handled now, by distribution's handler name (RequestMetrics).
// Counted from routing until the handler has produced its response (a
// streamed blob body still being sent is no longer counted).
//
// Thread safety: counts under one Mutex; gauges made once per handler name.

import Metrics
import Synchronization

final class InFlightRequests: Sendable {
    private let factory: any MetricsFactory
    private let state = Mutex<[String: (count: Int, gauge: Gauge)]>([:])

    init(factory: (any MetricsFactory)?) {
        self.factory = factory ?? MetricsSystem.factory
    }

    func enter(_ route: String) { adjust(RequestMetrics.distributionHandler(route), by: 1) }
    func leave(_ route: String) { adjust(RequestMetrics.distributionHandler(route), by: -1) }

    /// Requests in flight for a distribution handler name (tests).
    func count(_ handler: String) -> Int { state.withLock { $0[handler]?.count ?? 0 } }

    private func adjust(_ handler: String, by delta: Int) {
        state.withLock { s in
            var entry = s[handler] ?? (0, Gauge(label: "registry_http_in_flight_requests",
                                                 dimensions: [("handler", handler)], factory: factory))
            entry.count += delta
            entry.gauge.record(entry.count)
            s[handler] = entry
        }
    }
}
