// Where and how the S3 client talks: endpoint, bucket, addressing style,
// credentials, retry policy and the per-object settings distribution's s3
// driver applies to every write (storage class, server-side encryption, ACL).
//
// Thread safety: immutable value.
// Invariants:
//   1. Virtual-host addressing puts the bucket in the host name; path-style
//      puts it as the first path segment. Buckets whose names are not valid
//      DNS labels (dots with https, upper case, underscores) always use
//      path style, as the AWS SDKs do.

public struct S3ClientConfiguration: Sendable {
    public var scheme: String
    /// Endpoint host (no bucket), e.g. "s3.us-east-1.amazonaws.com" or "127.0.0.1".
    public var host: String
    public var port: Int?
    public var region: String
    public var bucket: String
    public var credentials: SigV4Credentials
    public var forcePathStyle: Bool
    public var skipVerify = false
    public var userAgent: String?
    /// x-amz-storage-class on PutObject / CreateMultipartUpload / CopyObject (nil: none sent).
    public var storageClass: String?
    /// Server-side encryption: nil, or "AES256", or "aws:kms" with `kmsKeyID`.
    public var serverSideEncryption: String?
    public var kmsKeyID: String?
    /// x-amz-acl on writes (nil: none sent).
    public var objectACL: String?
    /// Server-side copies (distribution's multipartcopy* settings).
    public var multipartCopyChunkSize: Int64 = 32 << 20
    public var multipartCopyMaxConcurrency = 100
    public var multipartCopyThresholdSize: Int64 = 32 << 20
    /// What the client logs at info level (distribution's s3 `loglevel`).
    public var requestLogging = RequestLogging.off

    public enum RequestLogging: Int, Sendable, Comparable {
        case off, requests, signing, retries
        public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    }

    /// Total attempts for a retryable failure (1: no retry).
    public var maxAttempts = 5
    /// First backoff; doubled each retry, with jitter, capped at `maxBackoff`.
    public var baseBackoff: Duration = .milliseconds(100)
    public var maxBackoff: Duration = .seconds(5)
    /// How long one attempt waits for a TCP (and TLS) connection; the HTTP
    /// client keeps re-trying a refused connect until then, so a down
    /// endpoint costs about `maxAttempts * connectTimeout` before the error.
    public var connectTimeout: Duration = .seconds(10)
    /// Deadline for one attempt of a request that has no streamed body.
    public var requestTimeout: Duration = .seconds(120)
    /// Deadline for one attempt of a streamed upload or download.
    public var streamTimeout: Duration = .seconds(3600)

    public init(scheme: String = "https", host: String, port: Int? = nil, region: String, bucket: String,
                credentials: SigV4Credentials, forcePathStyle: Bool = false) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.region = region
        self.bucket = bucket
        self.credentials = credentials
        self.forcePathStyle = forcePathStyle
    }

    var usesPathStyle: Bool { forcePathStyle || !Self.isVirtualHostable(bucket, secure: scheme == "https") }

    static func isVirtualHostable(_ bucket: String, secure: Bool) -> Bool {
        guard (3...63).contains(bucket.utf8.count), !(secure && bucket.contains(".")) else { return false }
        return bucket.utf8.allSatisfy { b in
            (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
                || b == UInt8(ascii: "-") || b == UInt8(ascii: ".")
        } && !bucket.hasPrefix("-") && !bucket.hasSuffix("-")
    }

    /// Host header value for requests on the bucket.
    var hostHeader: String {
        let name = usesPathStyle ? host : "\(bucket).\(host)"
        guard let port, port != (scheme == "https" ? 443 : 80) else { return name }
        return "\(name):\(port)"
    }

    /// Wire path of `key` (nil: the bucket itself).
    func path(for key: String?) -> String {
        let encodedKey = key.map { URIEncoding.encodePath($0) }
        if usesPathStyle {
            return "/" + URIEncoding.encodePath(bucket) + (encodedKey.map { "/" + $0 } ?? "")
        }
        return "/" + (encodedKey ?? "")
    }
}
