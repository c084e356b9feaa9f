// Logging bootstrap from `log:` (level, formatter text|json|logstash).
// Access-log lines come from RegistryHTTP through the same handler.

import Foundation
import Logging
import RegistryConfig

enum LogSetup {
    static func bootstrap(_ log: RegistryConfiguration.Log) {
        let level: Logger.Level = switch log.level {
        case .error: .error
        case .warn: .warning
        case .info: .info
        case .debug: .debug
        }
        let json = log.formatter != .text
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

/// One JSON object per line on stderr: time, level, msg, logger, metadata.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// One formatter for every line (a formatter per line was measurable
    /// per request with the access log on); ISO8601DateFormatter is
    /// thread-safe for formatting.
    nonisolated(unsafe) static let timeFormatter = ISO8601DateFormatter()

    func log(event: LogEvent) {
        var object: [String: String] = [
            "time": Self.timeFormatter.string(from: Date()),
            "level": event.level.rawValue,
            "msg": "\(event.message)",
            "logger": label,
        ]
        for (k, v) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) { object[k] = "\(v)" }
        guard var line = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        line.append(0x0a)
        FileHandle.standardError.write(line)
    }
}
