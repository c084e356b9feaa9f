// A PostgreSQL connection pool (postgres-nio's PostgresClient) configured from
// GitLab registry's `database:` section, with the transaction and error
// handling every store operation shares.
//
// Thread safety: Sendable; any number of tasks call `transaction` at once,
// each on its own leased connection.
// Invariants:
// 1. `transaction` runs its body between BEGIN and COMMIT on one connection;
//    a throwing body is rolled back. A deadlock or serialization failure is
//    retried (whole body again) up to `retryLimit` times.
// 2. Every error out of `transaction` / `withConnection` is classified
//    (PostgresMetadataError.classify): connection problems are `.unavailable`.
// 3. With `connecttimeout` > 0, a lease that gets no connection within it
//    fails `.unavailable`; either the body starts or the timeout fires, never
//    both (one lock decides). With 0, postgres-nio's circuit breaker (60 s of
//    failed connects) decides, as GitLab's "wait indefinitely" is not offered.
// 4. `shutdown` waits up to `draintimeout` (0: indefinitely) for operations
//    in flight, then closes the connections still leased (their operations
//    fail unavailable; an open transaction is rolled back by the server),
//    stops the pool and returns without waiting for it to wind down.

import Foundation
import Logging
import NIOSSL
import PostgresNIO
import RegistryConfig
import Synchronization

public final class MetadataDatabase: Sendable {
    let client: PostgresClient
    let logger: Logger
    private let runTask: Task<Void, Never>
    private let leaseTimeout: Duration?
    private let drainTimeout: Duration?
    private let inFlight = Mutex(0)
    private let drainingFlag = Mutex(false)
    /// Connections leased right now, by id: what a drain timeout closes.
    private let active = Mutex([Int: PostgresConnection]())

    /// True once `shutdown` started (it then waits for operations in flight).
    public var isDraining: Bool { drainingFlag.withLock { $0 } }
    static let retryLimit = 5

    /// The pool's own logger: warnings and up (each failed reconnect is an info line).
    public static func defaultLogger() -> Logger {
        var logger = Logger(label: "berth.postgres")
        logger.logLevel = .warning
        return logger
    }

    public init(_ settings: RegistryConfiguration.Database, logger: Logger = MetadataDatabase.defaultLogger()) throws {
        var config = PostgresClient.Configuration(
            host: settings.host, port: settings.port, username: settings.user,
            password: settings.password.isEmpty ? nil : settings.password,
            database: settings.dbname.isEmpty ? nil : settings.dbname, tls: try Self.tls(settings))
        if settings.sslMode == .verifyFull { config.options.tlsServerName = settings.host }
        if settings.connectTimeout > 0 { config.options.connectTimeout = .milliseconds(Int64(settings.connectTimeout * 1000)) }
        if settings.pool.maxOpen > 0 { config.options.maximumConnections = settings.pool.maxOpen }
        config.options.minimumConnections = min(settings.pool.maxIdle, config.options.maximumConnections)
        config.options.connectionIdleTimeout = settings.pool.maxIdleTime > 0
            ? .milliseconds(Int64(settings.pool.maxIdleTime * 1000)) : .seconds(100 * 365 * 86_400)
        leaseTimeout = settings.connectTimeout > 0 ? .milliseconds(Int64(settings.connectTimeout * 1000)) : nil
        drainTimeout = settings.drainTimeout > 0 ? .milliseconds(Int64(settings.drainTimeout * 1000)) : nil
        self.logger = logger
        let client = PostgresClient(configuration: config, backgroundLogger: logger)
        self.client = client
        runTask = Task { await client.run() }
    }

    /// sslmode as libpq reads it: require without a root certificate does
    /// not verify; verify-ca checks the chain; verify-full also the host name.
    static func tls(_ s: RegistryConfiguration.Database) throws -> PostgresClient.Configuration.TLS {
        if s.sslMode == .disable { return .disable }
        var tls = TLSConfiguration.makeClientConfiguration()
        switch s.sslMode {
        case .disable: return .disable
        case .prefer, .require:
            tls.certificateVerification = s.sslRootCert == nil ? .none : .noHostnameVerification
        case .verifyCA: tls.certificateVerification = .noHostnameVerification
        case .verifyFull: tls.certificateVerification = .fullVerification
        }
        do {
            if let root = s.sslRootCert { tls.trustRoots = .file(root) }
            if let cert = s.sslCert, let key = s.sslKey {
                tls.certificateChain = try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
            }
        } catch {
            throw PostgresMetadataError.invalidArgument("database.sslcert: cannot read the client certificate or key: \(error)")
        }
        return s.sslMode == .prefer ? .prefer(tls) : .require(tls)
    }

    /// Waits for in-flight operations (up to draintimeout), then stops the pool.
    public func shutdown() async {
        drainingFlag.withLock { $0 = true }
        let start = ContinuousClock.now
        while inFlight.withLock({ $0 }) > 0 {
            if let drainTimeout, ContinuousClock.now - start >= drainTimeout {
                // The pool's shutdown waits for leased connections: close them, failing their operations.
                let leased = active.withLock { Array($0.values) }
                logger.warning("draintimeout passed; closing \(leased.count) connections in use")
                for connection in leased { try? await connection.close() }
                // Do not wait for the pool to wind down: it waits for its leases.
                runTask.cancel()
                return
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        runTask.cancel()
        await runTask.value
    }

    /// One transaction (invariant 1).
    public func transaction<R: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> R) async throws -> R {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await leased { connection in
                    try await connection.query("BEGIN")
                    do {
                        let value = try await body(connection)
                        try await connection.query("COMMIT")
                        return value
                    } catch {
                        // A lost connection cannot roll back; the server does when it sees it gone.
                        _ = try? await connection.query("ROLLBACK")
                        throw error
                    }
                }
            } catch let error as RetryableFailure where attempt < Self.retryLimit {
                logger.debug("retrying transaction after \(error.state)")
                continue
            } catch let error as RetryableFailure {
                throw PostgresMetadataError.database("\(error.state) after \(attempt) attempts")
            }
        }
    }

    private struct RetryableFailure: Error { let state: String }

    private struct LeaseState { var leased = false; var timedOut = false }
    private final class LeaseBox: Sendable {
        let mutex = Mutex(LeaseState())
        func withLock<T: Sendable>(_ body: (inout LeaseState) -> T) -> T { mutex.withLock { body(&$0) } }
    }

    /// Leases one connection for `body` (invariants 2 and 3), outside any transaction.
    public func withConnection<R: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> R) async throws -> R {
        do {
            return try await leased(body)
        } catch let error as RetryableFailure {
            throw PostgresMetadataError.database(error.state)
        }
    }

    private func leased<R: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> R) async throws -> R {
        inFlight.withLock { $0 += 1 }
        defer { inFlight.withLock { $0 -= 1 } }
        let state = LeaseBox()
        let timeout = leaseTimeout
        let client = client
        do {
            return try await withThrowingTaskGroup(of: R?.self) { group in
                group.addTask {
                    try await client.withConnection { connection in
                        let go = state.withLock { s -> Bool in
                            if s.timedOut { return false }
                            s.leased = true
                            return true
                        }
                        guard go else { throw PostgresMetadataError.unavailable("no connection within connecttimeout") }
                        self.active.withLock { $0[connection.id] = connection }
                        defer { _ = self.active.withLock { $0.removeValue(forKey: connection.id) } }
                        return try await body(connection)
                    }
                }
                if let timeout {
                    group.addTask {
                        try await Task.sleep(for: timeout)
                        let fire = state.withLock { s -> Bool in
                            if s.leased { return false }
                            s.timedOut = true
                            return true
                        }
                        if fire { throw PostgresMetadataError.unavailable("no connection within connecttimeout (\(timeout))") }
                        return nil
                    }
                }
                for try await result in group {
                    if let result {
                        group.cancelAll()
                        return result
                    }
                }
                throw PostgresMetadataError.unavailable("connection lease ended without a result")
            }
        } catch {
            if let state = PostgresMetadataError.sqlState(error), PostgresMetadataError.retryableStates.contains(state) {
                throw RetryableFailure(state: state)
            }
            throw PostgresMetadataError.classify(error)
        }
    }
}
