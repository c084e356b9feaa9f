// `query` without a logger argument, for the store's statements: postgres-nio
// logs each statement at debug/trace level, which the store does not want.
// Thread safety: as PostgresConnection (one statement at a time per connection).

import Logging
import PostgresNIO

extension PostgresConnection {
    static let quietLogger = Logger(label: "berth.postgres.statement", factory: { _ in SwiftLogNoOpLogHandler() })

    @discardableResult
    func query(_ query: PostgresQuery, file: String = #fileID, line: Int = #line) async throws -> PostgresRowSequence {
        try await self.query(query, logger: Self.quietLogger, file: file, line: line)
    }
}
