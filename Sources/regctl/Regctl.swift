// regctl: Berth's one binary.
//
//   regctl serve [config.yml]                     serve the registry
//   regctl garbage-collect [--dry-run] ... config collect garbage offline (distribution's flags)
//
// It parses configuration and wires the layers together; no storage or HTTP
// logic lives here.

import ArgumentParser

@main
struct Regctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "regctl",
        abstract: "Berth: an OCI container image registry with a packed, crash-safe store.",
        discussion: """
            Configuration is distribution's config.yml format (registry:3), with \
            REGISTRY_* environment variables overriding keys the same way. Without \
            a config file, `regctl serve` listens on :5000 with storage in ./data.
            """,
        version: "0.1.0",
        subcommands: [Serve.self, GarbageCollect.self, Fsck.self, Compact.self]
    )
}

/// A fatal operator-facing error: printed as "Error: <message>", exit code 1
/// (ArgumentParser's ValidationError would also print usage, which misleads
/// when the problem is in config.yml).
struct RegctlError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
