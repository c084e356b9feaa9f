// Upload sessions in the database, so an upload started on one replica can
// continue on another (issue 10 item 4 builds on these). Each call is one
// statement; `state` is opaque to the store (the blob store's hash state
// and multipart parts). Thread safety: as PostgresMetadataStore.

import Foundation
import PostgresNIO

extension PostgresMetadataStore {
    public struct UploadSession: Sendable, Equatable {
        public let id: String
        public let repository: String
        public let startedAt: Date
        public let size: Int64
        public let state: [UInt8]?
    }

    public func startUpload(id: String, repository: String) async throws {
        try Self.checkName(id, "upload id")
        try await database.transaction { c in
            let repo = try await Self.ensureRepository(c, repository)
            try await c.query("INSERT INTO upload_sessions (id, repository_id) VALUES (\(id), \(repo))")
        }
    }

    public func upload(id: String) async throws -> UploadSession? {
        try await database.withConnection { c in
            let rows = try await c.query("""
                SELECT r.name, u.started_at, u.size, u.state FROM upload_sessions u JOIN repositories r ON r.id = u.repository_id
                WHERE u.id = \(id)
                """)
            guard let (repository, started, size, state) = try await Self.first(rows, (String, Date, Int64, ByteBuffer?).self) else {
                return nil
            }
            return UploadSession(id: id, repository: repository, startedAt: started, size: size,
                                 state: state.map { Array($0.readableBytesView) })
        }
    }

    /// Records progress if the session is at `expectedSize` (a replica that
    /// fell behind gets false and must not append). Returns whether it was recorded.
    public func updateUpload(id: String, expectedSize: Int64, size: Int64, state: [UInt8]) async throws -> Bool {
        try await database.withConnection { c in
            try await Self.first(c.query("""
                UPDATE upload_sessions SET size = \(size), state = \(ByteBuffer(bytes: state)), updated_at = now()
                WHERE id = \(id) AND size = \(expectedSize) RETURNING 1
                """), Int32.self) != nil
        }
    }

    /// Ends the session (committed or cancelled); false if it did not exist.
    @discardableResult
    public func finishUpload(id: String) async throws -> Bool {
        try await database.withConnection { c in
            try await Self.first(c.query("DELETE FROM upload_sessions WHERE id = \(id) RETURNING 1"), Int32.self) != nil
        }
    }
}
