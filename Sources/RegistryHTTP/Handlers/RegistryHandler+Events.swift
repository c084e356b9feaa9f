// Notification events of the API's changes and reads (Notifications/):
// what each endpoint handler hands the engine or appends to the outbox.
//
// Thread safety: as RegistryHandler.

import CASEngine
import OCIModel

extension RegistryHandler {
    static let blobMediaType = "application/octet-stream"

    /// One event's payload for this request, nil when no endpoint wants it.
    func event(_ action: String, _ request: Request, repository: String, digest: String? = nil, mediaType: String? = nil,
               size: UInt64? = nil, tag: String? = nil, from: String? = nil, references: [Descriptor]? = nil,
               path: String? = nil) -> [UInt8]? {
        guard events.enabled else { return nil }
        let target = NotificationEvent.Target(
            mediaType: mediaType, size: size, digest: digest, length: size, repository: repository, fromRepository: from,
            url: path.map { location($0, request) }, tag: tag,
            references: references.map { $0.map { .init(mediaType: $0.mediaType, size: UInt64(max(0, $0.size)), digest: $0.digest.description) } })
        return events.event(action, target, head: request.head, peer: request.peer, user: request.user)
    }

    /// The push events of a manifest PUT: one per tag, or one without a tag.
    func manifestPushEvents(_ request: Request, repository: String, digest: BlobDigest, parsed: ParsedManifest,
                            size: Int, tags: [String]) -> [[UInt8]] {
        guard events.enabled else { return [] }
        let refs: [Descriptor]? = events.notifications.includeReferences
            ? (parsed.config.map { [$0] } ?? []) + parsed.layers + parsed.manifests : nil
        let path = "/v2/\(repository)/manifests/\(digest)"
        let one = { (tag: String?) in
            self.event("push", request, repository: repository, digest: digest.description, mediaType: parsed.mediaType,
                       size: UInt64(size), tag: tag, references: refs, path: path)
        }
        return (tags.isEmpty ? [one(nil)] : tags.map(one)).compactMap { $0 }
    }

    /// The push event of a blob that became available in `repository`.
    func blobPushEvent(_ request: Request, repository: String, info: BlobInfo) -> [UInt8]? {
        event("push", request, repository: repository, digest: info.digest.description, mediaType: Self.blobMediaType,
              size: info.size, path: "/v2/\(repository)/blobs/\(info.digest)")
    }

    /// Appends events of a change that committed without them, before the
    /// response is sent (EventRecorder explains when that is).
    func appendEvents(_ payloads: [[UInt8]?]) async throws {
        let batch = payloads.compactMap { $0 }
        guard !batch.isEmpty else { return }
        let store = self.store
        try await io(.putContent) { try store.appendOutbox(batch) }
    }
}
