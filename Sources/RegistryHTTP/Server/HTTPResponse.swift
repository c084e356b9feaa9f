// What a handler answers; the connection turns it into response parts.
//
// Thread safety: Sendable value.

import CASEngine
import NIOCore
import NIOHTTP1

struct HTTPResponse: Sendable {
    enum Body: Sendable {
        /// No body. `Content-Length` is whatever the handler set (HEAD answers
        /// carry the length of the body a GET would send), else 0.
        case none
        case bytes([UInt8])
        /// `range` of the blob's original bytes (inclusive); nil: all of it.
        case blob(any BlobContent, range: ClosedRange<UInt64>?)
    }

    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: Body

    init(status: HTTPResponseStatus, headers: HTTPHeaders = HTTPHeaders(), body: Body = .none) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    static func json(_ text: String, status: HTTPResponseStatus = .ok, contentType: String = "application/json") -> HTTPResponse {
        var h = HTTPHeaders()
        h.add(name: "Content-Type", value: contentType)
        return HTTPResponse(status: status, headers: h, body: .bytes(Array(text.utf8)))
    }

    static func error(_ error: RegistryError) -> HTTPResponse {
        var h = HTTPHeaders()
        h.add(name: "Content-Type", value: "application/json")
        for (name, value) in error.headers { h.replaceOrAdd(name: name, value: value) }
        return HTTPResponse(status: error.status, headers: h, body: .bytes(error.jsonBody))
    }
}
