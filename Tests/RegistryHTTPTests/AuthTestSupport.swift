// Helpers for the auth tests: real htpasswd/openssl CLIs, a log capture, and
// a server whose logger the test controls (to check the access log path).

import CASEngine
import Foundation
import Logging
import NIOHTTP1
import Synchronization
import Testing
@testable import RegistryHTTP

enum AuthTools {
    /// Runs a CLI; returns stdout. Fails the test naming the package when absent.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String], package: String) throws -> String {
        guard let path = ["/usr/bin/\(tool)", "/usr/local/bin/\(tool)", "/bin/\(tool)"]
            .first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw FixtureError.unexpected("\(tool) not found: install \(package) (apt-get install \(package))")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw FixtureError.unexpected("\(tool) \(arguments.joined(separator: " ")) failed: \(String(decoding: errData, as: UTF8.self))")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// `htpasswd -B -b [-c] file user password` (apache2-utils), cost 5 for speed.
    static func htpasswd(_ file: String, _ user: String, _ password: String, create: Bool = false) throws {
        try run("htpasswd", (create ? ["-c"] : []) + ["-B", "-C", "5", "-b", file, user, password], package: "apache2-utils")
    }

    static func tempDir() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("berth-auth-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func basic(_ user: String, _ password: String) -> (String, String) {
        ("Authorization", "Basic " + Data("\(user):\(password)".utf8).base64EncodedString())
    }
}

/// Collects every log line (message + metadata) for later inspection.
final class LogCapture: Sendable {
    let lines = Mutex<[String]>([])

    var all: String { lines.withLock { $0.joined(separator: "\n") } }

    var logger: Logger {
        var logger = Logger(label: "berth.auth.test") { _ in Handler(capture: self) }
        logger.logLevel = .trace
        return logger
    }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            let line = "\(event.level) \(event.message) \(merged.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " "))"
            capture.lines.withLock { $0.append(line) }
        }
    }
}

extension TestRegistry {
    /// Like `with`, with a caller-supplied logger and the access log on.
    static func withLogger(_ logger: Logger, authorizer: any RequestAuthorizer,
                           _ body: (TestRegistry) async throws -> Void) async throws {
        try await with({ $0.accessLog = true }, authorizer: authorizer, logger: logger, body)
    }
}
