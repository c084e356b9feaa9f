// An S3 client over async-http-client: every request is SigV4-signed,
// retried on 5xx, SlowDown and connection failures with exponential backoff
// and jitter, and its error document mapped to `S3Error`.
//
// Thread safety: Sendable; the HTTPClient is thread-safe and the
// configuration immutable.
// Invariants:
//   1. A request is retried only while no response byte has reached the
//      caller: a streamed GET body that fails mid-way is the caller's error.
//   2. Streamed request bodies are restarted from their factory on retry.
//   3. Redirects are never followed (a 301 from S3 is a wrong region or
//      endpoint, reported as PermanentRedirect).
//   4. The client shuts down its HTTPClient only if it created it.

import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL

public final class S3Client: Sendable {
    public let configuration: S3ClientConfiguration
    let http: HTTPClient
    private let ownsHTTPClient: Bool
    let signer: SigV4Signer
    let logger: Logger

    public init(_ configuration: S3ClientConfiguration, httpClient: HTTPClient? = nil,
                logger: Logger = Logger(label: "berth.s3")) {
        self.configuration = configuration
        self.logger = logger
        signer = SigV4Signer(credentials: configuration.credentials, region: configuration.region)
        if let httpClient {
            http = httpClient
            ownsHTTPClient = false
        } else {
            var tls = TLSConfiguration.makeClientConfiguration()
            if configuration.skipVerify { tls.certificateVerification = .none }
            let config = HTTPClient.Configuration(
                tlsConfiguration: tls, redirectConfiguration: .disallow,
                timeout: .init(connect: Self.timeAmount(configuration.connectTimeout), read: .seconds(120)))
            http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
            ownsHTTPClient = true
        }
    }

    public func shutdown() async throws {
        if ownsHTTPClient { try await http.shutdown() }
    }

    /// One S3 operation's request, before signing.
    struct Call: Sendable {
        var method: HTTPMethod
        var key: String?
        var query: [(String, String)] = []
        var headers: [(String, String)] = []
        var body: S3Body? = nil
        /// The caller streams the answer's body (GetObject): the long
        /// deadline applies.
        var streamsResponse = false

        var name: String { "\(method.rawValue) \(key.map { "/" + $0 } ?? "/")" }
    }

    /// Sends `call`, retrying retryable failures; returns the response whose
    /// status is 2xx (or one of `accept`), body not yet read.
    func send(_ call: Call, accept: Set<Int> = []) async throws -> HTTPClientResponse {
        try await retrying(call) { operation in
            let response = try await attemptOnce(call, operation: operation)
            try await check(response, accept: accept, operation: operation)
            return response
        }
    }

    /// Sends and reads the whole (small) response body. With
    /// `embeddedErrors`, a 200 carrying an <Error> document is that error.
    func sendCollecting(_ call: Call, accept: Set<Int> = [], limit: Int = 16 << 20,
                        embeddedErrors: Bool = false) async throws -> (HTTPClientResponse, [UInt8]) {
        try await retrying(call) { operation in
            let response = try await attemptOnce(call, operation: operation)
            try await check(response, accept: accept, operation: operation)
            let body = try await readBody(response, operation: operation, limit: limit)
            if embeddedErrors, let error = Self.embeddedError(body, response: response, operation: operation) { throw error }
            return (response, body)
        }
    }

    private func retrying<T>(_ call: Call, _ body: (String) async throws -> T) async throws -> T {
        let operation = "\(call.method.rawValue) \(configuration.bucket)\(call.key.map { "/" + $0 } ?? "")"
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await body(operation)
            } catch var error as S3Error {
                error.attempts = attempt
                guard error.isRetryable, attempt < configuration.maxAttempts else { throw error }
                if configuration.requestLogging >= .retries {
                    logger.info("s3 retry", metadata: ["operation": "\(operation)", "attempt": "\(attempt)", "error": "\(error)"])
                }
                try await Task.sleep(for: backoff(attempt))
            }
        }
    }

    private func check(_ response: HTTPClientResponse, accept: Set<Int>, operation: String) async throws {
        let status = Int(response.status.code)
        if (200..<300).contains(status) || accept.contains(status) { return }
        let body = try await readBody(response, operation: operation, limit: 1 << 20)
        throw Self.serviceError(status: status, headers: response.headers, body: body, operation: operation)
    }

    private func attemptOnce(_ call: Call, operation: String) async throws -> HTTPClientResponse {
        let request = SigV4Request(method: call.method.rawValue, scheme: configuration.scheme,
                                   host: configuration.hostHeader, path: configuration.path(for: call.key),
                                   query: call.query, headers: call.headers)
        let payloadHash = call.body?.sha256Hex ?? (call.body == nil ? SigV4Signer.emptyPayloadHash : SigV4Signer.unsignedPayload)
        let signature = signer.sign(request, payloadHash: payloadHash, date: Date())
        if configuration.requestLogging >= .signing {
            logger.info("s3 signing", metadata: ["operation": "\(operation)", "canonical_request": "\(signature.canonicalRequest)",
                                                 "string_to_sign": "\(signature.stringToSign)"])
        }
        var http = HTTPClientRequest(url: request.url)
        http.method = call.method
        for (name, value) in signature.headers { http.headers.add(name: name, value: value) }
        if let agent = configuration.userAgent { http.headers.add(name: "User-Agent", value: agent) }
        if let body = call.body {
            http.body = body.httpBody()
            http.headers.replaceOrAdd(name: "Content-Length", value: String(body.length))
        } else if call.method == .PUT || call.method == .POST {
            http.headers.replaceOrAdd(name: "Content-Length", value: "0")
        }
        let streamed = (call.body?.isStreamed ?? false) || call.streamsResponse
        let timeout = streamed ? configuration.streamTimeout : configuration.requestTimeout
        do {
            let response = try await self.http.execute(http, deadline: .now() + Self.timeAmount(timeout), logger: logger)
            if configuration.requestLogging >= .requests {
                logger.info("s3 request", metadata: ["operation": "\(operation)", "status": "\(response.status.code)",
                                                     "request_id": "\(response.headers.first(name: "x-amz-request-id") ?? "")"])
            }
            return response
        } catch let error as S3Error {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw S3Error(kind: .connection, code: "ConnectionFailed",
                          message: "cannot reach \(configuration.scheme)://\(configuration.hostHeader): \(error)",
                          operation: operation)
        }
    }

    func readBody(_ response: HTTPClientResponse, operation: String, limit: Int) async throws -> [UInt8] {
        do {
            let buffer = try await response.body.collect(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch {
            throw S3Error(kind: .connection, code: "ConnectionFailed",
                          message: "response body broke off: \(error)", status: Int(response.status.code),
                          requestID: response.headers.first(name: "x-amz-request-id"), operation: operation)
        }
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        .nanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    func backoff(_ attempt: Int) -> Duration {
        let exponential = configuration.baseBackoff * (1 << min(attempt - 1, 20))
        let capped = min(exponential, configuration.maxBackoff)
        return capped * Double.random(in: 0.5...1.0)
    }

    static func serviceError(status: Int, headers: HTTPHeaders, body: [UInt8], operation: String) -> S3Error {
        let requestID = headers.first(name: "x-amz-request-id")
        if let xml = XMLNode.parse(body), xml.name == "Error" {
            return S3Error(kind: .service, code: xml.text("Code") ?? bareStatusCode(status), message: xml.text("Message") ?? "",
                           status: status, requestID: xml.text("RequestId") ?? requestID, operation: operation)
        }
        return S3Error(kind: .service, code: S3Error.bareStatusCode(status), message: "", status: status,
                       requestID: requestID, operation: operation)
    }

    static func bareStatusCode(_ status: Int) -> String { S3Error.bareStatusCode(status) }

    /// S3 may answer CopyObject, UploadPartCopy and CompleteMultipartUpload
    /// with 200 and an <Error> document; such an answer is that error.
    static func embeddedError(_ body: [UInt8], response: HTTPClientResponse, operation: String) -> S3Error? {
        guard let xml = XMLNode.parse(body), xml.name == "Error" else { return nil }
        return S3Error(kind: .service, code: xml.text("Code") ?? "InternalError", message: xml.text("Message") ?? "",
                       status: Int(response.status.code),
                       requestID: xml.text("RequestId") ?? response.headers.first(name: "x-amz-request-id"),
                       operation: operation)
    }

    /// Headers distribution's driver puts on every object write.
    var writeHeaders: [(String, String)] {
        var headers: [(String, String)] = []
        if let storageClass = configuration.storageClass { headers.append(("x-amz-storage-class", storageClass)) }
        if let sse = configuration.serverSideEncryption {
            headers.append(("x-amz-server-side-encryption", sse))
            if let key = configuration.kmsKeyID { headers.append(("x-amz-server-side-encryption-aws-kms-key-id", key)) }
        }
        if let acl = configuration.objectACL { headers.append(("x-amz-acl", acl)) }
        return headers
    }
}
