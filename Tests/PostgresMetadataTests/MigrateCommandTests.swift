// `regctl db migrate up|down [N]|status CONFIG` (the built binary) against a
// real PostgreSQL 15, and `database:` in the config file it reads.

import Foundation
import PostgresMetadata
import Testing

@Suite("regctl db migrate", .timeLimit(.minutes(3)))
struct MigrateCommandTests {
    struct Run { let status: Int32; let stdout: String; let stderr: String }

    static func regctl() throws -> URL {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("regctl")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/regctl")
    }

    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Run {
        let p = Process()
        p.executableURL = try Self.regctl()
        p.arguments = arguments
        p.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("REGISTRY_") }.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }

    func config(_ cluster: PostgresCluster) throws -> String {
        let path = cluster.directory.appendingPathComponent("config.yml").path
        try """
            version: 0.1
            storage:
              filesystem:
                rootdirectory: \(cluster.directory.path)/root
            database:
              enabled: true
              host: 127.0.0.1
              port: \(cluster.port)
              user: postgres
              dbname: \(cluster.databaseName)
              sslmode: disable
              connecttimeout: 5s
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func upStatusDown() throws {
        let cluster = try PostgresCluster()
        let config = try config(cluster)
        let ids = Migrations.all.map(\.id)

        let pending = try run(["db", "migrate", "status", config])
        #expect(pending.status == 0, "\(pending)")
        let header = pending.stdout.split(separator: "\n").prefix(3).map(String.init)
        #expect(header.count == 3 && header[1].contains("MIGRATION") && header[1].contains("APPLIED") && header[0].hasPrefix("+---"))
        for id in ids { #expect(pending.stdout.contains("| \(id) "), "\(pending.stdout)") }
        #expect(!pending.stdout.contains(" UTC"), "nothing applied yet")

        let up = try run(["db", "migrate", "up", config])
        #expect(up.status == 0, "\(up)")
        #expect(up.stdout.split(separator: "\n").dropLast().map(String.init) == ids)
        #expect(up.stdout.contains("OK: applied \(ids.count) migrations in "))
        let again = try run(["db", "migrate", "up", config])
        #expect(again.stdout.hasPrefix("OK: applied 0 migrations in "), "\(again)")

        let applied = try run(["db", "migrate", "status", config])
        let rows = applied.stdout.split(separator: "\n").filter { $0.hasPrefix("| 2026") }
        #expect(rows.count == ids.count && rows.allSatisfy { $0.contains(" UTC") }, "\(applied.stdout)")

        let down = try run(["db", "migrate", "down", "2", config])
        #expect(down.status == 0, "\(down)")
        #expect(down.stdout.split(separator: "\n").dropLast().map(String.init) == ids.suffix(2).reversed())
        #expect(down.stdout.contains("OK: applied 2 down migrations in "))
        #expect(try cluster.psql("SELECT count(*) FROM schema_migrations") == "\(ids.count - 2)\n")
    }

    @Test func refusesWhatItCannotDo() throws {
        let cluster = try PostgresCluster()
        let config = try config(cluster)
        let badN = try run(["db", "migrate", "down", "zero", config])
        #expect(badN.status != 0 && badN.stderr.contains("N must be a positive number"), "\(badN)")
        let noHost = try run(["db", "migrate", "up", config], environment: ["REGISTRY_DATABASE_HOST": ""])
        #expect(noHost.status == 1 && noHost.stderr.contains("database.host"), "\(noHost)")
        cluster.stop()
        let down = try run(["db", "migrate", "up", config], environment: ["REGISTRY_DATABASE_CONNECTTIMEOUT": "1s"])
        #expect(down.status == 1 && down.stderr.contains("database unavailable"), "\(down)")
    }
}
