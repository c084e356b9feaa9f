// The notification outbox: event payloads (opaque bytes the HTTP layer
// builds) stored in order, and one delivery cursor per named endpoint.
//
// `outbox`: key `e ‖ u64 BE sequence` → payload; key `c ‖ endpoint name` →
// u64 LE, the highest sequence that endpoint has acknowledged.
//
// Thread safety: as MetaStore (LMDB serialises writers).
// Invariants:
//   1. Sequences come from the environment's one counter inside the write
//      transaction, so outbox order is commit order, and a payload written
//      with a change (`appendOutbox(txn, …)`) is durable iff the change is.
//   2. An entry is removed only when every cursor passed to `acknowledge`'s
//      `keep` set is at or past it: a receiver that is down keeps its
//      events; an endpoint that is no longer configured keeps none.
//   3. A new endpoint's cursor starts at the current end (it is not sent
//      the history other endpoints already had).

import CLMDB

extension MetaStore {
    static let outboxEntryTag: UInt8 = 0x65 // "e"
    static let outboxCursorTag: UInt8 = 0x63 // "c"

    /// Appends payloads in an existing write transaction (invariant 1).
    func appendOutbox(_ txn: LMDBTransaction, _ payloads: [[UInt8]]) throws {
        guard let dbi = db.outbox else {
            if payloads.isEmpty { return }
            throw StoreError(.readOnly, "the outbox is not available in a read-only store")
        }
        for p in payloads {
            try txn.put(dbi, [Self.outboxEntryTag] + MetaKey.sequence(try nextSequence(txn)), p)
        }
    }

    func appendOutbox(_ payloads: [[UInt8]]) throws {
        guard !payloads.isEmpty else { return }
        try env.write { txn in try appendOutbox(txn, payloads) }
    }

    /// Entries with a sequence above `after`, oldest first, at most `limit`.
    func outboxEntries(after: UInt64, limit: Int) throws -> [OutboxEntry] {
        guard let dbi = db.outbox else { return [] }
        return try env.read { txn in
            var out: [OutboxEntry] = []
            try txn.scan(dbi, from: [Self.outboxEntryTag] + MetaKey.sequence(after &+ 1)) { key, value in
                guard let sequence = try Self.outboxSequence(key) else { return false }
                out.append(OutboxEntry(sequence: sequence, payload: value))
                return out.count < limit
            }
            return out
        }
    }

    /// The endpoint's cursor, created at the current end when missing (invariant 3).
    func outboxCursor(_ endpoint: String) throws -> UInt64 {
        guard let dbi = db.outbox else { return 0 }
        let key = [Self.outboxCursorTag] + Array(endpoint.utf8)
        if let v = try env.read({ txn in try txn.get(dbi, key) }) { return try Self.decodeCursor(v) }
        return try env.write { txn in
            if let v = try txn.get(dbi, key) { return try Self.decodeCursor(v) }
            let end = try peekSequence(txn) &- 1
            try txn.put(dbi, key, Self.encodeCursor(end))
            return end
        }
    }

    /// Moves `endpoint`'s cursor to `sequence`, drops the cursors of
    /// endpoints not in `keep`, and removes the entries every kept cursor has
    /// passed (invariant 2).
    func acknowledgeOutbox(endpoint: String, through sequence: UInt64, keep: Set<String>) throws {
        guard let dbi = db.outbox else { return }
        try env.write { txn in
            try txn.put(dbi, [Self.outboxCursorTag] + Array(endpoint.utf8), Self.encodeCursor(sequence))
            var low = UInt64.max
            var stale: [String] = []
            try txn.scanPrefix(dbi, [Self.outboxCursorTag]) { suffix, value in
                let name = String(decoding: suffix, as: UTF8.self)
                if keep.contains(name) { low = min(low, try Self.decodeCursor(value)) } else { stale.append(name) }
                return true
            }
            for name in stale { try txn.delete(dbi, [Self.outboxCursorTag] + Array(name.utf8)) }
            var doomed: [[UInt8]] = []
            try txn.scan(dbi, from: [Self.outboxEntryTag]) { key, _ in
                guard let s = try Self.outboxSequence(key), s <= low else { return false }
                doomed.append(key)
                return true
            }
            for key in doomed { try txn.delete(dbi, key) }
        }
    }

    /// Entries stored (what is waiting for the slowest endpoint).
    func outboxCount() throws -> Int {
        guard let dbi = db.outbox else { return 0 }
        return try env.read { txn in
            var n = 0
            try txn.scanPrefix(dbi, [Self.outboxEntryTag]) { _, _ in n += 1; return true }
            return n
        }
    }

    /// The sequence of an entry key; nil past the entries.
    private static func outboxSequence(_ key: [UInt8]) throws -> UInt64? {
        guard key.first == outboxEntryTag, key.count == 9 else { return nil }
        var r = ByteReader(Array(key.dropFirst()), what: "outbox key")
        return try r.u64BE()
    }

    private static func decodeCursor(_ v: [UInt8]) throws -> UInt64 {
        var r = ByteReader(v, what: "outbox cursor")
        return try r.u64()
    }

    private static func encodeCursor(_ sequence: UInt64) -> [UInt8] {
        var w = ByteWriter(capacity: 8)
        w.u64(sequence)
        return w.bytes
    }
}

/// One stored event payload and its position.
public struct OutboxEntry: Sendable, Equatable {
    public let sequence: UInt64
    public let payload: [UInt8]
}
