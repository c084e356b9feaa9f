// `GET /v2/<name>/_berth/tags/<tag>/history` and
// `POST /v2/<name>/_berth/tags/<tag>/rollback` — Berth's tag extension
// (docs/EXTENSIONS.md).
//
//   history  200 {"tag": t, "pulled": RFC 3339 of the last pull by tag or null, "history": [{"digest", "at" (RFC 3339), "by" (user or null),
//                 "action" (push|promote|rollback|delete), "sequence"}]}, newest first;
//            `n` bounds the page, `last` is the sequence of the previous page's last
//            entry, and `Link: <…?n=N&last=S>; rel="next"` is sent when more exist.
//            404 MANIFEST_UNKNOWN when the tag never had an entry.
//   rollback {"steps": N} or {"to": "sha256:…"} (neither: steps 1)
//            200 {"tag": t, "digest": new, "previous": old or null}
//            400 TAG_INVALID: not that shape, both given, or no such kept entry
//            404 MANIFEST_UNKNOWN: the entry's manifest is gone
//            409 TAG_IMMUTABLE: `berth.tags.immutable` freezes the tag
//
// Thread safety: as RegistryHandler (store calls run on the pools).
// Invariants:
//   1. Access is the registry's: history is a GET (pull), rollback a POST
//      (pull and push; refused in read-only mode like any write).
//   2. The rollback body is bounded (64 KiB) and parsed before any store call.

import CASEngine
import Foundation
import NIOHTTP1

extension RegistryHandler {
    func tagHistory(_ request: Request, name: String, tag: String) async throws -> HTTPResponse {
        let n = try pageSize(request).map { min($0, configuration.tagsMaxEntries) }
        let raw = request.query["last"] ?? ""
        let before: UInt64? = raw.isEmpty ? nil : UInt64(raw)
        if !raw.isEmpty && before == nil { throw RegistryError(.paginationNumberInvalid, detail: "last=\(raw)") }
        let store = self.store
        let (page, pulled) = try await ioRead(.list) {
            (try store.tagHistory(repository: name, tag: tag, before: before, limit: n.map { $0 + 1 }),
             try store.lastPulled(repository: name, tag: tag))
        }
        guard var entries = page else {
            throw RegistryError(.manifestUnknown, "tag has no history", detail: "\(name):\(tag)")
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        if let n, entries.count > n {
            entries = Array(entries.prefix(n))
            if let last = entries.last {
                headers.add(name: "Link", value: nextLink("/v2/\(name)/_berth/tags/\(tag)/history", n: n, last: String(last.sequence)))
            }
        }
        var json = "{\"tag\":"
        JSONText.appendString(tag, to: &json)
        json += ",\"pulled\":" + (pulled.map { "\"\(Self.rfc3339($0))\"" } ?? "null") + ",\"history\":["
        for (i, e) in entries.enumerated() {
            if i > 0 { json += "," }
            json += "{\"digest\":\"\(e.digest)\",\"at\":\"\(Self.rfc3339(e.at))\",\"by\":"
            if let by = e.by { JSONText.appendString(by, to: &json) } else { json += "null" }
            json += ",\"action\":\"\(e.action.name)\",\"sequence\":\(e.sequence)}"
        }
        json += "]}"
        return HTTPResponse(status: .ok, headers: headers, body: .bytes(Array(json.utf8)))
    }

    struct RollbackRequest: Decodable {
        var steps: Int?
        var to: String?
    }

    func rollbackTag(_ request: Request, name: String, tag: String) async throws -> HTTPResponse {
        guard let body = try await request.body.collect(upTo: 64 << 10) else {
            throw RegistryError(.tagInvalid, "rollback request larger than 64 KiB")
        }
        let parsed: RollbackRequest
        do {
            parsed = body.isEmpty ? RollbackRequest() : try JSONDecoder().decode(RollbackRequest.self, from: Data(body))
        } catch {
            throw RegistryError(.tagInvalid, "body must be {\"steps\": N} or {\"to\": \"sha256:…\"}")
        }
        if parsed.steps != nil && parsed.to != nil { throw RegistryError(.tagInvalid, "name steps or to, not both") }
        if let steps = parsed.steps, steps < 1 { throw RegistryError(.tagInvalid, "steps must be at least 1", detail: String(steps)) }
        let to = try parsed.to.map(blobDigest)
        let result = try await rollback(request, name: name, tag: tag, steps: parsed.steps, to: to)
        var json = "{\"tag\":"
        JSONText.appendString(tag, to: &json)
        json += ",\"digest\":\"\(result.digest)\",\"previous\":" + (result.previous.map { "\"\($0)\"" } ?? "null") + "}"
        return .json(json)
    }

    /// The rollback itself and its event; the web page's form uses it too.
    func rollback(_ request: Request, name: String, tag: String, steps: Int?, to: BlobDigest?) async throws
        -> (digest: BlobDigest, previous: BlobDigest?) {
        let store = self.store, freeze = configuration.tagFreeze, user = request.user
        let result: (digest: BlobDigest, previous: BlobDigest?)
        do {
            result = try await io(.putContent) { try store.rollbackTag(repository: name, tag: tag, steps: steps, to: to, freeze: freeze, by: user) }
        } catch let e as StoreError where e.code == .invalidArgument {
            throw RegistryError(.tagInvalid, e.message, detail: e.message)
        }
        try await appendEvents([event("push", request, repository: name, digest: result.digest.description, tag: tag,
                                      path: "/v2/\(name)/manifests/\(result.digest)")])
        return result
    }

    /// Unix seconds as RFC 3339 UTC (`2024-09-04T12:00:00Z`).
    static func rfc3339(_ seconds: UInt64) -> String {
        var t = time_t(clamping: seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))Z"
    }
}
