// Page 4, a tag's history (newest first, 100 entries) with rollback buttons
// and the promotion form, and the three actions the pages post: promote,
// rollback, delete. Each action first answers a confirmation page that
// repeats what will change; only the confirmed form (`confirm=1`, with the
// page's CSRF token like every form) calls the tag-lifecycle code the API
// uses (RegistryHandler+Promote `promote`, +TagHistory `rollback`,
// +Manifests `deleteManifest`), events and tag history included.
//
// Thread safety: as RegistryHandler.
// Invariants:
//   1. Buttons render, and actions run, only with the rights the API would
//      need (pull+push to move tags, delete plus `storage.delete.enabled` to
//      delete), never in read-only mode.
//   2. A promotion carries the digest the viewer confirmed for the chain's
//      first tag as `expect`: if it moved meanwhile, nothing moves (409).

import CASEngine
import NIOHTTP1
import OCIModel

extension RegistryHandler {
    func uiMayMoveTags(_ r: WebUIRequest, _ name: String) -> Bool { r.viewer.may(["pull", "push"], name) && !modes.readOnly }

    func uiHistoryPage(_ r: WebUIRequest, name: String, tag: String) async throws -> HTTPResponse {
        guard Tag.isValid(tag) else { throw WebUIError(.notFound, "Not a tag.") }
        let store = self.store
        let (entries, pulled, current) = try await ioRead(.list) {
            (try store.tagHistory(repository: name, tag: tag, before: nil, limit: 100),
             try store.lastPulled(repository: name, tag: tag),
             try store.manifest(repository: name, tag: tag)?.digest)
        }
        guard let entries else { throw WebUIError(.notFound, "This tag has no history.") }
        let repoURL = uiRepoURL(name)
        let mayMove = uiMayMoveTags(r, name)
        var body = "<h1>\(HTML.text(name)):\(HTML.text(tag))</h1><dl class=\"kv\">"
        body += "<dt>points at</dt><dd id=\"current\">\(current.map { "<a href=\"\(repoURL)/-/manifest/\($0)\">\(HTML.digest($0.description))</a>" } ?? "nothing (deleted)")</dd>"
        body += "<dt>last pulled</dt><dd>\(HTML.time(pulled))</dd></dl>"
        body += "<h2>History</h2><table id=\"tag-history\"><thead><tr><th>when</th><th>action</th><th>digest</th><th>by</th>"
            + "\(mayMove ? "<th></th>" : "")</tr></thead><tbody>"
        for e in entries {
            body += "<tr><td>\(HTML.time(e.at))</td><td>\(HTML.text(e.action.name))</td>"
                + "<td><a href=\"\(repoURL)/-/manifest/\(e.digest)\">\(HTML.digest(e.digest.description))</a></td>"
                + "<td>\(HTML.text(e.by ?? "–"))</td>"
            if mayMove {
                body += "<td>"
                if e.action != .delete && e.digest != current {
                    body += "<form class=\"inline rollback\" method=\"post\" action=\"\(repoURL)/-/rollback/\(HTML.component(tag))\">"
                        + "\(uiCSRFField(r.csrf))<input type=\"hidden\" name=\"to\" value=\"\(e.digest)\">"
                        + "<button type=\"submit\">roll back to this…</button></form>"
                }
                body += "</td>"
            }
            body += "</tr>"
        }
        body += "</tbody></table>"
        if mayMove, let current {
            body += """
                <h2>Promote</h2><p class="muted">Shift a chain of tags in one step: each tag takes the manifest of the one \
                before it (e.g. <code>\(HTML.text(tag)) latest previous</code>: latest gets \(HTML.text(tag))'s manifest, \
                previous gets latest's).</p>\
                <form method="post" action="\(repoURL)/-/promote" id="promote">\(uiCSRFField(r.csrf))\
                <input type="hidden" name="expect" value="\(HTML.attr(tag))=\(current)">\
                <label>Chain <input type="text" name="chain" value="\(HTML.attr(tag)) " size="40" required></label> \
                <button type="submit">Promote…</button></form>
                """
        }
        let crumbs = uiCrumbs(name, HTML.text(tag))
        return uiHTML(uiLayout(title: "\(name):\(tag) history", viewer: r.viewer, csrf: r.csrf, crumbs: crumbs, body: body))
    }

    /// The confirmation page: the summary, then the same form with `confirm=1`.
    func uiConfirm(_ r: WebUIRequest, name: String, title: String, summary: String, action: String,
                   fields: [(String, String)], button: String) -> HTTPResponse {
        var body = "<h1>\(HTML.text(title))</h1><div id=\"confirm-summary\">\(summary)</div>"
        body += "<form method=\"post\" action=\"\(action)\" id=\"confirm\">\(uiCSRFField(r.csrf))<input type=\"hidden\" name=\"confirm\" value=\"1\">"
        for (k, v) in fields { body += "<input type=\"hidden\" name=\"\(HTML.attr(k))\" value=\"\(HTML.attr(v))\">" }
        body += "<button type=\"submit\">\(HTML.text(button))</button> <a href=\"\(uiRepoURL(name))\">cancel</a></form>"
        return uiHTML(uiLayout(title: title, viewer: r.viewer, csrf: r.csrf, crumbs: uiCrumbs(name), body: body))
    }

    private func uiRequireMove(_ r: WebUIRequest, _ name: String) throws {
        if modes.readOnly { throw WebUIError(.methodNotAllowed, "The registry is in read-only mode.") }
        guard r.viewer.may(["pull", "push"], name) else { throw WebUIError(.forbidden, "You may not move tags in this repository.") }
    }

    /// A `Request` standing for the form post, so events and tag history
    /// record the viewer as the API would.
    private func uiAPIRequest(_ r: WebUIRequest, _ route: Route) -> Request {
        Request(head: r.head, match: RouteMatch(route: route, query: QueryParameters(nil)), body: r.body, peer: r.peer, user: r.viewer.user)
    }

    func uiPromote(_ r: WebUIRequest, name: String) async throws -> HTTPResponse {
        try uiRequireMove(r, name)
        let chain = (r.form["chain"] ?? "").split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" }).map(String.init)
        for t in chain where !Tag.isValid(t) { throw WebUIError(.badRequest, "Not a tag: \(t)") }
        guard chain.count >= 2, Set(chain).count == chain.count else {
            throw WebUIError(.badRequest, "A promotion names at least two distinct tags.")
        }
        var expect: [String: BlobDigest] = [:]
        if let raw = r.form["expect"], let eq = raw.firstIndex(of: "=") {
            let tag = String(raw[..<eq])
            guard let d = BlobDigest(String(raw[raw.index(after: eq)...])) else { throw WebUIError(.badRequest, "Bad expected digest.") }
            if chain.first == tag { expect[tag] = d }
        }
        let repoURL = uiRepoURL(name)
        guard r.form["confirm"] == "1" else {
            let store = self.store
            let current = try await ioRead(.list) { try chain.map { try store.manifest(repository: name, tag: $0)?.digest } }
            guard let first = current[0] else { throw WebUIError(.notFound, "Tag \(chain[0]) does not exist.") }
            var summary = "<table id=\"promotion-plan\"><thead><tr><th>tag</th><th>now</th><th>after</th></tr></thead><tbody>"
            for (i, t) in chain.enumerated() {
                let after = i == 0 ? current[0] : current[i - 1]
                summary += "<tr><td>\(HTML.text(t))</td><td>\(current[i].map { HTML.digest($0.description) } ?? "–")</td>"
                    + "<td>\(after.map { HTML.digest($0.description) } ?? "unchanged")</td></tr>"
            }
            summary += "</tbody></table>"
            let expectField = "\(chain[0])=\(expect[chain[0]] ?? first)"
            return uiConfirm(r, name: name, title: "Promote \(chain.joined(separator: " → "))?", summary: summary,
                             action: "\(repoURL)/-/promote", fields: [("chain", chain.joined(separator: " ")), ("expect", expectField)],
                             button: "Yes, promote")
        }
        let request = uiAPIRequest(r, .tagPromote(name: name))
        _ = try await promote(request, name: name, chain: chain, expect: expect)
        return uiRedirect("\(repoURL)/-/history/\(HTML.component(chain[1]))")
    }

    func uiRollback(_ r: WebUIRequest, name: String, tag: String) async throws -> HTTPResponse {
        try uiRequireMove(r, name)
        guard Tag.isValid(tag) else { throw WebUIError(.badRequest, "Not a tag.") }
        guard let to = r.form["to"].flatMap(BlobDigest.init) else { throw WebUIError(.badRequest, "Name the digest to roll back to.") }
        let repoURL = uiRepoURL(name)
        guard r.form["confirm"] == "1" else {
            let store = self.store
            let current = try await ioRead(.list) { try store.manifest(repository: name, tag: tag)?.digest }
            let summary = "<p>Point <b>\(HTML.text(tag))</b> from \(current.map { HTML.digest($0.description) } ?? "nothing") "
                + "back to \(HTML.digest(to.description))?</p>"
            return uiConfirm(r, name: name, title: "Roll back \(tag)?", summary: summary,
                             action: "\(repoURL)/-/rollback/\(HTML.component(tag))", fields: [("to", to.description)],
                             button: "Yes, roll back")
        }
        _ = try await rollback(uiAPIRequest(r, .tagRollback(name: name, tag: tag)), name: name, tag: tag, steps: nil, to: to)
        return uiRedirect("\(repoURL)/-/history/\(HTML.component(tag))")
    }

    func uiDelete(_ r: WebUIRequest, name: String, digest raw: String) async throws -> HTTPResponse {
        if modes.readOnly { throw WebUIError(.methodNotAllowed, "The registry is in read-only mode.") }
        guard modes.deleteEnabled else { throw WebUIError(.methodNotAllowed, "Deletes are disabled (storage.delete.enabled).") }
        guard r.viewer.may(["delete"], name) else { throw WebUIError(.forbidden, "You may not delete in this repository.") }
        guard let digest = BlobDigest(raw) else { throw WebUIError(.badRequest, "Not a digest.") }
        let repoURL = uiRepoURL(name)
        guard r.form["confirm"] == "1" else {
            let summary = "<p>Delete manifest \(HTML.digest(digest.description)) from <b>\(HTML.text(name))</b>, with every tag "
                + "that names it? Its blobs go once nothing else references them.</p>"
            return uiConfirm(r, name: name, title: "Delete manifest?", summary: summary,
                             action: "\(repoURL)/-/delete/\(digest)", fields: [], button: "Yes, delete")
        }
        try await deleteManifest(uiAPIRequest(r, .manifest(name: name, reference: digest.description)), name: name, digest: digest)
        return uiRedirect(repoURL)
    }
}
