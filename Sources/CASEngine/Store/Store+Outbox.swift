// The notification outbox (MetaStore+Outbox) as the engine's public API.
// putManifest, deleteManifest and deleteTag take `notes` and store them in
// the transaction of the change; every other event is appended here by its
// caller after the change committed and before it answers.
//
// Thread safety: as Store.
// Invariants: MetaStore+Outbox.

extension Store {
    /// Stores event payloads in one durable transaction.
    public func appendOutbox(_ payloads: [[UInt8]]) throws {
        try checkWritable()
        try meta.appendOutbox(payloads)
    }

    /// Stored entries after `after`, oldest first.
    public func outboxEntries(after: UInt64, limit: Int) throws -> [OutboxEntry] {
        try checkOpen()
        return try meta.outboxEntries(after: after, limit: limit)
    }

    /// Where `endpoint` resumes (a new endpoint starts at the current end).
    public func outboxCursor(_ endpoint: String) throws -> UInt64 {
        try checkWritable()
        return try meta.outboxCursor(endpoint)
    }

    /// Records that `endpoint` received everything through `sequence`;
    /// entries every endpoint in `keep` has received are removed.
    public func acknowledgeOutbox(endpoint: String, through sequence: UInt64, keep: Set<String>) throws {
        try checkWritable()
        try meta.acknowledgeOutbox(endpoint: endpoint, through: sequence, keep: keep)
    }

    /// Entries waiting for the slowest endpoint.
    public func outboxCount() throws -> Int {
        try checkOpen()
        return try meta.outboxCount()
    }
}
