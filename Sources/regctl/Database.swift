// `regctl db migrate up [N] CONFIG`, `regctl db migrate down [N] CONFIG`,
// `regctl db migrate status CONFIG`: the PostgreSQL metadata schema named by
// the config's `database:` section (GitLab registry's keys), with output in
// the style of GitLab's `registry database migrate`. Migrations are shipped
// in the binary (PostgresMetadata/Migrations.swift) and applied under an
// advisory lock, so replicas may all run `up` at start.

import ArgumentParser
import Foundation
import PostgresMetadata
import RegistryConfig

struct DatabaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Manage the PostgreSQL metadata database (database: section).",
        subcommands: [Migrate.self]
    )

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply, revert or list the schema migrations shipped in this binary.",
            subcommands: [Up.self, Down.self, Status.self]
        )
    }

    /// `[N] CONFIG` or `CONFIG`.
    static func split(_ arguments: [String]) throws -> (limit: Int?, config: String) {
        switch arguments.count {
        case 1: return (nil, arguments[0])
        case 2:
            guard let n = Int(arguments[0]), n > 0 else { throw ValidationError("N must be a positive number, not \(arguments[0])") }
            return (n, arguments[1])
        default: throw ValidationError("expected [N] CONFIG")
        }
    }

    /// Opens the database of CONFIG's `database:` section, runs `body`, shuts the pool down.
    static func withMigrator<R>(_ config: String, _ body: (Migrator) async throws -> R) async throws -> R {
        let settings = try loadConfiguration(config).database
        for (key, value) in [("host", settings.host), ("user", settings.user), ("dbname", settings.dbname)] where value.isEmpty {
            throw RegctlError("configuration: database.\(key) is required for `regctl db migrate`")
        }
        let database: MetadataDatabase
        do {
            database = try MetadataDatabase(settings)
        } catch {
            throw RegctlError("\(error)")
        }
        do {
            let result = try await body(Migrator(database: database))
            await database.shutdown()
            return result
        } catch {
            await database.shutdown()
            throw RegctlError("\(error)")
        }
    }

    static func elapsed(since start: ContinuousClock.Instant) -> String {
        let d = ContinuousClock.now - start
        let seconds = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        return String(format: "%.3fs", seconds)
    }

    struct Up: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply pending migrations (at most N).")
        @Argument(help: "[N] CONFIG") var arguments: [String]

        func run() async throws {
            let (limit, config) = try DatabaseCommand.split(arguments)
            let start = ContinuousClock.now
            let applied = try await DatabaseCommand.withMigrator(config) { try await $0.up(limit: limit) }
            for id in applied { print(id) }
            print("OK: applied \(applied.count) migrations in \(DatabaseCommand.elapsed(since: start))")
        }
    }

    struct Down: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revert applied migrations, newest first (at most N; default all).")
        @Argument(help: "[N] CONFIG") var arguments: [String]

        func run() async throws {
            let (limit, config) = try DatabaseCommand.split(arguments)
            let start = ContinuousClock.now
            let reverted = try await DatabaseCommand.withMigrator(config) { try await $0.down(limit: limit) }
            for id in reverted { print(id) }
            print("OK: applied \(reverted.count) down migrations in \(DatabaseCommand.elapsed(since: start))")
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every migration and when it was applied.")
        @Argument(help: "CONFIG") var config: String

        func run() async throws {
            let status = try await DatabaseCommand.withMigrator(config) { try await $0.status() }
            print(Self.table(status), terminator: "")
        }

        /// GitLab's tablewriter layout: MIGRATION | APPLIED, applied time or blank.
        static func table(_ rows: [MigrationStatus]) -> String {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyy-MM-dd HH:mm:ss.SSSSSS Z 'UTC'"
            let cells = rows.map { row in
                (row.known ? row.id : row.id + " (unknown)", row.appliedAt.map { formatter.string(from: $0) } ?? "")
            }
            let w1 = max("MIGRATION".count, cells.map(\.0.count).max() ?? 0) + 2
            let w2 = max("APPLIED".count, cells.map(\.1.count).max() ?? 0) + 2
            func rule() -> String { "+" + String(repeating: "-", count: w1) + "+" + String(repeating: "-", count: w2) + "+\n" }
            func centered(_ s: String, _ w: Int) -> String {
                let left = (w - s.count) / 2
                return String(repeating: " ", count: left) + s + String(repeating: " ", count: w - s.count - left)
            }
            func padded(_ s: String, _ w: Int) -> String { " " + s + String(repeating: " ", count: w - s.count - 1) }
            var out = rule() + "|" + centered("MIGRATION", w1) + "|" + centered("APPLIED", w2) + "|\n" + rule()
            for (id, at) in cells { out += "|" + padded(id, w1) + "|" + padded(at, w2) + "|\n" }
            return out + rule()
        }
    }
}
