// A thin wrapper over one LMDB environment: open, named databases, and
// read/write transactions scoped to a closure.
//
// Thread safety: `read` and `write` may be called from any thread
// concurrently. The environment is opened with MDB_NOTLS, so a read
// transaction is not bound to its thread's reader slot and works from any
// thread-pool thread. LMDB serialises writers with its own process-shared
// mutex; a write transaction begins and commits on the calling thread inside
// one synchronous closure, as LMDB requires.
// Invariants:
//   1. Every transaction is either committed or aborted before `read`/`write`
//      returns; no transaction handle escapes its closure.
//   2. A failed commit frees the transaction (LMDB semantics); it is never
//      aborted afterwards.
//   3. `close()` runs only when no transaction is open (the caller's contract,
//      see MetaStore.close); LMDB would crash otherwise.
//   4. No NOSYNC/NOMETASYNC/WRITEMAP flags: a committed write is durable.
//   5. The map grows instead of failing: a write transaction that hits
//      MDB_MAP_FULL is aborted (nothing of it is visible), the map is doubled
//      (up to `maxMapSize`) while no transaction of this process is open
//      (ResizeLock), and the transaction body runs again from the start.
//      Write bodies therefore act only on their transaction.

import CLMDB

/// `@unchecked Sendable`: the only mutable state is the `MDB_env*`, which LMDB
/// documents as safe for concurrent use by many threads once opened (and with
/// MDB_NOTLS read transactions may move between threads). `closed` is written
/// only by `close()`, which by invariant 3 never overlaps another call.
final class LMDBEnvironment: @unchecked Sendable {
    private let env: OpaquePointer
    let readOnly: Bool
    private var closed = false
    /// Ceiling for growth; the map never grows past it (MAP_FULL then surfaces
    /// as `.limitExceeded`).
    let maxMapSize: Int
    private let resize = ResizeLock()

    /// Opens (creating if needed, unless `readOnly`) the environment in the
    /// existing directory `path`, with a map of `mapSize` bytes that may grow
    /// to `maxMapSize` (at least `mapSize`).
    init(path: String, mapSize: Int, maxMapSize: Int? = nil, maxDatabases: Int, readOnly: Bool) throws {
        self.maxMapSize = max(mapSize, maxMapSize ?? mapSize)
        var handle: OpaquePointer?
        try LMDB.check(mdb_env_create(&handle), "mdb_env_create")
        guard let handle else { throw StoreError(.metadata, "mdb_env_create returned no handle") }
        do {
            try LMDB.check(mdb_env_set_mapsize(handle, mapSize), "mdb_env_set_mapsize")
            try LMDB.check(mdb_env_set_maxdbs(handle, MDB_dbi(maxDatabases)), "mdb_env_set_maxdbs")
            // Thread pools can hold many concurrent readers.
            try LMDB.check(mdb_env_set_maxreaders(handle, 1024), "mdb_env_set_maxreaders")
            var flags = UInt32(MDB_NOTLS)
            if readOnly { flags |= UInt32(MDB_RDONLY) }
            try LMDB.check(mdb_env_open(handle, path, flags, 0o644), "mdb_env_open(\(path))")
            // Free reader slots left by crashed processes: with MDB_NOTLS they
            // are not reclaimed per thread, and stale ones pin old pages.
            var dead: Int32 = 0
            try LMDB.check(mdb_reader_check(handle, &dead), "mdb_reader_check")
        } catch {
            mdb_env_close(handle)
            throw error
        }
        self.env = handle
        self.readOnly = readOnly
    }

    func close() {
        guard !closed else { return }
        closed = true
        mdb_env_close(env)
    }

    var isClosed: Bool { closed }

    /// Opens (with MDB_CREATE unless read-only) the named databases in one
    /// transaction; handles stay valid for the life of the environment. A
    /// read-only open leaves out the `optional` ones that do not exist (an
    /// older schema's environment).
    func openDatabases(_ names: [String], optional: Set<String> = []) throws -> [String: MDB_dbi] {
        var txn: OpaquePointer?
        try LMDB.check(mdb_txn_begin(env, nil, readOnly ? UInt32(MDB_RDONLY) : 0, &txn), "mdb_txn_begin")
        var out: [String: MDB_dbi] = [:]
        do {
            for name in names {
                var dbi: MDB_dbi = 0
                let rc = mdb_dbi_open(txn, name, readOnly ? 0 : UInt32(MDB_CREATE), &dbi)
                if rc == MDB_NOTFOUND, optional.contains(name) { continue }
                if rc == MDB_NOTFOUND {
                    throw StoreError(.unsupportedFormat, "metadata database '\(name)' missing (store never initialised?)")
                }
                try LMDB.check(rc, "mdb_dbi_open(\(name))")
                out[name] = dbi
            }
        } catch {
            mdb_txn_abort(txn)
            throw error
        }
        // Committing (even a read-only txn) publishes the handles to later txns.
        try LMDB.check(mdb_txn_commit(txn), "mdb_txn_commit")
        return out
    }

    /// The map's current size and the bytes in use (last page + 1).
    var mapUsage: (size: Int, used: Int) {
        resize.shared {
            var info = MDB_envinfo()
            var stat = MDB_stat()
            guard !closed, mdb_env_info(env, &info) == 0, mdb_env_stat(env, &stat) == 0 else { return (0, 0) }
            return (info.me_mapsize, (Int(info.me_last_pgno) + 1) * Int(stat.ms_psize))
        }
    }

    private var currentMapSize: Int {
        guard !closed else { return 0 }
        var info = MDB_envinfo()
        return mdb_env_info(env, &info) == 0 ? info.me_mapsize : 0
    }

    /// Doubles the map (capped at `maxMapSize`) unless another thread already
    /// grew it past `seen`. Returns false when it is at the ceiling.
    private func grow(from seen: Int) throws -> Bool {
        try resize.exclusive {
            var info = MDB_envinfo()
            try LMDB.check(mdb_env_info(env, &info), "mdb_env_info")
            if info.me_mapsize > seen { return true }
            guard info.me_mapsize < maxMapSize else { return false }
            let next = min(maxMapSize, max(info.me_mapsize * 2, info.me_mapsize + (1 << 20)))
            try LMDB.check(mdb_env_set_mapsize(env, next), "mdb_env_set_mapsize(\(next))")
            return true
        }
    }

    /// One read-only snapshot transaction. Never blocks on writers.
    func read<T>(_ body: (LMDBTransaction) throws -> T) throws -> T {
        try resize.shared { try readLocked(body) }
    }

    private func readLocked<T>(_ body: (LMDBTransaction) throws -> T) throws -> T {
        guard !closed else { throw StoreError(.closed, "metadata store is closed") }
        var handle: OpaquePointer?
        try LMDB.check(mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &handle), "mdb_txn_begin(read)")
        guard let txn = handle else { throw StoreError(.metadata, "mdb_txn_begin returned no handle") }
        defer { mdb_txn_abort(txn) }
        return try body(LMDBTransaction(txn: txn))
    }

    /// One write transaction, committed (durably) if `body` returns, aborted if
    /// it throws. A full map is grown and `body` re-run (invariant 5).
    func write<T>(_ body: (LMDBTransaction) throws -> T) throws -> T {
        while true {
            guard !closed else { throw StoreError(.closed, "metadata store is closed") }
            let size = currentMapSize
            do {
                return try resize.shared { try writeLocked(body) }
            } catch let e as StoreError where e.cause is LMDB.MapFull {
                guard try grow(from: size) else { throw e }
            }
        }
    }

    private func writeLocked<T>(_ body: (LMDBTransaction) throws -> T) throws -> T {
        guard !closed else { throw StoreError(.closed, "metadata store is closed") }
        guard !readOnly else { throw StoreError(.readOnly, "metadata store is open read-only") }
        var handle: OpaquePointer?
        try LMDB.check(mdb_txn_begin(env, nil, 0, &handle), "mdb_txn_begin(write)")
        guard let txn = handle else { throw StoreError(.metadata, "mdb_txn_begin returned no handle") }
        let result: T
        do {
            result = try body(LMDBTransaction(txn: txn))
        } catch {
            mdb_txn_abort(txn)
            throw error
        }
        try LMDB.check(mdb_txn_commit(txn), "mdb_txn_commit")
        return result
    }
}

/// LMDB return-code mapping, in one place.
enum LMDB {
    /// The cause of a MAP_FULL error (the environment grows the map on it).
    struct MapFull: Error, Sendable {}

    static func check(_ rc: Int32, _ what: @autoclosure () -> String) throws {
        guard rc != 0 else { return }
        let text = String(cString: mdb_strerror(rc))
        switch rc {
        case MDB_MAP_FULL:
            throw StoreError(.limitExceeded, "\(what()): metadata map full at its maximum size; raise berth.metadata.maxmapsize (\(text))",
                             cause: MapFull())
        case MDB_INVALID, MDB_VERSION_MISMATCH:
            throw StoreError(.unsupportedFormat, "\(what()): \(text) (\(rc))")
        default:
            throw StoreError(.metadata, "\(what()): \(text) (\(rc))")
        }
    }
}
