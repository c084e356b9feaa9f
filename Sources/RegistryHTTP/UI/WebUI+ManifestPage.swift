// Page 3, a manifest (by digest, so the URL is a permalink): the tags naming
// it, its image config (os, architecture, created, labels, history), layers
// with sizes, an index's children with their platforms, its referrers by
// artifact type (signatures, SBOMs, attestations) with links, its
// annotations and the raw JSON.
//
// Thread safety: as RegistryHandler (one read-pool job per page).
// Invariants:
//   1. Every string from the manifest, its config or its referrers is
//      escaped (HTML); the raw JSON is shown as text.

import CASEngine
import Foundation
import OCIModel

extension RegistryHandler {
    static let uiImageConfigTypes: Set<String> = [
        "application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json",
    ]

    func uiManifestPage(_ r: WebUIRequest, name: String, digest raw: String) async throws -> HTTPResponse {
        guard let digest = BlobDigest(raw) else { throw WebUIError(.notFound, "Not a digest.") }
        let store = self.store
        let loaded = try await ioRead(.list) { () throws -> (WebUIManifestFacts, [Referrer], [String])? in
            guard let facts = try Self.uiFacts(store, name, digest) else { return nil }
            let referrers = try store.referrers(repository: name, subject: digest, artifactType: nil)
            let tags = try store.browse(repository: name)?.tags.filter { $0.digest == digest }.map(\.tag) ?? []
            return (facts, referrers, tags)
        }
        guard let (facts, referrers, tags) = loaded else { throw WebUIError(.notFound, "No such manifest in this repository.") }
        let repoURL = uiRepoURL(name)
        var body = "<h1>Manifest <code>\(HTML.text(digest.description))</code></h1><dl class=\"kv\">"
        body += "<dt>media type</dt><dd>\(HTML.text(facts.mediaType))</dd>"
        body += "<dt>size</dt><dd>\(HTML.bytes(facts.size)) (manifest \(facts.bytes.count) B)</dd>"
        body += "<dt>tags</dt><dd id=\"manifest-tags\">\(tags.isEmpty ? "none" : tags.map { "<a href=\"\(repoURL)/-/history/\(HTML.component($0))\">\(HTML.text($0))</a>" }.joined(separator: ", "))</dd>"
        // ParsedManifest falls back to the config's media type; an image's config type is no artifact type.
        if let at = facts.parsed?.artifactType, !Self.uiImageConfigTypes.contains(at) {
            body += "<dt>artifact type</dt><dd>\(HTML.text(at))</dd>"
        }
        if let s = facts.parsed?.subject {
            body += "<dt>subject</dt><dd><a href=\"\(repoURL)/-/manifest/\(HTML.component(s.digest.description))\">\(HTML.digest(s.digest.description))</a></dd>"
        }
        body += "</dl>"
        if let config = facts.config { body += uiConfigSection(config) }
        if let parsed = facts.parsed {
            if let c = parsed.config, parsed.kind == .image {
                body += "<h2>Config blob</h2><p>\(HTML.digest(c.digest.description)) \(HTML.text(c.mediaType)), \(HTML.bytes(UInt64(max(0, c.size))))</p>"
            }
            if !parsed.layers.isEmpty {
                body += "<h2>Layers <span class=\"muted\">(\(parsed.layers.count))</span></h2><table id=\"layers\"><thead><tr><th>#</th><th>digest</th>"
                    + "<th>media type</th><th class=\"num\">size</th></tr></thead><tbody>"
                for (i, l) in parsed.layers.enumerated() {
                    body += "<tr><td>\(i + 1)</td><td>\(HTML.digest(l.digest.description))</td><td>\(HTML.text(l.mediaType))</td>"
                        + "<td class=\"num\">\(HTML.bytes(UInt64(max(0, l.size))))</td></tr>"
                }
                body += "</tbody></table>"
            }
            if parsed.kind == .index {
                body += "<h2>Manifests of this index <span class=\"muted\">(\(parsed.manifests.count))</span></h2><table id=\"children\"><thead><tr>"
                    + "<th>platform</th><th>digest</th><th>media type</th><th class=\"num\">size</th></tr></thead><tbody>"
                for m in parsed.manifests {
                    body += "<tr><td>\(HTML.text(m.platform.map(WebUIManifestFacts.platform) ?? "–"))</td>"
                        + "<td><a href=\"\(repoURL)/-/manifest/\(HTML.component(m.digest.description))\">\(HTML.digest(m.digest.description))</a></td>"
                        + "<td>\(HTML.text(m.mediaType))</td><td class=\"num\">\(HTML.bytes(UInt64(max(0, m.size))))</td></tr>"
                }
                body += "</tbody></table>"
            }
            if let a = parsed.annotations, !a.isEmpty { body += "<h2>Annotations</h2>" + uiKeyValues(a, id: "annotations") }
        }
        body += "<h2>Referrers <span class=\"muted\">(\(referrers.count))</span></h2>"
        if referrers.isEmpty {
            body += "<p class=\"muted\">No signatures, SBOMs or attestations refer to this manifest.</p>"
        } else {
            let groups = Dictionary(grouping: referrers) { $0.artifactType ?? "(none)" }
            body += "<div id=\"referrers\">"
            for type in groups.keys.sorted() {
                body += "<h3>\(HTML.text(type))</h3><table><tbody>"
                for ref in groups[type]! {
                    var notes = ""
                    if let json = ref.annotations, let a = try? JSONDecoder().decode([String: String].self, from: Data(json)), !a.isEmpty {
                        notes = a.keys.sorted().map { "\(HTML.text($0)) = \(HTML.text(a[$0]!))" }.joined(separator: "<br>")
                    }
                    body += "<tr><td><a href=\"\(repoURL)/-/manifest/\(ref.digest)\">\(HTML.digest(ref.digest.description))</a></td>"
                        + "<td>\(HTML.text(ref.mediaType))</td><td class=\"num\">\(HTML.bytes(ref.size))</td><td>\(notes)</td></tr>"
                }
                body += "</tbody></table>"
            }
            body += "</div>"
        }
        if tags.isEmpty && r.viewer.may(["delete"], name) && modes.deleteEnabled && !modes.readOnly {
            body += "<form method=\"post\" action=\"\(repoURL)/-/delete/\(digest)\">\(uiCSRFField(r.csrf))"
                + "<button class=\"danger\" type=\"submit\">delete this manifest…</button></form>"
        }
        body += "<h2>Raw JSON</h2><pre id=\"raw\">\(HTML.text(String(decoding: facts.bytes, as: UTF8.self)))</pre>"
        let crumbs = uiCrumbs(name, "<code>\(HTML.text(String(digest.description.prefix(19))))…</code>")
        return uiHTML(uiLayout(title: "\(name)@\(digest)", viewer: r.viewer, csrf: r.csrf, crumbs: crumbs, body: body))
    }

    func uiConfigSection(_ c: WebUIImageConfig) -> String {
        var s = "<h2>Config</h2><dl class=\"kv\" id=\"config\">"
        for (key, value) in [("os", c.os), ("architecture", c.architecture), ("variant", c.variant), ("created", c.created),
                             ("author", c.author)] {
            if let value { s += "<dt>\(key)</dt><dd>\(HTML.text(value))</dd>" }
        }
        if !c.command.isEmpty { s += "<dt>command</dt><dd><code>\(HTML.text(c.command.joined(separator: " ")))</code></dd>" }
        s += "</dl>"
        if !c.labels.isEmpty { s += "<h3>Labels</h3>" + uiKeyValues(c.labels, id: "labels") }
        if !c.history.isEmpty {
            s += "<h3>History</h3><table id=\"history\"><thead><tr><th>created</th><th>created by</th><th>comment</th></tr></thead><tbody>"
            for h in c.history {
                let empty = h.emptyLayer ? " <span class=\"muted\">(no layer)</span>" : ""
                s += "<tr><td>\(HTML.text(h.created))</td><td><code>\(HTML.text(h.createdBy))</code>\(empty)</td>"
                    + "<td>\(HTML.text(h.comment))</td></tr>"
            }
            s += "</tbody></table>"
        }
        return s
    }

    func uiKeyValues(_ kv: [String: String], id: String) -> String {
        "<dl class=\"kv\" id=\"\(id)\">" + kv.keys.sorted().map { "<dt>\(HTML.text($0))</dt><dd>\(HTML.text(kv[$0]!))</dd>" }.joined() + "</dl>"
    }
}
