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
            let start = [Self.outboxEntryTag] + MetaKey.sequence(after &+ 1)
            try txn.scan(dbi, from: start) { key, value in
                guard key.first == Self.outboxEntryTag, key.count == 9 else { return false }
                var r = ByteReader(Array(key.dropFirst()), what: "outbox key")
                out.append(OutboxEntry(sequence: try r.u64BE(), payload: value))
                return out.count < limit
            }
            return out
        }
    }

    /// The endpoint's cursor, created at the current end when missing (invariant 3).
    func outboxCursor(_ endpoint: String) throws -> UInt64 {
        guard let dbi = db.outbox else { return 0 }
        let key = [Self.outboxCursorTag] + Array(endpoint.utf8)
        if let v = try env.read({ txn in try txn.get(dbi, key) }) {
            var r = ByteReader(v, what: "outbox cursor")
            return try r.u64()
        }
        return try env.write { txn in
            if let v = try txn.get(dbi, key) {
                var r = ByteReader(v, what: "outbox cursor")
                return try r.u64()
            }
            let end = try nextSequenceValue(txn) &- 1
            var w = ByteWriter(capacity: 8)
            w.u64(end)
            try txn.put(dbi, key, w.bytes)
            return end
        }
    }

    /// Moves `endpoint`'s cursor to `sequence`, drops the cursors of
    /// endpoints not in `keep`, and removes the entries every kept cursor has
    /// passed (invariant 2).
    func acknowledgeOutbox(endpoint: String, through sequence: UInt64, keep: Set<String>) throws {
        guard let dbi = db.outbox else { return }
        try env.write { txn in
            var w = ByteWriter(capacity: 8)
            w.u64(sequence)
            try txn.put(dbi, [Self.outboxCursorTag] + Array(endpoint.utf8), w.bytes)
            var low = UInt64.max
            var stale: [[UInt8]] = []
            try txn.scan(dbi, from: [Self.outboxCursorTag]) { key, value in
                guard key.first == Self.outboxCursorTag else { return false }
                let name = String(decoding: key.dropFirst(), as: UTF8.self)
                if keep.contains(name) {
                    var r = ByteReader(value, what: "outbox cursor")
                    low = min(low, try r.u64())
                } else {
                    stale.append(key)
                }
                return true
            }
            for key in stale { try txn.delete(dbi, key) }
            var doomed: [[UInt8]] = []
            try txn.scan(dbi, from: [Self.outboxEntryTag]) { key, _ in
                guard key.first == Self.outboxEntryTag, key.count == 9 else { return false }
                var r = ByteReader(Array(key.dropFirst()), what: "outbox key")
                guard try r.u64BE() <= low else { return false }
                doomed.append(key)
                return true
            }
            for key in doomed { try txn.delete(dbi, key) }
        }
    }

    /// The next sequence the counter will issue (nothing is taken).
    private func nextSequenceValue(_ txn: LMDBTransaction) throws -> UInt64 {
        guard let stored = try txn.get(db.meta, MetaKey.nextSequence) else { return 1 }
        var r = ByteReader(stored, what: "sequence")
        return try r.u64()
    }

    /// Entries stored (what is waiting for the slowest endpoint).
    func outboxCount() throws -> Int {
        guard let dbi = db.outbox else { return 0 }
        return try env.read { txn in
            var n = 0
            try txn.scan(dbi, from: [Self.outboxEntryTag]) { key, _ in
                guard key.first == Self.outboxEntryTag else { return false }
                n += 1
                return true
            }
            return n
        }
    }
}

/// One stored event payload and its position.
public struct OutboxEntry: Sendable, Equatable {
    public let sequence: UInt64
    public let payload: [UInt8]
}
