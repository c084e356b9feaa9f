// One request to the web page as the pages see it, and the error they throw
// to answer with an HTML error page.
//
// Thread safety: not Sendable (holds the connection's RequestBody); lives on
// the connection's task.

import NIOHTTP1

/// One page request.
struct WebUIRequest {
    let head: HTTPRequestHead
    /// Already read for a POST (into `form`); handed on to the API's code.
    let body: RequestBody
    /// Below `/ui`, without the query ("/", "/repo/app").
    let path: String
    let query: QueryParameters
    var form = QueryParameters(nil)
    let peer: String?
    var viewer: WebUIViewer
    /// The browser's `berth_csrf` cookie (new: set on this answer).
    let nonce: String
    let newNonce: Bool

    var csrf: String = ""
}

struct WebUIError: Error {
    let status: HTTPResponseStatus
    let message: String
    var headers: [(String, String)] = []
    init(_ status: HTTPResponseStatus, _ message: String, headers: [(String, String)] = []) {
        self.status = status
        self.message = message
        self.headers = headers
    }
}
