// The binary started as `registry` (a symlink, as `make build` makes) is
// distribution's command line (Sources/regctl/DistributionCLI.swift):
// `registry --version`, `registry serve CONFIG`, `registry garbage-collect
// [flags] CONFIG`, `registry help`, cobra's usage and error lines, and
// distribution's exit codes (but 1, not distribution's 0, on usage errors).

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif
@testable import CASEngine

@Suite("registry: distribution's command line", .serialized)
struct DistributionCLITests {
    static let gcUsage = """
        Usage:
          registry garbage-collect <config> [flags]

        Flags:
          -m, --delete-untagged   delete manifests that no tag references
          -d, --dry-run           report what would be deleted; delete nothing
          -h, --help              help for garbage-collect
          -q, --quiet             print nothing

        """

    func registry(_ arguments: [String], environment: [String: String] = [:]) throws -> RegctlResult {
        try Regctl.run(arguments, environment: environment, name: "registry")
    }

    @Test func versionPrintsArgv0PackageAndVersion() throws {
        for flag in ["--version", "-v", "--version=true"] {
            let child = try Regctl.Child([flag], name: "registry")
            let r = child.wait()
            let argv0 = try #require(child.process.executableURL).path
            #expect(r.status == 0 && r.stdout == "\(argv0) Berth 0.1.0\n" && r.stderr.isEmpty, "\(flag)\n\(r)")
        }
        let regctl = try Regctl.run(["--version"])
        #expect(regctl.stdout == "0.1.0\n", "regctl keeps ArgumentParser's version\n\(regctl)")
    }

    @Test func rootWithoutACommandPrintsUsage() throws {
        let r = try registry([])
        #expect(r.status == 0 && r.stdout.isEmpty, "\(r)")
        #expect(r.stderr.hasPrefix("""
            Usage:
              registry [flags]
              registry [command]

            Available Commands:
              garbage-collect delete blobs no manifest references (the registry must be stopped)
              help            Help about any command
              serve           serve the registry from a distribution config.yml

            Flags:
              -h, --help      help for registry
              -v, --version   show the version and exit

            Use "registry [command] --help" for more information about a command.

            """), "\(r)")
        for help in [["help"], ["--help"], ["-h"]] {
            let h = try registry(help)
            #expect(h.status == 0 && h.stdout.hasSuffix(r.stderr) && h.stdout.hasPrefix("Berth: "), "\(help)\n\(h)")
        }
        let gcHelp = try registry(["help", "garbage-collect"])
        #expect(gcHelp.status == 0 && gcHelp.stdout.hasSuffix("\n\n" + Self.gcUsage), "\(gcHelp)")
        let flagHelp = try registry(["garbage-collect", "--help"])
        #expect(flagHelp.stdout == gcHelp.stdout, "\(flagHelp)")
    }

    @Test func garbageCollectWithDistributionsFlags() throws {
        let f = try StoreFixture()
        let i = try GarbageCollectCommandTests().populate(f)
        let dry = try registry(["garbage-collect", "--delete-untagged=true", "--dry-run=true", f.config])
        #expect(dry.status == 0, "\(dry)")
        let order = dry.lines.filter { $0.hasPrefix("blob eligible for deletion: ") }.map { String($0.dropFirst(28)) }
        #expect(dry.stdout == GarbageCollectCommandTests.expectedDryRun(i, order).joined(separator: "\n") + "\n", "\(dry)")
        let regctl = try Regctl.run(["garbage-collect", "-d", "-m", f.config])
        #expect(regctl.stdout == dry.stdout, "one collector under both names\n\(regctl)")

        // Flags after the argument (cobra intersperses), the path from the environment.
        let quiet = try registry(["garbage-collect", "-m", "-q"], environment: ["REGISTRY_CONFIGURATION_PATH": f.config])
        #expect(quiet.status == 0 && quiet.stdout.isEmpty, "\(quiet)")
        try f.with { (s: Store) throws in
            for d in [i.old, i.c1, i.l1, i.stray] { #expect(try s.stat(d) == nil, "\(d) survived") }
        }
    }

    @Test func configurationErrorsExitOneWithTheUsage() throws {
        let none = try registry(["garbage-collect", "-m"])
        #expect(none.status == 1 && none.stdout.isEmpty, "\(none)")
        #expect(none.stderr == "configuration error: configuration path unspecified\n" + Self.gcUsage, "\(none)")
        let missing = try registry(["garbage-collect", "/nonexistent/berth/config.yml"])
        #expect(missing.status == 1, "\(missing)")
        #expect(missing.stderr.hasPrefix("configuration error: cannot read configuration file /nonexistent/berth/config.yml"),
                "\(missing)")
        #expect(missing.stderr.hasSuffix(Self.gcUsage), "\(missing)")
        // Unlike `regctl serve`, distribution's serve wants a configuration
        // (a held lock makes the old behaviour, serving defaults, fail fast).
        let f = try StoreFixture()
        try f.with { _ in
            let serve = try registry(["serve"], environment: ["REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY": f.root,
                                                             "REGISTRY_HTTP_ADDR": "127.0.0.1:0"])
            #expect(serve.status == 1 && serve.stderr.hasPrefix("configuration error: configuration path unspecified\nUsage:\n  registry serve <config> [flags]\n"),
                    "\(serve)")
        }
    }

    @Test func usageErrorsPrintCobrasLines() throws {
        let f = try StoreFixture()
        let cases: [([String], String)] = [
            (["garbage-collect", "--dry-run=maybe", f.config],
             #"Error: invalid argument "maybe" for "-d, --dry-run" flag: strconv.ParseBool: parsing "maybe": invalid syntax"#),
            (["garbage-collect", "--delete-untaged", f.config], "Error: unknown flag: --delete-untaged"),
            (["garbage-collect", "-dx", f.config], "Error: unknown shorthand flag: 'x' in -dx"),
            (["garbage-collect", "---m", f.config], "Error: bad flag syntax: ---m"),
        ]
        for (args, message) in cases {
            let r = try registry(args)
            #expect(r.status == 1 && r.stdout.isEmpty, "\(args)\n\(r)")
            #expect(r.stderr == message + "\n" + Self.gcUsage + "\n", "\(args)\n\(r)")
        }
        let serveVersion = try registry(["serve", "--version", f.config])
        #expect(serveVersion.status == 1 && serveVersion.stderr.hasPrefix("Error: unknown flag: --version\nUsage:\n  registry serve <config> [flags]\n"),
                "--version is the root's flag only\n\(serveVersion)")
        let unknown = try registry(["fsck", f.config])
        #expect(unknown.status == 1 && unknown.stderr == "Error: unknown command \"fsck\" for \"registry\"\nRun 'registry --help' for usage.\n",
                "\(unknown)")
        let typo = try registry(["serv", f.config])
        #expect(typo.status == 1 && typo.stderr == """
            Error: unknown command "serv" for "registry"

            Did you mean this?
            \tserve

            Run 'registry --help' for usage.

            """, "\(typo)")
    }

    @Test func serveRunsTheConfiguration() throws {
        let f = try StoreFixture()
        // Its stderr through a pipe, read until the "serving" line (or EOF if
        // it exits): no polling.
        let process = Process()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("berth-registry-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        process.executableURL = try Regctl.link(named: "registry", in: dir)
        process.arguments = ["serve", f.config]
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("REGISTRY_") }
        env["REGISTRY_HTTP_ADDR"] = "127.0.0.1:0"
        process.environment = env
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        var log = ""
        while !log.contains("serving") {
            let chunk = err.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            log += String(decoding: chunk, as: UTF8.self)
        }
        #expect(log.contains("serving") && log.contains(f.root), "\(log)")
        // (Its graceful stop is RunningServerRefusalTests'; "serving" is
        // logged before the SIGTERM handler is installed.)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
