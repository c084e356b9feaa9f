// Open upload sessions of this process: the upload file handle (with its
// streaming hash state) and a lock that serialises appends to one session.
//
// Thread safety: the table is guarded by a Mutex; each session's file is used
// only inside `withSession`, which holds that session's own lock, so two
// requests for the same upload never interleave their writes.
// Invariants:
//   1. A session id is in the table only while its upload file exists.
//   2. After `remove`, a caller still holding the session sees `isClosed`.

import Foundation
import Synchronization

final class UploadSessions: Sendable {
    final class Session: @unchecked Sendable {
        // @unchecked: `file` and `isClosed` are touched only while `lock` is held.
        let record: UploadRecord
        let lock = NSLock()
        var file: UploadFile
        var isClosed = false
        init(record: UploadRecord, file: UploadFile) {
            self.record = record
            self.file = file
        }
    }

    private let table = Mutex<[String: Session]>([:])

    func insert(_ session: Session) {
        table.withLock { $0[session.record.id] = session }
    }

    func lookup(_ id: String) -> Session? {
        table.withLock { $0[id] }
    }

    /// Returns the session for `id`, loading it with `load` (after a restart)
    /// when this process has not opened it yet.
    func session(_ id: String, load: () throws -> Session?) throws -> Session? {
        if let s = lookup(id) { return s }
        guard let loaded = try load() else { return nil }
        return table.withLock { t in
            if let raced = t[id] {
                loaded.file.close()
                return raced
            }
            t[id] = loaded
            return loaded
        }
    }

    @discardableResult
    func remove(_ id: String) -> Session? {
        table.withLock { $0.removeValue(forKey: id) }
    }

    func closeAll() {
        let all = table.withLock { t -> [Session] in
            defer { t.removeAll() }
            return Array(t.values)
        }
        for s in all {
            s.lock.lock()
            s.file.close()
            s.isClosed = true
            s.lock.unlock()
        }
    }
}
