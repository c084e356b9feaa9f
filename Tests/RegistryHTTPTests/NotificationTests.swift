// Notifications: distribution's endpoints and envelope, delivered from the
// store's durable outbox to a real HTTP receiver on loopback.

import CASEngine
import Foundation
import NIOHTTP1
import RegistryConfig
import Testing
@testable import RegistryHTTP

@Suite(.serialized) struct NotificationTests {
    static func endpoint(_ receiver: WebhookReceiver, name: String = "listener",
                         _ edit: (inout RegistryConfiguration.Notifications.Endpoint) -> Void = { _ in })
        -> RegistryConfiguration.Notifications {
        var e = RegistryConfiguration.Notifications.Endpoint(name: name, url: URL(string: "http://127.0.0.1:\(receiver.port)/events")!)
        e.threshold = 3
        e.backoff = 0.05
        edit(&e)
        var n = RegistryConfiguration.Notifications()
        n.endpoints = [e]
        return n
    }

    /// Pushes an image under `tag`; returns the manifest digest.
    static func push(_ r: TestRegistry, _ repo: String, _ tag: String, seed: String) async throws -> String {
        let m = try await Fixtures.image(r, repo: repo, seed: seed)
        let put = try await r.send(.PUT, "/v2/\(repo)/manifests/\(tag)", headers: [("Content-Type", Fixtures.ociManifest)], body: m)
        #expect(put.status == .created)
        return Fixtures.sha256(m)
    }

    static func manifestPushes(_ events: [[String: Any]]) -> [(tag: String?, digest: String?)] {
        events.filter { ($0["action"] as? String) == "push" && (($0["target"] as? [String: Any])?["mediaType"] as? String) == Fixtures.ociManifest }
            .map { let t = $0["target"] as? [String: Any]; return (t?["tag"] as? String, t?["digest"] as? String) }
    }

    @Test func pushPullAndDeleteArriveInDistributionsEnvelope() async throws {
        let receiver = WebhookReceiver()
        try await receiver.start()
        defer { Task { try? await receiver.stop() } }
        let config = Self.endpoint(receiver) { $0.headers = ["Authorization": ["Bearer hook-secret"]] }
        try await TestRegistry.with({ $0.notifications = config }) { r in
            let digest = try await Self.push(r, "team/app", "v1", seed: "one")
            #expect(try await r.send(.GET, "/v2/team/app/manifests/v1").status == .ok)
            #expect(try await r.send(.HEAD, "/v2/team/app/manifests/v1").status == .ok)
            #expect(try await r.send(.DELETE, "/v2/team/app/manifests/v1").status == .accepted)
            let complete = try await receiver.wait { events in
                events.contains { ($0["action"] as? String) == "delete" }
            }
            #expect(complete)
            let events = receiver.events
            let actions = events.compactMap { $0["action"] as? String }
            // Two blobs, the manifest, the tag delete in order; one pull (HEAD
            // is not a pull), buffered, so written after the changes around it.
            #expect(actions.filter { $0 != "pull" } == ["push", "push", "push", "delete"])
            #expect(actions.filter { $0 == "pull" }.count == 1)
            let push = try #require(events.first { (($0["target"] as? [String: Any])?["mediaType"] as? String) == Fixtures.ociManifest })
            let target = try #require(push["target"] as? [String: Any])
            #expect(target["repository"] as? String == "team/app")
            #expect(target["digest"] as? String == digest)
            #expect(target["tag"] as? String == "v1")
            #expect((target["url"] as? String)?.hasSuffix("/v2/team/app/manifests/\(digest)") == true)
            let request = try #require(push["request"] as? [String: Any])
            #expect(request["method"] as? String == "PUT")
            #expect((request["addr"] as? String)?.hasPrefix("127.0.0.1") == true)
            #expect((push["source"] as? [String: Any])?["instanceID"] as? String != nil)
            #expect(Set(events.compactMap { $0["id"] as? String }).count == events.count)
            let delete = try #require(events.last?["target"] as? [String: Any])
            #expect(delete["tag"] as? String == "v1")
            let delivery = try #require(receiver.deliveries.first)
            #expect(delivery.headers.first(name: "Content-Type") == NotificationEvent.envelopeMediaType)
            #expect(delivery.headers.first(name: "Authorization") == "Bearer hook-secret")
        }
    }

    @Test func aReceiverThatIsDownDuringAPushMissesNothing() async throws {
        let receiver = WebhookReceiver()
        try await receiver.start()
        let config = Self.endpoint(receiver) { $0.ignoredActions = ["pull"] }
        try await TestRegistry.with({ $0.notifications = config }) { r in
            let first = try await Self.push(r, "app", "v1", seed: "a")
            #expect(try await receiver.wait { Self.manifestPushes($0).contains { $0.digest == first } })
            try await receiver.stop()
            var pushed: [String] = []
            for i in 0..<3 { pushed.append(try await Self.push(r, "app", "v\(i + 2)", seed: "b\(i)")) }
            // Held in the store while nobody listens.
            #expect(try r.store!.outboxCount() >= 3)
            try await receiver.start()
            #expect(try await receiver.wait { events in
                let got = Set(Self.manifestPushes(events).compactMap(\.digest))
                return pushed.allSatisfy(got.contains)
            })
            let tags = Self.manifestPushes(receiver.events).compactMap(\.tag)
            #expect(tags == ["v1", "v2", "v3", "v4"])
            // Delivered everywhere it was going: the outbox is empty again.
            #expect(try await receiver.wait { _ in (try? r.store!.outboxCount()) == 0 })
        }
        try await receiver.stop()
    }

    @Test func eventsWaitingWhenBerthStopsAreDeliveredAfterItStarts() async throws {
        let receiver = WebhookReceiver()
        try await receiver.start()
        try await receiver.stop() // the port is known, nobody listens
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("berth-notify-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let config = Self.endpoint(receiver)
        var digest = ""
        try await TestRegistry.with({ $0.notifications = config }, root: root) { r in
            digest = try await Self.push(r, "app", "latest", seed: "restart")
        }
        #expect(receiver.events.isEmpty)
        try await receiver.start()
        defer { Task { try? await receiver.stop() } }
        try await TestRegistry.with({ $0.notifications = config }, root: root) { _ in
            let delivered = try await receiver.wait { Self.manifestPushes($0).contains { $0.digest == digest && $0.tag == "latest" } }
            #expect(delivered)
        }
    }

    @Test func failedDeliveriesAreRetriedWithTheSameEventIDs() async throws {
        let receiver = WebhookReceiver(failFirst: 4)
        try await receiver.start()
        defer { Task { try? await receiver.stop() } }
        let config = Self.endpoint(receiver) { $0.ignoredActions = ["pull"]; $0.ignoredMediaTypes = [RegistryHandler.blobMediaType] }
        try await TestRegistry.with({ $0.notifications = config }) { r in
            let digest = try await Self.push(r, "app", "v1", seed: "retry")
            #expect(try await receiver.wait { Self.manifestPushes($0).contains { $0.digest == digest } })
            let ids = receiver.attemptedIDs
            // 4 refused attempts and the accepted one, each carrying the one event.
            #expect(ids.count == 5)
            #expect(Set(ids).count == 1)
            // Blob pushes were ignored by media type: only the manifest event was sent.
            #expect(receiver.events.count == 1)
        }
    }

    @Test func withoutEndpointsNothingIsWritten() async throws {
        var disabled = RegistryConfiguration.Notifications()
        disabled.endpoints = [.init(name: "off", url: URL(string: "http://127.0.0.1:9/")!)]
        disabled.endpoints[0].disabled = true
        try await TestRegistry.with({ $0.notifications = disabled }) { r in
            _ = try await Self.push(r, "app", "v1", seed: "quiet")
            #expect(try await r.send(.GET, "/v2/app/manifests/v1").status == .ok)
            #expect(try r.store!.outboxCount() == 0)
        }
    }
}
