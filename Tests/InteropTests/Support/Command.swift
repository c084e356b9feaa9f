import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a finished child process left behind.
struct CommandResult {
    let status: Int32
    let stdout: Data
    let stderr: String

    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    var succeeded: Bool { status == 0 }
}

/// Runs external tools (skopeo, tar, gzip, sha256sum, curl, python3).
///
/// Output goes to temporary files rather than pipes, so a chatty child can
/// never block on a full pipe while we wait for it to exit.
enum Command {
    /// Absolute path of `name` on PATH (or `name` itself when it is a path).
    static func locate(_ name: String) -> String? {
        let fm = FileManager.default
        if name.contains("/") { return fm.isExecutableFile(atPath: name) ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if fm.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// A tool the interop suite needs; fails with the package that provides it.
    static func require(_ name: String, package: String) throws -> String {
        guard let path = locate(name) else {
            throw InteropError(
                "`\(name)` not found on PATH: install the \(package) package (`make test-deps` does)")
        }
        return path
    }

    @discardableResult
    static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String]? = nil,
        directory: URL? = nil,
        stdin: Data? = nil
    ) throws -> CommandResult {
        guard let exe = locate(executable) else {
            throw InteropError("`\(executable)` not found on PATH")
        }
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("berth-cmd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout")
        let errURL = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        defer {
            try? out.close()
            try? err.close()
        }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: exe)
        process.arguments = arguments
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        if let directory { process.currentDirectoryURL = directory }
        process.standardOutput = out
        process.standardError = err
        if let stdin {
            let inURL = scratch.appendingPathComponent("stdin")
            try stdin.write(to: inURL)
            process.standardInput = try FileHandle(forReadingFrom: inURL)
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        try process.run()
        process.waitUntilExit()
        return CommandResult(
            status: process.terminationStatus,
            stdout: (try? Data(contentsOf: outURL)) ?? Data(),
            stderr: String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self))
    }

    /// Runs and throws unless the exit status is 0; the error carries stderr.
    @discardableResult
    static func check(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String]? = nil,
        directory: URL? = nil,
        stdin: Data? = nil
    ) throws -> CommandResult {
        let result = try run(executable, arguments, environment: environment, directory: directory, stdin: stdin)
        guard result.succeeded else {
            throw InteropError(
                "\(executable) \(arguments.joined(separator: " ")) exited \(result.status):\n"
                    + result.stderr + result.stdoutText)
        }
        return result
    }
}
