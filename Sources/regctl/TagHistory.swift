// `regctl tag history` and `regctl tag rollback`: clients of
// `GET /v2/<name>/_berth/tags/<tag>/history` and `POST …/rollback`
// (docs/EXTENSIONS.md). History follows the server's `Link` pages until
// `--limit` entries are printed.

import ArgumentParser
import Foundation

extension TagCommand {
    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Where a tag pointed, newest first: when, by whom, and how it moved.")
        @Argument(help: "Repository.")
        var repository: String
        @Argument(help: "Tag.")
        var tag: String
        @Option(help: "Print at most this many entries (default: all the server keeps).")
        var limit: Int?
        @OptionGroup var connection: Connection

        func run() throws {
            let client = try connection.client()
            var entries: [[String: Any]] = []
            var path: String? = "/v2/\(repository)/_berth/tags/\(tag)/history?n=\(min(limit ?? 100, 100))"
            while let p = path, limit.map({ entries.count < $0 }) ?? true {
                let r = try client.send(.GET, p)
                var page: [[String: Any]] = []
                try ServerConnection.finish(r, json: false) { object in page = object["history"] as? [[String: Any]] ?? [] }
                entries += page
                path = RegistryClient.nextLink(r)
            }
            if let limit, entries.count > limit { entries.removeLast(entries.count - limit) }
            if connection.json {
                let data = try JSONSerialization.data(withJSONObject: ["tag": tag, "history": entries], options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
                return
            }
            print("AT                    ACTION    BY            DIGEST")
            for e in entries {
                let at = e["at"] as? String ?? ""
                let action = e["action"] as? String ?? ""
                let by = e["by"] as? String ?? "-"
                print(at.padding(toLength: 22, withPad: " ", startingAt: 0) + action.padding(toLength: 10, withPad: " ", startingAt: 0)
                      + by.padding(toLength: 14, withPad: " ", startingAt: 0) + (e["digest"] as? String ?? ""))
            }
        }
    }

    struct Rollback: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Point a tag back at an earlier entry of its history.",
            discussion: """
                --steps N (default 1) goes N positions back (for a deleted tag, step 1 \
                restores the digest it had); --to DIGEST picks an entry by digest. The \
                move is recorded in the history as a rollback.
                """)
        @Argument(help: "Repository.")
        var repository: String
        @Argument(help: "Tag.")
        var tag: String
        @Option(help: "Positions back in the tag's history.")
        var steps: Int?
        @Option(help: "A digest the tag's history names.")
        var to: String?
        @OptionGroup var connection: Connection

        func validate() throws {
            if steps != nil && to != nil { throw ValidationError("give --steps or --to, not both") }
        }

        func run() throws {
            var body: [String: Any] = [:]
            if let steps { body["steps"] = steps }
            if let to { body["to"] = to }
            let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
            let r = try connection.client().send(.POST, "/v2/\(repository)/_berth/tags/\(tag)/rollback",
                                                 headers: [("Content-Type", "application/json")], body: .bytes(Array(data)))
            try ServerConnection.finish(r, json: connection.json) { object in
                let previous = object["previous"] as? String ?? "(none)"
                print("\(tag)  \(previous) -> \(object["digest"] as? String ?? "")")
            }
        }
    }
}
