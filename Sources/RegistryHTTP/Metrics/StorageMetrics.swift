// distribution's storage metric family, so its dashboards keep working:
//   registry_storage_action_seconds{driver, action}   (histogram)
// with driver "filesystem" and distribution's storage-driver action names,
// observed around every store call a request makes (RegistryHandler.io).
// distribution's `registry_storage_cache_total{type}` is not exported:
// Berth has no blob-descriptor cache whose hits it could count (every
// lookup is a read of the memory-mapped index), and a counter that never
// moves would chart as a broken cache.
//
// Thread safety: Sendable; the timer handles are made once per server.

import Metrics

/// distribution's storage driver actions (registry/storage/driver/base).
enum StorageAction: String, CaseIterable, Sendable {
    case getContent = "GetContent"
    case putContent = "PutContent"
    case reader = "Reader"
    case writer = "Writer"
    case stat = "Stat"
    case list = "List"
    case move = "Move"
    case delete = "Delete"
}

struct StorageMetrics: Sendable {
    private let timers: [StorageAction: Metrics.Timer]

    init(factory: (any MetricsFactory)?) {
        let factory = factory ?? MetricsSystem.factory
        var timers: [StorageAction: Metrics.Timer] = [:]
        for action in StorageAction.allCases {
            timers[action] = Metrics.Timer(label: "registry_storage_action_seconds",
                                           dimensions: [("driver", "filesystem"), ("action", action.rawValue)],
                                           preferredDisplayUnit: .seconds, factory: factory)
        }
        self.timers = timers
    }

    func record(_ action: StorageAction, nanoseconds: Int64) {
        timers[action]?.recordNanoseconds(nanoseconds)
    }
}
