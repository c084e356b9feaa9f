// A real PostgreSQL 15 server for one test: initdb into a temp directory
// owned by the `postgres` user, `postgres` started as that user (it refuses
// root) on a free loopback port, a database created, stopped and removed
// after. Debian's postgresql-15 binaries (scripts/install-deps.sh --test).
//
// Thread safety: one test task drives one cluster; `stop`/`start` may be
// called again to restart the server on the same port and data directory.

import BerthTestSupport
import Foundation
import Logging
import PostgresMetadata
import RegistryConfig
import Testing

#if canImport(Glibc)
import Glibc
#endif

final class PostgresCluster: @unchecked Sendable {
    static let binaries = ProcessInfo.processInfo.environment["BERTH_PG_BIN"] ?? "/usr/lib/postgresql/15/bin"

    struct Failure: Error, CustomStringConvertible { let description: String }

    let directory: URL
    let port: Int
    let databaseName = "registry"
    private var server: Process?

    var data: String { directory.appendingPathComponent("data").path }
    var logPath: String { directory.appendingPathComponent("server.log").path }

    /// initdb output shared by every cluster of this test process (removed at exit).
    static let template: Result<String, any Error> = Result {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("berth-pg-template-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try run(["/bin/chown", "postgres:postgres", dir.path])
        try asPostgres([binaries + "/initdb", "-D", dir.path + "/data", "-U", "postgres", "--auth=trust", "-E", "UTF8",
                        "--no-sync", "--locale=C"])
        atexit { try? FileManager.default.removeItem(atPath: FileManager.default.temporaryDirectory.path + "/berth-pg-template-\(getpid())") }
        return dir.path
    }

    init() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binaries + "/postgres") else {
            throw Failure(description: "PostgreSQL 15 not found in \(Self.binaries); run scripts/install-deps.sh --test (postgresql-15)")
        }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("berth-pg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        port = try Self.freePort()
        try Self.run(["/bin/chown", "postgres:postgres", directory.path])
        // One initdb per test process; each cluster starts from a copy of it.
        try Self.asPostgres(["/bin/cp", "-a", try Self.template.get() + "/data", data])
        try start()
        try Self.asPostgres([Self.binaries + "/createdb", "-h", "127.0.0.1", "-p", String(port), "-U", "postgres", databaseName])
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// The `database:` section a store or `regctl db migrate` uses for this server.
    /// connecttimeout is generous: a loaded CI machine forks backends slowly,
    /// and tests that want "unavailable" soon pass their own.
    func settings(connectTimeout: TimeInterval = 30) -> RegistryConfiguration.Database {
        var s = RegistryConfiguration.Database()
        s.enabled = true
        s.host = "127.0.0.1"
        s.port = port
        s.user = "postgres"
        s.dbname = databaseName
        s.sslMode = .disable
        s.connectTimeout = connectTimeout
        s.pool.maxOpen = 8
        return s
    }

    /// Starts `postgres` and waits until it accepts connections.
    func start() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
        p.arguments = ["-u", "postgres", "--", Self.binaries + "/postgres", "-D", data, "-p", String(port),
                       "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=\(directory.path)",
                       "-c", "fsync=off", "-c", "max_connections=50"]
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        p.standardOutput = log
        p.standardError = log
        try p.run()
        server = p
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if !p.isRunning { throw Failure(description: "postgres exited at start:\n\(serverLog())") }
            if (try? Self.asPostgres([Self.binaries + "/pg_isready", "-q", "-h", "127.0.0.1", "-p", String(port)])) != nil { return }
            usleep(100_000)
        }
        throw Failure(description: "postgres did not become ready:\n\(serverLog())")
    }

    /// Stops the server (fast shutdown: open connections are terminated).
    func stop() {
        guard let p = server else { return }
        server = nil
        _ = try? Self.asPostgres([Self.binaries + "/pg_ctl", "stop", "-D", data, "-m", "fast", "-w"])
        if p.isRunning { p.terminate() }
        p.waitUntilExit()
    }

    func serverLog() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// psql as the superuser against the test database; returns unaligned, tuples-only output.
    @discardableResult
    func psql(_ sql: String) throws -> String {
        try Self.asPostgres([Self.binaries + "/psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                             "-p", String(port), "-U", "postgres", "-d", databaseName, "-c", sql])
    }

    @discardableResult
    static func asPostgres(_ arguments: [String]) throws -> String {
        try run(["/usr/sbin/runuser", "-u", "postgres", "--"] + arguments)
    }

    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: arguments[0])
        p.arguments = Array(arguments.dropFirst())
        p.currentDirectoryURL = URL(fileURLWithPath: "/")
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw Failure(description: "\(arguments.joined(separator: " ")) exited \(p.terminationStatus): "
                + (String(data: stderr, encoding: .utf8) ?? ""))
        }
        return String(data: stdout, encoding: .utf8) ?? ""
    }

    static func freePort() throws -> Int { try Loopback.freePort() }
}

/// A migrated store on a fresh cluster, shut down after `body`.
func withStore<R>(gracePeriod: TimeInterval = 0, untaggedDelay: TimeInterval = 0, connectTimeout: TimeInterval = 30,
                  _ body: (PostgresMetadataStore, PostgresCluster) async throws -> R) async throws -> R {
    let cluster = try PostgresCluster()
    let database = try MetadataDatabase(cluster.settings(connectTimeout: connectTimeout))
    do {
        try await Migrator(database: database).up()
        let store = PostgresMetadataStore(database: database, gracePeriod: gracePeriod, untaggedDelay: untaggedDelay)
        let result = try await body(store, cluster)
        await database.shutdown()
        return result
    } catch {
        await database.shutdown()
        throw error
    }
}

/// A pool on `cluster`, shut down after `body` (whether it throws or not).
func withDatabase<R>(_ cluster: PostgresCluster, connectTimeout: TimeInterval = 30,
                     _ body: (MetadataDatabase) async throws -> R) async throws -> R {
    let database = try MetadataDatabase(cluster.settings(connectTimeout: connectTimeout))
    do {
        let result = try await body(database)
        await database.shutdown()
        return result
    } catch {
        await database.shutdown()
        throw error
    }
}
