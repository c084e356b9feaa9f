// The one error type of the storage engine.
//
// Thread safety: value type, Sendable.
// Invariants:
//   1. Equality compares `code` only, so tests can construct the expected error.
//   2. `message` is for humans (logs, CLI output); the HTTP layer maps `code`.

public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        /// No blob with that digest is stored (or it is not linked where asked).
        case blobUnknown
        /// No manifest with that digest/tag in the repository.
        case manifestUnknown
        /// No tag of that name.
        case tagUnknown
        /// No repository of that name.
        case repositoryUnknown
        /// No upload session with that id (or it belongs to another repository).
        case uploadUnknown
        /// The bytes do not hash to the digest the caller declared.
        case digestMismatch
        /// The byte count does not match the size the caller declared.
        case sizeMismatch
        /// A chunk did not start at the session's current offset.
        case outOfOrder
        /// A manifest references a blob or manifest the repository does not have.
        case referenceUnknown
        /// A stored record failed its CRC or digest check.
        case corrupt
        /// Another process holds the root's lock.
        case locked
        /// The on-disk format is one this build does not understand.
        case unsupportedFormat
        /// An argument violates the API contract (bad repository name, etc.).
        case invalidArgument
        /// A configured limit was exceeded (upload size, sessions, map size).
        case limitExceeded
        /// The store was opened read-only and a write was attempted.
        case readOnly
        /// An operating-system call failed (errno in the message).
        case io
        /// LMDB returned an error.
        case metadata
        /// The store has been closed.
        case closed
        /// A compare-and-swap precondition (a tag's expected digest) did not hold.
        case conflict
        /// The tag is immutable (a `TagFreeze` named the rule) and the
        /// request would point it at another manifest.
        case immutable
    }

    public let code: Code
    public let message: String
    public let cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public static func == (lhs: StoreError, rhs: StoreError) -> Bool { lhs.code == rhs.code }

    public var description: String {
        if let cause { return "\(code.rawValue): \(message) (cause: \(cause))" }
        return "\(code.rawValue): \(message)"
    }

    /// An `io` error carrying `errno` for the failed call.
    public static func posix(_ call: String, path: String? = nil, errno code: Int32) -> StoreError {
        let what = path.map { "\(call)(\($0))" } ?? call
        return StoreError(.io, "\(what) failed: \(String(cString: strerror(code))) (errno \(code))")
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
