// Page 1, the registry: the repositories the viewer may pull (search by
// substring, 100 per page), each with its tag count, unique and shared bytes
// and last push; and, for viewers with catalog rights, the totals: stored
// bytes, dead bytes, the collector's backlog and its last pass.
//
// Thread safety: as RegistryHandler (one read-pool job per page).
// Invariants:
//   1. Cost is O(names scanned + 100 repositories): names are filtered in
//      pages of 1000, figures are read only for the repositories shown
//      (Store+Browse, MetaStore+Usage), totals without the per-repository map.

import CASEngine

extension RegistryHandler {
    static let uiPageSize = 100

    func uiRegistryPage(_ r: WebUIRequest) async throws -> HTTPResponse {
        let q = (r.query["q"] ?? "").trimmingSpaces
        let needle = q.lowercased()
        let after = r.query["after"].flatMap { $0.isEmpty ? nil : $0 }
        let store = self.store, viewer = r.viewer, pageSize = Self.uiPageSize
        typealias Row = (name: String, summary: RepositorySummary?, usage: RepositoryUsage?)
        let (rows, more, totals) = try await ioRead(.list) { () throws -> ([Row], Bool, RegistryUsage?) in
            var names: [String] = []
            var more = false
            var cursor = after
            scan: while true {
                let page = try store.repositories(after: cursor, limit: 1000)
                for n in page where (needle.isEmpty || n.lowercased().contains(needle)) && viewer.may(["pull"], n) {
                    if names.count == pageSize { more = true; break scan }
                    names.append(n)
                }
                guard page.count == 1000, let last = page.last else { break }
                cursor = last
            }
            let rows = try names.map { n -> Row in
                (n, try store.repositorySummary(repository: n), try? Self.usageOrUnavailable { try store.usage(repository: n) })
            }
            let totals = viewer.mayCatalog ? (try? Self.usageOrUnavailable { try store.usageTotals() }) : nil
            return (rows, more, totals)
        }
        var body = "<h1>Registry</h1>"
        if let t = totals {
            body += """
                <div class="totals" id="totals">\
                <div>stored<b id="stored-bytes">\(HTML.bytes(t.storedBytes))</b></div>\
                <div>referenced<b>\(HTML.bytes(t.referencedBytes))</b></div>\
                <div>dead (awaiting compaction)<b id="dead-bytes">\(HTML.bytes(t.deadBytes))</b></div>\
                <div>GC backlog<b id="gc-backlog">\(t.gcBacklog) item\(t.gcBacklog == 1 ? "" : "s")</b></div>\
                <div>last collection<b id="last-collection">\(HTML.time(t.lastCollection))</b></div></div>
                """
        }
        body += """
            <form method="get" action="\(uiBase)/" role="search"><input type="search" name="q" value="\(HTML.attr(q))" \
            placeholder="search repositories"> <button type="submit">Search</button></form>
            """
        if rows.isEmpty {
            body += "<p class=\"muted\" id=\"no-repositories\">No repositories\(q.isEmpty ? "" : " match") \(viewer.user == nil && viewer.canLogIn ? "you may see without logging in" : "you may see").</p>"
        } else {
            body += "<table id=\"repositories\"><thead><tr><th>repository</th><th class=\"num\">tags</th><th class=\"num\">unique</th>"
                + "<th class=\"num\">shared</th><th>last push</th></tr></thead><tbody>"
            for row in rows {
                body += "<tr><td><a href=\"\(uiRepoURL(row.name))\">\(HTML.text(row.name))</a></td>"
                    + "<td class=\"num\">\(row.summary?.tags ?? 0)</td>"
                    + "<td class=\"num\">\(row.usage.map { HTML.bytes($0.uniqueBytes) } ?? "–")</td>"
                    + "<td class=\"num\">\(row.usage.map { HTML.bytes($0.sharedBytes) } ?? "–")</td>"
                    + "<td>\(HTML.time(row.summary?.lastPush))</td></tr>"
            }
            body += "</tbody></table>"
        }
        if more, let last = rows.last {
            body += "<p><a id=\"next-page\" href=\"\(uiBase)/?q=\(HTML.component(q))&amp;after=\(HTML.component(last.name))\">next \(pageSize) →</a></p>"
        }
        return uiHTML(uiLayout(title: "Registry", viewer: r.viewer, csrf: r.csrf, body: body))
    }
}
