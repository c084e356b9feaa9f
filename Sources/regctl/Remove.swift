// `regctl rm REPO:TAG | REPO@DIGEST | REPO` against a running Berth: deletes
// a tag (the manifest stays, untagged), a manifest with every tag on it, or
// every tagged manifest of a repository (by digest; untagged manifests are
// left to the untagged policy). Needs `storage.delete.enabled` on the server.

import ArgumentParser
import Foundation

struct Remove: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Delete a tag, a manifest, or every tagged manifest of a repository (a running Berth).")
    @Argument(help: "REPO:TAG, REPO@DIGEST, or REPO.")
    var reference: String
    @OptionGroup var connection: ServerConnection

    func run() throws {
        let client = try connection.client()
        let (repository, ref) = Self.split(reference)
        var targets: [String] = []
        if let ref {
            targets = [ref]
        } else {
            // Every tag's digest, once (tags sharing a manifest go with it).
            var seen = Set<String>()
            for tag in try Listing.tags(client, repository) {
                let head = try client.send(.HEAD, "/v2/\(repository)/manifests/\(tag)", headers: [("Accept", Listing.manifestTypes)])
                if let d = head.headers.first(name: "Docker-Content-Digest"), seen.insert(d).inserted { targets.append(d) }
            }
        }
        var deleted: [String] = []
        for target in targets {
            let r = try client.send(.DELETE, "/v2/\(repository)/manifests/\(target)")
            try ServerConnection.finish(r, json: false) { _ in deleted.append(target) }
        }
        if connection.json {
            let data = try JSONSerialization.data(withJSONObject: ["repository": repository, "deleted": deleted], options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            for d in deleted { print("deleted \(repository)\(d.hasPrefix("sha") ? "@" : ":")\(d)") }
        }
    }

    /// `repo:tag` (the last `:` after the last `/`), `repo@digest`, or `repo`.
    static func split(_ s: String) -> (String, String?) {
        if let at = s.firstIndex(of: "@") { return (String(s[..<at]), String(s[s.index(after: at)...])) }
        let lastSlash = s.lastIndex(of: "/") ?? s.startIndex
        if let colon = s[lastSlash...].lastIndex(of: ":") { return (String(s[..<colon]), String(s[s.index(after: colon)...])) }
        return (s, nil)
    }
}
