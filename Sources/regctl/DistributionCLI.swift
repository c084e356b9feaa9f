// The binary started as `registry` (the symlink `make build` makes, and
// /bin/registry in an image) is distribution's command line, so that
// `registry serve /etc/distribution/config.yml` and
// `registry garbage-collect --delete-untagged=true CONFIG` from compose files,
// cron jobs and runbooks work unchanged. It copies the behaviour of
// distribution's cobra root (registry/root.go, registry/registry.go):
//
//   registry [-v|--version] [-h|--help]   no flag: usage on stderr, exit 0
//   registry serve CONFIG                 CONFIG or REGISTRY_CONFIGURATION_PATH
//   registry garbage-collect [-d] [-m] [-q] CONFIG
//   registry help [command]               help on stdout, exit 0
//
// Flags are pflag's (PflagBool.swift), interspersed with arguments.
// Exit status: 0 on success, help and version; 1 when the configuration
// cannot be resolved or read ("configuration error: …" and the command's
// usage on stderr), when serving fails, when collection fails ("failed to
// garbage collect: …"), and on usage errors ("Error: …" as cobra prints it).
// One deliberate difference: distribution's main ignores the error cobra
// returns for a usage error (unknown flag or command, `--dry-run=maybe`) and
// exits 0, so a mistyped cron job looks like a success; Berth exits 1.
// `registry --version` prints `<argv[0]> Berth <version>`, distribution's
// `<argv[0]> <module> <version>` shape with Berth's package name. There is no
// `completion` command. Everything else Berth has stays under `regctl`.

import Foundation
import RegistryConfig

enum DistributionCLI {
    /// Usage errors; distribution exits 0 for these (see above).
    static let usageErrorStatus: Int32 = 1

    struct Command {
        let name: String
        let use: String
        let short: String
        let long: String
        let flags: [(flag: PflagBool.Flag, usage: String)]
    }

    static let root = Command(
        name: "registry", use: "registry",
        short: "Berth, started as distribution's `registry`",
        long: "Berth: an OCI container image registry, started as distribution's `registry` command line. "
            + "`regctl` (the same binary) has Berth's other commands.",
        flags: [(.init("help", "h"), "help for registry"), (.init("version", "v"), "show the version and exit")])

    static let serve = Command(
        name: "serve", use: "serve <config>",
        short: "serve the registry from a distribution config.yml",
        long: "serve the registry from a distribution config.yml (or REGISTRY_CONFIGURATION_PATH); "
            + "REGISTRY_* variables override its keys.",
        flags: [(.init("help", "h"), "help for serve")])

    static let garbageCollect = Command(
        name: "garbage-collect", use: "garbage-collect <config>",
        short: "delete blobs no manifest references (the registry must be stopped)",
        long: "delete blobs no manifest references, and with --delete-untagged the manifests no tag keeps; "
            + "the registry must be stopped (`regctl serve` also collects garbage online).",
        flags: [
            (.init("dry-run", "d"), "report what would be deleted; delete nothing"),
            (.init("delete-untagged", "m"), "delete manifests that no tag references"),
            (.init("quiet", "q"), "print nothing"),
            (.init("help", "h"), "help for garbage-collect"),
        ])

    static let help = Command(name: "help", use: "help [command]", short: "Help about any command",
                              long: "Help provides help for any command in the application.\n"
                                  + "Simply type registry help [path to command] for full details.",
                              flags: [(.init("help", "h"), "help for help")])

    static let commands = [garbageCollect, help, serve]

    // MARK: Dispatch

    static func main(_ argv: [String]) async -> Never {
        let args = Array(argv.dropFirst())
        // cobra's Find: the first argument that is not a flag names the command.
        let candidate = args.prefix { $0 != "--" }.firstIndex { !$0.hasPrefix("-") || $0 == "-" }
        guard let index = candidate else { exit(runRoot(args, program: argv.first ?? "registry")) }
        var rest = args
        let name = rest.remove(at: index)
        switch name {
        case serve.name: exit(await runServe(rest))
        case garbageCollect.name: exit(runGarbageCollect(rest))
        case help.name: exit(runHelp(rest))
        default:
            stderr("Error: unknown command \(goQuote(name)) for \"registry\"\(suggestions(for: name))\n"
                + "Run 'registry --help' for usage.\n")
            exit(usageErrorStatus)
        }
    }

    static func runRoot(_ args: [String], program: String) -> Int32 {
        guard let parsed = parse(args, root) else { return usageErrorStatus }
        if parsed.values["help"] == true {
            print(helpText(root), terminator: "")
        } else if parsed.values["version"] == true {
            print("\(program) Berth \(Regctl.version)")
        } else {
            stderr(usage(root))
        }
        return 0
    }

    static func runHelp(_ args: [String]) -> Int32 {
        guard let parsed = parse(args, help) else { return usageErrorStatus }
        if parsed.values["help"] == true { print(helpText(help), terminator: ""); return 0 }
        guard let topic = parsed.rest.first else { print(helpText(root), terminator: ""); return 0 }
        guard let command = commands.first(where: { $0.name == topic }) else {
            stderr("Unknown help topic [`\(parsed.rest.joined(separator: " "))`]\n" + usage(root))
            return 0
        }
        print(helpText(command), terminator: "")
        return 0
    }

    static func runServe(_ args: [String]) async -> Int32 {
        guard let parsed = parse(args, serve) else { return usageErrorStatus }
        if parsed.values["help"] == true { print(helpText(serve), terminator: ""); return 0 }
        guard let (path, settings) = configuration(parsed.rest, for: serve) else { return 1 }
        do {
            try await Serve.parse(["--", path]).serve(settings)
            return 0
        } catch {
            stderr("Error: \(error)\n")
            return 1
        }
    }

    static func runGarbageCollect(_ args: [String]) -> Int32 {
        guard let parsed = parse(args, garbageCollect) else { return usageErrorStatus }
        if parsed.values["help"] == true { print(helpText(garbageCollect), terminator: ""); return 0 }
        guard let (path, settings) = configuration(parsed.rest, for: garbageCollect) else { return 1 }
        let set = GarbageCollect.boolFlags.filter { parsed.values[$0.name] == true }.map { "--\($0.name)" }
        do {
            try GarbageCollect.parse(set + ["--", path]).collect(settings)
            return 0
        } catch {
            stderr("failed to garbage collect: \(error)\n")
            return 1
        }
    }

    // MARK: Pieces

    /// pflag over `command`'s flags; on an error prints cobra's lines and returns nil.
    static func parse(_ args: [String], _ command: Command) -> PflagBool.Parsed? {
        do {
            return try PflagBool.parse(args, flags: command.flags.map(\.flag), strict: true)
        } catch {
            // cobra: "Error: <err>", then the usage and an empty line, on stderr.
            stderr("Error: \(error)\n" + usage(command) + "\n")
            return nil
        }
    }

    /// distribution's resolveConfiguration: the first argument, else
    /// REGISTRY_CONFIGURATION_PATH; REGISTRY_* overrides applied.
    static func configuration(_ args: [String], for command: Command) -> (String, RegistryConfiguration)? {
        let environment = ProcessInfo.processInfo.environment
        do {
            guard let path = args.first ?? environment["REGISTRY_CONFIGURATION_PATH"].flatMap({ $0.isEmpty ? nil : $0 }) else {
                throw RegctlError("configuration path unspecified")
            }
            return (path, try RegistryConfiguration.load(path: path, environment: environment))
        } catch {
            stderr("configuration error: \(error)\n" + usage(command))
            return nil
        }
    }

    static func stderr(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    // MARK: cobra's default usage and help templates

    static func usage(_ c: Command) -> String {
        let path = c.name == root.name ? "registry" : "registry \(c.name)"
        var out = "Usage:\n"
        if c.name == root.name {
            out += "  registry [flags]\n  registry [command]\n\nAvailable Commands:\n"
            let width = commands.map(\.name.count).max() ?? 0
            for s in commands { out += "  \(s.name.padding(toLength: width, withPad: " ", startingAt: 0)) \(s.short)\n" }
        } else {
            out += "  registry \(c.use) [flags]\n"
        }
        out += "\nFlags:\n" + flagUsages(c.flags)
        if c.name == root.name { out += "\nUse \"\(path) [command] --help\" for more information about a command.\n" }
        return out
    }

    static func helpText(_ c: Command) -> String { c.long + "\n\n" + usage(c) }

    /// pflag's FlagUsages: sorted by name, descriptions in one column.
    static func flagUsages(_ flags: [(flag: PflagBool.Flag, usage: String)]) -> String {
        let sorted = flags.sorted { $0.flag.name < $1.flag.name }
        let names = sorted.map { f in f.flag.shorthand.map { "  -\($0), --\(f.flag.name)" } ?? "      --\(f.flag.name)" }
        let width = (names.map(\.count).max() ?? 0) + 3
        return zip(names, sorted).map { n, f in n.padding(toLength: width, withPad: " ", startingAt: 0) + f.usage + "\n" }.joined()
    }

    /// cobra's "Did you mean this?": commands within Levenshtein distance 2
    /// (ignoring case) or that start with what was typed.
    static func suggestions(for typed: String) -> String {
        let t = typed.lowercased()
        let near = [garbageCollect, serve].map(\.name).filter { levenshtein(t, $0) <= 2 || $0.hasPrefix(t) }
        return near.isEmpty ? "" : "\n\nDid you mean this?\n" + near.map { "\t\($0)\n" }.joined()
    }

    static func levenshtein(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for (i, ca) in a.enumerated() {
            var diagonal = row[0]
            row[0] = i + 1
            for (j, cb) in b.enumerated() {
                let above = row[j + 1]
                row[j + 1] = min(above + 1, row[j] + 1, diagonal + (ca == cb ? 0 : 1))
                diagonal = above
            }
        }
        return row[b.count]
    }
}
