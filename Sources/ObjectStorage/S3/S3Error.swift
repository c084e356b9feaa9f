// The one error type of the S3 client: a service error (S3's XML <Error>
// code, message, HTTP status and request id), a connection failure after the
// last retry, or a response the client cannot understand.
//
// Thread safety: immutable value.

public struct S3Error: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// S3 answered with an error document (or a bare error status).
        case service
        /// No usable answer: connect refused, reset, timeout, TLS failure.
        case connection
        /// An answer the client cannot parse.
        case invalidResponse
    }

    public var kind: Kind
    /// S3's error code ("NoSuchKey", "SignatureDoesNotMatch", "EntityTooSmall",
    /// ...); for a bare status without a body, a name for the status
    /// ("NotFound"); "ConnectionFailed" or "InvalidResponse" otherwise.
    public var code: String
    public var message: String
    /// HTTP status (nil for connection failures).
    public var status: Int?
    /// x-amz-request-id / <RequestId>.
    public var requestID: String?
    /// What was asked: "PUT /bucket/key".
    public var operation: String
    /// How many attempts were made before giving up.
    public var attempts: Int

    public init(kind: Kind, code: String, message: String, status: Int? = nil, requestID: String? = nil,
                operation: String, attempts: Int = 1) {
        self.kind = kind
        self.code = code
        self.message = message
        self.status = status
        self.requestID = requestID
        self.operation = operation
        self.attempts = attempts
    }

    public var description: String {
        var text = "S3 \(operation): \(code)"
        if let status { text += " (HTTP \(status))" }
        if !message.isEmpty { text += ": \(message)" }
        if let requestID { text += " [request id \(requestID)]" }
        if attempts > 1 { text += " after \(attempts) attempts" }
        return text
    }

    /// 5xx, SlowDown/throttling, and connection failures are retried.
    var isRetryable: Bool {
        switch kind {
        case .connection: return true
        case .invalidResponse: return false
        case .service:
            if let status, status >= 500 { return true }
            return ["SlowDown", "InternalError", "RequestTimeout", "Throttling", "ThrottlingException",
                    "ServiceUnavailable"].contains(code)
        }
    }

    static func bareStatusCode(_ status: Int) -> String {
        switch status {
        case 301: return "PermanentRedirect"
        case 304: return "NotModified"
        case 400: return "BadRequest"
        case 403: return "Forbidden"
        case 404: return "NotFound"
        case 412: return "PreconditionFailed"
        case 416: return "InvalidRange"
        case 500: return "InternalError"
        case 503: return "ServiceUnavailable"
        default: return "HTTP\(status)"
        }
    }
}
