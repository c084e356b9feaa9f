// One open LMDB transaction, valid only inside the closure that received it.
//
// Thread safety: not Sendable; used by the one thread running the closure.
// Invariants:
//   1. Every byte array returned is a copy: nothing points into the map after
//      the transaction ends.
//   2. Cursors are closed before the scanning call returns.
//   3. `scan` never mutates the database it walks; callers collect keys and
//      delete afterwards.

import CLMDB

struct LMDBTransaction {
    let txn: OpaquePointer

    func get(_ dbi: MDB_dbi, _ key: [UInt8]) throws -> [UInt8]? {
        var value = MDB_val()
        let rc = key.withUnsafeBytes { buf -> Int32 in
            var k = MDB_val(mv_size: buf.count, mv_data: UnsafeMutableRawPointer(mutating: buf.baseAddress))
            return mdb_get(txn, dbi, &k, &value)
        }
        if rc == MDB_NOTFOUND { return nil }
        try LMDB.check(rc, "mdb_get")
        return LMDBTransaction.copy(value)
    }

    func contains(_ dbi: MDB_dbi, _ key: [UInt8]) throws -> Bool {
        try get(dbi, key) != nil
    }

    func put(_ dbi: MDB_dbi, _ key: [UInt8], _ value: [UInt8]) throws {
        let rc = key.withUnsafeBytes { kbuf -> Int32 in
            value.withUnsafeBytes { vbuf -> Int32 in
                var k = MDB_val(mv_size: kbuf.count, mv_data: UnsafeMutableRawPointer(mutating: kbuf.baseAddress))
                var v = MDB_val(mv_size: vbuf.count, mv_data: UnsafeMutableRawPointer(mutating: vbuf.baseAddress))
                return mdb_put(txn, dbi, &k, &v, 0)
            }
        }
        try LMDB.check(rc, "mdb_put")
    }

    /// Returns false if the key was absent.
    @discardableResult
    func delete(_ dbi: MDB_dbi, _ key: [UInt8]) throws -> Bool {
        let rc = key.withUnsafeBytes { buf -> Int32 in
            var k = MDB_val(mv_size: buf.count, mv_data: UnsafeMutableRawPointer(mutating: buf.baseAddress))
            return mdb_del(txn, dbi, &k, nil)
        }
        if rc == MDB_NOTFOUND { return false }
        try LMDB.check(rc, "mdb_del")
        return true
    }

    /// Deletes every key of the database (`mdb_drop`, keeping the database).
    /// Empties the database; with `deleteDatabase` also removes it from the
    /// environment (its handle is closed: tests of older schemas only).
    func removeAll(_ dbi: MDB_dbi, deleteDatabase: Bool = false) throws {
        try LMDB.check(mdb_drop(txn, dbi, deleteDatabase ? 1 : 0), "mdb_drop")
    }

    func count(_ dbi: MDB_dbi) throws -> Int {
        var stat = MDB_stat()
        try LMDB.check(mdb_stat(txn, dbi, &stat), "mdb_stat")
        return Int(stat.ms_entries)
    }

    /// Walks keys in byte order starting at the first key >= `start` (nil: the
    /// first key); stops when `body` returns false.
    func scan(_ dbi: MDB_dbi, from start: [UInt8]?, _ body: (_ key: [UInt8], _ value: [UInt8]) throws -> Bool) throws {
        var cursor: OpaquePointer?
        try LMDB.check(mdb_cursor_open(txn, dbi, &cursor), "mdb_cursor_open")
        defer { mdb_cursor_close(cursor) }
        var k = MDB_val()
        var v = MDB_val()
        var rc: Int32
        if let start, !start.isEmpty {
            rc = start.withUnsafeBytes { buf -> Int32 in
                k = MDB_val(mv_size: buf.count, mv_data: UnsafeMutableRawPointer(mutating: buf.baseAddress))
                // On success LMDB repoints `k` at the stored key, so it does not
                // outlive `buf`.
                return mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE)
            }
        } else {
            rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST)
        }
        while rc == 0 {
            guard try body(LMDBTransaction.copy(k), LMDBTransaction.copy(v)) else { return }
            rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)
        }
        if rc != MDB_NOTFOUND { try LMDB.check(rc, "mdb_cursor_get") }
    }

    /// Walks the keys that start with `prefix`, handing `body` the key minus the prefix.
    func scanPrefix(_ dbi: MDB_dbi, _ prefix: [UInt8], _ body: (_ suffix: [UInt8], _ value: [UInt8]) throws -> Bool) throws {
        try scan(dbi, from: prefix) { key, value in
            guard key.count >= prefix.count, key[..<prefix.count].elementsEqual(prefix) else { return false }
            return try body(Array(key[prefix.count...]), value)
        }
    }

    private static func copy(_ val: MDB_val) -> [UInt8] {
        guard val.mv_size > 0, let data = val.mv_data else { return [] }
        return Array(UnsafeRawBufferPointer(start: data, count: val.mv_size))
    }
}
