// Delivers the outbox to each enabled endpoint, in order, at least once.
//
// Thread safety: Sendable; each endpoint runs in its own task; the store is
// called only on the thread pool.
// Invariants:
//   1. An endpoint's cursor moves past an entry only after a 2xx/3xx answer
//      to an envelope holding it (or after it was filtered out for that
//      endpoint), so a receiver that is down, or a restart of Berth, loses
//      nothing: delivery resumes at the cursor.
//   2. Entries leave the outbox only when every enabled endpoint's cursor
//      passed them (MetaStore+Outbox invariant 2).
//   3. Failures follow distribution's retrying sink: retried at once up to
//      `threshold` consecutive failures, then after `backoff` each time.

import AsyncHTTPClient
import CASEngine
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import RegistryConfig

struct NotificationDispatcher: Sendable {
    let recorder: EventRecorder
    let store: any RegistryStore
    let threadPool: NIOThreadPool
    let logger: Logger
    /// Idle poll of the outbox; also how often buffered pulls are flushed.
    var pollInterval: Duration = .milliseconds(200)
    static let batchLimit = 64

    /// Runs until `stopping` returns true (then flushes buffered pulls).
    func run(stopping: @escaping @Sendable () -> Bool) async {
        let endpoints = recorder.notifications.enabledEndpoints
        guard !endpoints.isEmpty else { return }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let names = Set(endpoints.map(\.name))
        await withDiscardingTaskGroup { group in
            for endpoint in endpoints {
                group.addTask { await deliver(endpoint, client: client, keep: names, stopping: stopping) }
            }
            group.addTask {
                while !stopping() {
                    flush()
                    try? await Task.sleep(for: pollInterval)
                }
                flush()
            }
        }
        try? await client.shutdown()
    }

    private func flush() {
        do {
            try recorder.flushPulls(store)
        } catch {
            logger.warning("notifications: pull events not written yet", metadata: ["error": "\(error)"])
        }
    }

    private func io<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await threadPool.runIfActive(work)
    }

    private func deliver(_ endpoint: RegistryConfiguration.Notifications.Endpoint, client: HTTPClient, keep: Set<String>,
                         stopping: @escaping @Sendable () -> Bool) async {
        let store = self.store
        var cursor: UInt64? = nil
        var failures = 0
        var log = logger
        log[metadataKey: "endpoint"] = "\(endpoint.name)"
        while !stopping() {
            do {
                if cursor == nil { cursor = try await io { try store.outboxCursor(endpoint.name) } }
                let after = cursor!
                let entries = try await io { try store.outboxEntries(after: after, limit: Self.batchLimit) }
                guard let last = entries.last else {
                    try? await Task.sleep(for: pollInterval)
                    continue
                }
                let payloads = entries.map(\.payload).filter { Self.accepts(endpoint, $0) }
                if !payloads.isEmpty { try await post(NotificationEvent.envelope(payloads), to: endpoint, client: client) }
                try await io { try store.acknowledgeOutbox(endpoint: endpoint.name, through: last.sequence, keep: keep) }
                cursor = last.sequence
                if failures > 0 { log.info("notifications: endpoint reachable again", metadata: ["after_failures": "\(failures)"]) }
                failures = 0
            } catch {
                failures += 1
                if failures == 1 || failures % endpoint.threshold == 0 {
                    log.warning("notifications: delivery failed", metadata: ["error": "\(error)", "failures": "\(failures)"])
                }
                if failures >= endpoint.threshold {
                    await sleep(endpoint.backoff, stopping: stopping)
                }
            }
        }
    }

    /// Sleeps in short steps so shutdown is not held up by a long backoff.
    private func sleep(_ seconds: TimeInterval, stopping: @Sendable () -> Bool) async {
        var left = seconds
        while left > 0, !stopping() {
            let step = min(left, 0.1)
            try? await Task.sleep(for: .milliseconds(Int(step * 1000)))
            left -= step
        }
    }

    static func accepts(_ endpoint: RegistryConfiguration.Notifications.Endpoint, _ payload: [UInt8]) -> Bool {
        guard let event = try? NotificationEvent.decode(payload) else { return false }
        if endpoint.ignoredActions.contains(event.action) { return false }
        if let m = event.target.mediaType, endpoint.ignoredMediaTypes.contains(m) { return false }
        return true
    }

    struct DeliveryError: Error, CustomStringConvertible {
        let status: UInt
        var description: String { "receiver answered \(status)" }
    }

    private func post(_ body: [UInt8], to endpoint: RegistryConfiguration.Notifications.Endpoint, client: HTTPClient) async throws {
        var request = HTTPClientRequest(url: endpoint.url.absoluteString)
        request.method = .POST
        for (name, values) in endpoint.headers {
            for v in values { request.headers.add(name: name, value: v) }
        }
        request.headers.replaceOrAdd(name: "Content-Type", value: NotificationEvent.envelopeMediaType)
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await client.execute(request, timeout: .milliseconds(Int64(endpoint.timeout * 1000)))
        _ = try? await response.body.collect(upTo: 1 << 20)
        guard (200..<400).contains(response.status.code) else { throw DeliveryError(status: response.status.code) }
    }
}
