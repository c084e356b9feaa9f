// A readers-writer lock guarding the LMDB map size: every transaction holds
// it shared for its whole life; growing the map (mdb_env_set_mapsize, which
// LMDB allows only while this process has no transaction open) holds it
// exclusively.
//
// Thread safety: pthread rwlock, default (reader-preferring) kind, so a
// thread that already holds it shared may take it shared again (nested
// read transactions) without deadlocking behind a waiting resizer.
// Invariants:
//   1. `exclusive` runs only when no `shared` section is in progress.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class ResizeLock: @unchecked Sendable {
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    init() {
        lock = .allocate(capacity: 1)
        precondition(pthread_rwlock_init(lock, nil) == 0, "pthread_rwlock_init")
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    func shared<T>(_ body: () throws -> T) rethrows -> T {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }

    func exclusive<T>(_ body: () throws -> T) rethrows -> T {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }
}
