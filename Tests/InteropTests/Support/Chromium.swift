import BerthTestSupport
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Debian's `chromium`, headless, driven over the DevTools protocol: one page
/// target reached through a minimal WebSocket client (RFC 6455 text frames,
/// client-masked) on a blocking 127.0.0.1 socket. The page loads, submits
/// forms, runs script and takes screenshots exactly as a user's browser would:
/// cookies, Origin and Sec-Fetch-Site headers are chromium's own.
final class Chromium {
    private let process: Process
    private let profile: URL
    private let socket: Socket
    private var nextID = 1

    /// chromium's path, nil when it is not installed.
    static var executable: String? { Command.locate("chromium") ?? Command.locate("chromium-browser") }

    static func start() throws -> Chromium {
        guard let exe = executable else {
            throw InteropError("chromium not found on PATH: install Debian's chromium package (`make test-deps` does)")
        }
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("berth-chromium-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: profile, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: exe)
        process.arguments = [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--disable-extensions", "--disable-background-networking", "--hide-scrollbars", "--window-size=1200,800",
            "--remote-debugging-port=0", "--user-data-dir=\(profile.path)", "about:blank",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // chromium writes its port (line 1) once the DevTools server listens.
        let portFile = profile.appendingPathComponent("DevToolsActivePort")
        let deadline = Date().addingTimeInterval(60)
        var port: Int?
        while port == nil {
            if let text = try? String(contentsOf: portFile, encoding: .utf8), let line = text.split(separator: "\n").first {
                port = Int(line)
            }
            guard process.isRunning, Date() < deadline else {
                process.terminate()
                throw InteropError("chromium did not start its DevTools server (exit \(process.isRunning ? "-" : String(process.terminationStatus)))")
            }
            if port == nil { usleep(100_000) }
        }
        let list = try HTTPProbe.request(url: "http://127.0.0.1:\(port!)/json/list")
        let targets = try JSONSerialization.jsonObject(with: list.body) as? [[String: Any]] ?? []
        guard let page = targets.first(where: { $0["type"] as? String == "page" }),
              let ws = page["webSocketDebuggerUrl"] as? String, let path = URL(string: ws)?.path
        else { process.terminate(); throw InteropError("chromium has no page target: \(targets)") }
        let socket = try Socket(port: port!)
        try socket.handshake(path: path, host: "127.0.0.1:\(port!)")
        let browser = Chromium(process: process, profile: profile, socket: socket)
        _ = try browser.call("Page.enable")
        _ = try browser.call("Emulation.setDeviceMetricsOverride",
                             ["width": 1200, "height": 800, "deviceScaleFactor": 1, "mobile": false])
        return browser
    }

    private init(process: Process, profile: URL, socket: Socket) {
        self.process = process
        self.profile = profile
        self.socket = socket
    }

    deinit { stop() }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: profile)
    }

    /// One DevTools command; returns its `result` (events in between are skipped).
    @discardableResult
    func call(_ method: String, _ params: [String: Any] = [:]) throws -> [String: Any] {
        let id = nextID
        nextID += 1
        let message = try JSONSerialization.data(withJSONObject: ["id": id, "method": method, "params": params])
        try socket.sendText(message)
        while true {
            let frame = try socket.receiveText()
            guard let object = try JSONSerialization.jsonObject(with: frame) as? [String: Any],
                  object["id"] as? Int == id else { continue }
            if let error = object["error"] { throw InteropError("DevTools \(method) failed: \(error)") }
            return object["result"] as? [String: Any] ?? [:]
        }
    }

    /// Runs `expression` in the page; returns its JSON value.
    @discardableResult
    func evaluate(_ expression: String) throws -> Any? {
        let result = try call("Runtime.evaluate", ["expression": expression, "returnByValue": true, "awaitPromise": true])
        if let exception = result["exceptionDetails"] { throw InteropError("script failed: \(exception)") }
        return (result["result"] as? [String: Any])?["value"]
    }

    /// Loads `url` and waits until the new document is complete.
    func navigate(_ url: String) throws {
        try evaluate("window.__berthOld = true")
        _ = try call("Page.navigate", ["url": url])
        try waitForNewDocument()
    }

    /// Runs `script` (which submits a form) and waits for the answer's document.
    func submit(_ script: String) throws {
        try evaluate("window.__berthOld = true")
        try evaluate(script)
        try waitForNewDocument()
    }

    private func waitForNewDocument() throws {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let ready = try? evaluate("window.__berthOld === undefined && document.readyState === 'complete'") as? Bool, ready {
                return
            }
            usleep(50_000)
        }
        throw InteropError("page did not load: \(String(describing: try? evaluate("location.href")))")
    }

    var url: String { (try? evaluate("location.href") as? String) ?? "" }
    /// The live DOM as HTML (what `--dump-dom` prints).
    func dom() throws -> String { try evaluate("document.documentElement.outerHTML") as? String ?? "" }
    func text(_ selector: String) throws -> String? {
        try evaluate("(function(){var e=document.querySelector(\(Self.quote(selector)));return e?e.textContent:null})()") as? String
    }

    /// A PNG of the whole page.
    func screenshot(to file: URL) throws {
        let result = try call("Page.captureScreenshot", ["format": "png", "captureBeyondViewport": true])
        guard let b64 = result["data"] as? String, let data = Data(base64Encoded: b64) else {
            throw InteropError("no screenshot data")
        }
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: file)
    }

    static func quote(_ s: String) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: [s]), as: UTF8.self).dropFirst().dropLast().description
    }

    /// The WebSocket connection to the DevTools server.
    private final class Socket {
        private var fd: Int32
        private var buffer: [UInt8] = []

        init(port: Int) throws {
            do {
                fd = try Loopback.connect(port)
            } catch {
                throw InteropError("DevTools: \(error)")
            }
            var tv = timeval(tv_sec: 60, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        }

        deinit { if fd >= 0 { close(fd) } }

        func handshake(path: String, host: String) throws {
            var rng = SystemRandomNumberGenerator()
            let key = Data((0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }).base64EncodedString()
            try write(Array("GET \(path) HTTP/1.1\r\nHost: \(host)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\r\n".utf8))
            while true {
                if let end = find([13, 10, 13, 10]) {
                    let head = String(decoding: buffer[..<end], as: UTF8.self)
                    buffer.removeFirst(end + 4)
                    guard head.hasPrefix("HTTP/1.1 101") else { throw InteropError("DevTools refused the WebSocket: \(head)") }
                    return
                }
                try fill()
            }
        }

        func sendText(_ payload: Data) throws {
            var frame: [UInt8] = [0x81]
            let n = payload.count
            if n < 126 { frame.append(0x80 | UInt8(n)) }
            else if n < 65536 { frame += [0x80 | 126, UInt8(n >> 8), UInt8(n & 0xff)] }
            else { frame.append(0x80 | 127); for s in stride(from: 56, through: 0, by: -8) { frame.append(UInt8((UInt64(n) >> UInt64(s)) & 0xff)) } }
            var rng = SystemRandomNumberGenerator()
            let mask = (0..<4).map { _ in UInt8.random(in: 0...255, using: &rng) }
            frame += mask
            frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
            try write(frame)
        }

        /// The next whole text message (continuation frames joined; pings answered).
        func receiveText() throws -> Data {
            var message: [UInt8] = []
            while true {
                let (fin, opcode, payload) = try frame()
                switch opcode {
                case 0x9: try write([0x8A, 0x80, 0, 0, 0, 0] + [])  // pong, empty, masked with a zero key
                case 0x8: throw InteropError("DevTools closed the WebSocket")
                case 0x1, 0x0:
                    message += payload
                    if fin { return Data(message) }
                default: continue
                }
            }
        }

        private func frame() throws -> (Bool, UInt8, [UInt8]) {
            let head = try take(2)
            var length = UInt64(head[1] & 0x7f)
            if length == 126 { let b = try take(2); length = UInt64(b[0]) << 8 | UInt64(b[1]) }
            else if length == 127 { length = try take(8).reduce(0) { $0 << 8 | UInt64($1) } }
            let mask = head[1] & 0x80 != 0 ? try take(4) : nil
            var payload = try take(Int(length))
            if let mask { for i in payload.indices { payload[i] ^= mask[i % 4] } }
            return (head[0] & 0x80 != 0, head[0] & 0x0f, payload)
        }

        private func take(_ n: Int) throws -> [UInt8] {
            while buffer.count < n { try fill() }
            let out = Array(buffer[..<n])
            buffer.removeFirst(n)
            return out
        }

        private func find(_ needle: [UInt8]) -> Int? {
            guard buffer.count >= needle.count else { return nil }
            for i in 0...(buffer.count - needle.count) where Array(buffer[i..<(i + needle.count)]) == needle { return i }
            return nil
        }

        private func fill() throws {
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw InteropError("DevTools connection ended (recv \(n), errno \(errno))") }
            buffer += chunk[0..<n]
        }

        private func write(_ bytes: [UInt8]) throws {
            var sent = 0
            while sent < bytes.count {
                let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
                guard n > 0 else { throw InteropError("send to DevTools failed: errno \(errno)") }
                sent += n
            }
        }
    }
}
