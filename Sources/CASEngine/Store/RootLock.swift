// One serving process per storage root: an exclusive flock(2) on `<root>/lock`,
// held for the life of the Store.
//
// Thread safety: immutable after init.
// Invariants:
//   1. While a RootLock exists, no other process holds the root's lock.
//   2. The lock is released when the descriptor is closed (or the process dies,
//      which is what makes `kill -9` recovery need no stale-lock cleanup).

#if canImport(Glibc)
import Glibc
#endif

struct RootLock: ~Copyable {
    private let fd: Int32

    init(path: String) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError.posix("open", path: path, errno: errno) }
        // A lock just released can still be held for an instant by a child
        // of this process that was forked before the close and has not yet
        // exec'd (O_CLOEXEC closes it only at exec): retry for up to a second
        // before calling the root busy.
        var attempts = 0
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let e = errno
            if e == EINTR { continue }
            if e == EWOULDBLOCK && attempts < 100 {
                attempts += 1
                usleep(10_000)
                continue
            }
            close(fd)
            if e == EWOULDBLOCK {
                throw StoreError(.locked, "another process is serving the storage root (\(path) is locked)")
            }
            throw StoreError.posix("flock", path: path, errno: e)
        }
        self.fd = fd
    }

    deinit { close(fd) }
}
