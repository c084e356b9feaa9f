// One run of berth-crash-writer (Tests/CrashWriter): launching it and reading
// what it announced (TRY) and what the engine acknowledged (ACK).

import Foundation
import Testing
@testable import CASEngine

/// A write the crash writer announces, in the words of its TRY line.
enum WriterOp: Equatable, CustomStringConvertible {
    case blob(repo: String, digest: BlobDigest)
    case manifest(repo: String, digest: BlobDigest, tag: String, refs: [BlobDigest])
    case untag(repo: String, tag: String)
    case deleteManifest(repo: String, digest: BlobDigest)

    var description: String {
        switch self {
        case .blob(let r, let d): "BLOB \(r) \(d)"
        case .manifest(let r, let d, let t, _): "MANIFEST \(r) \(d) \(t)"
        case .untag(let r, let t): "UNTAG \(r) \(t)"
        case .deleteManifest(let r, let d): "DELETE \(r) \(d)"
        }
    }
}

struct WriterOutput {
    var opened = false
    /// Acknowledged writes, in order.
    var acked: [WriterOp] = []
    /// The write announced but not acknowledged when the process ended.
    var inFlight: WriterOp?

    static func parse(_ text: String) throws -> WriterOutput {
        var out = WriterOutput()
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ").map(String.init)
            switch f.first {
            case "OPEN":
                out.opened = true
            case "TRY":
                #expect(out.inFlight == nil, "writer announced \(line) before the previous write was acknowledged")
                out.inFlight = try op(Array(f.dropFirst()))
            case "ACK":
                let op = try #require(out.inFlight, "ACK without TRY")
                out.acked.append(op)
                out.inFlight = nil
            default:
                Issue.record("unexpected writer output: \(line)")
            }
        }
        return out
    }

    private static func op(_ f: [String]) throws -> WriterOp {
        func digest(_ s: String) throws -> BlobDigest { try #require(BlobDigest(s), "bad digest \(s)") }
        switch f.first {
        case "BLOB": return .blob(repo: f[1], digest: try digest(f[2]))
        case "MANIFEST": return .manifest(repo: f[1], digest: try digest(f[2]), tag: f[3], refs: try f[4...].map(digest))
        case "UNTAG": return .untag(repo: f[1], tag: f[2])
        case "DELETE": return .deleteManifest(repo: f[1], digest: try digest(f[2]))
        default: throw StoreError(.invalidArgument, "unknown writer line TRY \(f.joined(separator: " "))")
        }
    }
}

/// A running writer with its stdout and stderr.
struct WriterProcess {
    let process = Process()
    let stdout = Pipe()
    let stderr = Pipe()
    var early = Data()

    static var url: URL {
        // The test bundle's resources live beside the package's executables.
        Bundle.module.bundleURL.deletingLastPathComponent().appendingPathComponent("berth-crash-writer")
    }

    init(root: String, seed: UInt64, arguments: [String] = []) throws {
        process.executableURL = Self.url
        process.arguments = [root, String(seed)] + arguments
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
    }

    /// Reads stdout until the writer has opened the store (or died).
    mutating func waitUntilOpen() {
        while !String(decoding: early, as: UTF8.self).contains("OPEN\n") {
            let chunk = stdout.fileHandleForReading.availableData
            if chunk.isEmpty { return }
            early.append(chunk)
        }
    }

    /// Waits for the end; returns everything the writer printed.
    mutating func finish() -> (stdout: String, stderr: String) {
        let out = early + stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }
}
