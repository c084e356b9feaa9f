// A small HTTP/1.1 client for tests: NIO ClientBootstrap + the HTTP client
// codec. Request targets are sent verbatim (no normalisation), so tests can
// send `..`, `%2e` and friends exactly as an attacker would.

import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

struct TestRequest: Sendable {
    var method: HTTPMethod
    var uri: String
    var headers: [(String, String)] = []
    /// Each element is sent as its own body part (exercises streaming).
    var chunks: [[UInt8]] = []
    /// Send `Content-Length` computed from `chunks` (else nothing: chunked if any body).
    var contentLength = true

    init(_ method: HTTPMethod, _ uri: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
         chunks: [[UInt8]]? = nil, contentLength: Bool = true) {
        self.method = method
        self.uri = uri
        self.headers = headers
        self.chunks = chunks ?? body.map { [$0] } ?? []
        self.contentLength = contentLength
    }
}

struct TestResponse: Sendable {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }
    subscript(_ name: String) -> String? { headers.first(name: name) }

    /// The first OCI error code of an error body.
    var errorCode: String? {
        guard let obj = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let errors = obj["errors"] as? [[String: Any]] else { return nil }
        return errors.first?["code"] as? String
    }

    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]) ?? [:]
    }
}

enum TestHTTPClient {
    /// Sends `requests` on one keep-alive connection, in order; with
    /// `pipelined`, all requests are written before any response is read.
    static func send(port: Int, _ requests: [TestRequest], pipelined: Bool = false) async throws -> [TestResponse] {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { ch in
                ch.eventLoop.makeCompletedFuture {
                    try ch.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: ch)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var iterator = inbound.makeAsyncIterator()
            var responses: [TestResponse] = []
            func write(_ r: TestRequest) async throws {
                var headers = HTTPHeaders()
                headers.add(name: "Host", value: "127.0.0.1:\(port)")
                for (n, v) in r.headers { headers.add(name: n, value: v) }
                let total = r.chunks.reduce(0) { $0 + $1.count }
                if r.contentLength && !headers.contains(name: "Content-Length") && (total > 0 || [.PUT, .POST, .PATCH].contains(r.method)) {
                    headers.add(name: "Content-Length", value: String(total))
                }
                try await outbound.write(.head(HTTPRequestHead(version: .http1_1, method: r.method, uri: r.uri, headers: headers)))
                for c in r.chunks where !c.isEmpty {
                    try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: c))))
                }
                try await outbound.write(.end(nil))
            }
            func read() async throws -> TestResponse {
                var head: HTTPResponseHead?
                var body: [UInt8] = []
                while let part = try await iterator.next() {
                    switch part {
                    case .head(let h):
                        if h.status.code < 200 { continue }
                        head = h
                    case .body(let b): body.append(contentsOf: b.readableBytesView)
                    case .end:
                        guard let head else { continue }
                        return TestResponse(status: head.status, headers: head.headers, body: body)
                    }
                }
                throw TestClientError.connectionClosed
            }
            if pipelined {
                for r in requests { try await write(r) }
                for _ in requests { responses.append(try await read()) }
            } else {
                for r in requests {
                    try await write(r)
                    responses.append(try await read())
                }
            }
            return responses
        }
    }
}

enum TestClientError: Error { case connectionClosed }
