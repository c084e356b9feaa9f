// `regctl du [REPO] [--json]`: the usage extension (docs/EXTENSIONS.md) of a
// running Berth. Per repository: bytes referenced, unique (what deleting it
// would free) and shared; for the registry also bytes on disk, dead bytes
// awaiting compaction, what deduplication saves and the collector's backlog.

import ArgumentParser
import Foundation

struct DiskUsage: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "du",
        abstract: "Show usage that understands deduplication (a running Berth).")
    @Argument(help: "Repository (default: every repository and the registry's totals).")
    var repository: String?
    @OptionGroup var connection: ServerConnection

    func run() throws {
        let client = try connection.client()
        let r = try client.send(.GET, repository.map { "/v2/\($0)/_berth/usage" } ?? "/v2/_berth/usage")
        try ServerConnection.finish(r, json: connection.json) { object in
            let rows = repository == nil ? object["repositories"] as? [[String: Any]] ?? [] : [object]
            let width = max(10, rows.map { ($0["name"] as? String ?? $0["repository"] as? String ?? "").count }.max() ?? 0)
            print("REPOSITORY".padding(toLength: width, withPad: " ", startingAt: 0) + "  REFERENCED      UNIQUE      SHARED   BLOBS")
            for row in rows {
                let name = row["name"] as? String ?? row["repository"] as? String ?? ""
                print(name.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                      + [row["referencedBytes"], row["uniqueBytes"], row["sharedBytes"]].map { ByteCount.column($0) }.joined(separator: "  ")
                      + "  " + String(describing: row["blobs"] ?? 0).leftPadded(6))
            }
            guard repository == nil else { return }
            print("")
            print("referenced (each blob once)  \(ByteCount.human(object["referencedBytes"]))  in \(object["blobs"] ?? 0) blobs")
            print("saved by deduplication       \(ByteCount.human(object["dedupSavedBytes"]))")
            print("stored (pack files)          \(ByteCount.human(object["storedBytes"]))")
            print("dead, awaiting compaction    \(ByteCount.human(object["deadBytes"]))")
            let backlog = (object["gcBacklog"] as? [String: Any])?["reviewItems"] ?? 0
            print("GC backlog                   \(backlog) review items")
        }
    }
}

/// Byte counts as people read them (decimal units, as docker prints sizes).
enum ByteCount {
    static func human(_ value: Any?) -> String {
        let n = (value as? NSNumber)?.uint64Value ?? 0
        if n < 1000 { return "\(n) B" }
        var v = Double(n)
        for unit in ["kB", "MB", "GB", "TB", "PB"] {
            v /= 1000
            if v < 1000 || unit == "PB" { return String(format: v < 10 ? "%.2f %@" : "%.1f %@", v, unit) }
        }
        return "\(n) B"
    }

    static func column(_ value: Any?) -> String { human(value).leftPadded(10) }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
