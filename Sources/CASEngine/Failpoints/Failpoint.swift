// Failpoints: named places in the engine where a test can force an
// interleaving or a failure (bbolt's gofail, FoundationDB's buggify).
//
// Compiled into debug builds only: in a release build `Failpoint.hit` is an
// empty inline function and arming is impossible (`isCompiledIn` is false).
//
// A test arms a point in-process (`Failpoint.arm`) or, for a child process
// such as `regctl serve`, through the environment variable
// `BERTH_FAILPOINTS="name=action;name=action"`, read once at first use, with
// actions `crash` (SIGKILL-like `_exit(137)`), `fail` (throws `.io`),
// `sleep(MS)`, `off`.
//
// Thread safety: the table sits behind a Mutex; `hit` on an unarmed point
// costs one atomic load. A paused thread blocks (it must not be an event-loop
// thread: engine calls never are).
// Invariants:
//   1. An armed action fires only at `hit` of its exact name, and, when armed
//      with a `scope` (a store's root path), only for hits from that store:
//      tests run in parallel in one process and must not trip each other.
//      `count` limits how many times (nil: every hit), after which the point
//      disarms itself.
//   2. `Pause.release()` lets every current and future hit of that pause pass.

import Foundation
import Synchronization

public enum Failpoint {
    /// The points the engine defines. Names are stable: tests and
    /// BERTH_FAILPOINTS refer to them.
    public enum Name: String, CaseIterable, Sendable {
        /// Store: a blob was found present (dedupe) and is about to be linked.
        case dedupeAfterCheck = "store.dedupe.after-check"
        /// Store: a manifest's bytes are indexed; its metadata transaction follows.
        case manifestAfterBytes = "store.manifest.after-bytes"
        /// Store: a blob's index entry was read; its pack is opened next.
        case readAfterLookup = "store.read.after-lookup"
        /// Store: HEAD/GET found a zero-ref blob in the repository.
        case statAfterCheck = "store.stat.after-check"
        /// Store: a mount is about to link the blob into the target repository.
        case mountAfterCheck = "store.mount.after-check"
        /// Collector: a due blob was chosen for removal.
        case gcBlobAfterDecision = "gc.blob.after-decision"
        /// Collector: an untagged manifest was chosen for deletion.
        case gcManifestAfterDecision = "gc.manifest.after-decision"
        /// Retention: the plan is made; its deletions (each re-checked) follow.
        case retentionAfterPlan = "retention.after-plan"
        /// Compactor / collector: the index no longer names the pack; unlink next.
        case packBeforeUnlink = "pack.before-unlink"
        /// Pack layer: bytes written to a shared pack, fdatasync next.
        case packBeforeSync = "pack.before-sync"
        /// Upload: a chunk was written, its fdatasync next.
        case uploadBeforeSync = "upload.before-sync"
        /// Upload commit: the upload file became a pack; indexing follows.
        case commitAfterRename = "upload.commit.after-rename"
        /// Upload commit: the blob is indexed; the session record is dropped next.
        case commitAfterIndex = "upload.commit.after-index"
        /// Health probe (`Store.healthProbe`): `fail` makes the probe report
        /// an unhealthy store.
        case healthProbe = "store.health.probe"
    }

    /// A gate that holds every thread hitting the point until released.
    public final class Pause: Sendable {
        private let state = Mutex<(reached: Int, released: Bool)>((0, false))
        private let cond = NSCondition()

        public init() {}

        /// Blocks until `count` threads have reached the point (or `timeout`
        /// passes); returns whether they did.
        @discardableResult
        public func waitUntilReached(_ count: Int = 1, timeout: TimeInterval = 30) -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            cond.lock()
            defer { cond.unlock() }
            while state.withLock({ $0.reached }) < count {
                if !cond.wait(until: deadline) { return state.withLock { $0.reached } >= count }
            }
            return true
        }

        public func release() {
            cond.lock()
            state.withLock { $0.released = true }
            cond.broadcast()
            cond.unlock()
        }

        public var reachedCount: Int { state.withLock { $0.reached } }

        func block() {
            cond.lock()
            defer { cond.unlock() }
            state.withLock { $0.reached += 1 }
            cond.broadcast()
            while !state.withLock({ $0.released }) { cond.wait() }
        }
    }

    public enum Action: Sendable {
        /// Hold the thread at the point until the pause is released.
        case pause(Pause)
        /// Throw `StoreError(.io)` from the point.
        case fail
        /// End the process at once, as a crash would (`_exit(137)`).
        case crash
        /// Sleep, then continue.
        case sleep(milliseconds: Int)
        /// Run a closure (observe, or act from inside the window).
        case run(@Sendable () -> Void)
    }

    #if DEBUG
    public static let isCompiledIn = true

    struct Armed: Sendable {
        var action: Action
        var remaining: Int?
        var scope: String?
    }

    private static let table = Mutex<[String: Armed]>(initialFromEnvironment())
    private static let armedCount = Atomic<Int>(0)
    private static let environmentLoaded = Atomic<Bool>(false)

    /// Arms `name` for hits from the store at `scope` (nil: any store);
    /// `count` nil fires on every hit.
    public static func arm(_ name: Name, _ action: Action, scope: String? = nil, count: Int? = nil) {
        loadEnvironmentOnce()
        table.withLock { t in
            t[name.rawValue] = Armed(action: action, remaining: count, scope: scope)
            armedCount.store(t.count, ordering: .sequentiallyConsistent)
        }
    }

    public static func disarm(_ name: Name) {
        table.withLock { t in
            t[name.rawValue] = nil
            armedCount.store(t.count, ordering: .sequentiallyConsistent)
        }
    }

    public static func disarmAll() {
        table.withLock { t in
            t.removeAll()
            armedCount.store(0, ordering: .sequentiallyConsistent)
        }
    }

    /// Called by the engine at the named point; `scope` is the store's root.
    @inline(__always)
    static func hit(_ name: Name, scope: String) throws {
        loadEnvironmentOnce()
        guard armedCount.load(ordering: .relaxed) > 0 else { return }
        let action: Action? = table.withLock { t in
            guard var armed = t[name.rawValue] else { return nil }
            if let s = armed.scope, s != scope { return nil }
            if let r = armed.remaining {
                if r <= 1 { t[name.rawValue] = nil } else { armed.remaining = r - 1; t[name.rawValue] = armed }
                armedCount.store(t.count, ordering: .sequentiallyConsistent)
            }
            return armed.action
        }
        switch action {
        case nil: return
        case .pause(let p)?: p.block()
        case .fail?: throw StoreError(.io, "failpoint \(name.rawValue) fired")
        case .crash?: _exit(137)
        case .sleep(let ms)?: usleep(UInt32(max(0, ms)) * 1000)
        case .run(let body)?: body()
        }
    }

    private static func loadEnvironmentOnce() {
        guard !environmentLoaded.load(ordering: .relaxed) else { return }
        if environmentLoaded.exchange(true, ordering: .sequentiallyConsistent) { return }
        table.withLock { t in armedCount.store(t.count, ordering: .sequentiallyConsistent) }
    }

    private static func initialFromEnvironment() -> [String: Armed] {
        guard let spec = ProcessInfo.processInfo.environment["BERTH_FAILPOINTS"] else { return [:] }
        return (try? parse(spec)) ?? [:]
    }

    /// `name=action;…`; unknown names or actions are an error (a typo must
    /// not silently disarm a test).
    static func parse(_ spec: String) throws -> [String: Armed] {
        var out: [String: Armed] = [:]
        for part in spec.split(separator: ";") where !part.isEmpty {
            let kv = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2, Name(rawValue: kv[0]) != nil else {
                throw StoreError(.invalidArgument, "BERTH_FAILPOINTS: unknown point in '\(part)'")
            }
            let a = kv[1]
            let action: Action?
            if a == "crash" { action = .crash }
            else if a == "fail" { action = .fail }
            else if a == "off" { action = nil }
            else if a.hasPrefix("sleep("), a.hasSuffix(")"), let ms = Int(a.dropFirst(6).dropLast()) { action = .sleep(milliseconds: ms) }
            else { throw StoreError(.invalidArgument, "BERTH_FAILPOINTS: unknown action '\(a)'") }
            if let action { out[kv[0]] = Armed(action: action, remaining: nil, scope: nil) }
        }
        return out
    }
    #else
    public static let isCompiledIn = false
    @inline(__always) static func hit(_ name: Name, scope: String) throws {}
    public static func arm(_ name: Name, _ action: Action, scope: String? = nil, count: Int? = nil) {}
    public static func disarm(_ name: Name) {}
    public static func disarmAll() {}
    #endif
}

extension Store {
    /// The storage root this store was opened at (failpoint scope in tests).
    public var rootPath: String { layout.root }

    @inline(__always)
    func failpoint(_ name: Failpoint.Name) throws {
        try Failpoint.hit(name, scope: layout.root)
    }
}

extension PackStore {
    @inline(__always)
    func failpoint(_ name: Failpoint.Name) throws {
        try Failpoint.hit(name, scope: layout.root)
    }
}
