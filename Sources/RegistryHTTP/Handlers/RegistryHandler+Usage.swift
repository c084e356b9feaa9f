// `GET /v2/_berth/usage` and `GET /v2/<name>/_berth/usage` — Berth's usage
// extension (docs/EXTENSIONS.md): what each repository references, what
// deleting it would free, what it shares, and for the whole registry the
// bytes on disk, dead bytes awaiting compaction and the collector's backlog.
//
//   repository 200 {"repository", "referencedBytes", "uniqueBytes", "sharedBytes", "blobs"}
//              404 NAME_UNKNOWN: no such repository
//   registry   200 {"referencedBytes", "blobs", "storedBytes", "deadBytes",
//                   "dedupSavedBytes", "gcBacklog": {"reviewItems"},
//                   "repositories": [{"name", "referencedBytes", "uniqueBytes", "sharedBytes", "blobs"}]}
//              (repositories in name order)
//
// Thread safety: as RegistryHandler (store reads on the read pool).
// Invariants:
//   1. Access: the registry figure needs catalog rights (it names every
//      repository), a repository's needs pull on it.
//   2. Nothing is walked per request: the engine keeps the figures
//      (MetaStore+Usage); the registry answer is O(repositories + packs).

import CASEngine
import Foundation

extension RegistryHandler {
    func repositoryUsage(_ request: Request, name: String) async throws -> HTTPResponse {
        let store = self.store
        let (usage, exists) = try await ioRead(.list) { () throws -> (RepositoryUsage?, Bool) in
            let u = try Self.usageOrUnavailable { try store.usage(repository: name) }
            return (u, try u != nil || store.tags(repository: name, after: nil, limit: 0) != nil)
        }
        guard exists else { throw RegistryError(.nameUnknown, detail: name) }
        var json = "{\"repository\":"
        JSONText.appendString(name, to: &json)
        json += "," + Self.usageFields(usage ?? RepositoryUsage()) + "}"
        return .json(json)
    }

    func registryUsage(_ request: Request) async throws -> HTTPResponse {
        let store = self.store
        let u = try await ioRead(.list) { try Self.usageOrUnavailable { try store.usage() } }
        var json = "{\"referencedBytes\":\(u.referencedBytes),\"blobs\":\(u.referencedBlobs),\"storedBytes\":\(u.storedBytes),"
        json += "\"deadBytes\":\(u.deadBytes),\"dedupSavedBytes\":\(u.savedByDeduplication),"
        json += "\"gcBacklog\":{\"reviewItems\":\(u.gcBacklog)},\"repositories\":["
        for (i, name) in u.repositories.keys.sorted().enumerated() {
            if i > 0 { json += "," }
            json += "{\"name\":"
            JSONText.appendString(name, to: &json)
            json += "," + Self.usageFields(u.repositories[name]!) + "}"
        }
        json += "]}"
        return .json(json)
    }

    static func usageFields(_ u: RepositoryUsage) -> String {
        "\"referencedBytes\":\(u.referencedBytes),\"uniqueBytes\":\(u.uniqueBytes),\"sharedBytes\":\(u.sharedBytes),\"blobs\":\(u.blobs)"
    }

    /// A read-only open of a store older than the accounting has none: 503.
    static func usageOrUnavailable<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as StoreError where e.code == .unsupportedFormat {
            throw RegistryError(.unavailable, "usage accounting unavailable", detail: e.message)
        }
    }
}
