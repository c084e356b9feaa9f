// Upload sessions: a persisted record in LMDB plus an upload file that
// reserves pack-header space at offset 0, so a large blob becomes its own
// pack by a rename (committing never copies its bytes).
//
// Thread safety: appends and commits to one session serialise on the
// session's lock; different sessions proceed in parallel.
// Invariants:
//   1. Order of creation: upload file, then LMDB record. A file without a
//      record (crash in between) is removed at open; a record without a file
//      is dropped at open.
//   2. Appends must start at the session's current length (`.outOfOrder`).
//   3. Commit verifies size and digest before anything becomes visible.
//   4. An offset is durable once `syncUpload` (the HTTP layer calls it before
//      answering a PATCH) or the commit returned; `appendUpload` alone only
//      writes (many appends per request, one sync).

import Foundation

extension Store {
    public func startUpload(repository: String) throws -> UploadStatus {
        try checkWritable()
        try Store.checkName(repository, "repository")
        if try meta.uploadCount() >= options.maxUploadSessions {
            throw StoreError(.limitExceeded, "too many open upload sessions (limit \(options.maxUploadSessions))")
        }
        let id = Store.newUploadID()
        let file = try packs.createUploadFile(id: id)
        let record = UploadRecord(id: id, repository: repository, startedAt: now)
        do {
            try meta.putUpload(record)
        } catch {
            file.close()
            packs.removeUploadFile(id: id)
            throw error
        }
        sessions.insert(.init(record: record, file: file))
        return UploadStatus(id: id, repository: repository, offset: 0, startedAt: record.startedAt)
    }

    /// Runs `body` holding the session's lock. `.uploadUnknown` if the id is
    /// unknown, closed, or belongs to another repository.
    func withSession<T>(_ id: String, repository: String, _ body: (UploadSessions.Session) throws -> T) throws -> T {
        try checkOpen()
        let unknown = StoreError(.uploadUnknown, "upload \(id) is not in progress for repository \(repository)")
        let session = try sessions.session(id) { () throws -> UploadSessions.Session? in
            guard let record = try meta.upload(id: id), let file = try packs.openUploadFile(id: id) else { return nil }
            return .init(record: record, file: file)
        }
        guard let session, session.record.repository == repository else { throw unknown }
        session.lock.lock()
        defer { session.lock.unlock() }
        guard !session.isClosed else { throw unknown }
        return try body(session)
    }

    /// 128 random bits from the system CSPRNG, lowercase hex in UUID layout
    /// (8-4-4-4-12). Not a v4 UUID: those keep only 122 random bits.
    static func newUploadID() -> String {
        var rng = SystemRandomNumberGenerator()
        let hex = [rng.next(), rng.next()].map { (v: UInt64) -> String in
            let s = String(v, radix: 16)
            return String(repeating: "0", count: 16 - s.count) + s
        }.joined()
        let c = Array(hex)
        return [c[0..<8], c[8..<12], c[12..<16], c[16..<20], c[20..<32]].map { String($0) }.joined(separator: "-")
    }

    public func uploadStatus(id: String, repository: String) throws -> UploadStatus {
        try withSession(id, repository: repository) { s in
            UploadStatus(id: id, repository: repository, offset: s.file.length, startedAt: s.record.startedAt)
        }
    }

    public func appendUpload(id: String, repository: String, offset: UInt64?, _ bytes: UnsafeRawBufferPointer) throws -> UploadStatus {
        try checkWritable()
        return try withSession(id, repository: repository) { s in
            if let offset, offset != s.file.length {
                throw StoreError(.outOfOrder, "chunk starts at \(offset) but the upload has \(s.file.length) bytes")
            }
            if let max = options.maxUploadSize, s.file.length + UInt64(bytes.count) > max {
                throw StoreError(.limitExceeded, "upload exceeds the maximum blob size of \(max) bytes")
            }
            try s.file.append(bytes)
            return UploadStatus(id: id, repository: repository, offset: s.file.length, startedAt: s.record.startedAt)
        }
    }

    /// Makes the session's bytes durable (fdatasync) and returns its status:
    /// the offset a client is told after a PATCH survives power loss
    /// (`UploadStatus.offset`). Appends alone are not durable; commit syncs too.
    public func syncUpload(id: String, repository: String) throws -> UploadStatus {
        try checkWritable()
        return try withSession(id, repository: repository) { s in
            try failpoint(.uploadBeforeSync)
            try EngineMetrics.time(metrics.fsyncUpload) { try s.file.sync() }
            return UploadStatus(id: id, repository: repository, offset: s.file.length, startedAt: s.record.startedAt)
        }
    }

    public func commitUpload(id: String, repository: String, digest: BlobDigest, expectedSize: UInt64? = nil) throws -> BlobInfo {
        try checkWritable()
        return try withSession(id, repository: repository) { s in
            let length = s.file.length
            if let expectedSize, expectedSize != length {
                discard(s)
                throw StoreError(.sizeMismatch, "upload has \(length) bytes, \(expectedSize) were declared")
            }
            let actual = try s.file.digest(digest.algorithm)
            guard actual == digest else {
                discard(s)
                throw StoreError(.digestMismatch, "upload hashes to \(actual), not \(digest)")
            }
            let record: BlobRecord
            try failpoint(.dedupeAfterCheck)
            // Dedupe is the link transaction (Store invariant 4): the upload
            // file is dropped only once the existing blob is linked.
            if let existing = try meta.linkExisting(repository: repository, digest: digest, now: now) {
                record = existing
                discard(s)
            } else if length <= UInt64(options.smallBlobThreshold) {
                let bytes = try s.file.readPayload()
                record = try storeSmall(bytes, digest: digest, linkTo: repository)
                discard(s)
            } else {
                let location = try packs.commitDedicated(s.file, digest: digest)
                s.isClosed = true
                sessions.remove(id)
                record = try indexDedicated(location, digest: digest, repository: repository)
                try meta.deleteUpload(id: id)
            }
            return BlobInfo(digest: digest, size: record.location.rawLength, refcount: record.refcount)
        }
    }

    /// Indexes and links a dedicated pack made durable in packs/ (an
    /// upload's or a clone's), in one metadata transaction. When a concurrent
    /// commit of the same content won, our pack was never indexed, so nobody
    /// can be reading it: it is removed. Returns the indexed record.
    func indexDedicated(_ location: BlobLocation, digest: BlobDigest, repository: String) throws -> BlobRecord {
        try failpoint(.commitAfterRename)
        let record = try meta.commitBlobs([(digest: digest, location: location, linkTo: repository)], now: now)[0]
        try failpoint(.commitAfterIndex)
        if record.location != location { try? packs.removePack(location.packID) }
        return record
    }

    public func cancelUpload(id: String, repository: String) throws {
        try checkWritable()
        try withSession(id, repository: repository) { s in discard(s) }
    }

    /// Removes sessions started more than `olderThan` seconds ago; returns them.
    public func purgeUploads(olderThan: UInt64, dryRun: Bool) throws -> [UploadStatus] {
        try checkOpen()
        let cutoff = now > olderThan ? now - olderThan : 0
        var purged: [UploadStatus] = []
        for record in try meta.uploads() where record.startedAt < cutoff {
            if !dryRun {
                try? withSession(record.id, repository: record.repository) { s in discard(s) }
                if try meta.upload(id: record.id) != nil { try meta.deleteUpload(id: record.id) }
            }
            purged.append(UploadStatus(id: record.id, repository: record.repository, offset: 0, startedAt: record.startedAt))
        }
        return purged
    }

    /// Ends a session without storing anything. Caller holds the session lock.
    private func discard(_ s: UploadSessions.Session) {
        s.file.close()
        s.isClosed = true
        sessions.remove(s.record.id)
        packs.removeUploadFile(id: s.record.id)
        try? meta.deleteUpload(id: s.record.id)
    }

    /// At open: reconcile upload files with upload records (RECOVERY.md).
    static func recoverUploads(packs: PackStore, meta: MetaStore, readOnly: Bool,
                               packReport: PackRecoveryReport) throws -> RecoveryReport {
        var report = RecoveryReport(packs: packReport)
        let files = Set(try packs.uploadFileIDs())
        let records = try meta.uploads()
        let recorded = Set(records.map(\.id))
        for id in files.subtracting(recorded) {
            report.orphanUploadFiles.append(id)
            if !readOnly { packs.removeUploadFile(id: id) }
        }
        for record in records where !files.contains(record.id) {
            report.staleUploadRecords.append(record.id)
            if !readOnly { try meta.deleteUpload(id: record.id) }
        }
        return report
    }
}

/// What `Store.open` found and repaired.
public struct RecoveryReport: Sendable {
    /// Torn tails truncated from shared packs.
    public var tornTails: [(packID: UInt32, offset: UInt64, bytes: UInt64)] = []
    /// Upload files with no session record (crash between file and record).
    public var orphanUploadFiles: [String] = []
    /// Session records whose file was gone (crash after commit's rename).
    public var staleUploadRecords: [String] = []
    /// What open found comparing the recovery journal with the index.
    public var journal: JournalState = .consistent

    init(packs: PackRecoveryReport) {
        tornTails = packs.truncated.map { (packID: $0.packID, offset: $0.fromOffset, bytes: $0.bytes) }
    }
}
