// `regctl tag promote REPO TAG TAG [TAG...] [--expect TAG=DIGEST]...`,
// `regctl tag history REPO TAG [--limit N]` and
// `regctl tag rollback REPO TAG [--steps N | --to DIGEST]` — the
// client of Berth's tag extension (docs/EXTENSIONS.md) against a running
// server: `--url` (or BERTH_URL; default http://127.0.0.1:5000), HTTP Basic
// credentials from --username / BERTH_USERNAME and BERTH_PASSWORD, human
// output or the server's JSON with --json. Exit 0 on success, 1 when the
// server refused (the OCI error's code and message on stderr).

import ArgumentParser
import Foundation

struct TagCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tag",
        abstract: "Move tags on a running Berth: promotion, history, rollback.",
        subcommands: [Promote.self, History.self, Rollback.self]
    )

    typealias Connection = ServerConnection

    struct Promote: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Shift a chain of tags in one transaction: each tag takes the digest the one before it had.",
            discussion: """
                `regctl tag promote app beta latest archive` sets archive to latest's \
                digest and latest to beta's, together or not at all. --expect TAG=DIGEST \
                (repeatable) makes it conditional: when a named tag points elsewhere, the \
                server answers 409 TAG_CONFLICT and nothing moves.
                """
        )
        @Argument(help: "Repository.")
        var repository: String
        @Argument(help: "The chain, first to last (at least two tags).")
        var chain: [String]
        @Option(name: .customLong("expect"), help: "TAG=DIGEST: only if TAG points at DIGEST (repeatable).")
        var expectations: [String] = []
        @OptionGroup var connection: Connection

        func run() throws {
            var expect: [String: String] = [:]
            for e in expectations {
                guard let eq = e.firstIndex(of: "=") else { throw ValidationError("--expect takes TAG=DIGEST, not \(e)") }
                expect[String(e[..<eq])] = String(e[e.index(after: eq)...])
            }
            let body = try JSONSerialization.data(withJSONObject: ["chain": chain, "expect": expect], options: [.sortedKeys])
            let client = try connection.client()
            let r = try client.send(.POST, "/v2/\(repository)/_berth/tags/promote",
                                    headers: [("Content-Type", "application/json")], body: .bytes(Array(body)))
            try ServerConnection.finish(r, json: connection.json) { object in
                let tags = object["tags"] as? [String: String] ?? [:]
                let width = chain.map(\.count).max() ?? 0
                for t in chain {
                    print(t.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + (tags[t] ?? "(none)"))
                }
            }
        }
    }
}
