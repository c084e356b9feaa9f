// regctl: Berth's one binary, with two command lines chosen by the name it
// is started under (Entry.swift):
//
//   regctl serve [config.yml]                          serve the registry
//   regctl garbage-collect [-d] [-m] [-q] config.yml   collect garbage offline
//   regctl fsck [--verify-content] ... config.yml      check (and repair) the store
//   regctl compact [--min-dead-ratio R] config.yml     rewrite mostly-dead packs
//   regctl import [--url U] [--json] DIST_ROOT config.yml  import a distribution root
//   regctl db migrate up|down [N]|status config.yml    PostgreSQL schema (database:)
//
//   registry serve CONFIG | garbage-collect [flags] CONFIG | --version | help
//                           distribution's CLI, for scripts written for
//                           registry:3 (DistributionCLI.swift)
//
// Bool flags take distribution's (pflag's) grammar under both names:
// `--dry-run`, `--dry-run=false`, `--delete-untagged=true`, `-dm`
// (PflagBool.swift); `--dry-run false` makes `false` an argument, as in pflag.
// Usage errors under `regctl` exit 64 (EX_USAGE).
//
// It parses configuration and wires the layers together; no storage or HTTP
// logic lives here.

import ArgumentParser
import Foundation

struct Regctl: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "regctl",
        abstract: "Berth: an OCI container image registry with a packed, crash-safe store.",
        discussion: """
            Configuration is distribution's config.yml format (registry:3), with \
            REGISTRY_* environment variables overriding keys the same way. Without \
            a config file, `regctl serve` listens on :5000 with storage in ./data. \
            Started as `registry` (a symlink), the binary is distribution's command \
            line: `registry serve CONFIG`, `registry garbage-collect [flags] CONFIG`.
            """,
        version: version,
        subcommands: [Serve.self, GarbageCollect.self, Fsck.self, Compact.self, TagCommand.self, Import.self,
                      DiskUsage.self, Listing.self, Remove.self, DatabaseCommand.self]
    )

    /// Subcommands whose bool flags take pflag's grammar.
    static let boolFlags: [String: (command: ParsableCommand.Type, flags: [PflagBool.Flag])] = [
        "garbage-collect": (GarbageCollect.self, GarbageCollect.boolFlags),
        "fsck": (Fsck.self, Fsck.boolFlags),
        "import": (Import.self, [PflagBool.Flag("json")]),
    ]

    /// regctl's arguments (without argv[0]) with the subcommand's bool flags
    /// rewritten for ArgumentParser; a bad bool value is a usage error (64).
    static func normalized(_ args: [String]) -> [String] {
        guard let name = args.first, let entry = boolFlags[name] else { return args }
        do {
            return [name] + (try PflagBool.normalize(Array(args.dropFirst()), flags: entry.flags))
        } catch {
            FileHandle.standardError.write(Data("""
                Error: \(error)
                Usage: \(usageString(for: entry.command))
                  See 'regctl \(name) --help' for more information.

                """.utf8))
            exit(withError: ExitCode.validationFailure)
        }
    }
}

/// A fatal operator-facing error: printed as "Error: <message>", exit code 1
/// (ArgumentParser's ValidationError would also print usage, which misleads
/// when the problem is in config.yml).
struct RegctlError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
