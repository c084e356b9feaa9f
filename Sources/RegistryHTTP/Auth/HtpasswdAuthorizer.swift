// `auth.htpasswd`: HTTP Basic against an htpasswd file of bcrypt entries,
// plus the Berth access rules and the failed-login throttle.
//
// Thread safety: Sendable; the file snapshot, the verification cache and the
// throttle each sit behind their own Mutex. bcrypt runs on the NIOThreadPool,
// never on the caller's executor.
// Invariants:
//   1. Plain passwords are never stored or logged; the cache keys successful
//      verifications by SHA-256(user, password, stored hash) for `cacheTTL`,
//      so changing a user's hash invalidates the cache at once.
//   2. The file is re-read (on the thread pool) when its mtime, size or inode
//      changes, checked at most every `reloadInterval`; the new table is
//      swapped in whole. A reload that fails keeps the last good table.
//   3. Unknown users cost one bcrypt too (no user enumeration by timing).

import CASEngine
import Foundation
import HummingbirdBcrypt
import Logging
import NIOHTTP1
import NIOPosix
import RegistryConfig
import Synchronization

public final class HtpasswdAuthorizer: RequestAuthorizer {
    public struct LoadError: Error, CustomStringConvertible {
        public var description: String
    }

    let realm: String
    let path: String
    let policy: AccessPolicy
    let limiter: LoginRateLimiter
    let threadPool: NIOThreadPool
    let logger: Logger
    let cacheTTL: Duration
    let reloadInterval: Duration

    private struct FileState {
        var file: HtpasswdFile
        var stamp: FileStamp
        var checkedAt: ContinuousClock.Instant
    }
    private struct FileStamp: Equatable {
        var modified: Date?
        var size: Int?
        var inode: Int?
    }

    private let state: Mutex<FileState>
    private let cache = Mutex<[String: ContinuousClock.Instant]>([:])
    private static let cacheLimit = 10_000
    /// Hash of a random password; verified against for unknown users.
    private static let dummyHash = "$2b$10$4GRtE4i0qxAhliUZU8IlyOJskGrcPfGoyZN0OLb/dJocPjLwDpyPC"

    /// - Throws: `LoadError` when the file is missing or unreadable.
    public init(realm: String, path: String, access: RegistryConfiguration.Auth.Access? = nil,
                maxFailures: Int = 10, failureWindow: Duration = .seconds(60),
                cacheTTL: Duration = .seconds(60), reloadInterval: Duration = .seconds(2),
                threadPool: NIOThreadPool = .singleton,
                failureClock: @escaping @Sendable () -> ContinuousClock.Instant = { .now },
                logger: Logger) throws {
        self.realm = realm
        self.path = path
        self.policy = AccessPolicy(access: access)
        self.limiter = LoginRateLimiter(maxFailures: maxFailures, window: failureWindow, clock: failureClock)
        self.threadPool = threadPool
        self.logger = logger
        self.cacheTTL = cacheTTL
        self.reloadInterval = reloadInterval
        let (file, stamp) = try Self.load(path, logger: logger)
        state = Mutex(FileState(file: file, stamp: stamp, checkedAt: .now))
    }

    public func authorize(_ request: AuthorizationRequest) async -> AuthorizationDecision {
        let scopes = AccessScope.required(by: request)
        guard let header = request.headers.first(name: "Authorization") else {
            return policy.allows(user: nil, scopes: scopes) ? .allow(user: nil) : challenge
        }
        let client = LoginRateLimiter.clientAddress(request.peer)
        if let retry = limiter.retryAfter(client) {
            return .throttle(retryAfterSeconds: retry)
        }
        guard let (user, password) = Self.basicCredentials(header),
              await verify(user: user, password: password)
        else {
            limiter.recordFailure(client)
            logger.notice("authentication failed", metadata: ["remote": "\(client)"])
            return challenge
        }
        if policy.allows(user: user, scopes: scopes) { return .allow(user: user) }
        logger.info("access denied", metadata: [
            "user": "\(user)", "scope": "\(scopes.map(\.description).joined(separator: " "))",
        ])
        return .deny(message: nil)
    }

    var challenge: AuthorizationDecision {
        .challenge(headers: ["WWW-Authenticate": "Basic realm=\(Self.quoted(realm))"])
    }

    static func quoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// `Basic base64(user:password)`; nil when malformed.
    static func basicCredentials(_ header: String) -> (String, String)? {
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "basic",
              let data = Data(base64Encoded: String(parts[1].trimmingCharacters(in: .whitespaces))),
              let decoded = String(data: data, encoding: .utf8),
              let colon = decoded.firstIndex(of: ":")
        else { return nil }
        let user = String(decoded[..<colon])
        let password = String(decoded[decoded.index(after: colon)...])
        // bcrypt takes a C string: an embedded NUL would truncate the password.
        guard !user.isEmpty, !password.utf8.contains(0), password.utf8.count <= 1024 else { return nil }
        return (user, password)
    }

    // MARK: Verification

    func verify(user: String, password: String) async -> Bool {
        await reloadIfChanged()
        let stored = state.withLock { $0.file.entries[user] }
        let key = BlobDigest.compute(Array("\(user)\u{0}\(password)\u{0}\(stored ?? "")".utf8), .sha256).description
        let now = ContinuousClock.now
        if stored != nil, cache.withLock({ $0[key].map { $0 > now } ?? false }) { return true }
        let hash = stored ?? Self.dummyHash
        let ok = (try? await threadPool.runIfActive { Bcrypt.verify(password, hash: hash) }) ?? false
        guard ok, stored != nil else { return false }
        cache.withLock { table in
            if table.count >= Self.cacheLimit { table = table.filter { $0.value > now } }
            if table.count >= Self.cacheLimit { table.removeAll() }
            table[key] = now + cacheTTL
        }
        return true
    }

    /// Whether the file (as last loaded) still names `user` (web page sessions).
    func hasUser(_ user: String) -> Bool { state.withLock { $0.file.entries[user] != nil } }

    // MARK: File

    private func reloadIfChanged() async {
        let now = ContinuousClock.now
        let due = state.withLock { s -> Bool in
            guard now - s.checkedAt >= reloadInterval else { return false }
            s.checkedAt = now
            return true
        }
        guard due else { return }
        let path = self.path
        let current = state.withLock { $0.stamp }
        let logger = self.logger
        let loaded = try? await threadPool.runIfActive { () -> (HtpasswdFile, FileStamp)? in
            guard let stamp = try? Self.stamp(path), stamp != current else { return nil }
            do {
                return try Self.load(path, logger: logger)
            } catch {
                logger.error("htpasswd reload failed; keeping the previous users", metadata: ["error": "\(error)"])
                return nil
            }
        }
        guard let (file, stamp) = loaded ?? nil else { return }
        state.withLock {
            $0.file = file
            $0.stamp = stamp
        }
        cache.withLock { $0.removeAll() }
        logger.info("htpasswd reloaded", metadata: ["path": "\(path)", "users": "\(file.entries.count)"])
    }

    private static func stamp(_ path: String) throws -> FileStamp {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return FileStamp(modified: attributes[.modificationDate] as? Date,
                         size: (attributes[.size] as? NSNumber)?.intValue,
                         inode: (attributes[.systemFileNumber] as? NSNumber)?.intValue)
    }

    private static func load(_ path: String, logger: Logger) throws -> (HtpasswdFile, FileStamp) {
        let stamp: FileStamp
        let text: String
        do {
            stamp = try Self.stamp(path)
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            guard let decoded = String(data: data, encoding: .utf8) else {
                throw LoadError(description: "htpasswd file \(path) is not UTF-8 text")
            }
            text = decoded
        } catch let error as LoadError {
            throw error
        } catch {
            throw LoadError(description: "cannot read htpasswd file \(path): \((error as NSError).localizedDescription)")
        }
        let file = HtpasswdFile(parsing: text)
        for r in file.rejected {
            logger.warning("htpasswd entry ignored: only bcrypt ($2y$, $2a$, $2b$) is accepted", metadata: [
                "path": "\(path)", "line": "\(r.line)", "user": "\(r.user)", "format": "\(r.format)",
            ])
        }
        if file.entries.isEmpty {
            logger.warning("htpasswd file has no usable entries; every login will fail", metadata: ["path": "\(path)"])
        }
        return (file, stamp)
    }
}
