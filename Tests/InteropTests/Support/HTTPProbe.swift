import Foundation

/// Raw HTTP against the server with curl: status, headers and body bytes
/// exactly as sent, with no client-side interpretation.
struct HTTPResponse {
    let status: Int
    /// Header names lower-cased.
    let headers: [String: String]
    let body: Data

    func header(_ name: String) -> String? { headers[name.lowercased()] }

    func json() throws -> [String: Any] {
        guard let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else {
            throw InteropError("HTTP \(status) body is not a JSON object: \(String(decoding: body.prefix(500), as: UTF8.self))")
        }
        return object
    }
}

enum HTTPProbe {
    static func request(
        method: String = "GET", url: String, headers: [String: String] = [:], timeout: Int = 10,
        curlOptions: [String] = []
    ) throws -> HTTPResponse {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("berth-http-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let headerFile = scratch.appendingPathComponent("headers")
        let bodyFile = scratch.appendingPathComponent("body")
        var args = ["-s", "-X", method, "--max-time", String(timeout), "-D", headerFile.path, "-o", bodyFile.path]
        if method == "HEAD" { args = ["-s", "-I", "--max-time", String(timeout), "-D", headerFile.path, "-o", bodyFile.path] }
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
            args += ["-H", "\(name): \(value)"]
        }
        args += curlOptions
        args.append(url)
        let result = try Command.run("curl", args)
        guard result.succeeded else {
            throw InteropError("curl \(method) \(url) failed (exit \(result.status)): \(result.stderr)")
        }
        let rawHeaders = String(decoding: (try? Data(contentsOf: headerFile)) ?? Data(), as: UTF8.self)
        var status = 0
        var parsed: [String: String] = [:]
        for line in rawHeaders.split(whereSeparator: \.isNewline) {
            if line.hasPrefix("HTTP/") {
                // A later status line (after 100 Continue) replaces the earlier one.
                status = Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
                parsed = [:]
            } else if let colon = line.firstIndex(of: ":") {
                let name = line[..<colon].lowercased()
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                parsed[name] = value
            }
        }
        return HTTPResponse(status: status, headers: parsed, body: (try? Data(contentsOf: bodyFile)) ?? Data())
    }
}
