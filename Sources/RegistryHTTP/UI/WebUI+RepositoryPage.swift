// Page 2, a repository: its tags (100 per page, filtered by `q`; the script
// filters the shown rows as one types) with digest, media type, size,
// platforms, pushed and pulled times and the `docker pull` / `podman pull`
// lines; then its untagged manifests with when the collector takes them.
//
// Thread safety: as RegistryHandler (one read-pool job per page).
// Invariants:
//   1. The viewer may pull the repository (WebUI invariant 1); the delete
//      button renders only with delete rights, `storage.delete.enabled` and
//      outside read-only mode.

import CASEngine

extension RegistryHandler {
    func uiRepositoryPage(_ r: WebUIRequest, name: String) async throws -> HTTPResponse {
        let q = (r.query["q"] ?? "").trimmingSpaces
        let needle = q.lowercased()
        let after = r.query["after"].flatMap { $0.isEmpty ? nil : $0 }
        let store = self.store, pageSize = Self.uiPageSize
        typealias Row = (tag: TagSummary, facts: WebUIManifestFacts?, pulled: UInt64?)
        let loaded = try await ioRead(.list) { () throws -> ([Row], Bool, [UntaggedManifest], Int)? in
            guard let view = try store.browse(repository: name) else { return nil }
            let matching = view.tags.filter { t in
                (needle.isEmpty || t.tag.lowercased().contains(needle)) && (after.map { t.tag > $0 } ?? true)
            }
            let shown = matching.prefix(pageSize)
            var facts: [BlobDigest: WebUIManifestFacts] = [:]
            var rows: [Row] = []
            for t in shown {
                if facts[t.digest] == nil { facts[t.digest] = try Self.uiFacts(store, name, t.digest) }
                rows.append((t, facts[t.digest], try store.lastPulled(repository: name, tag: t.tag)))
            }
            return (rows, matching.count > pageSize, view.untagged.sorted { $0.unkeptAt < $1.unkeptAt }, view.tags.count)
        }
        guard let (rows, more, untagged, tagCount) = loaded else {
            throw WebUIError(.notFound, "No such repository (or you may not see it).")
        }
        let host = uiRegistryHost(r)
        let repoURL = uiRepoURL(name)
        var body = "<h1>\(HTML.text(name))</h1><h2>Tags <span class=\"muted\">(\(tagCount))</span></h2>"
        body += """
            <form method="get" action="\(repoURL)" role="search"><input type="search" name="q" value="\(HTML.attr(q))" \
            placeholder="filter tags" data-filter="tags"> <button type="submit">Filter</button></form>
            """
        if rows.isEmpty {
            body += "<p class=\"muted\">No tags\(q.isEmpty ? "" : " match").</p>"
        } else {
            body += "<table id=\"tags\"><thead><tr><th>tag</th><th>digest</th><th>media type</th><th class=\"num\">size</th>"
                + "<th>platforms</th><th>pushed</th><th>pulled</th><th>pull</th></tr></thead><tbody>"
            for row in rows {
                let t = row.tag
                let ref = "\(host)/\(name):\(t.tag)"
                let mediaType = HTML.text(row.facts?.mediaType ?? "?")
                let size = row.facts.map { HTML.bytes($0.size) } ?? "?"
                let platforms = HTML.text((row.facts?.platforms ?? []).joined(separator: ", "))
                var line = "<tr data-tag=\"\(HTML.attr(t.tag))\"><td><b>\(HTML.text(t.tag))</b><br>"
                line += "<a href=\"\(repoURL)/-/history/\(HTML.component(t.tag))\">history</a></td>"
                line += "<td><a href=\"\(repoURL)/-/manifest/\(t.digest)\">\(HTML.digest(t.digest.description))</a></td>"
                line += "<td>\(mediaType)</td><td class=\"num\">\(size)</td><td>\(platforms)</td>"
                line += "<td>\(HTML.time(t.pushed))</td><td>\(HTML.time(row.pulled))</td>"
                line += "<td class=\"pull\"><code data-copy=\"\(HTML.attr("docker pull " + ref))\">docker pull \(HTML.text(ref))</code><br>"
                line += "<code data-copy=\"\(HTML.attr("podman pull " + ref))\">podman pull \(HTML.text(ref))</code></td></tr>"
                body += line
            }
            body += "</tbody></table>"
            if more, let last = rows.last {
                body += "<p><a id=\"next-page\" href=\"\(repoURL)?q=\(HTML.component(q))&amp;after=\(HTML.component(last.tag.tag))\">next \(pageSize) →</a></p>"
            }
        }
        body += "<h2>Untagged manifests <span class=\"muted\">(\(untagged.count))</span></h2>"
        if untagged.isEmpty {
            body += "<p class=\"muted\">None: every manifest is tagged or kept by an index or subject.</p>"
        } else {
            let mayDelete = r.viewer.may(["delete"], name) && modes.deleteEnabled && !modes.readOnly
            body += "<table id=\"untagged\"><thead><tr><th>digest</th><th>media type</th><th>pushed</th><th>untagged since</th>"
                + "<th>collected</th>\(mayDelete ? "<th></th>" : "")</tr></thead><tbody>"
            for m in untagged {
                let due = uiCollectionDue(m, repository: name)
                var collected = due.map { "after \(HTML.time($0))" } ?? "never (no untagged policy applies)"
                if let p = m.protectedUntil { collected += "<br><span class=\"muted\">history protects it until \(HTML.time(p))</span>" }
                body += "<tr data-digest=\"\(m.digest)\"><td><a href=\"\(repoURL)/-/manifest/\(m.digest)\">\(HTML.digest(m.digest.description))</a></td>"
                    + "<td>\(HTML.text(m.mediaType))</td><td>\(HTML.time(m.createdAt))</td><td>\(HTML.time(m.unkeptAt))</td>"
                    + "<td class=\"due\">\(collected)</td>"
                if mayDelete {
                    body += "<td><form class=\"inline\" method=\"post\" action=\"\(repoURL)/-/delete/\(m.digest)\">\(uiCSRFField(r.csrf))"
                        + "<button class=\"danger\" type=\"submit\">delete…</button></form></td>"
                }
                body += "</tr>"
            }
            body += "</tbody></table>"
        }
        return uiHTML(uiLayout(title: name, viewer: r.viewer, csrf: r.csrf, crumbs: uiCrumbs(name), body: body))
    }
}
