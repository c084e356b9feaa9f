import BerthTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One registry server process on 127.0.0.1 with its own temporary storage
/// root, configured the way distribution is: `REGISTRY_*` environment.
///
/// The tests target `regctl serve`. Setting `BERTH_INTEROP_SERVER=docker-registry`
/// runs the same tests against Debian's distribution binary instead, which is
/// how the harness itself is validated against a reference implementation.
final class RegistryProcess {
    enum Kind: String {
        case regctl
        case dockerRegistry = "docker-registry"

        /// The server under test: regctl unless the environment says otherwise.
        static var underTest: Kind {
            let name = ProcessInfo.processInfo.environment["BERTH_INTEROP_SERVER"] ?? "regctl"
            return Kind(rawValue: name) ?? .regctl
        }
    }

    let kind: Kind
    let port: Int
    /// Scratch directory of this server: storage root, config, log.
    let directory: URL
    private let process: Process
    private let logURL: URL
    private let ownsStorage: Bool
    private var stopped = false
    /// Set by `stop()` when SIGTERM did not end the server within 5 s.
    private(set) var neededSIGKILL = false
    /// Exit status after `stop()`.
    var terminationStatus: Int32 { process.terminationStatus }

    /// `127.0.0.1:<port>`, what clients put in front of a repository name.
    var host: String { "127.0.0.1:\(port)" }
    var baseURL: String { "\(tlsCA == nil ? "http" : "https")://\(host)" }
    /// The CA that signed the server's certificate when it serves TLS.
    private(set) var tlsCA: String?

    private init(kind: Kind, port: Int, directory: URL, process: Process, logURL: URL, ownsStorage: Bool) {
        self.ownsStorage = ownsStorage
        self.kind = kind
        self.port = port
        self.directory = directory
        self.process = process
        self.logURL = logURL
    }

    deinit { stop() }

    /// Starts a server and waits until `GET /v2/` answers 200.
    ///
    /// With `storageRoot` the server uses that directory and leaves it in
    /// place on `stop()` (for restart tests); otherwise the root is private.
    ///
    /// `environment` adds or overrides `REGISTRY_*` settings.
    static func start(
        _ kind: Kind = .underTest, storageRoot: URL? = nil, environment: [String: String] = [:],
        readinessTimeout: TimeInterval = 15, tlsCA: String? = nil, configFile: URL? = nil, avoidingPort: Int? = nil
    ) throws -> RegistryProcess {
        let fm = FileManager.default
        let directory = fm.temporaryDirectory.appendingPathComponent("berth-interoptests-\(UUID().uuidString)")
        let root = storageRoot ?? directory.appendingPathComponent("storage")
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        try fm.createDirectory(at: root, withIntermediateDirectories: true)
        // A restart never reuses the previous port: a client still holding the
        // old endpoint must find nothing there.
        var port = try Loopback.freePort()
        while port == avoidingPort { port = try Loopback.freePort() }
        var env = [
            "REGISTRY_HTTP_ADDR": "127.0.0.1:\(port)",
            "REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY": root.path,
            "REGISTRY_LOG_LEVEL": "info",
        ].merging(environment) { $1 }
        // With a config file, the file decides deletes (reload tests flip it).
        if configFile == nil && env["REGISTRY_STORAGE_DELETE_ENABLED"] == nil {
            env["REGISTRY_STORAGE_DELETE_ENABLED"] = "true"
        }

        let executable: URL
        var arguments = ["serve"]
        switch kind {
        case .regctl:
            executable = try regctlExecutable()
            if let configFile { arguments.append(configFile.path) }
        case .dockerRegistry:
            executable = URL(fileURLWithPath: try Command.require("docker-registry", package: "docker-registry"))
            // distribution needs a config file; the environment still overrides it.
            // distribution 2.8 panics on the read-only key given by environment
            // (it wants a YAML map there), so that one goes into the file.
            let readOnly = env.removeValue(forKey: "REGISTRY_STORAGE_MAINTENANCE_READONLY_ENABLED") == "true"
            let config = directory.appendingPathComponent("config.yml")
            try """
                version: 0.1
                storage:
                  filesystem:
                    rootdirectory: \(root.path)
                  delete:
                    enabled: true
                  maintenance:
                    readonly:
                      enabled: \(readOnly)
                http:
                  addr: 127.0.0.1:\(port)

                """.write(to: config, atomically: true, encoding: .utf8)
            arguments.append(config.path)
        }

        let logURL = directory.appendingPathComponent("server.log")
        _ = fm.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        process.currentDirectoryURL = directory
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? log.close()

        let server = RegistryProcess(
            kind: kind, port: port, directory: directory, process: process, logURL: logURL,
            ownsStorage: storageRoot == nil)
        server.tlsCA = tlsCA
        let probeOptions = tlsCA.map { ["--cacert", $0] } ?? []
        let deadline = Date().addingTimeInterval(readinessTimeout)
        while Date() < deadline {
            if !process.isRunning {
                let message = "\(kind.rawValue) exited with status \(process.terminationStatus) before it was ready:\n\(server.log)"
                server.stop()
                throw InteropError(message)
            }
            // 401 is ready too: the registry answers, it wants a login.
            if let response = try? HTTPProbe.request(url: "\(server.baseURL)/v2/", timeout: 2, curlOptions: probeOptions),
                response.status == 200 || response.status == 401
            {
                return server
            }
            usleep(100_000)
        }
        let message = "\(kind.rawValue) did not answer 200 on \(server.baseURL)/v2/ within \(Int(readinessTimeout)) s:\n\(server.log)"
        server.stop()
        throw InteropError(message)
    }

    /// Sends a signal to the server process (SIGHUP: reload the configuration).
    func signal(_ sig: Int32) {
        kill(process.processIdentifier, sig)
    }

    /// SIGKILL, as a crash: no shutdown, nothing flushed. Returns once the
    /// process is reaped; `stop()` then only removes the scratch directory.
    func kill9() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// The server's stdout and stderr so far (for failure messages).
    var log: String {
        String(decoding: (try? Data(contentsOf: logURL)) ?? Data(), as: UTF8.self)
    }

    /// Access-log lines of 5xx responses. Clients retry around some server
    /// errors (skopeo does), so a passing client run can still hide one.
    var serverErrorLines: [String] {
        log.split(whereSeparator: \.isNewline).map(String.init).filter {
            $0.range(of: #"status=5[0-9][0-9]\b"#, options: .regularExpression) != nil
        }
    }

    /// SIGTERM, SIGKILL after 5 s, then the scratch directory goes (a storage
    /// root passed to `start` stays). Idempotent.
    func stop() {
        guard !stopped else { return }
        stopped = true
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning {
                neededSIGKILL = true
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// `regctl` is built next to the test bundle; fall back to the package's
    /// `.build/debug` when the runner's argv[0] says nothing useful.
    static func regctlExecutable() throws -> URL {
        let fm = FileManager.default
        var candidates: [URL] = []
        let argv0 = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = argv0.deletingLastPathComponent()
        // …/debug/BerthPackageTests.xctest[/Contents/MacOS/BerthPackageTests]
        for _ in 0..<4 {
            candidates.append(dir.appendingPathComponent("regctl"))
            dir = dir.deletingLastPathComponent()
        }
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // Support
            .deletingLastPathComponent()  // InteropTests
            .deletingLastPathComponent()  // Tests
            .deletingLastPathComponent()
        candidates.append(packageRoot.appendingPathComponent(".build/debug/regctl"))
        for candidate in candidates where fm.isExecutableFile(atPath: candidate.path) {
            return candidate
        }
        throw InteropError(
            "regctl executable not found (looked at \(candidates.map(\.path).joined(separator: ", "))); "
                + "build it with `swift build --build-tests`")
    }
}

/// Starts a server for the duration of `body` and always stops it.
func withRegistry<T>(
    _ kind: RegistryProcess.Kind = .underTest, storageRoot: URL? = nil, environment: [String: String] = [:],
    _ body: (RegistryProcess) throws -> T
) throws -> T {
    let server = try RegistryProcess.start(kind, storageRoot: storageRoot, environment: environment)
    defer { server.stop() }
    do {
        let result = try body(server)
        let errors = server.serverErrorLines
        #expect(errors.isEmpty, "\(server.kind.rawValue) answered 5xx:\n\(errors.prefix(10).joined(separator: "\n"))")
        return result
    } catch {
        throw InteropError("\(error)\n--- \(server.kind.rawValue) log (tail) ---\n\(String(server.log.suffix(4000)))")
    }
}
