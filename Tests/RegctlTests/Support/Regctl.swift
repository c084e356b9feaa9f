// Runs the built `regctl` binary as operators do: a child process with a
// config.yml, its exit status, stdout and stderr.

import BerthTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

struct RegctlResult: CustomStringConvertible {
    let status: Int32
    let stdout: String
    let stderr: String

    var lines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty } }
    var description: String { "exit \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
}

enum Regctl {
    struct NotFound: Error, CustomStringConvertible { let description: String }

    /// `regctl` is built next to the test bundle (`swift build --build-tests`);
    /// the package's `.build/debug` is the fallback.
    static func executable() throws -> URL {
        var candidates: [URL] = []
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(dir.appendingPathComponent("regctl"))
            dir = dir.deletingLastPathComponent()
        }
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(packageRoot.appendingPathComponent(".build/debug/regctl"))
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw NotFound(description: "regctl not found (looked at \(candidates.map(\.path))); build with `swift build --build-tests`")
        }
        return found
    }

    /// `regctl serve config` on a free loopback port, once it logged
    /// "serving"; throws with its output when it did not start.
    static func serve(_ config: String, environment: [String: String] = [:]) throws -> (server: Child, url: String) {
        let port = try freePort()
        let server = try Child(["serve", config], environment: ["REGISTRY_HTTP_ADDR": "127.0.0.1:\(port)"].merging(environment) { $1 })
        // "serving" is logged before the listener binds: wait for both the
        // line and a connection the port accepts (a loaded machine has
        // shown the first request refused after the line).
        let deadline = Date().addingTimeInterval(60)
        while !(server.stderr.contains("serving") && accepts(port)), server.process.isRunning, Date() < deadline { usleep(50_000) }
        guard server.stderr.contains("serving"), server.process.isRunning, accepts(port) else {
            throw NotFound(description: "regctl serve did not start\n\(server.stop())")
        }
        return (server, "http://127.0.0.1:\(port)")
    }

    static func accepts(_ port: Int) -> Bool { Loopback.accepts(port) }

    static func freePort() throws -> Int { try Loopback.freePort() }

    /// A started child whose stdout and stderr go to files (never a pipe that can fill).
    final class Child {
        let process = Process()
        let out: URL, err: URL
        private let scratch: URL

        init(_ arguments: [String], environment: [String: String] = [:], name: String = "regctl") throws {
            scratch = FileManager.default.temporaryDirectory.appendingPathComponent("berth-regctl-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            out = scratch.appendingPathComponent("stdout")
            err = scratch.appendingPathComponent("stderr")
            _ = FileManager.default.createFile(atPath: out.path, contents: nil)
            _ = FileManager.default.createFile(atPath: err.path, contents: nil)
            process.executableURL = try name == "regctl" ? Regctl.executable() : Regctl.link(named: name, in: scratch)
            process.arguments = arguments
            // No REGISTRY_* from the test runner's environment leaks into the config.
            var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("REGISTRY_") }
            env.merge(environment) { $1 }
            process.environment = env
            process.standardOutput = try FileHandle(forWritingTo: out)
            process.standardError = try FileHandle(forWritingTo: err)
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }

        var stdout: String { (try? String(contentsOf: out, encoding: .utf8)) ?? "" }
        var stderr: String { (try? String(contentsOf: err, encoding: .utf8)) ?? "" }

        func wait() -> RegctlResult {
            process.waitUntilExit()
            return RegctlResult(status: process.terminationStatus, stdout: stdout, stderr: stderr)
        }

        /// SIGTERM (graceful shutdown), SIGKILL after 10 s; returns what it left.
        func stop() -> RegctlResult {
            if process.isRunning {
                process.terminate()
                let deadline = Date().addingTimeInterval(10)
                while process.isRunning && Date() < deadline { usleep(20_000) }
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            }
            return wait()
        }

        deinit {
            if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
            try? FileManager.default.removeItem(at: scratch)
        }
    }

    /// A symlink `<directory>/<name>` to the built binary (as `make build`
    /// links `registry`): argv[0] then ends in `name`.
    static func link(named name: String, in directory: URL) throws -> URL {
        let link = directory.appendingPathComponent(name)
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: executable())
        return link
    }

    /// Runs `regctl <arguments>` (or, with `name`, the binary under that name) to completion.
    static func run(_ arguments: [String], environment: [String: String] = [:], name: String = "regctl") throws -> RegctlResult {
        try Child(arguments, environment: environment, name: name).wait()
    }
}
