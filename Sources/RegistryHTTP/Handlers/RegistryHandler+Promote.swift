// `POST /v2/<name>/_berth/tags/promote` — Berth's tag extension
// (docs/EXTENSIONS.md): shift a chain of tags in one transaction.
//
//   request  {"chain": ["beta", "latest", "archive"], "expect": {"beta": "sha256:…"}}
//   200      {"tags": {"beta": "sha256:…", "latest": "sha256:…", "archive": "sha256:…"}}
//   409      TAG_CONFLICT: a tag named in `expect` points elsewhere; nothing moved
//   409      TAG_IMMUTABLE: the shift would move a tag `berth.tags.immutable` freezes; nothing moved
//   404      MANIFEST_UNKNOWN: the first tag of the chain does not exist
//   400      TAG_INVALID: not JSON of that shape, a bad tag, a repeated tag,
//            fewer than two tags, or `expect` naming a tag outside the chain
//
// Thread safety: as RegistryHandler (the store call runs on the write pool).
// Invariants:
//   1. Access is the registry's: push on the repository (AccessScope: a POST
//      needs pull and push); read-only mode refuses it like any write.
//   2. The body is bounded (64 KiB) and parsed before any store call.

import CASEngine
import Foundation
import OCIModel

extension RegistryHandler {
    struct PromoteRequest: Decodable {
        var chain: [String]
        var expect: [String: String]?
    }

    func promoteTags(_ request: Request, name: String) async throws -> HTTPResponse {
        guard let body = try await request.body.collect(upTo: 64 << 10) else {
            throw RegistryError(.tagInvalid, "promotion request larger than 64 KiB")
        }
        let parsed: PromoteRequest
        do { parsed = try JSONDecoder().decode(PromoteRequest.self, from: Data(body)) } catch {
            throw RegistryError(.tagInvalid, "body must be {\"chain\": [tags], \"expect\": {tag: digest}}")
        }
        for tag in parsed.chain {
            do { try Tag.validate(tag) } catch { throw RegistryError(.tagInvalid, "invalid tag", detail: tag) }
        }
        guard parsed.chain.count >= 2, Set(parsed.chain).count == parsed.chain.count else {
            throw RegistryError(.tagInvalid, "a chain names at least two distinct tags")
        }
        var expect: [String: BlobDigest] = [:]
        for (tag, digest) in parsed.expect ?? [:] {
            guard parsed.chain.contains(tag) else { throw RegistryError(.tagInvalid, "expect names a tag outside the chain", detail: tag) }
            expect[tag] = try blobDigest(digest)
        }
        let chain = parsed.chain
        let result = try await promote(request, name: name, chain: chain, expect: expect)
        var json = "{\"tags\":{"
        for (i, tag) in chain.enumerated() {
            guard let d = result[tag] else { continue }
            if i > 0, json.last != "{" { json += "," }
            JSONText.appendString(tag, to: &json)
            json += ":"
            JSONText.appendString(d.description, to: &json)
        }
        json += "}}"
        return .json(json)
    }

    /// The promotion itself (validated chain) and its events; the web page's form uses it too.
    func promote(_ request: Request, name: String, chain: [String], expect: [String: BlobDigest]) async throws -> [String: BlobDigest] {
        let store = self.store
        let freeze = configuration.tagFreeze, user = request.user
        let result = try await io(.putContent) {
            try store.promoteTags(repository: name, chain: chain, expect: expect, freeze: freeze, by: user)
        }
        // Every moved tag is a tag push to a receiver (distribution has no promotion).
        try await appendEvents(chain.dropFirst().compactMap { tag in
            result[tag].map { event("push", request, repository: name, digest: $0.description, tag: tag,
                                    path: "/v2/\(name)/manifests/\($0)") } ?? nil
        })
        return result
    }
}
