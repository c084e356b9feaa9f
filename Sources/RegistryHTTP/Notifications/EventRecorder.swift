// Builds the events of a request (push, pull, delete, mount) for the outbox.
// Changes to manifests and tags hand their payloads to the engine, which
// stores them in the change's own transaction; blob pushes, mounts, blob
// deletes, promotions and rollbacks append theirs after the change commits
// and before the response (a crash in between loses the event of a change the
// client was never told succeeded, and its retry records it again); pulls
// are buffered here and written by `flushPulls` (a crash loses at most the
// pulls since the last flush, as for pull times).
//
// Thread safety: Sendable; the pull buffer is under a Mutex.
// Invariants:
//   1. With no enabled endpoint nothing is built or written.
//   2. Events no enabled endpoint would take (every endpoint ignores the
//      action or media type) are not written either.

import CASEngine
import Foundation
import NIOHTTP1
import RegistryConfig
import Synchronization

final class EventRecorder: Sendable {
    let notifications: RegistryConfiguration.Notifications
    let source: NotificationEvent.Source
    private let pendingPulls = Mutex<[[UInt8]]>([])
    static let maxPendingPulls = 100_000

    init(_ notifications: RegistryConfiguration.Notifications, sourceAddr: String) {
        self.notifications = notifications
        self.source = .init(addr: sourceAddr, instanceID: UUID().uuidString.lowercased())
    }

    var enabled: Bool { !notifications.enabledEndpoints.isEmpty }

    /// Whether some enabled endpoint takes events of this action and media type.
    func wanted(_ action: String, mediaType: String?) -> Bool {
        notifications.enabledEndpoints.contains { e in
            !e.ignoredActions.contains(action) && !(mediaType.map(e.ignoredMediaTypes.contains) ?? false)
        }
    }

    /// The payload of one event, or nil when no endpoint wants it.
    func event(_ action: String, _ target: NotificationEvent.Target, head: HTTPRequestHead, peer: String?,
               user: String?) -> [UInt8]? {
        guard wanted(action, mediaType: target.mediaType) else { return nil }
        let request = NotificationEvent.RequestRecord(
            id: head.headers.first(name: "X-Request-Id") ?? UUID().uuidString.lowercased(),
            addr: peer ?? "", host: head.headers.first(name: "Host") ?? "",
            method: head.method.rawValue, useragent: head.headers.first(name: "User-Agent") ?? "")
        let event = NotificationEvent(
            id: UUID().uuidString.lowercased(),
            timestamp: Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true)),
            action: action, target: target, request: request, actor: .init(name: user), source: source)
        return event.encoded()
    }

    func notePull(_ payload: [UInt8]?) {
        guard let payload else { return }
        pendingPulls.withLock { p in
            if p.count < Self.maxPendingPulls { p.append(payload) }
        }
    }

    /// Writes buffered pull events in one transaction; returns how many.
    @discardableResult
    func flushPulls(_ store: any RegistryStore) throws -> Int {
        let batch = pendingPulls.withLock { p -> [[UInt8]] in defer { p = [] }; return p }
        guard !batch.isEmpty else { return 0 }
        do {
            try store.appendOutbox(batch)
        } catch {
            pendingPulls.withLock { $0.insert(contentsOf: batch, at: 0) }
            throw error
        }
        return batch.count
    }
}
