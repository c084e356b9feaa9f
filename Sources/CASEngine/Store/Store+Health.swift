// The storage health probe behind `health.storagedriver` and `/debug/health`:
// the cheapest read that still goes through the metadata index and the root
// directory (distribution's check is `driver.Stat("/")`).
//
// Thread safety: as any Store read: one LMDB read transaction and one stat(2);
// never blocks writers.
// Invariants:
//   1. Throws when the store is closed, the root is gone or unreadable, or
//      the index cannot be read; returns otherwise.
//   2. Failpoint `store.health.probe` is hit first, so a test can make the
//      probe fail without damaging the store.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Store {
    public func healthProbe() throws {
        try checkOpen()
        try failpoint(.healthProbe)
        guard access(layout.root, R_OK | X_OK) == 0 else {
            throw StoreError(.io, "storage root \(layout.root) cannot be read (errno \(errno))")
        }
        _ = try meta.repositories(after: nil, limit: 1)
    }
}
