// AWS Signature Version 4: canonical request, string to sign, signing key,
// Authorization header and query-string presigning. Written to produce
// byte-for-byte what botocore's SigV4Auth, S3SigV4Auth and S3SigV4QueryAuth
// produce for the same request (SigV4ConformanceTests holds it to that).
//
// Thread safety: immutable value; signing is a pure function of the request,
// the credentials and the date.
// Invariants:
//   1. The S3 flavour signs the path exactly as sent (already URI-encoded once,
//      no normalisation); the generic flavour removes dot segments and encodes
//      the sent path again (botocore's `_normalize_url_path`).
//   2. Every header sent is signed except botocore's blacklist (user-agent,
//      expect, connection, ...); `host` is always signed.
//   3. Query names and values are encoded once (unreserved characters only)
//      and sorted by encoded name, then encoded value, by bytes.

import Foundation

public struct SigV4Request: Sendable {
    public var method: String
    /// "http" or "https".
    public var scheme: String
    /// Host header value: host name, plus ":port" unless it is the scheme's default.
    public var host: String
    /// Path as sent on the wire (URI-encoded, '/' kept), starting with '/'.
    public var path: String
    /// Query parameters, not encoded, in the order they are sent.
    public var query: [(String, String)]
    /// Headers other than host, x-amz-date, x-amz-content-sha256,
    /// x-amz-security-token and authorization, which the signer sets.
    public var headers: [(String, String)]

    public init(method: String, scheme: String, host: String, path: String,
                query: [(String, String)] = [], headers: [(String, String)] = []) {
        self.method = method
        self.scheme = scheme
        self.host = host
        self.path = path
        self.query = query
        self.headers = headers
    }

    /// Query string as sent: each name and value encoded, in the given order.
    public var encodedQuery: String {
        query.map { URIEncoding.encodeQuery($0.0) + "=" + URIEncoding.encodeQuery($0.1) }.joined(separator: "&")
    }

    public var url: String {
        let q = encodedQuery
        return "\(scheme)://\(host)\(path)" + (q.isEmpty ? "" : "?" + q)
    }
}

public struct SigV4Signer: Sendable {
    public enum Flavor: Sendable { case s3, generic }

    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    static let unsignedHeaders: Set<String> = [
        "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization",
        "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id",
    ]

    public var credentials: SigV4Credentials
    public var region: String
    public var service: String
    public var flavor: Flavor

    public init(credentials: SigV4Credentials, region: String, service: String = "s3", flavor: Flavor = .s3) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.flavor = flavor
    }

    /// The signing pieces of one request, exposed for tests and debugging.
    public struct Signature: Sendable {
        public var canonicalRequest: String
        public var stringToSign: String
        public var signature: String
        public var signedHeaders: String
        /// Every header to send, including host, x-amz-date, the payload
        /// hash (S3 flavour), the session token and authorization.
        public var headers: [(String, String)]
    }

    /// Signs with an Authorization header. `payloadHash` is the hex SHA-256
    /// of the body or `unsignedPayload`.
    public func sign(_ request: SigV4Request, payloadHash: String, date: Date) -> Signature {
        let timestamp = Self.timestamp(date)
        var headers = request.headers.filter { !Self.signerOwned($0.0) }
        headers.append(("Host", request.host))
        headers.append(("X-Amz-Date", timestamp))
        if let token = credentials.sessionToken { headers.append(("X-Amz-Security-Token", token)) }
        if flavor == .s3 { headers.append(("X-Amz-Content-SHA256", payloadHash)) }

        let (canonicalHeaders, signedHeaders) = Self.canonicalHeaders(headers)
        let canonicalRequest = [
            request.method.uppercased(), canonicalPath(request.path), Self.canonicalQuery(request.query),
            canonicalHeaders + "\n", signedHeaders, payloadHash,
        ].joined(separator: "\n")
        let stringToSign = self.stringToSign(canonicalRequest, timestamp: timestamp)
        let signature = SigV4Crypto.hex(SigV4Crypto.hmacSHA256(key: signingKey(day: String(timestamp.prefix(8))), stringToSign))
        headers.append(("Authorization",
                        "AWS4-HMAC-SHA256 Credential=\(credentials.accessKey)/\(scope(timestamp)), "
                            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"))
        return Signature(canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature,
                         signedHeaders: signedHeaders, headers: headers)
    }

    /// A presigned URL (query-string authentication, UNSIGNED-PAYLOAD), as
    /// botocore's `generate_presigned_url`: the request's own parameters
    /// first, then the X-Amz-* parameters, then X-Amz-Signature.
    public func presign(_ request: SigV4Request, expires: Int, date: Date) -> (url: String, signature: Signature) {
        let timestamp = Self.timestamp(date)
        var headers = request.headers.filter { !Self.signerOwned($0.0) }
        headers.append(("Host", request.host))
        let (canonicalHeaders, signedHeaders) = Self.canonicalHeaders(headers)
        var auth: [(String, String)] = [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", "\(credentials.accessKey)/\(scope(timestamp))"),
            ("X-Amz-Date", timestamp),
            ("X-Amz-Expires", String(expires)),
            ("X-Amz-SignedHeaders", signedHeaders),
        ]
        if let token = credentials.sessionToken { auth.append(("X-Amz-Security-Token", token)) }
        let query = request.query + auth
        let canonicalRequest = [
            request.method.uppercased(), canonicalPath(request.path), Self.canonicalQuery(query),
            canonicalHeaders + "\n", signedHeaders, Self.unsignedPayload,
        ].joined(separator: "\n")
        let stringToSign = self.stringToSign(canonicalRequest, timestamp: timestamp)
        let signature = SigV4Crypto.hex(SigV4Crypto.hmacSHA256(key: signingKey(day: String(timestamp.prefix(8))), stringToSign))
        var signed = request
        signed.query = query
        let url = signed.url + "&X-Amz-Signature=" + signature
        return (url, Signature(canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature,
                               signedHeaders: signedHeaders, headers: headers))
    }

    /// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, day), region), service), "aws4_request").
    public func signingKey(day: String) -> [UInt8] {
        let kDate = SigV4Crypto.hmacSHA256(key: Array("AWS4\(credentials.secretKey)".utf8), day)
        let kRegion = SigV4Crypto.hmacSHA256(key: kDate, region)
        let kService = SigV4Crypto.hmacSHA256(key: kRegion, service)
        return SigV4Crypto.hmacSHA256(key: kService, "aws4_request")
    }

    func stringToSign(_ canonicalRequest: String, timestamp: String) -> String {
        ["AWS4-HMAC-SHA256", timestamp, scope(timestamp), SigV4Crypto.sha256Hex(canonicalRequest)].joined(separator: "\n")
    }

    func scope(_ timestamp: String) -> String { "\(timestamp.prefix(8))/\(region)/\(service)/aws4_request" }

    func canonicalPath(_ path: String) -> String {
        switch flavor {
        case .s3: return path.isEmpty ? "/" : path
        case .generic: return URIEncoding.encodePath(URIEncoding.removeDotSegments(path))
        }
    }

    static func signerOwned(_ name: String) -> Bool {
        ["host", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token", "authorization"].contains(name.lowercased())
    }

    static func canonicalQuery(_ query: [(String, String)]) -> String {
        query.map { (Array(URIEncoding.encodeQuery($0.0).utf8), Array(URIEncoding.encodeQuery($0.1).utf8)) }
            .sorted { a, b in a.0 != b.0 ? a.0.lexicographicallyPrecedes(b.0) : a.1.lexicographicallyPrecedes(b.1) }
            .map { String(decoding: $0.0, as: UTF8.self) + "=" + String(decoding: $0.1, as: UTF8.self) }
            .joined(separator: "&")
    }

    /// Lower-cased names sorted by bytes; repeated names joined with ',';
    /// values trimmed with inner whitespace runs collapsed to one space.
    static func canonicalHeaders(_ headers: [(String, String)]) -> (String, String) {
        var grouped: [String: [String]] = [:]
        var order: [[UInt8]] = []
        for (name, value) in headers {
            let lower = name.lowercased()
            guard !unsignedHeaders.contains(lower) else { continue }
            if grouped[lower] == nil { order.append(Array(lower.utf8)) }
            grouped[lower, default: []].append(trimAll(value))
        }
        let names = order.sorted { $0.lexicographicallyPrecedes($1) }.map { String(decoding: $0, as: UTF8.self) }
        let canonical = names.map { "\($0):\(grouped[$0]!.joined(separator: ","))" }.joined(separator: "\n")
        return (canonical, names.joined(separator: ";"))
    }

    static func trimAll(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\u{0B}" || $0 == "\u{0C}" })
            .joined(separator: " ")
    }

    static func timestamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d%02d%02dT%02d%02d%02dZ", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
    }
}
